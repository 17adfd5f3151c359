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


def test_clear_errors():
    with pytest.raises(TypeError, match="boolean"):
        returns_to_go(jnp.ones(3), jnp.array([0, 0, 1]), 0.9)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        discounted_return(jnp.ones(3), jnp.ones(4, bool), 0.9)
    with pytest.raises(ValueError, match="share one shape"):
        gae(jnp.ones(3), jnp.ones(3), jnp.ones(2), jnp.zeros(3, bool), jnp.zeros(3, bool), 0.9, 0.9)
