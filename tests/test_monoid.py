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
    with pytest.raises(ValueError, match="leading time axis"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(6)))
    with pytest.raises(TypeError, match="boolean"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.array([1, 0, 0, 1, 0]))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.zeros(4, bool))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), start=jnp.zeros((5, 1), bool))
    with pytest.raises(ValueError, match="ONE element"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), initial=(jnp.ones(5), jnp.ones(5)))
    with pytest.raises(ValueError, match="structure"):
        scan_fn(monoid, (jnp.ones(5), jnp.ones(5)), initial=jnp.ones(()))
    with pytest.raises(ValueError, match="leading time axis"):
        scan_fn(sum_monoid(), jnp.ones(()))
