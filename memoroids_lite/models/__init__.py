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

from memoroids_lite.models.base import GatedResidual, MemoroidLayer, MemoryModel
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


def make(name: str, features: int, *, num_layers: int | None = None, mode: str = "auto", **options) -> MemoryModel:
    """A memory model mapping [T, features] -> [T, features]; options go to the layer (e.g. hidden=128)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(names())}.")
    layer_cls, default_layers, gated = _REGISTRY[name]
    allowed = {f.name for f in dataclasses.fields(layer_cls)} - {"features", "parent", "name"}
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"{name} has no option(s) {sorted(unknown)}; its options are {sorted(allowed)}.")
    num_layers = default_layers if num_layers is None else num_layers
    if not isinstance(features, int) or features < 1 or num_layers < 1:
        raise ValueError(f"features and num_layers must be positive integers, got {features!r} and {num_layers!r}.")
    if mode not in ("auto", "associative", "serial") or (name == "gru" and mode == "associative"):
        raise ValueError(f"mode {mode!r} is not available for {name}; use 'auto', 'serial'"
                         + ("" if name == "gru" else " or 'associative'") + ".")
    return MemoryModel(
        cell=layer_cls(features=features, **options),
        features=features,
        num_layers=num_layers,
        gated_residual=gated,
        mode=mode,
        kind=name,
    )


__all__ = ["FFM", "GRU", "GatedResidual", "LRU", "LinearAttention", "MemoroidLayer", "MemoryModel", "S5", "make", "names"]
