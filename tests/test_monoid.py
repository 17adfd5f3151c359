"""The monoid core: laws, the reset wrapper (Theorem 4.2), and scan == serial_scan == a Python loop."""

import itertools

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given

from memoroids_lite import Monoid, check_monoid, resettable, scan, serial_scan
from memoroids_lite.examples import affine_monoid, matmul_monoid, max_monoid, sum_monoid
from memoroids_lite.returns import discount_monoid

from reference import prefix_loop, suffix_loop

MATMUL = matmul_monoid(3)
EYE = np.eye(3, dtype=np.float32)


def random_matrices(seed, n):
    # Near-identity matrices keep long products well scaled, so errors stay at float32 rounding.
    rng = np.random.default_rng(seed)
    return (EYE + 0.3 * rng.standard_normal((n, 3, 3))).astype(np.float32)


SAMPLERS = {
    "sum": (sum_monoid((4,)), lambda k: jax.random.normal(k, (4,))),
    "max": (max_monoid((4,)), lambda k: jax.random.normal(k, (4,))),
    "affine": (affine_monoid((4,)), lambda k: tuple(jax.random.normal(k, (2, 4)))),
    "matmul": (MATMUL, lambda k: jax.random.normal(k, (3, 3))),
    "discount": (discount_monoid(), lambda k: (jax.random.uniform(k), jax.random.normal(jax.random.fold_in(k, 1)))),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_examples_are_monoids(name):
    monoid, sample = SAMPLERS[name]
    errors = check_monoid(monoid, sample)
    assert set(errors) == {"associativity", "left identity", "right identity"}


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("mirrored", [False, True])
def test_resettable_is_a_monoid(name, mirrored):
    monoid, sample = SAMPLERS[name]

    def sample_with_flag(key):
        return sample(key), jax.random.bernoulli(jax.random.fold_in(key, 7))

    check_monoid(resettable(monoid, mirrored=mirrored), sample_with_flag)


def test_check_monoid_rejects_non_monoids():
    subtract = Monoid(lambda: jnp.zeros(()), lambda a, b: a - b)
    with pytest.raises(AssertionError, match="associativity"):
        check_monoid(subtract, lambda k: jax.random.normal(k))
    mean = Monoid(lambda: jnp.zeros(()), lambda a, b: (a + b) / 2)
    with pytest.raises(AssertionError, match="associativity"):
        check_monoid(mean, lambda k: jax.random.normal(k))
    no_identity = Monoid(lambda: jnp.ones(()), lambda a, b: a + b)
    with pytest.raises(AssertionError, match="identity"):
        check_monoid(no_identity, lambda k: jax.random.normal(k))


def test_matmul_is_not_commutative():
    a, b = random_matrices(0, 2)
    assert not np.allclose(MATMUL.combine(a, b), MATMUL.combine(b, a))


def test_identity_form_equals_drop_left_form():
    """(A(1-b') + e b') • A'  ==  A' if b' else A • A'  for all 8 flag combinations of three operands."""
    wrapped = resettable(MATMUL)
    x = random_matrices(1, 3)
    for flags in itertools.product([False, True], repeat=3):
        elems = [(x[i], jnp.array(flags[i])) for i in range(3)]
        for (a, fa), (b, fb) in itertools.combinations(elems, 2):
            paper, paper_flag = wrapped.combine((a, fa), (b, fb))
            drop_left = b if fb else a @ b
            np.testing.assert_allclose(paper, drop_left, rtol=1e-6)
            assert bool(paper_flag) == (bool(fa) or bool(fb))
        left = wrapped.combine(wrapped.combine(elems[0], elems[1]), elems[2])
        right = wrapped.combine(elems[0], wrapped.combine(elems[1], elems[2]))
        np.testing.assert_allclose(left[0], right[0], rtol=1e-5)


tapes = st.integers(1, 40).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.booleans(), min_size=n, max_size=n), st.integers(0, 2**31))
)


