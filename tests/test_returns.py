"""Discounted returns, returns-to-go and GAE as scans, against NumPy loops."""

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given

from memoroids_lite import discounted_return, gae, returns_to_go

from reference import gae_loop, prefix_return_loop, returns_to_go_loop

episodes = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-1, 1, width=32), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)
gammas = st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0])
modes = st.sampled_from(["associative", "serial"])


@given(episodes, gammas, modes)
def test_discounted_return_is_the_per_episode_prefix_sum(data, gamma, mode):
    rewards, start, _ = (np.array(x) for x in data)
    out = discounted_return(jnp.asarray(rewards, jnp.float32), jnp.asarray(start), gamma, mode=mode)
    np.testing.assert_allclose(out, prefix_return_loop(rewards, start, gamma), rtol=1e-5, atol=1e-5)


@given(episodes, gammas, modes)
def test_returns_to_go(data, gamma, mode):
    rewards, done, _ = (np.array(x) for x in data)
    out = returns_to_go(jnp.asarray(rewards, jnp.float32), jnp.asarray(done), gamma, mode=mode)
    np.testing.assert_allclose(out, returns_to_go_loop(rewards, done, gamma), rtol=1e-5, atol=1e-5)


@given(episodes, gammas, st.sampled_from([0.0, 0.5, 0.95, 1.0]), modes)
def test_gae(data, gamma, lam, mode):
    rewards, terminated, truncated = (np.array(x) for x in data)
    terminated = terminated & ~truncated
    done = terminated | truncated
    rng = np.random.default_rng(len(rewards))
    values, next_values = rng.standard_normal((2, len(rewards))).astype(np.float32)
    out = gae(jnp.asarray(rewards, jnp.float32), values, next_values, jnp.asarray(terminated), jnp.asarray(done),
              gamma, lam, mode=mode)
    expected = gae_loop(rewards, values, next_values, terminated, done, gamma, lam)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_prefix_at_the_last_step_is_the_episode_return():
    rewards = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])
    start = jnp.array([1, 0, 0, 1, 0], bool)
    done = jnp.array([0, 0, 1, 0, 1], bool)
    prefix = discounted_return(rewards, start, 0.5)
    to_go = returns_to_go(rewards, done, 0.5)
    np.testing.assert_allclose([prefix[2], prefix[4]], [to_go[0], to_go[3]])
    np.testing.assert_allclose(to_go, [1 + 1 + 0.75, 2 + 1.5, 3, 4 + 2.5, 5])


def test_truncation_bootstraps_termination_does_not():
    rewards = jnp.zeros(2)
    values = jnp.zeros(2)
    next_values = jnp.array([0.0, 10.0])
    done = jnp.array([False, True])
    truncated_adv = gae(rewards, values, next_values, jnp.array([False, False]), done, 0.9, 1.0)
    terminated_adv = gae(rewards, values, next_values, jnp.array([False, True]), done, 0.9, 1.0)
    np.testing.assert_allclose(truncated_adv, [0.9 * 9.0, 9.0])
    np.testing.assert_allclose(terminated_adv, [0.0, 0.0])


def test_jit_vmap_and_a_million_steps():
    n = 10**6
    rewards = jax.random.uniform(jax.random.key(0), (n,))
    done = jnp.zeros(n, bool).at[999::1000].set(True)
    first = returns_to_go_loop(np.asarray(rewards[:1000]), np.asarray(done[:1000]), 0.99)
    last = returns_to_go_loop(np.asarray(rewards[-1000:]), np.asarray(done[-1000:]), 0.99)
    for mode in ("associative", "serial"):
        out = jax.jit(returns_to_go, static_argnums=2, static_argnames="mode")(rewards, done, 0.99, mode=mode)
        assert bool(jnp.all(jnp.isfinite(out)))
        np.testing.assert_allclose(out[:1000], first, rtol=1e-4)
        np.testing.assert_allclose(out[-1000:], last, rtol=1e-4)
    batched = jax.vmap(lambda r, s: discounted_return(r, s, 0.9))(jnp.ones((3, 4)), jnp.ones((3, 4), bool))
    np.testing.assert_allclose(batched, np.ones((3, 4)))


