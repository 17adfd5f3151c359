"""How a Q-network acts (the `act` of rl/collect.py): ε-greedy in training, greedy in evaluation.

    a_t = argmax_a Q_θ(s_t, a)   with probability 1 − ε,   uniform over the actions otherwise

The network runs ONE observation per environment (a tape of length 1, the memory carried in).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def epsilon_greedy(network, params, epsilon):
    """The ε-greedy policy of Q_θ:
    act(obs [N, d], start [N], memory, (k_explore, k_action))."""

    def act(obs, start, memory, keys):
        k_explore, k_action = keys
        n = obs.shape[0]
        apply = jax.vmap(network.apply, in_axes=(None, 0, 0, 0))
        q, memory = apply(params, obs[:, None], start[:, None], memory)
        greedy = jnp.argmax(q[:, 0], axis=-1)
        random = jax.random.randint(k_action, (n,), 0, network.num_actions)
        explore = jax.random.uniform(k_explore, (n,)) < epsilon
        action = jnp.where(explore, random, greedy)
        return action, memory, ()

    return act


def greedy(network, params):
    """The greedy policy of Q_θ (ε = 0)."""
    return epsilon_greedy(network, params, 0.0)