@given(tapes, st.booleans(), st.booleans())
def test_scan_equals_serial_scan_equals_loop(tape, reverse, with_initial):
    n, start, seed = tape
    x = random_matrices(seed, n)
    start = np.array(start)
    initial = random_matrices(seed + 1, 1)[0] if with_initial else None
    loop = suffix_loop if reverse else prefix_loop
    expected = loop(np.matmul, EYE, x, start, initial)
    kwargs = dict(start=jnp.asarray(start), initial=initial, reverse=reverse)
    np.testing.assert_allclose(scan(MATMUL, x, **kwargs), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(serial_scan(MATMUL, x, **kwargs), expected, rtol=1e-4, atol=1e-5)


def test_no_start_means_one_episode():
    x = random_matrices(3, 12)
    expected = prefix_loop(np.matmul, EYE, x, np.zeros(12, bool))
    np.testing.assert_allclose(scan(MATMUL, x), expected, rtol=1e-5)
    np.testing.assert_allclose(serial_scan(MATMUL, x), expected, rtol=1e-5)


def test_initial_only_reaches_the_first_episode():
    x = random_matrices(4, 10)
    start = jnp.array([0, 0, 0, 1, 0, 0, 1, 0, 0, 0], bool)
    with_initial = scan(MATMUL, x, start=start, initial=2 * EYE)
    without = scan(MATMUL, x, start=start)
    np.testing.assert_allclose(with_initial[:3], 2 * without[:3], rtol=1e-5)
    np.testing.assert_allclose(with_initial[3:], without[3:], rtol=1e-5, atol=1e-6)


def test_pytree_elements_and_reverse_affine():
    monoid = affine_monoid((5,))
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.0, (2, 16, 5)).astype(np.float32)
    start = rng.random(16) < 0.3
    expected = suffix_loop(lambda p, q: tuple(np.stack(monoid.combine(p, q))), np.stack([np.ones(5), np.zeros(5)]),
                           np.stack([a, b], 1), start)
    out = scan(monoid, (a, b), start=jnp.asarray(start), reverse=True)
    np.testing.assert_allclose(np.stack(out, 1), expected, rtol=1e-5, atol=1e-6)


def test_jit_and_vmap():
    x = jnp.asarray(random_matrices(5, 4 * 9).reshape(4, 9, 3, 3))
    start = jax.random.bernoulli(jax.random.key(0), 0.3, (4, 9))
    batched = jax.jit(jax.vmap(lambda x, s: scan(MATMUL, x, start=s)))(x, start)
    serial = jax.jit(jax.vmap(lambda x, s: serial_scan(MATMUL, x, start=s)))(x, start)
    for i in range(4):
        expected = prefix_loop(np.matmul, EYE, np.asarray(x[i]), np.asarray(start[i]))
        np.testing.assert_allclose(batched[i], expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(serial[i], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scan_fn", [scan, serial_scan])
def test_zero_gradient_across_an_episode_boundary(scan_fn):
    monoid = affine_monoid()
    a = jnp.full(8, 0.9)
    start = jnp.array([1, 0, 0, 0, 1, 0, 0, 0], bool)

    def last_output(b):
        _, h = scan_fn(monoid, (a, b), start=start)
        return h[-1]

    grad = jax.grad(last_output)(jnp.ones(8))
    assert np.all(np.asarray(grad[:4]) == 0.0), grad
    assert np.all(np.asarray(grad[4:]) > 0.0), grad


def test_long_tapes_stay_finite():
    monoid = affine_monoid()
    n = 10**6
    a = jnp.full(n, 0.999)
    b = jnp.ones(n)
    start = jnp.zeros(n, bool).at[:: 1000].set(True)
    for scan_fn in (scan, serial_scan):
        _, h = scan_fn(monoid, (a, b), start=start)
        assert bool(jnp.all(jnp.isfinite(h)))
        np.testing.assert_allclose(h[999], (1 - 0.999**1000) / (1 - 0.999), rtol=1e-3)


@pytest.mark.parametrize("scan_fn", [scan, serial_scan])
def test_clear_errors(scan_fn):
    monoid = affine_monoid()
    with pytest.raises(TypeError, match="boolean"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.array([1, 0, 0, 1, 0]))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.zeros(4, bool))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.zeros((5, 1), bool))
    with pytest.raises(ValueError, match="structure"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), initial=jnp.ones(()))


