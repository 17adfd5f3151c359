"""Double DQN with one per-transition Huber loss, written once for both batchings (rl/batching.py).

For the transition at slot t of a sequence (a tape, or one segment window), slot t + 1 holds its next
observation, so ONE pass of each network over the sequence gives both Q(s_t) and Q(s'_t):

    a*  = argmax_a Q_θ(s'_t, a)                                 (online network chooses, Double DQN)
    y_t = r_t + γ (1 − terminated_t) Q_φ(s'_t, a*)               (target network evaluates)
    L   = Σ_t mask_t · huber(Q_θ(s_t, a_t) − y_t) / Σ_t mask_t

Because s'_t is read off the same pass as s_t, the target's memory includes the episode's first
observation o_0. The batching runs the networks over its sequences (one tape, or B / L windows whose memory
starts as the batching says) and maps the per-sequence loss over them; tape and segment batching then differ
only in the mask: a tape's mask is False only on its bootstrap slots; a segment's also on its padding.

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


def loss(params, target_params, network, batching, sample, gamma, paper_code=False):
    """The mean Huber TD error over the sample's transitions (its mask);
    θ = params, φ = target_params.

    batching: a TapeBatching or SegmentBatching; sample: what its `sample` drew."""
    batch = batching.batch(sample)
    mask = batch.mask[..., :-1]
    if paper_code:  # windows start from zero memory, as in the paper (validated)

        def paper_delta(sequence):
            q_online = network.apply(params, sequence.obs, sequence.start)[0]
            q_next = paper_code_next_q(network, params, sequence)
            q_target_next = paper_code_next_q(network, target_params, sequence)
            return td_errors(q_online, q_next, q_target_next, sequence, gamma)

        delta = batching.map(paper_delta, batch)
        if batching.paper_code_huber_of_mean:  # erratum 8 (segments)
            return optax.huber_loss(masked_mean(jnp.abs(delta), mask), delta=1.0)
        return masked_mean(optax.huber_loss(delta, delta=1.0), mask)
    q_online = batching.outputs(network, params, sample)
    q_target = batching.outputs(network, target_params, sample)

    def one(q, q_next, sequence):
        return per_transition(q, q_next, sequence, gamma)

    losses = batching.map(one, q_online, q_target, batch)
    return masked_mean(losses, mask)
