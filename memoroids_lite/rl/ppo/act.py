"""How an actor-critic acts (the `act` of rl/collect.py): sampling in training, the most likely action in
evaluation.

    a_t ~ π_θ(· | s_t);   extras = (log π_θ(a_t | s_t), V_θ(s_t))      stored for the PPO ratio and GAE

The network runs ONE observation per environment (a tape of length 1, the memory carried in).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Extras(NamedTuple):
    """What the behaviour policy computed with each action."""

    log_prob: jax.Array  # [N] log π_old(a_t | s_t)
    value: jax.Array  # [N] V_old(s_t)


def one_step(network, params, obs, start, memory):
    """(logits [N, A], value [N]), memory' of every environment's one step."""
    apply = jax.vmap(network.apply, in_axes=(None, 0, 0, 0))
    (logits, value), memory = apply(params, obs[:, None], start[:, None], memory)
    return (logits[:, 0], value[:, 0]), memory


def sample(network, params):
    """The stochastic policy π_θ: act(obs [N, d], start [N], memory, (_, k_action))."""

    def act(obs, start, memory, keys):
        (logits, value), memory = one_step(network, params, obs, start, memory)
        action = jax.random.categorical(keys[1], logits)
        log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], axis=-1)[:, 0]
        return action, memory, Extras(log_prob, value)

    return act


def most_likely(network, params):
    """The deterministic policy argmax_a π_θ(a | s_t), for greedy evaluation."""

    def act(obs, start, memory, keys):
        (logits, _), memory = one_step(network, params, obs, start, memory)
        return jnp.argmax(logits, axis=-1), memory, ()

    return act
