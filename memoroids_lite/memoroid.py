"""Memoroids (paper, Definition 4.1): a monoid plus an input map f and a readout g.

    h_t = e_I • f(x_0) • f(x_1) • … • f(x_t)          (with resets at episode starts, Theorem 4.2)
    y_t = g(h_t, x_t)

f and g act on each time step on its own, so they run on the whole tape at once (they take arrays with a
leading time axis T and treat every step alike); the monoid scan is the only part that mixes time steps. The recurrent state IS a monoid element: carrying a state h into the next call prepends it
to the scan, so the same `run` serves training (a tape of length T) and acting (T = 1).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.monoid import (
    Monoid, assert_laws, law_errors, max_abs_difference, resettable, resolve_mode, scan, serial_scan,
)

_difference = jax.jit(max_abs_difference)


def _max_difference(a, b) -> float:
    return float(_difference(a, b))

class Memoroid(NamedTuple):
    """((H, •, e_I), f, g).

    monoid: the monoid over recurrent states H.
    f: x [T, ...] -> H [T, ...], each input to one monoid element, step by step.
    g: (h [T, ...], x [T, ...]) -> y [T, ...], the readout y_t = g(h_t, x_t), step by
       step.
    """

    monoid: Monoid
    f: Callable[[Any], Any]
    g: Callable[[Any, Any], Any]


def run(memoroid: Memoroid, x, start, state=None, *, mode: str = "auto"):
    """Run a memoroid over a tape: returns (y [T, ...], the state after the last step).

    x: inputs with leading time axis T; start: bool[T], True where an episode begins;
    state: the monoid element carried in from the previous call (None: the identity
    e_I).
    """
    elems = memoroid.f(x)
    scan_fn = scan if resolve_mode(mode) == "associative" else serial_scan
    h = scan_fn(memoroid.monoid, elems, start=start, initial=state)
    y = memoroid.g(h, x)
    return y, jax.tree.map(lambda leaf: leaf[-1], h)


# ---------------------------------------------------------------------------------------------------------
# The harness: what a researcher adding a model runs first
# ---------------------------------------------------------------------------------------------------------


def _episodes(start) -> list[tuple[int, int]]:
    begins = [int(i) for i in np.flatnonzero(np.asarray(start))]
    ends = begins[1:] + [len(start)]
    return list(zip(begins, ends))


def _law_errors(module, x, key, trials):
    """Inside model.apply: the laws of each layer's resettable monoid on random f(x) elements (traceable)."""
    found = []
    for memoroid in module.memoroids():
        pool = memoroid.f(x)  # [N, ...] monoid elements of this layer
        k_pick, k_flag = jax.random.split(jax.random.fold_in(key, len(found)))
        pick = jax.random.randint(k_pick, (3, trials), 0, x.shape[0])
        flags = jax.random.bernoulli(k_flag, 0.5, (3, trials))
        a, b, c = ((jax.tree.map(lambda leaf: leaf[pick[i]], pool), flags[i]) for i in range(3))
        found.append(law_errors(resettable(memoroid.monoid), a, b, c))
    return found


