"""Monoids and scans: the algebra every memoroid is built on.

A monoid (H, •, e_I) is a set H with an associative operator • and an identity e_I (paper, Definition 3.1):

    (a • b) • c = a • (b • c)          associativity
    e_I • a = a • e_I = a              identity

Associativity is what lets a scan run in parallel: the prefixes e_I • x_0 • … • x_t can be computed in
O(log T) depth instead of T sequential steps (Blelloch, 1990).

Conventions (all of the package's are in the book's appendix *How memoroids_lite is built*,
book/how_it_is_built.md):
- an element is a pytree; a *sequence* of elements is the same pytree with a leading time axis T;
- in `combine(a, b)`, `a` is the EARLIER element and `b` the LATER one (order matters: many monoids are
  not commutative);
- `start[t]` is True iff element t is the first of its episode.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Element = Any  # a pytree of arrays


class Monoid(NamedTuple):
    """A monoid (H, •, e_I).

    identity: () -> H, the identity element e_I (one element, no leading axis).
    combine:  (H, H) -> H, the operator `a • b` with `a` earlier and `b` later. It must
              broadcast over leading axes, because `jax.lax.associative_scan` calls it
              on whole slices of the sequence.
    """

    identity: Callable[[], Element]
    combine: Callable[[Element, Element], Element]


# ---------------------------------------------------------------------------------------------------------
# Resets (Theorem 4.2)
# ---------------------------------------------------------------------------------------------------------


def _select(flag: jax.Array, if_true: Element, if_false: Element) -> Element:
    """Per leaf `where(flag, if_true, if_false)`, with `flag` broadcast over each leaf's trailing axes."""

    def leaf(t, f):
        f = jnp.asarray(f)
        shaped = jnp.reshape(flag, flag.shape + (1,) * (f.ndim - flag.ndim))
        return jnp.where(shaped, t, f)

    return jax.tree.map(leaf, if_true, if_false)


def resettable(monoid: Monoid, *, mirrored: bool = False) -> Monoid:
    """The resettable monoid of Theorem 4.2, for ANY monoid.

    Elements are pairs (A, b): A an element of `monoid`, b a boolean flag. The identity
    is (e_I, False) and

        (A, b) ∘ (A', b') = ((A·(1 − b') + e_I·b') • A',  b ∨ b')          (eq. 12)

    i.e. when the LATER operand starts an episode (b' = 1), the earlier history A is
    replaced by the identity before combining, so nothing flows across the boundary.
    Because e_I • A' = A', this is the same as the simpler "drop the left operand" form
    ((A • A') if not b' else A', b ∨ b'); the tests and the chapter on resets check that
    the two agree.

    mirrored=True gives the operator for REVERSE scans (returns-to-go, GAE), where the
    flag of each element says "this is the LAST step of its episode" and it is the
    EARLIER operand's flag that blocks the flow:

        (A, d) ∘~ (A', d') = (A • R(A', d),  d ∨ d'),   R(X, d) = e_I if d else X.
    """

    def combine(earlier, later):
        (a, a_flag), (b, b_flag) = earlier, later
        if mirrored:
            b = _select(a_flag, monoid.identity(), b)
        else:
            a = _select(b_flag, monoid.identity(), a)
        return monoid.combine(a, b), jnp.logical_or(a_flag, b_flag)

    def identity():
        return monoid.identity(), jnp.zeros((), bool)

    return Monoid(identity, combine)


# ---------------------------------------------------------------------------------------------------------
# Scans
# ---------------------------------------------------------------------------------------------------------


