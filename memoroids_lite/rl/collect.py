"""The collector: N environments stepped together, ε-greedy on the recurrent Q-network.

Each environment carries its observation, its environment state, its memory state and its start flag. One
step runs the network for ONE observation per environment (a tape of length 1, the memory carried in), picks
actions, steps the environments (gymnax auto-resets them) and emits the transition. `start` for the next
step is this step's `terminated or truncated`, so the memory resets exactly when a new episode begins.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from memoroids_lite.rl.network import initial_state
from memoroids_lite.rl.replay import Transition


class Collector(NamedTuple):
    obs: jax.Array  # [N, d]
    env_state: Any  # [N, ...]
    memory: Any  # [N, ...] recurrent state of each environment
    start: jax.Array  # [N] obs is the first of its episode
    episode_return: jax.Array  # [N] return of each running episode so far


def init(env, env_params, network, key, num_envs: int) -> Collector:
    obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), env_params)
    memory = jax.tree.map(lambda x: jnp.broadcast_to(x, (num_envs,) + jnp.shape(x)), initial_state(network))
    return Collector(obs, env_state, memory, jnp.ones(num_envs, bool), jnp.zeros(num_envs))


def step(
    env,
    env_params,
    network,
    params,
    collector: Collector,
    key,
    epsilon,
    store_memory: bool = False,
):
    """One ε-greedy step of every environment: returns (collector', transition,
    finished_returns, finished)."""
    k_explore, k_action, k_env = jax.random.split(key, 3)
    n = collector.obs.shape[0]
    q, memory = jax.vmap(network.apply, in_axes=(None, 0, 0, 0))(
        params, collector.obs[:, None], collector.start[:, None], collector.memory
    )
    greedy = jnp.argmax(q[:, 0], axis=-1)
    random = jax.random.randint(k_action, (n,), 0, env.num_actions)
    action = jnp.where(jax.random.uniform(k_explore, (n,)) < epsilon, random, greedy)
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
    )
    done = terminated | truncated
    episode_return = collector.episode_return + reward
    ongoing = jnp.where(done, 0.0, episode_return)
    collector = Collector(obs, env_state, memory, done, ongoing)
    return collector, transition, episode_return, done


def evaluate(env, env_params, network, params, key, episodes: int, max_steps: int, reset_every: int = 0):
    """Mean undiscounted return of `episodes` greedy episodes (one per environment, run to their end).

    reset_every = L > 0 also resets the memory at steps L, 2L, ... of every episode: the agent then acts with
    the memory a zero-initialised segment of length L gives it in training (segments start at multiples of L,
    rl/segment.py). 0: the memory spans the whole episode, as in the paper's evaluation."""
    if reset_every < 0:
        raise ValueError(f"reset_every must be >= 0 (0: never reset inside an episode), got {reset_every}.")
    collector = init(env, env_params, network, key, episodes)

    def body(carry, step_key_and_t):
        collector, total, running = carry
        step_key, t = step_key_and_t
        if reset_every:  # every environment began its one episode at t = 0, so t is the step of its episode
            collector = collector._replace(start=collector.start | (t % reset_every == 0))
        collector, _, returns, done = step(env, env_params, network, params, collector, step_key, 0.0)
        total = jnp.where(running & done, returns, total)
        return (collector, total, running & ~done), None

    carry = (collector, jnp.zeros(episodes), jnp.ones(episodes, bool))
    (_, total, _), _ = jax.lax.scan(body, carry, (jax.random.split(key, max_steps), jnp.arange(max_steps)))
    return total.mean()
