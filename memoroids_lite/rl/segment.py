"""Segment-based batching (paper Appendix C): episodes cut into zero-padded fragments of length L.

Each episode of n steps splits into ceil(n / L) fragments starting at steps 0, L, 2L, …; a batch of
B transitions is B / L fragments drawn uniformly, each padded with zeros to L transitions and masked. Each
window carries one more slot for the next observation of its last transition (the network runs over L + 1
slots), exactly as a tape does.

Where each fragment's memory starts, `init`:
- "zero": from the identity, as the paper's baseline: nothing before the fragment can influence it, and no
  gradient crosses its start (truncated backpropagation through time);
- "stored": from the recurrent state saved when the data was collected (R2D2's "stored state" strategy,
  Kapturowski et al., 2019; stale, because the parameters have moved since);
- "burn_in": from the state stored `burn_in` steps earlier, replaying those steps without gradient to refresh
  it (R2D2, Kapturowski et al., 2019), the strongest segment baseline.

`SegmentBatching(batch_size, length, init, burn_in)` is this batching as one object, chosen once
(rl/batching.py): it samples windows and runs a network over each with its memory started as `init` says.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from memoroids_lite.rl.replay import Batch, Storage, add, capacity, gather, init, whole_episodes

__all__ = ["SegmentBatching", "Segments", "add", "init", "sample", "window_outputs"]

INITS = ("zero", "stored", "burn_in")


class Segments(NamedTuple):
    batch: Batch  # [B / L, L + 1] windows
    burn_in: Batch  # [B / L, burn_in] the steps replayed before each window (mask: the step exists)
    memory: object  # the state each burn-in (or window, for "stored") starts from; () for "zero"


def sample(
    storage: Storage,
    key,
    batch_size: int,
    length: int,
    init: str = "zero",
    burn_in: int = 0,
) -> Segments:
    """batch_size / length fragments of whole episodes, drawn uniformly among all stored
    fragments."""
    if init not in INITS:
        raise ValueError(f"unknown segment init {init!r}; choose one of {INITS}.")
    if burn_in < 0:
        raise ValueError(
            f"burn_in must be >= 0 (steps before the window), got {burn_in}."
        )
    count = batch_size // length
    valid = whole_episodes(storage)
    fragments = jnp.where(valid, (storage.record_length + length - 1) // length, 0)
    k_record, k_fragment = jax.random.split(key)
    p = fragments / jnp.maximum(fragments.sum(), 1)
    record = jax.random.choice(k_record, valid.shape[0], (count,), p=p)
    most = jnp.maximum(fragments[record], 1)
    first = length * jax.random.randint(k_fragment, (count,), 0, most)
    stream, begin = storage.record_stream[record], storage.record_begin[record]
    n, truncated_end = storage.record_length[record], storage.record_truncated[record]

    def window(offsets):
        shape = offsets.shape
        bcast = lambda x: jnp.broadcast_to(x[:, None], shape)  # noqa: E731
        return gather(
            storage,
            bcast(stream),
            bcast(begin) + offsets,
            bcast(record),
            offsets,
            bcast(n),
            bcast(truncated_end),
        )

    batch = window(first[:, None] + jnp.arange(length + 1)[None, :])
    batch = batch._replace(mask=batch.mask & (jnp.arange(length + 1) < length)[None, :])
    # Burn-in: the `burn_in` steps just before the window. Steps before the episode
    # began are zero slots (mask False); the episode's first step, if among them, resets
    # the memory by its start flag.
    steps_back = burn_in if init == "burn_in" else 0
    replay = window(first[:, None] - steps_back + jnp.arange(steps_back)[None, :])
    if init == "zero":
        memory = ()
    else:
        slot = (begin + jnp.maximum(first - steps_back, 0)) % capacity(storage)
        memory = jax.tree.map(lambda ring: ring[stream, slot], storage.memory)
    return Segments(batch, replay, memory)


def window_outputs(network, params, window: Batch, burn_in: Batch, memory, init: str):
    """The network's outputs over one window [L + 1, ...], its memory started as `init` says: the identity
    ("zero"), the stored state ("stored"), or the stored state refreshed by replaying the burn-in steps without
    gradient ("burn_in"). `network.apply(params, obs, start, state)` returns (outputs, state)."""
    state = None
    if init != "zero":
        state = memory
    if init == "burn_in":
        _, state = network.apply(params, burn_in.obs, burn_in.start | ~burn_in.mask, state)
        state = jax.lax.stop_gradient(state)  # R2D2: the replayed steps only refresh the state
    return network.apply(params, window.obs, window.start, state)[0]


class SegmentBatching(NamedTuple):
    """Segments as a batching: batch_size / length windows of length + 1 slots, each its own sequence."""

    batch_size: int  # B, transitions per batch, padding included
    length: int  # L
    init: str = "zero"  # where each window's memory starts: one of INITS
    burn_in: int = 0  # steps replayed before each window when init="burn_in"
    # the paper's code's segment loss: the Huber of the mean |δ| (erratum 8)
    paper_code_huber_of_mean = True

    @property
    def stores_memory(self) -> bool:
        """The storage keeps the recurrent state of every step ("stored" and "burn_in" start from it)."""
        return self.init != "zero"

    def sample(self, storage: Storage, key) -> Segments:
        return sample(storage, key, self.batch_size, self.length, self.init, self.burn_in)

    def batch(self, segments: Segments) -> Batch:
        """The windows' slots: [B / L, L + 1]."""
        return segments.batch

    def outputs(self, network, params, segments: Segments):
        """The network's outputs over every window, [B / L, L + 1, ...]."""
        def one(window, burn_in, memory):
            return window_outputs(network, params, window, burn_in, memory, self.init)

        return jax.vmap(one)(segments.batch, segments.burn_in, segments.memory)

    def map(self, fn, *sequences: Any):
        """fn applied to each window (the leading axis of every argument)."""
        return jax.vmap(fn)(*sequences)