def _paths(tree: Element) -> list[tuple[str, Any]]:
    """(path, leaf) for every leaf, the path written as Python indexes the tree: "" for a bare array, "[1]",
    "['b']"; so f"elems{path}" names a leaf the way a user would reach it."""
    return [(jax.tree_util.keystr(path), leaf) for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _length(elems: Element) -> int:
    """The common leading axis T of every leaf, with an error naming the first leaf that has none or another."""
    leaves = _paths(elems)
    if not leaves:
        raise ValueError("elems is an empty pytree: a scan needs at least one array with a leading time axis.")
    for path, leaf in leaves:
        if jnp.ndim(leaf) == 0:
            raise ValueError(
                f"every leaf of elems needs a leading time axis T, got elems{path} of shape (). "
                "Stack elements along axis 0 (a single element x is x[None])."
            )
    first, length = leaves[0][0], jnp.shape(leaves[0][1])[0]
    for path, leaf in leaves[1:]:
        if jnp.shape(leaf)[0] != length:
            raise ValueError(
                f"every leaf of elems must share the leading time axis T = {length} of elems{first}, "
                f"got elems{path} of shape {jnp.shape(leaf)}. Sequences are time-major: put time first in every leaf."
            )
    return length


def _check_start(start, length: int) -> jax.Array:
    start = jnp.asarray(start)
    if start.dtype != jnp.bool_:
        raise TypeError(
            f"start must be a boolean array of shape ({length},), got dtype {start.dtype}. "
            "start[t] is True iff element t is the first of its episode; convert with start.astype(bool)."
        )
    if start.shape != (length,):
        raise ValueError(
            f"start must have shape ({length},) to match the time axis of elems, got {start.shape}. "
            "Batches of sequences are made with jax.vmap, not by adding axes to start."
        )
    return start


def _check_structure(name: str, element: Element, elems: Element) -> None:
    """`element` (named `name` in the error) has the pytree structure of one element of elems."""
    if jax.tree.structure(element) != jax.tree.structure(elems):
        raise ValueError(
            f"{name} must have the same pytree structure as one element of elems: "
            f"got {jax.tree.structure(element)} and {jax.tree.structure(elems)}."
        )


def _check_initial(initial: Element, elems: Element) -> None:
    _check_structure("initial", initial, elems)
    for (path, i), e in zip(_paths(initial), jax.tree.leaves(elems)):
        if jnp.shape(i) != jnp.shape(e)[1:]:
            raise ValueError(
                f"initial is ONE element (no time axis): initial{path} must have shape {jnp.shape(e)[1:]}, "
                f"like elems{path} of shape {jnp.shape(e)} without its time axis, got {jnp.shape(i)}."
            )


def _broadcasts(shape: tuple, to: tuple) -> bool:
    """Whether an array of `shape` broadcasts to `to` without growing it."""
    return len(shape) <= len(to) and all(a in (1, b) for a, b in zip(shape[::-1], to[::-1]))


def _check_identity(identity: Element, elems: Element) -> None:
    """monoid.identity() is one element: the structure of elems, each leaf broadcasting to one step's shape."""
    _check_structure("monoid.identity()", identity, elems)
    for (path, e), x in zip(_paths(identity), jax.tree.leaves(elems)):
        step = jnp.shape(x)[1:]
        if not _broadcasts(jnp.shape(e), step):
            raise ValueError(
                f"monoid.identity(){path} has shape {jnp.shape(e)}, which does not broadcast to the shape "
                f"{step} of one element of elems{path} (shape {jnp.shape(x)}): the monoid cannot combine them."
            )


def _promote(elems: Element, identity: Element) -> Element:
    """Every leaf in the dtype it takes when combined with the identity: integer steps of a float monoid
    become floats, as they would inside the first combine. Floats of a float monoid are unchanged."""
    return jax.tree.map(lambda x, e: jnp.asarray(x, jnp.result_type(e, x)), elems, identity)


def _describe(tree: Element) -> str:
    return ", ".join(f"elems{path}: {x.dtype}{list(x.shape)}" for path, x in _paths(tree))


def _check_combine(combine: Callable, elems: Element) -> None:
    """combine must turn two elements into one of the same shapes and dtypes, both for single elements (as
    jax.lax.scan calls it) and for slices [T, ...] (as jax.lax.associative_scan calls it). Checked with
    jax.eval_shape: nothing runs, and traced values are never inspected."""
    tape = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), elems)
    step = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype), elems)
    for operands, what in ((step, "single elements"), (tape, "slices of the tape")):
        try:
            out = jax.eval_shape(combine, operands, operands)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"monoid.combine cannot combine two {what} of elems ({_describe(operands)}): "
                f"{str(error).splitlines()[0]}"
            ) from error
        if jax.tree.structure(out) != jax.tree.structure(operands):
            raise ValueError(
                f"monoid.combine must return an element of the structure of elems, {jax.tree.structure(operands)}, "
                f"got {jax.tree.structure(out)}."
            )
        for (path, o), x in zip(_paths(out), jax.tree.leaves(operands)):
            if (o.shape, o.dtype) != (x.shape, x.dtype):
                raise ValueError(
                    f"monoid.combine must keep the shape and dtype of every leaf, but on two {what} it turns "
                    f"elems{path} of {x.dtype}{list(x.shape)} into {o.dtype}{list(o.shape)}. Give elems and "
                    "monoid.identity() the dtype and shape that combine returns."
                )


def _concat(a: Element, b: Element) -> Element:
    return jax.tree.map(lambda x, y: jnp.concatenate([x, y], axis=0), a, b)


