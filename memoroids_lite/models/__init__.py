"""The memory models: `make(name, features=..., **options)` and `names()`.

    model = make("lru", features=64)
    params = model.init(key, x, start)                  # x [T, 64], start bool[T]
    y, state = model.apply(params, x, start, state)     # state None: a fresh memory
    state0 = model.initial_state()                      # no params needed

Defaults follow the paper: LRU and S5 are 2-layer stacks in the gated residual wrapper; linear attention
and FFM are single layers; the GRU baseline is one layer.
"""

from __future__ import annotations

import dataclasses

from memoroids_lite.models.base import GatedResidual, MemoroidLayer, MemoryModel, modes_of
from memoroids_lite.models.ffm import FFM
from memoroids_lite.models.gru import GRU
from memoroids_lite.models.linear_attention import LinearAttention
from memoroids_lite.models.lru import LRU
from memoroids_lite.models.s5 import S5

# name -> (layer class, default number of layers, wrap each layer in the gated residual block)
_REGISTRY = {
    "linear_attention": (LinearAttention, 1, False),
    "lru": (LRU, 2, True),
    "s5": (S5, 2, True),
    "ffm": (FFM, 1, False),
    "gru": (GRU, 1, False),
}


def names() -> tuple[str, ...]:
    """The registered model names."""
    return tuple(_REGISTRY)


def modes(name: str) -> tuple[str, ...]:
    """The scan modes of the registered model `name` ("associative" only for memoroids)."""
    return modes_of(_REGISTRY[name][0].sequential)


# Float options with a range, per model: (the options, a test of their values, what is allowed). Their types,
# and every size (an int option), are checked for all models by base.check_options.
_RANGES = {
    "lru": [
        (("r_min", "r_max"), lambda lo, hi: 0 <= lo <= hi <= 1 and lo < 1 and hi > 0,
         "0 <= r_min <= r_max <= 1 with r_min < 1 and r_max > 0 (the radii |λ| of the eigenvalues)"),
        (("max_phase",), lambda phase: phase > 0, "max_phase > 0 (the largest initial phase of λ)"),
    ],
    "s5": [(("dt_min", "dt_max"), lambda lo, hi: 0 < lo <= hi, "0 < dt_min <= dt_max (the initial time steps Δ)")],
    "ffm": [(("min_period", "max_period"), lambda lo, hi: 0 < lo <= hi,
             "0 < min_period <= max_period (the initial rotation periods, in steps)")],
}


def _check_ranges(name: str, layer) -> None:
    for options, ok, allowed in _RANGES.get(name, ()):
        values = [getattr(layer, option) for option in options]
        if not ok(*values):
            given = ", ".join(f"{option}={value!r}" for option, value in zip(options, values))
            raise ValueError(
                f"{name} option{'s' if len(options) > 1 else ''} {', '.join(options)} must satisfy {allowed}, "
                f"got {given}."
            )


def make(name: str, features: int, *, num_layers: int | None = None, mode: str = "auto", **options) -> MemoryModel:
    """A memory model mapping [T, features] -> [T, features]; options go to the layer (e.g. hidden=128).

    Every size (features, num_layers and each int option of the layer, e.g. hidden, key_size, trace_size) must
    be a positive integer, every float option a finite number within its range (_RANGES); otherwise ValueError
    names the model, the option, the value and what is allowed, e.g. "lru option hidden must be a positive
    integer, got -3.". An unknown option is a TypeError.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(names())}.")
    layer_cls, default_layers, gated = _REGISTRY[name]
    allowed = {f.name for f in dataclasses.fields(layer_cls)} - {"features", "parent", "name"}
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"{name} has no option(s) {sorted(unknown)}; its options are {sorted(allowed)}.")
    if mode not in modes(name):
        raise ValueError(f"mode {mode!r} is not available for {name}; use "
                         + ", ".join(repr(m) for m in modes(name)) + ".")
    model = MemoryModel(
        cell=layer_cls(features=features, **options),
        features=features,
        num_layers=default_layers if num_layers is None else num_layers,
        gated_residual=gated,
        mode=mode,
        kind=name,
    )
    _check_ranges(name, model.cell)
    return model


__all__ = ["FFM", "GRU", "GatedResidual", "LRU", "LinearAttention", "MemoroidLayer", "MemoryModel", "S5", "make", "modes", "names"]