def check_memoroid(model, *, key=None, length: int = 24, reference=None, atol: float = 1e-4) -> dict[str, float]:
    """Check a memory model end to end; raise AssertionError naming the first check that fails.

    `model` follows the `memoroids_lite.models` interface: `model.init(key, x, start)`,
    `model.apply(params, x, start, state, mode=...) -> (y, state)`, `model.initial_state()`, `model.features`,
    and `model.memoroids()` (the (monoid, f, g) of each layer; empty for a sequential RNN such as a GRU, which
    then skips the algebraic checks). On random inputs and a random start pattern it measures:

      associativity (with resets), identity   the laws of each layer's resettable monoid on f(x) elements
      associative == serial                   jax.lax.associative_scan and jax.lax.scan agree
      step == serial                          T calls of length 1, carrying the state, agree (acting == training)
      tape == separate episodes               one scan over concatenated episodes == each episode on its own
      chunks == one call                      a tape cut into four pieces, the state carried == one call
      initial_state() == None                 a fresh memory (initial_state(), what None means) continued
                                              without a reset == a reset: the state the model reports is
                                              the identity its scan resets to
      gradient across a boundary              ∂y(later episodes)/∂x(earlier ones) is EXACTLY zero (every mode)
      reference                               optional `reference(params, x, start) -> y`, a naive per-step
                                              loop written from the paper's equations

    Returns the largest error of each check (0.0 is exact).
    """
    key = jax.random.key(0) if key is None else key
    k_x, k_start, k_init, k_laws, k_w = jax.random.split(key, 5)
    x = jax.random.normal(k_x, (length, model.features))
    start = jax.random.bernoulli(k_start, 0.15, (length,)).at[0].set(True).at[length // 2].set(True)
    params = jax.jit(model.init)(k_init, x, start)
    associative = bool(model.apply(params, method=lambda m: len(m.memoroids()) > 0))

    jitted = jax.jit(model.apply, static_argnames="mode")

    def apply(x, start, state=None, mode="serial"):
        return jitted(params, x, start, state, mode=mode)

    y, final_state = apply(x, start)
    errors = {}
    if associative:
        laws = jax.jit(lambda p, x, k: model.apply(p, x, k, 64, method=_law_errors))(params, x, k_laws)
        checked = [assert_laws(layer, 64, atol=1e-4, rtol=1e-4) for layer in laws]
        errors["associativity (with resets)"] = max(layer["associativity"] for layer in checked)
        errors["identity"] = max(max(layer["left identity"], layer["right identity"]) for layer in checked)
        errors["associative == serial"] = _max_difference(apply(x, start, mode="associative"), (y, final_state))

    state, steps = None, []
    for t in range(length):
        y_t, state = apply(x[t : t + 1], start[t : t + 1], state)
        steps.append(y_t)
    errors["step == serial"] = _max_difference(jnp.concatenate(steps), y)

    def alone(b, e):  # episode [b, e) by itself; padded to the tape's length (one compile) by a fresh episode
        padded_x = jnp.concatenate([x[b:e], jnp.zeros((length - (e - b),) + x.shape[1:], x.dtype)])
        padded_start = jnp.zeros(length, bool).at[0].set(True).at[e - b].set(True, mode="drop")
        return apply(padded_x, padded_start)[0][: e - b]

    separate = [alone(b, e) for b, e in _episodes(start)]
    errors["tape == separate episodes"] = _max_difference(jnp.concatenate(separate), y)

    cuts = [length // 4, length // 2, 3 * length // 4]  # equal pieces: one compile
    state, pieces = None, []
    for b, e in zip([0] + cuts, cuts + [length]):
        y_piece, state = apply(x[b:e], start[b:e], state)
        pieces.append(y_piece)
    errors["chunks == one call"] = _max_difference((jnp.concatenate(pieces), state), (y, final_state))
    # A fresh memory continued without a reset must act as a reset: on a tape with no start at t = 0 the state
    # carried in is used, so a reported initial state that is not the identity the resets use shows here.
    going_on = start.at[0].set(False)
    errors["initial_state() == None"] = _max_difference(apply(x, going_on, model.initial_state()), (y, final_state))

    boundary = length // 2  # an episode starts here: nothing before it may influence anything after it
    weights = jax.random.normal(k_w, y.shape)
    leaks = []
    for mode in ("serial", "associative") if associative else ("serial",):
        grad = jax.grad(lambda x: jnp.sum(apply(x, start, mode=mode)[0][boundary:] * weights[boundary:]))(x)
        if float(jnp.max(jnp.abs(grad[boundary:]))) == 0.0:
            raise AssertionError("the outputs do not depend on the inputs at all: the gradient check would be vacuous.")
        leaks.append(float(jnp.max(jnp.abs(grad[:boundary]))))
    errors["gradient across a boundary"] = max(leaks)

    if reference is not None:
        errors["reference"] = _max_difference(jnp.asarray(reference(params, x, start)), y)

    scale = 1.0 + float(jnp.max(jnp.abs(y)))
    for check, error in errors.items():
        exact = check == "gradient across a boundary"
        if not np.isfinite(error) or error > (0.0 if exact else atol * scale):
            raise AssertionError(f"{getattr(model, 'kind', 'model')}: check '{check}' fails, error {error:.3g}.")
    return errors
