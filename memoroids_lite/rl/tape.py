"""Tape-based batching (paper §4.1, Algorithms 1 and 2): whole episodes concatenated into one tape.

Insertion (Algorithm 1) is `replay.add`: the rings keep whole episodes until they are overwritten, and the
oldest episodes are the ones that go. Sampling (Algorithm 2) draws episodes uniformly and concatenates them
until the tape holds B transitions, the last episode cut where the tape ends. With static shapes:

    draw B + 1 episode records (B + 1 episodes always cover B + 1 slots, since each has >= 1 step),
    cumulative-sum their lengths, and find each tape slot's episode with searchsorted.

The tape has B + 1 slots: B transitions and one more observation, the next observation of the last
transition, so ONE pass of the network gives Q(s_t) at slot t and Q(s'_t) at slot t + 1. An episode cut by a
time limit (truncated, not terminated) still needs Q of its final observation, which is not the next
episode's first: it gets one extra slot after its last transition, outside the loss (mask False). Terminated
episodes need no such slot, so on tasks that never truncate a tape holds exactly B transitions.

`TapeBatching(batch_size)` is this batching as one object, chosen once (rl/batching.py): it samples a tape and
runs a network over it in one pass, the memory reset by the start flags alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from memoroids_lite.rl.replay import Batch, Storage, add, gather, init, whole_episodes

__all__ = ["TapeBatching", "add", "init", "sample"]


def sample(storage: Storage, key, batch_size: int) -> Batch:
    """A tape of batch_size + 1 slots (leading axis) made of uniformly drawn whole
    episodes."""
    valid = whole_episodes(storage)
    p = valid / jnp.maximum(valid.sum(), 1)
    records = jax.random.choice(key, valid.shape[0], (batch_size + 1,), p=p)
    length = storage.record_length[records]
    truncated_end = storage.record_truncated[records]
    # an extra slot for the final observation of a truncated episode
    slots = length + truncated_end
    ends = jnp.cumsum(slots)
    j = jnp.arange(batch_size + 1)
    # the sampled episode that slot j falls in
    k = jnp.searchsorted(ends, j, side="right")
    offset = j - (ends[k] - slots[k])
    record = records[k]
    batch = gather(
        storage,
        storage.record_stream[record],
        storage.record_begin[record] + offset,
        record,
        offset,
        length[k],
        truncated_end[k],
    )
    # the last slot only bootstraps
    return batch._replace(mask=batch.mask & (j < batch_size))


class TapeBatching(NamedTuple):
    """The tape as a batching: one sequence of batch_size + 1 slots."""

    batch_size: int  # B, transitions per tape
    stores_memory = False  # every episode starts from the identity: no stored states
    # the paper's code's tape loss was the mean of the Huber (rl/dqn/loss.py)
    paper_code_huber_of_mean = False

    def sample(self, storage: Storage, key) -> Batch:
        return sample(storage, key, self.batch_size)

    def batch(self, tape: Batch) -> Batch:
        """The tape's slots: [B + 1]."""
        return tape

    def outputs(self, network, params, tape: Batch):
        """The network's outputs over the tape, [B + 1, ...]: one pass."""
        return network.apply(params, tape.obs, tape.start)[0]

    def map(self, fn, *sequences: Any):
        """fn applied to the tape, the one sequence."""
        return fn(*sequences)
