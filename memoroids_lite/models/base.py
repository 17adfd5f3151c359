"""What every memory model shares: a memoroid layer, the paper's gated residual wrapper, and the stack.

A model maps one tape x [T, features] with start flags bool[T] to outputs y [T, features], carrying a state:

    y, state = model.apply(params, x, start, state)      # state=None: the identity (a fresh memory)

The state of a stack is a tuple with one monoid element per layer. Batches of tapes are made with jax.vmap.
"""

from __future__ import annotations

import inspect
import math
import numbers

import flax.linen as nn
import jax
import jax.numpy as jnp

from memoroids_lite.memoroid import Memoroid, run
from memoroids_lite.monoid import resolve_mode


def _is_size(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_options(kind: str, module: nn.Module) -> None:
    """Raise ValueError unless every option a memoroids_lite class declares on `module` has a valid type:
    an `int` field is a size, a positive integer (a bool is not one); a `float` field is a finite number.

    The message names the model `kind`, the option and the value given. Fields that a user's own layer class
    adds are left to that class. Checked on the Python values of the fields, so it never touches a traced value.
    """
    for cls in type(module).__mro__:
        if not cls.__module__.startswith("memoroids_lite."):
            continue
        for option, declared in inspect.get_annotations(cls).items():
            value = getattr(module, option)
            if declared in ("int", int) and not _is_size(value):
                raise ValueError(f"{kind} option {option} must be a positive integer, got {value!r}.")
            if declared in ("float", float) and not _is_number(value):
                raise ValueError(f"{kind} option {option} must be a finite number, got {value!r}.")


def modes_of(sequential: bool) -> tuple[str, ...]:
    """The scan modes a layer has: "auto" and "serial" always, "associative" unless it is sequential."""
    return ("auto", "serial") if sequential else ("auto", "associative", "serial")


class MemoroidLayer(nn.Module):
    """One memoroid layer. Subclasses define, as the paper writes them (Definition 4.1):

    monoid() -> Monoid          the monoid over recurrent states H (its identity must
                                not need params)
    f(x [T, d]) -> H [T, ...]   each input to one monoid element
    g(h, x) -> y [T, d]         the readout y_t = g(h_t, x_t)
    initial_state() -> H        the identity e_I, one element, computed from the fields
                                alone

    Every layer a MemoryModel stacks declares `sequential`: False for a memoroid (it
    has the associative scan), True for a recurrent cell whose h_t is a nonlinear
    function of h_{t−1} (the GRU), which runs serially only.
    """

    sequential = False

    def memoroid(self) -> Memoroid:
        return Memoroid(self.monoid(), self.f, self.g)

    def __call__(self, x, start, state=None, mode="auto"):
        return run(self.memoroid(), x, start, state, mode=mode)


class GatedResidual(nn.Module):
    """The layer wrapper the paper uses around LRU and S5:
    x + GLU(GELU(layer(LayerNorm(x)))).

    GLU(y) = W_1 y ⊙ σ(W_2 y). The wrapped layer's state passes through unchanged.
    """

    layer: nn.Module
    features: int

    def setup(self):
        self.norm = nn.LayerNorm()
        self.out1 = nn.Dense(self.features)
        self.out2 = nn.Dense(self.features)

    def __call__(self, x, start, state=None, mode="auto"):
        y, state = self.layer(self.norm(x), start, state, mode)
        y = nn.gelu(y)
        return x + self.out1(y) * nn.sigmoid(self.out2(y)), state

    def initial_state(self):
        return self.layer.initial_state()

    def memoroid(self):
        return self.layer.memoroid()


class MemoryModel(nn.Module):
    """A stack of `num_layers` memory layers mapping [T, features] -> [T, features].

    cell: one layer (a MemoroidLayer, or a sequential RNN with the same call signature that declares
    `sequential = True`); each layer of the stack is a fresh copy with its own parameters. gated_residual: wrap each layer in GatedResidual.
    mode: how memoroid layers scan — "associative", "serial" or "auto" (serial on CPU, associative on
    GPU/TPU); every mode gives the same result. A call may override it: model.apply(..., mode="serial").

    Built with bad sizes it raises ValueError at once, naming the option (`check_options`): features and
    num_layers, and the cell's own sizes (hidden, key_size, ...) when the cell is one of the package's layers,
    must be positive integers, and the cell's features must be the model's.
    """

    cell: nn.Module
    features: int
    num_layers: int = 1
    gated_residual: bool = False
    mode: str = "auto"
    kind: str = "model"

    def __post_init__(self):
        check_options(self.kind, self)
        check_options(self.kind, self.cell)
        if getattr(self.cell, "features", self.features) != self.features:
            raise ValueError(
                f"{self.kind}: the cell has features={self.cell.features!r} but the model has "
                f"features={self.features!r}; they must be equal, as every layer maps [T, features] to "
                "[T, features]."
            )
        super().__post_init__()

    def setup(self):
        def layer(i):
            copy = self.cell.clone(name=None)
            return GatedResidual(copy, self.features) if self.gated_residual else copy

        self.layers = [layer(i) for i in range(self.num_layers)]

    def initial_state(self):
        """The identity state, one monoid element per layer; needs no parameters."""
        template = self.cell.clone(parent=None)  # unbound: asking it for shapes must not create parameters
        return tuple(template.initial_state() for _ in range(self.num_layers))

    @property
    def modes(self) -> tuple[str, ...]:
        """The scan modes of this model: a sequential cell (the GRU) has no associative scan."""
        return modes_of(self.cell.sequential)

    def memoroids(self):
        """The Memoroid (monoid, f, g) of each layer, for the harness; empty for a sequential RNN."""
        return [] if self.cell.sequential else [layer.memoroid() for layer in self.layers]

    def __call__(self, x, start, state=None, mode=None):
        requested = self.mode if mode is None else mode
        # "auto" is the fastest scan the layer has; a sequential cell (the GRU) has only the serial one.
        mode = "serial" if requested == "auto" and self.cell.sequential else resolve_mode(requested)
        self._check_inputs(x, start, state)
        state = self.initial_state() if state is None else state
        new_state = []
        for layer, layer_state in zip(self.layers, state):
            x, layer_state = layer(x, start, layer_state, mode)
            new_state.append(layer_state)
        return x, tuple(new_state)

    def _check_inputs(self, x, start, state):
        if jnp.ndim(x) != 2 or jnp.shape(x)[-1] != self.features:
            raise ValueError(
                f"{self.kind} expects one tape x of shape [T, features={self.features}], got {jnp.shape(x)}. "
                "For a batch of tapes use jax.vmap; to act one step at a time pass x[None] (T = 1)."
            )
        start = jnp.asarray(start)
        if start.dtype != jnp.bool_ or start.shape != (jnp.shape(x)[0],):
            raise ValueError(
                f"start must be a boolean array of shape [T] = ({jnp.shape(x)[0]},) like x, got "
                f"{start.dtype}{list(start.shape)}: start[t] is True iff step t is the first of its episode."
            )
        if state is None:
            return
        expected = self.initial_state()
        shapes = jax.tree.map(jnp.shape, state)
        if jax.tree.structure(state) != jax.tree.structure(expected) or shapes != jax.tree.map(jnp.shape, expected):
            raise ValueError(
                f"this state does not belong to this {self.kind} model: expected shapes "
                f"{jax.tree.map(jnp.shape, expected)} (as model.initial_state()), got {shapes}. "
                "Pass the state returned by this model's previous call, or None for a fresh memory."
            )