SUM_INT = Monoid(lambda: jnp.zeros((), jnp.int32), lambda a, b: a + b)
SUM_FLOAT = Monoid(lambda: jnp.zeros(()), lambda a, b: a + b)
SUM_FLOAT_WEAK = Monoid(lambda: 0.0, lambda a, b: a + b)
OR = Monoid(lambda: jnp.zeros((), bool), jnp.logical_or)
# (monoid, elems, the Python-loop identity, combine on NumPy values, the dtype both scans must return)
DTYPE_CASES = {
    "int steps, int monoid": (SUM_INT, np.arange(1, 8), 0, np.add, jnp.int32),
    "int steps, float monoid": (SUM_FLOAT, np.arange(1, 8), 0.0, np.add, jnp.float32),
    "int steps, Python-float identity": (SUM_FLOAT_WEAK, np.arange(1, 8), 0.0, np.add, jnp.float32),
    "bool steps, float monoid": (SUM_FLOAT, np.array([1, 0, 1, 1, 0, 1, 1], bool), 0.0, np.add, jnp.float32),
    "float16 steps, float32 monoid": (SUM_FLOAT, np.linspace(0, 1, 7).astype(np.float16), 0.0, np.add, jnp.float32),
    "float steps, int monoid": (SUM_INT, np.linspace(0, 1, 7).astype(np.float32), 0, np.add, jnp.float32),
    "bool steps, bool monoid": (OR, np.array([0, 0, 1, 0, 0, 0, 1], bool), False, np.logical_or, jnp.bool_),
    "int steps of the discount monoid": (
        discount_monoid(), (np.full(7, 2), np.arange(7)), (1.0, 0.0),
        lambda p, q: (p[0] * q[0], p[1] + p[0] * q[1]), jnp.float32,
    ),
}


@pytest.mark.parametrize("case", DTYPE_CASES)
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_and_serial_scan_accept_the_same_dtypes_and_agree(case, reverse):
    """Integer, bool and narrow float steps are promoted to the identity's dtype by both scans, which then
    return the same values, equal to a Python loop over the same combine."""
    monoid, elems, identity, combine, dtype = DTYPE_CASES[case]
    start = np.array([1, 0, 0, 1, 0, 0, 0], bool)
    steps = list(zip(*elems)) if isinstance(elems, tuple) else list(elems)
    loop = suffix_loop if reverse else prefix_loop
    expected = jax.tree.map(np.asarray, loop(lambda p, q: combine(p, q), identity, steps, start))
    kwargs = {"start": jnp.asarray(start), "reverse": reverse}
    out = {fn.__name__: jax.jit(lambda e, fn=fn: fn(monoid, e, **kwargs))(elems) for fn in (scan, serial_scan)}
    for name, result in out.items():
        result = jnp.stack(result, axis=1) if isinstance(result, tuple) else result
        assert result.dtype == dtype, (name, result.dtype)
        np.testing.assert_allclose(np.asarray(result, np.float64), np.asarray(expected, np.float64), rtol=1e-3)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), out["scan"], out["serial_scan"])


def _mean_int():  # combine turns int32 into float32: neither scan can keep one dtype
    return Monoid(lambda: jnp.zeros((), jnp.int32), lambda a, b: (a + b) / 2)


def _dot_pair():  # right for one (3, 3) pair, wrong for slices [m, 3, 3] of the tape
    return Monoid(lambda: jnp.eye(3), jnp.dot)


