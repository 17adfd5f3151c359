"""Double DQN with one per-transition Huber loss, shared by tape and segment batching.

For the transition at slot t of a sequence (a tape, or one segment window), slot t + 1 holds its next
observation, so ONE pass of each network over the sequence gives both Q(s_t) and Q(s'_t):

    a*  = argmax_a Q_θ(s'_t, a)                                 (online network chooses, Double DQN)
    y_t = r_t + γ (1 − terminated_t) Q_φ(s'_t, a*)               (target network evaluates)
    L   = Σ_t mask_t · huber(Q_θ(s_t, a_t) − y_t) / Σ_t mask_t

Because s'_t is read off the same pass as s_t, the target's memory includes the episode's first
observation o_0. (The paper's code ran the networks over next_observation with the same start flags, so
its targets never saw o_0.) Tape and segment batching differ only in the mask: a tape's mask is False only
on its bootstrap slots; a segment's also on its padding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from memoroids_lite.rl.replay import Batch
from memoroids_lite.rl.segment import Segments


def per_transition(q_online, q_target, batch: Batch, gamma):
    """Huber TD errors of every slot but the last, from Q-values over the whole sequence: [T − 1]."""
    a_next = jnp.argmax(q_online[1:], axis=-1)
    bootstrap = jnp.take_along_axis(q_target[1:], a_next[:, None], axis=-1)[:, 0]
    y = batch.reward[:-1] + gamma * (1.0 - batch.terminated[:-1]) * bootstrap
    q_taken = jnp.take_along_axis(q_online[:-1], batch.action[:-1, None], axis=-1)[:, 0]
    return optax.huber_loss(q_taken, jax.lax.stop_gradient(y), delta=1.0)


def masked_mean(losses, mask):
    return jnp.sum(losses * mask) / jnp.maximum(jnp.sum(mask), 1)


def tape_loss(params, target_params, network, batch: Batch, gamma):
    """The tape: one sequence, one pass per network, no time dimension beyond the tape itself."""
    q_online, _ = network.apply(params, batch.obs, batch.start)
    q_target, _ = network.apply(target_params, batch.obs, batch.start)
    return masked_mean(per_transition(q_online, q_target, batch, gamma), batch.mask[:-1])


def _window_q(network, params, window: Batch, burn_in: Batch, memory, init):
    """Q over one segment window, its memory started as `init` says (zero / stored / burn_in)."""
    state = None
    if init != "zero":
        state = memory
    if init == "burn_in":
        _, state = network.apply(params, burn_in.obs, burn_in.start | ~burn_in.mask, state)
        state = jax.lax.stop_gradient(state)  # R2D2: the replayed steps only refresh the state
    return network.apply(params, window.obs, window.start, state)[0]


def segment_loss(params, target_params, network, segments: Segments, gamma, init="zero"):
    """Segments: the same per-transition loss over [B / L, L + 1] windows, padding masked out."""

    def one(window, burn_in, memory):
        q_online = _window_q(network, params, window, burn_in, memory, init)
        q_target = _window_q(network, target_params, window, burn_in, memory, init)
        return per_transition(q_online, q_target, window, gamma)

    losses = jax.vmap(one)(segments.batch, segments.burn_in, segments.memory)
    return masked_mean(losses, segments.batch.mask[:, :-1])
