"""The collector: N environments stepped together, acting through a policy function.

Each environment carries its observation, its environment state, its memory state and its start flag. One
step asks the policy for ONE action per environment,

    action [N], memory', extras = act(obs [N, d], start bool[N], memory [N, ...], keys [2])

(DQN's ε-greedy on its Q-network, rl/dqn/act.py; `extras` is what the policy computed beside the action, stored
with the transition: () for DQN), steps the environments (gymnax auto-resets them) and emits the transition.
`start` for the next step is this step's `terminated or truncated`, so the memory resets exactly when a new
episode begins. A step's key is split in three: two for the policy, one for the environments.

    collector, transitions, finished_returns, finished = rollout(env, env_params, act, collector, key, steps)

runs `steps` steps and returns every transition ([steps, N] each) for the algorithm to store or learn from.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from memoroids_lite.rl.body import initial_state
from memoroids_lite.rl.replay import Transition


class Collector(NamedTuple):
    obs: jax.Array  # [N, d]
    env_state: Any  # [N, ...]
    memory: Any  # [N, ...] recurrent state of each environment
    start: jax.Array  # [N] obs is the first of its episode
    episode_return: jax.Array  # [N] return of each running episode so far


def init(env, env_params, network, key, num_envs: int) -> Collector:
    """`num_envs` fresh environments, each with the identity memory of `network` (rl/body.py)."""
    obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), env_params)
    memory = jax.tree.map(lambda x: jnp.broadcast_to(x, (num_envs,) + jnp.shape(x)), initial_state(network))
    return Collector(obs, env_state, memory, jnp.ones(num_envs, bool), jnp.zeros(num_envs))


def step(env, env_params, act, collector: Collector, key, store_memory: bool = False):
    """One step of every environment, actions from `act`: returns (collector',
    transition, finished_returns, finished). store_memory: the transition carries the
    memory before o_t (for segments that start from it)."""
    k_explore, k_action, k_env = jax.random.split(key, 3)
    n = collector.obs.shape[0]
    keys = (k_explore, k_action)
    action, memory, extras = act(collector.obs, collector.start, collector.memory, keys)
    env_step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    obs, env_state, reward, terminated, truncated, info = env_step(
        jax.random.split(k_env, n), collector.env_state, action, env_params
    )
    transition = Transition(
        obs=collector.obs,
        action=action,
        reward=reward,
        terminated=terminated,
        truncated=truncated,
        start=collector.start,
        final_obs=info["final_observation"],
        memory=collector.memory if store_memory else (),
        extras=extras,
    )
    done = terminated | truncated
    episode_return = collector.episode_return + reward
    ongoing = jnp.where(done, 0.0, episode_return)
    collector = Collector(obs, env_state, memory, done, ongoing)
    return collector, transition, episode_return, done


def rollout(env, env_params, act, collector: Collector, key, steps: int,
            store_memory: bool = False):
    """`steps` steps of every environment: (collector', transitions,
    finished_returns, finished), the last three with leading axes [steps, N]
    (finished_returns[t, n]: the return of the episode that ended there)."""

    def body(collector, step_key):
        collector, transition, returns, done = step(
            env, env_params, act, collector, step_key, store_memory
        )
        return collector, (transition, returns, done)

    keys = jax.random.split(key, steps)
    collector, (transitions, returns, done) = jax.lax.scan(body, collector, keys)
    return collector, transitions, returns, done


def evaluate(env, env_params, network, act, key, episodes: int, max_steps: int, reset_every: int = 0):
    """Mean undiscounted return of `episodes` episodes of the policy `act` (one per environment, run to their
    end); `network` gives the initial memory.

    reset_every = L > 0 also resets the memory at steps L, 2L, ... of every episode: the agent then acts with
    the memory a zero-initialised segment of length L gives it in training (segments start at multiples of L,
    rl/segment.py). 0: the memory spans the whole episode, as in the paper's evaluation. It may be traced (one
    compiled evaluation for every L)."""
    if isinstance(reset_every, int) and reset_every < 0:
        raise ValueError(f"reset_every must be >= 0 (0: never reset inside an episode), got {reset_every}.")
    collector = init(env, env_params, network, key, episodes)

    def body(carry, step_key_and_t):
        collector, total, running = carry
        step_key, t = step_key_and_t
        # every environment began its one episode at t = 0, so t is the step of its episode
        reset = (reset_every > 0) & (t % jnp.maximum(reset_every, 1) == 0)
        collector = collector._replace(start=collector.start | reset)
        collector, _, returns, done = step(env, env_params, act, collector, step_key)
        total = jnp.where(running & done, returns, total)
        return (collector, total, running & ~done), None

    carry = (collector, jnp.zeros(episodes), jnp.ones(episodes, bool))
    (_, total, _), _ = jax.lax.scan(body, carry, (jax.random.split(key, max_steps), jnp.arange(max_steps)))
    return total.mean()