T7 = jnp.ones(7)
NO = jnp.zeros(7, bool)
# (function, arguments, exception, a pattern naming the argument, the shape expected and the shape given)
BAD_RETURN_INPUTS = {
    "done too short": (returns_to_go, (T7, NO[:6], 0.9), ValueError,
                       r"^done must have shape \[T\] = \(7,\) like rewards, got \(6,\)\."),
    "done with an extra axis": (returns_to_go, (T7, jnp.zeros((7, 1), bool), 0.9), ValueError,
                                r"^done must have shape \[T\] = \(7,\) like rewards, got \(7, 1\)\."),
    "done not boolean": (returns_to_go, (T7, jnp.zeros(7, jnp.int32), 0.9), TypeError,
                         r"^done must be a boolean array of shape \[T\] = \(7,\) like rewards, got dtype int32"),
    "rewards a scalar": (returns_to_go, (1.0, NO, 0.9), ValueError, "^rewards must have a leading time axis T"),
    "gamma of another length": (returns_to_go, (T7, NO, jnp.full(6, 0.9)), ValueError,
                                r"^gamma must be a number or broadcast to the shape \(7,\) of rewards, got shape \(6,"),
    "start too long": (discounted_return, (T7, jnp.ones(8, bool), 0.9), ValueError,
                       r"^start must have shape \[T\] = \(7,\) like rewards, got \(8,\)\."),
    "values too short": (gae, (T7, T7[:6], T7, NO, NO, 0.9, 0.9), ValueError,
                         r"^values must have shape \[T\] = \(7,\) like rewards, got \(6,\)\."),
    "next_values too long": (gae, (T7, T7, jnp.ones(8), NO, NO, 0.9, 0.9), ValueError,
                             r"^next_values must have shape \[T\] = \(7,\) like rewards, got \(8,\)\."),
    "terminated too short": (gae, (T7, T7, T7, NO[:5], NO, 0.9, 0.9), ValueError,
                             r"^terminated must have shape \[T\] = \(7,\) like rewards, got \(5,\)\."),
    "terminated not boolean": (gae, (T7, T7, T7, jnp.zeros(7), NO, 0.9, 0.9), TypeError,
                               r"^terminated must be a boolean array .* got dtype float32"),
    "gae's done too short": (gae, (T7, T7, T7, NO, NO[:6], 0.9, 0.9), ValueError,
                             r"^done must have shape \[T\] = \(7,\) like rewards, got \(6,\)\."),
    "gae's rewards with an extra axis": (gae, (jnp.ones((7, 2)), T7, T7, NO, NO, 0.9, 0.9), ValueError,
                                         r"^rewards must have shape \[T\], one tape, got \(7, 2\)"),
    "lam of another length": (gae, (T7, T7, T7, NO, NO, 0.9, jnp.full(3, 0.9)), ValueError,
                              r"^lam must be a number or broadcast to the shape \(7,\) of rewards, got shape \(3,\)"),
}


@pytest.mark.parametrize("case", BAD_RETURN_INPUTS)
@pytest.mark.parametrize("mode", ["associative", "serial"])
def test_clear_errors_name_the_argument(case, mode):
    """Every error names the argument the user passed (never an internal one, such as scan's start) and the
    shape expected; the checks run on static shapes, so they fire inside jit too."""
    fn, args, error, pattern = BAD_RETURN_INPUTS[case]
    with pytest.raises(error, match=pattern):
        fn(*args, mode=mode)
    with pytest.raises(error, match=pattern):
        jax.jit(lambda *args: fn(*args, mode=mode))(*args)


def test_integer_rewards_are_returns_of_floats():
    rewards, done = jnp.array([1, 2, 3, 4]), jnp.array([0, 1, 0, 0], bool)
    for mode in ("associative", "serial"):
        out = returns_to_go(rewards, done, 0.5, mode=mode)
        assert out.dtype == jnp.float32
        np.testing.assert_allclose(out, returns_to_go_loop(np.asarray(rewards, float), np.asarray(done), 0.5))
