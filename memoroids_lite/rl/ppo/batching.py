"""Tapes or chunks for PPO, chosen once: how each environment's rollout becomes the sequences the loss reads.

A rollout is T steps of each of N environments, collected with the parameters of the iteration. The loss
runs the actor-critic over sequences of it with the CURRENT parameters, and the batchings differ in where each
sequence's memory comes from:

- `Tapes(length=T, prefix=P)`, tape-based batching: each environment's rollout is one tape, read from the
  first step of every episode in it. An episode already running when the rollout began started at most
  P = (longest episode − 1) steps before, so the tape is those P earlier steps (outside the loss: mask False)
  followed by the T new ones, its memory reset by the start flags alone: every memory is recomputed by the
  current parameters from its episode's first observation, and gradients reach every step of the episode
  (no truncated backpropagation through time). Minibatches are whole tapes: N / M environments each.
- `Chunks(length=L)`, segment-based batching as in PureJaxRL's `ppo_rnn` (L = T) and most recurrent PPO:
  each tape is cut into T / L chunks of L steps, each starting from the memory the acting policy had at its
  first step (stored during collection, so computed by older parameters; no gradient flows into it).
  Minibatches are N T / (L M) chunks drawn from all environments and times.

Both give `Sequences` [K, S, ...] with a mask, and `outputs` runs the network over each sequence; the loss
(rl/ppo/loss.py) is written once over them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class Rollout(NamedTuple):
    """T steps of N environments and what PPO computed from them (leading axes [N, T])."""

    obs: jax.Array  # [N, T, d] o_t
    start: jax.Array  # [N, T] o_t is the first observation of its episode
    action: jax.Array  # [N, T] a_t
    log_prob: jax.Array  # [N, T] log π_old(a_t | s_t)
    value: jax.Array  # [N, T] V_old(s_t)
    advantage: jax.Array  # [N, T] GAE A_t (rl/ppo/loop.py)
    target: jax.Array  # [N, T] A_t + V_old(s_t), the value target
    memory: Any  # [N, T / length, ...] the acting memory before the first step of every `length` steps
    prefix_obs: jax.Array  # [N, P, d] the P steps before the rollout (of which the running episode's first)
    prefix_start: jax.Array  # [N, P]


class Sequences(NamedTuple):
    """K sequences of S slots that the loss reads; mask False on slots outside the loss."""

    obs: jax.Array  # [K, S, d]
    start: jax.Array  # [K, S]
    memory: Any  # [K, ...] the memory each sequence starts from, or () (the identity)
    action: jax.Array  # [K, S]
    log_prob: jax.Array  # [K, S]
    value: jax.Array  # [K, S]
    advantage: jax.Array  # [K, S]
    target: jax.Array  # [K, S]
    mask: jax.Array  # [K, S]


STEP_FIELDS = ("action", "log_prob", "value", "advantage", "target")


class Tapes(NamedTuple):
    """One tape per environment: its P earlier steps (outside the loss), then its T rollout steps."""

    length: int  # T: the acting memory is recorded once per rollout (and not used)
    prefix: int  # P = longest episode − 1

    def sequences(self, rollout: Rollout) -> Sequences:
        n, p = rollout.start.shape[0], self.prefix
        start = jnp.concatenate([rollout.prefix_start, rollout.start], axis=1)

        def padded(x):
            return jnp.concatenate([jnp.zeros((n, p), x.dtype), x], axis=1)

        steps = {name: padded(getattr(rollout, name)) for name in STEP_FIELDS}
        mask = padded(jnp.ones_like(rollout.start))
        obs = jnp.concatenate([rollout.prefix_obs, rollout.obs], axis=1)
        return Sequences(obs=obs, start=start, memory=(), mask=mask, **steps)

    def outputs(self, network, params, sequences: Sequences):
        """(logits [K, S, A], value [K, S]) of every tape, each from the identity memory."""
        apply = jax.vmap(lambda obs, start: network.apply(params, obs, start)[0])
        return apply(sequences.obs, sequences.start)


class Chunks(NamedTuple):
    """T / L chunks per environment, each from the acting memory stored at its first step."""

    length: int  # L
    prefix = 0  # no earlier steps are read

    def sequences(self, rollout: Rollout) -> Sequences:
        n, t = rollout.start.shape
        count = n * t // self.length

        def cut(x):
            return x.reshape((count, self.length) + x.shape[2:])

        steps = {name: cut(getattr(rollout, name)) for name in STEP_FIELDS}
        memory = jax.tree.map(lambda m: m.reshape((count,) + m.shape[2:]), rollout.memory)
        return Sequences(obs=cut(rollout.obs), start=cut(rollout.start), memory=memory,
                         mask=jnp.ones((count, self.length), bool), **steps)

    def outputs(self, network, params, sequences: Sequences):
        """(logits [K, L, A], value [K, L]) of every chunk, each from its stored memory (no gradient into it)."""
        def one(obs, start, memory):
            return network.apply(params, obs, start, jax.lax.stop_gradient(memory))[0]

        return jax.vmap(one)(sequences.obs, sequences.start, sequences.memory)


def minibatches(sequences: Sequences, key, count: int) -> Sequences:
    """The K sequences shuffled and split into `count` minibatches: leading axes [count, K / count]."""
    k = sequences.obs.shape[0]
    order = jax.random.permutation(key, k)
    return jax.tree.map(lambda x: x[order].reshape((count, k // count) + x.shape[1:]), sequences)


def choose(config) -> Tapes | Chunks:
    """The batching a PPOConfig names: "tape" or "segment" (chunks of segment_length steps)."""
    if config.batching == "tape":
        return Tapes(config.rollout_length, config.max_episode_steps - 1)
    if config.batching == "segment":
        return Chunks(config.segment_length)
    raise ValueError(f"unknown batching {config.batching!r}; choose 'tape' or 'segment'.")