def _one(element: Element) -> Element:
    """Give one element a leading time axis of length 1."""
    return jax.tree.map(lambda x: jnp.asarray(x)[None], element)


def _episode_ends(start: jax.Array) -> jax.Array:
    """end[t] = start[t + 1]: step t is the last of its episode inside the tape (end[T-1] = False)."""
    return jnp.concatenate([start[1:], jnp.zeros((1,), bool)])


def _attach(initial: Element, elems: Element, flags: jax.Array, reverse: bool):
    """`initial` as one extra element before the tape (after it when reverse=True), with no reset."""
    no_reset = jnp.zeros((1,), bool)
    if reverse:
        return _concat(elems, _one(initial)), jnp.concatenate([flags, no_reset])
    return _concat(_one(initial), elems), jnp.concatenate([no_reset, flags])


def _prepare(monoid: Monoid, elems: Element, start, initial, reverse: bool):
    """Validate the inputs and bring them into the form the two scans share, so that both accept exactly the
    same inputs and compute the same thing.

    Returns (elems, flags, prepended): flags are the reset flags of the (mirrored) resettable monoid, and
    `initial`, when given, is attached as one extra element (before the tape, or after it when reverse=True)
    whose output the caller drops. This is how the paper's code carries a state from one call to the next.
    Every leaf is promoted to its dtype under the identity (`_promote`), and `monoid.combine` is checked on
    the shapes and dtypes of the result.
    """
    length = _length(elems)
    start = jnp.zeros((length,), bool) if start is None else _check_start(start, length)
    flags = _episode_ends(start) if reverse else start
    identity = monoid.identity()
    _check_identity(identity, elems)
    if initial is not None:
        _check_initial(initial, elems)
        elems, flags = _attach(initial, elems, flags, reverse)
    elems = _promote(elems, identity)
    _check_combine(monoid.combine, elems)
    return elems, flags, initial is not None


def _drop_initial(out, had_initial, reverse):
    if not had_initial:
        return out
    return jax.tree.map(lambda x: x[:-1] if reverse else x[1:], out)


def scan(
    monoid: Monoid, elems: Element, *, start=None, initial=None, reverse: bool = False
) -> Element:
    """All prefixes of a sequence under a monoid, with `jax.lax.associative_scan`
    (O(log T) depth).

    out[t] = elems[s] • … • elems[t]           where s = the last t' <= t with start[t']
    out[t] = initial • elems[0] • … • elems[t] where no start precedes t
                                               (initial=None: the identity)

    reverse=True gives suffixes instead, episode by episode, the order of • kept:
    out[t] = elems[t] • … • elems[e]           where e is the last step of t's episode
    out[t] = elems[t] • … • elems[T-1] • initial
                                               for the last episode of the tape
                                               (it may continue beyond it)

    Args:
      monoid: the monoid.
      elems: a pytree whose leaves share the leading time axis T: leaf [T, ...].
      start: optional bool[T]; start[t] is True iff element t begins an episode.
      initial: optional single element carried in from before the tape (after it when
        reverse=True): leaf [...], the shape of one step.

    Each leaf is first promoted to its dtype under the identity,
    result_type(identity leaf, leaf): integer steps of a float monoid become
    floats, as they would in the first combine. `combine` must then keep every
    leaf's shape and dtype, on single elements and on slices [T, ...]. Inputs
    that break this raise ValueError naming the leaf, before anything runs;
    `serial_scan` accepts exactly the same inputs and returns the same values.
    """
    elems, flags, had_initial = _prepare(monoid, elems, start, initial, reverse)
    wrapped = resettable(monoid, mirrored=reverse)
    if reverse:
        # associative_scan(reverse=True) hands `fn` the LATER element first; put it
        # back on the right.
        def fn(later, earlier):
            return wrapped.combine(earlier, later)
    else:
        fn = wrapped.combine
    out, _ = jax.lax.associative_scan(fn, (elems, flags), reverse=reverse)
    return _drop_initial(out, had_initial, reverse)