# (monoid, elems, keyword arguments, exception, a pattern that names the argument, the leaf and its shape)
BAD_INPUTS = {
    "scalar leaf": (sum_monoid(), jnp.ones(()), {}, ValueError, r"leading time axis T, got elems of shape \(\)"),
    "scalar leaf in a tuple": (
        affine_monoid(), (jnp.ones(5), jnp.ones(())), {}, ValueError, r"got elems\[1\] of shape \(\)",
    ),
    "empty pytree": (sum_monoid(), (), {}, ValueError, "elems is an empty pytree"),
    "leading lengths differ": (
        affine_monoid(), (jnp.ones(5), jnp.ones(6)), {}, ValueError,
        r"leading time axis T = 5 of elems\[0\], got elems\[1\] of shape \(6,\)",
    ),
    "leading lengths differ in a dict": (
        Monoid(lambda: {"a": jnp.zeros(()), "b": jnp.zeros(2)}, lambda x, y: jax.tree.map(jnp.add, x, y)),
        {"a": jnp.ones(7), "b": jnp.ones((6, 2))}, {}, ValueError,
        r"T = 7 of elems\['a'\], got elems\['b'\] of shape \(6, 2\)",
    ),
    "trailing shapes combine cannot broadcast": (
        affine_monoid(), (jnp.ones((5, 3)), jnp.ones((5, 4))), {}, ValueError,
        (r"monoid.combine cannot combine two single elements of elems "
         r"\(elems\[0\]: float32\[3\], elems\[1\]: float32\[4\]\)"),
    ),
    "identity does not broadcast to a step": (
        affine_monoid((3,)), (jnp.ones((5, 4)), jnp.ones((5, 4))), {}, ValueError,
        (r"monoid.identity\(\)\[0\] has shape \(3,\), which does not broadcast to the shape \(4,\) "
         r"of one element of elems\[0\] \(shape \(5, 4\)\)"),
    ),
    "identity of another structure": (
        sum_monoid(), (jnp.ones(5), jnp.ones(5)), {}, ValueError, r"monoid.identity\(\) must have the same pytree",
    ),
    "combine changes the dtype": (
        _mean_int(), jnp.arange(5), {}, ValueError,
        r"on two single elements it turns elems of int32\[\] into float32\[\]",
    ),
    "combine does not broadcast over the time axis": (
        _dot_pair(), jnp.ones((5, 3, 3)), {}, ValueError,
        r"on two slices of the tape it turns elems of float32\[5, 3, 3\] into float32\[5, 3, 5, 3\]",
    ),
    "initial with a time axis": (
        affine_monoid(), (jnp.ones(5), jnp.ones(5)), {"initial": (jnp.ones(()), jnp.ones(5))}, ValueError,
        (r"ONE element \(no time axis\): initial\[1\] must have shape \(\), like elems\[1\] of shape "
         r"\(5,\) without its time axis, got \(5,\)"),
    ),
    "start of the wrong length": (
        sum_monoid(), jnp.ones(5), {"start": jnp.zeros(4, bool)}, ValueError,
        r"start must have shape \(5,\) to match the time axis of elems, got \(4,\)",
    ),
    "start not boolean": (sum_monoid(), jnp.ones(5), {"start": jnp.zeros(5)}, TypeError, "start must be a boolean"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_and_serial_scan_reject_the_same_inputs(case, reverse):
    """Both scans reject a bad input before tracing anything of their own, with the same message, naming the
    argument (elems, start, initial, monoid.identity(), monoid.combine), the leaf's path and its shape."""
    monoid, elems, kwargs, error, pattern = BAD_INPUTS[case]
    messages = []
    for scan_fn in (scan, serial_scan):
        with pytest.raises(error, match=pattern) as raised:
            jax.jit(lambda e, scan_fn=scan_fn: scan_fn(monoid, e, reverse=reverse, **kwargs))(elems)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
