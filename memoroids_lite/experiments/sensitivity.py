"""What is in memory (paper §5, Figure 3): how much each past observation moves the last Q-value.

For a trained Q-network and one greedy episode o_0 … o_n, the sensitivity of the terminal Q-value to the
observation of age i − n is

    S_i = Σ_features | ∂Q(s_n, a_n) / ∂o_i |                                               (paper eq. 15)

normalised to sum to one. The reward memory length (RML) of Repeat Previous with k = 10 is 10 steps: an ideal
Q-function would put all its sensitivity on the last 10 observations. The share of S older than the RML is
what segment-based training with L = 10 cannot shape, since its gradient stops at the segment start.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.envs import make as make_env
from memoroids_lite.rl.train import make_network


def greedy_episode(config, params, key):
    """Observations, start flags and actions of one greedy episode (the network acts step by step)."""
    env, env_params = make_env(config.env, **config.env_kwargs)
    network = make_network(config, env.num_actions)
    act = jax.jit(lambda obs, start, state: network.apply(params, obs[None], start[None], state))
    step = jax.jit(env.step)
    obs, env_state = env.reset(key, env_params)
    observations, actions, state, start = [], [], None, jnp.ones((), bool)
    for t in range(int(env_params.max_steps_in_episode)):
        q, state = act(obs, start, state)
        action = jnp.argmax(q[0])
        observations.append(obs)
        actions.append(action)
        obs, env_state, _, terminated, truncated, _ = step(jax.random.fold_in(key, t), env_state, action, env_params)
        start = jnp.zeros((), bool)
        if bool(terminated | truncated):
            break
    return jnp.stack(observations), jnp.stack(actions), network


def sensitivity(config, params, key) -> np.ndarray:
    """S_i for i = 0 … n of one greedy episode, normalised to sum to 1 (index −1 is the last observation)."""
    obs, actions, network = greedy_episode(config, params, key)
    start = jnp.zeros(obs.shape[0], bool).at[0].set(True)

    def last_q(obs):
        q, _ = network.apply(params, obs, start)
        return q[-1, actions[-1]]

    s = np.abs(np.asarray(jax.grad(last_q)(obs))).sum(-1)
    return s / max(s.sum(), 1e-30)


def share_older_than(s: np.ndarray, steps: int) -> float:
    """The share of sensitivity on observations more than `steps` steps before the last one."""
    return float(s[: max(len(s) - steps, 0)].sum())
