"""PPO's clipped loss (Schulman et al., 2017), written once for tapes and chunks (rl/ppo/batching.py).

For every slot t in the loss (mask_t), with the actor-critic run over the sequence by the batching,

    ρ_t = π_θ(a_t | s_t) / π_old(a_t | s_t)                 Â_t = A_t normalised over the minibatch
    L^π = −min(ρ_t Â_t, clip(ρ_t, 1 − ε, 1 + ε) Â_t)
    L^V = ½ max((V_θ(s_t) − R_t)², (V_old + clip(V_θ − V_old, −ε, ε) − R_t)²),   R_t = A_t + V_old(s_t)
    L   = mean(L^π) + c_V mean(L^V) − c_H mean(H[π_θ(· | s_t)])

means over the masked slots, as PureJaxRL's `ppo_rnn` computes it. Tapes and chunks differ only in the memory
s_t is read with, and in which slots are masked (a tape's earlier steps).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from memoroids_lite.rl.ppo.batching import Sequences


class LossParts(NamedTuple):
    policy: jax.Array  # mean L^π
    value: jax.Array  # mean L^V
    entropy: jax.Array  # mean H[π_θ]
    approx_kl: jax.Array  # mean (ρ − 1) − log ρ, an estimate of KL(π_old ‖ π_θ)
    clipped: jax.Array  # fraction of slots whose ratio was clipped


def masked_mean(x, mask):
    return jnp.sum(jnp.where(mask, x, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


def loss(params, network, batching, sequences: Sequences, clip_eps, vf_coef, ent_coef):
    """(L, LossParts) over the minibatch `sequences`; batching: Tapes or Chunks, which runs the network."""
    logits, value = batching.outputs(network, params, sequences)
    mask = sequences.mask
    log_probs = jax.nn.log_softmax(logits)
    log_prob = jnp.take_along_axis(log_probs, sequences.action[..., None], axis=-1)[..., 0]
    log_ratio = log_prob - sequences.log_prob
    ratio = jnp.exp(log_ratio)
    mean = masked_mean(sequences.advantage, mask)
    std = jnp.sqrt(masked_mean((sequences.advantage - mean) ** 2, mask))
    advantage = (sequences.advantage - mean) / (std + 1e-8)
    clipped_ratio = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    policy = -jnp.minimum(ratio * advantage, clipped_ratio * advantage)
    old = sequences.value
    value_clipped = old + jnp.clip(value - old, -clip_eps, clip_eps)
    value_loss = 0.5 * jnp.maximum((value - sequences.target) ** 2, (value_clipped - sequences.target) ** 2)
    entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
    parts = LossParts(
        policy=masked_mean(policy, mask),
        value=masked_mean(value_loss, mask),
        entropy=masked_mean(entropy, mask),
        approx_kl=masked_mean(ratio - 1.0 - log_ratio, mask),
        clipped=masked_mean(jnp.abs(ratio - 1.0) > clip_eps, mask),
    )
    total = parts.policy + vf_coef * parts.value - ent_coef * parts.entropy
    return total, parts
