"""Tape or segments, chosen once: the object both samples sequences from the storage and runs a network over
them with each sequence's memory set up (rl/tape.py, rl/segment.py).

    batching = choose(config)                       # TapeBatching or SegmentBatching
    sample = batching.sample(storage, key)
    batch = batching.batch(sample)                  # the slots: [B + 1] (a tape) or [B / L, L + 1] (windows)
    outputs = batching.outputs(network, params, sample)   # the network's outputs, the same leading axes
    per_slot = batching.map(fn, outputs, batch)     # fn over each sequence: the tape, or every window
    batching.stores_memory                          # the storage must keep each step's recurrent state

An algorithm's loss is written once over these; nothing else looks at which batching a run uses.
"""

from __future__ import annotations

from memoroids_lite.rl.segment import SegmentBatching
from memoroids_lite.rl.tape import TapeBatching

NAMES = ("tape", "segment")  # a configuration's `batching`


def choose(config) -> TapeBatching | SegmentBatching:
    """The batching a configuration names (its fields batching, batch_size, segment_length, segment_init and
    burn_in; burn_in = 0 replays L steps)."""
    if config.batching == "tape":
        return TapeBatching(config.batch_size)
    if config.batching == "segment":
        return SegmentBatching(config.batch_size, config.segment_length, config.segment_init,
                               config.burn_in or config.segment_length)
    raise ValueError(f"unknown batching {config.batching!r}; choose one of {NAMES}.")


__all__ = ["NAMES", "SegmentBatching", "TapeBatching", "choose"]