def serial_scan(monoid: Monoid, elems: Element, *, start=None, initial=None, reverse: bool = False) -> Element:
    """The same result as `scan`, computed one step at a time with `jax.lax.scan` (T sequential steps).

    This is the reference the associative scan is tested against, and on a CPU with few cores it is also
    the faster of the two (see the chapter on scans). It takes the same arguments, with the same shapes
    (elems leaf [T, ...], start bool[T], initial leaf [...]) and the same dtype promotion, and it accepts and
    rejects exactly the inputs `scan` does, with the same messages.
    """
    elems, flags, had_initial = _prepare(monoid, elems, start, initial, reverse)
    wrapped = resettable(monoid, mirrored=reverse)

    def step(carry, x_and_flag):
        if reverse:
            carry = wrapped.combine(x_and_flag, carry)
        else:
            carry = wrapped.combine(carry, x_and_flag)
        return carry, carry[0]

    # The carry must keep one shape and dtype: the identity shaped like one element of the sequence.
    identity = jax.tree.map(lambda e, x: jnp.broadcast_to(e, x.shape[1:]).astype(x.dtype), monoid.identity(), elems)
    _, out = jax.lax.scan(step, (identity, jnp.zeros((), bool)), (elems, flags), reverse=reverse)
    return _drop_initial(out, had_initial, reverse)


SCAN_MODES = ("auto", "associative", "serial")


def resolve_mode(mode: str) -> str:
    """ "auto" -> "serial" on a CPU, "associative" on a GPU or TPU.

    On a CPU with few cores jax.lax.scan is several times faster than
    jax.lax.associative_scan, which does more work and has no parallel hardware to spend
    it on; on an accelerator the O(log T) depth wins.
    """
    if mode not in SCAN_MODES:
        raise ValueError(f"unknown scan mode {mode!r}; choose one of {SCAN_MODES}.")
    if mode == "auto":
        return "serial" if jax.default_backend() == "cpu" else "associative"
    return mode


# ---------------------------------------------------------------------------------------------------------
# Checking the laws
# ---------------------------------------------------------------------------------------------------------


def _numeric(x) -> jax.Array:
    x = jnp.asarray(x)
    return x.astype(jnp.float32) if x.dtype == jnp.bool_ else x


def max_abs(x: Element) -> jax.Array:
    """The largest |entry| over every leaf of a pytree (0 for an empty one); traceable."""
    leaves = [jnp.max(jnp.abs(_numeric(v)), initial=0.0) for v in jax.tree.leaves(x)]
    return jnp.max(jnp.stack(leaves)) if leaves else jnp.zeros(())


def max_abs_difference(x: Element, y: Element) -> jax.Array:
    return max_abs(jax.tree.map(lambda a, b: _numeric(a) - _numeric(b), x, y))


def law_errors(monoid: Monoid, a: Element, b: Element, c: Element) -> dict[str, tuple[jax.Array, jax.Array]]:
    """{law: (largest difference, scale of the values)} over batches of elements a, b, c; traceable.

        associativity   |(a • b) • c − a • (b • c)|
        left identity   |e_I • a − a|
        right identity  |a • e_I − a|
    """
    e = jax.tree.map(lambda x, like: jnp.broadcast_to(x, jnp.shape(like)), monoid.identity(), a)
    op = monoid.combine
    pairs = {
        "associativity": (op(op(a, b), c), op(a, op(b, c))),
        "left identity": (op(e, a), a),
        "right identity": (op(a, e), a),
    }
    return {law: (max_abs_difference(x, y), max_abs(y)) for law, (x, y) in pairs.items()}


def assert_laws(errors, trials: int, atol: float, rtol: float) -> dict[str, float]:
    """Raise AssertionError naming the first law whose error exceeds atol + rtol · scale; return the errors."""
    found = {}
    for law, (error, scale) in errors.items():
        error, tolerance = float(error), atol + rtol * float(scale)
        if not np.isfinite(error) or error > tolerance:
            raise AssertionError(
                f"the {law} law fails: largest difference {error:.3g} over {trials} random elements "
                f"(tolerance {tolerance:.3g})."
            )
        found[law] = error
    return found


def check_monoid(
    monoid: Monoid,
    sample: Callable[[jax.Array], Element],
    *,
    key: jax.Array | None = None,
    trials: int = 100,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> dict[str, float]:
    """Test the monoid laws on random elements; raise AssertionError, saying which law
    fails, if one does.

    sample(key) must return ONE random element. For `trials` random triples (a, b, c) it
    measures the laws of `law_errors` (combine is called on the batch of all trials at
    once, which also checks that it broadcasts over leading axes), compiled as one
    program. Returns the largest error of each law.
    """
    key = jax.random.key(0) if key is None else key

    @jax.jit
    def errors(key):
        a, b, c = (
            jax.vmap(sample)(jax.random.split(k, trials))
            for k in jax.random.split(key, 3)
        )
        return law_errors(monoid, a, b, c)

    return assert_laws(errors(key), trials, atol, rtol)
