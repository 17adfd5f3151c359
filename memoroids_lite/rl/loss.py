"""Double DQN with one per-transition Huber loss, shared by tape and segment batching.

For the transition at slot t of a sequence (a tape, or one segment window), slot t + 1 holds its next
observation, so ONE pass of each network over the sequence gives both Q(s_t) and Q(s'_t):

    a*  = argmax_a Q_θ(s'_t, a)                                 (online network chooses, Double DQN)
    y_t = r_t + γ (1 − terminated_t) Q_φ(s'_t, a*)               (target network evaluates)
    L   = Σ_t mask_t · huber(Q_θ(s_t, a_t) − y_t) / Σ_t mask_t

Because s'_t is read off the same pass as s_t, the target's memory includes the episode's first
observation o_0. Tape and segment batching differ only in the mask: a tape's mask is False only on its
bootstrap slots; a segment's also on its padding.

`paper_code=True` computes the loss as the paper's code did, to measure what its errors change (numbered as
in the book's appendix *How memoroids_lite is built*, book/how_it_is_built.md):
- erratum 7: s'_t from a second pass over the next observations with the start flags of o_t, so s'_t is
  built from o_1 … o_{t+1} and never holds o_0 (both batchings);
- erratum 8: for segments, the Huber of the masked mean |δ| over the batch, not the mean of the Huber.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from memoroids_lite.rl.replay import Batch
from memoroids_lite.rl.segment import Segments


def td_errors(q_online, q_online_next, q_target_next, batch: Batch, gamma):
    """δ_t = Q_θ(s_t, a_t) − y_t for every slot but the last: [T − 1].

    q_online: Q_θ(s_t) [T, A]; q_online_next, q_target_next: Q_θ(s'_t), Q_φ(s'_t) at row t [T − 1, A].
    """
    a_next = jnp.argmax(q_online_next, axis=-1)
    bootstrap = jnp.take_along_axis(q_target_next, a_next[:, None], axis=-1)[:, 0]
    y = batch.reward[:-1] + gamma * (1.0 - batch.terminated[:-1]) * bootstrap
    q_taken = jnp.take_along_axis(q_online[:-1], batch.action[:-1, None], axis=-1)[:, 0]
    return q_taken - jax.lax.stop_gradient(y)


def per_transition(q_online, q_target, batch: Batch, gamma):
    """Huber TD errors of every slot but the last, s'_t read off the same pass
    (slot t + 1): [T − 1]."""
    delta = td_errors(q_online, q_online[1:], q_target[1:], batch, gamma)
    return optax.huber_loss(delta, delta=1.0)


def paper_code_next_q(network, params, sequence: Batch):
    """Q(s'_t) [T − 1, A] as the paper's code computed it: a pass over o_1 … o_T with the flags of o_0 … o_{T−1}.

    An episode's memory is reset at its o_1 instead of its o_0, so no s'_t ever holds o_0 (erratum 7).
    """
    return network.apply(params, sequence.obs[1:], sequence.start[:-1])[0]


def masked_mean(losses, mask):
    return jnp.sum(losses * mask) / jnp.maximum(jnp.sum(mask), 1)


def tape_loss(params, target_params, network, batch: Batch, gamma, paper_code=False):
    """The tape: one sequence, one pass per network, no time dimension beyond the tape
    itself."""
    q_online, _ = network.apply(params, batch.obs, batch.start)
    if paper_code:
        delta = td_errors(
            q_online,
            paper_code_next_q(network, params, batch),
            paper_code_next_q(network, target_params, batch),
            batch,
            gamma,
        )
        return masked_mean(optax.huber_loss(delta, delta=1.0), batch.mask[:-1])
    q_target, _ = network.apply(target_params, batch.obs, batch.start)
    losses = per_transition(q_online, q_target, batch, gamma)
    return masked_mean(losses, batch.mask[:-1])


def _window_q(network, params, window: Batch, burn_in: Batch, memory, init):
    """Q over one segment window, its memory started as `init` says (zero / stored / burn_in)."""
    state = None
    if init != "zero":
        state = memory
    if init == "burn_in":
        _, state = network.apply(params, burn_in.obs, burn_in.start | ~burn_in.mask, state)
        state = jax.lax.stop_gradient(state)  # R2D2: the replayed steps only refresh the state
    return network.apply(params, window.obs, window.start, state)[0]


def segment_loss(params, target_params, network, segments: Segments, gamma, init="zero", paper_code=False):
    """Segments: the same per-transition loss over [B / L, L + 1] windows, padding masked out."""
    mask = segments.batch.mask[:, :-1]
    if paper_code:  # windows start from zero memory, as in the paper (TrainConfig allows nothing else here)

        def paper_delta(window):
            q_online = network.apply(params, window.obs, window.start)[0]
            return td_errors(q_online, paper_code_next_q(network, params, window),
                             paper_code_next_q(network, target_params, window), window, gamma)

        mean_abs_delta = masked_mean(jnp.abs(jax.vmap(paper_delta)(segments.batch)), mask)
        return optax.huber_loss(mean_abs_delta, delta=1.0)  # erratum 8: one Huber of the batch's mean |δ|

    def one(window, burn_in, memory):
        q_online = _window_q(network, params, window, burn_in, memory, init)
        q_target = _window_q(network, target_params, window, burn_in, memory, init)
        return per_transition(q_online, q_target, window, gamma)

    losses = jax.vmap(one)(segments.batch, segments.burn_in, segments.memory)
    return masked_mean(losses, mask)
