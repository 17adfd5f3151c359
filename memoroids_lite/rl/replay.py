"""The replay storage both batchings sample from, on the device, as pure functions over a pytree.

One ring of transitions per environment stream: every collector step writes one transition for each of the
N environments at the same ring position, so a single counter `written` addresses all rings. Beside it, a
ring of episode records: when an episode ends its (stream, first position, length, how it ended, final
observation) is appended. Positions are ABSOLUTE step counts: position p lives in ring slot p mod C, and it
has been overwritten once written − p > C — so a record knows by itself whether its episode is still whole.

    storage = init(capacity, num_envs, obs_size, records, memory_example, extras_example)
    storage = add(storage, transition)            # transition: one step of N environments

Beyond what every algorithm stores (o_t, a_t, r_t, the flags), a transition carries two pytrees that the
storage keeps as rings of the same layout when their examples are given: `memory`, the recurrent state before
o_t (segments that start from stored states), and `extras`, what the acting policy computed with the action
(e.g. log π(a_t | s_t) and V(s_t)). Both are () when unused: no arrays at all.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class Transition(NamedTuple):
    """One step of N environments (leading axis N), as the collector emits it."""

    obs: jax.Array  # [N, d] o_t
    action: jax.Array  # [N] a_t
    reward: jax.Array  # [N] r_t
    terminated: jax.Array  # [N] the episode ended in a terminal state at this step
    truncated: jax.Array  # [N] the episode was cut (time limit) at this step
    start: jax.Array  # [N] o_t is the first observation of its episode
    final_obs: jax.Array  # [N, d] the observation after a_t when the episode ended here (else unused)
    memory: Any = ()  # the recurrent state before o_t (stored only for segments that start from it; else ())
    extras: Any = ()  # what the policy computed with a_t (e.g. log-probability, value); () for DQN


class Storage(NamedTuple):
    obs: jax.Array  # [N, C, d]
    action: jax.Array  # [N, C]
    reward: jax.Array  # [N, C]
    terminated: jax.Array  # [N, C]
    start: jax.Array  # [N, C]
    memory: Any  # [N, C, ...] per-step recurrent states, or () when not stored
    extras: Any  # [N, C, ...] per-step extras of the policy, or () when not stored
    written: jax.Array  # steps written into every stream so far
    episode_begin: jax.Array  # [N] absolute position where each stream's current episode began
    record_stream: jax.Array  # [E] which stream the episode is in
    record_begin: jax.Array  # [E] absolute position of its first transition
    record_length: jax.Array  # [E] its number of transitions (0: an empty record)
    record_truncated: jax.Array  # [E] it ended by truncation only (so its last step bootstraps)
    record_final_obs: jax.Array  # [E, d] the observation after its last action
    records_written: jax.Array  # records appended so far


def init(capacity: int, num_envs: int, obs_size: int, records: int, memory_example=(), extras_example=()) -> Storage:
    """An empty storage of `capacity` steps per stream; `memory_example` and `extras_example` (one environment's
    state and extras, or ()) give the layout of the per-step rings kept beside the transitions."""
    n, c = num_envs, capacity

    def ring(example):
        return jax.tree.map(lambda x: jnp.zeros((n, c) + jnp.shape(x), jnp.asarray(x).dtype), example)

    return Storage(
        obs=jnp.zeros((n, c, obs_size)),
        action=jnp.zeros((n, c), jnp.int32),
        reward=jnp.zeros((n, c)),
        terminated=jnp.zeros((n, c), bool),
        start=jnp.zeros((n, c), bool),
        memory=ring(memory_example),
        extras=ring(extras_example),
        written=jnp.int32(0),
        episode_begin=jnp.zeros(n, jnp.int32),
        record_stream=jnp.zeros(records, jnp.int32),
        record_begin=jnp.zeros(records, jnp.int32),
        record_length=jnp.zeros(records, jnp.int32),
        record_truncated=jnp.zeros(records, bool),
        record_final_obs=jnp.zeros((records, obs_size)),
        records_written=jnp.int32(0),
    )


def capacity(storage: Storage) -> int:
    return storage.obs.shape[1]


def add(storage: Storage, t: Transition) -> Storage:
    """Write one step of every stream; append a record for each episode that ended at
    this step."""
    c = capacity(storage)
    slot = storage.written % c

    def write(ring, value):
        return ring.at[:, slot].set(value)

    # Streams whose observation starts an episode begin a new one here (the first step
    # of a stream too).
    episode_begin = jnp.where(t.start, storage.written, storage.episode_begin)
    done = t.terminated | t.truncated
    num_records = storage.record_stream.shape[0]
    record_slot = (storage.records_written + jnp.cumsum(done) - 1) % num_records
    record_slot = jnp.where(done, record_slot, num_records)  # out of range: dropped

    def append(field, value):
        return field.at[record_slot].set(value, mode="drop")

    return storage._replace(
        obs=write(storage.obs, t.obs),
        action=write(storage.action, t.action),
        reward=write(storage.reward, t.reward),
        terminated=write(storage.terminated, t.terminated),
        start=write(storage.start, t.start),
        memory=jax.tree.map(write, storage.memory, t.memory),
        extras=jax.tree.map(write, storage.extras, t.extras),
        written=storage.written + 1,
        episode_begin=episode_begin,
        record_stream=append(storage.record_stream, jnp.arange(done.shape[0])),
        record_begin=append(storage.record_begin, episode_begin),
        record_length=append(
            storage.record_length, storage.written + 1 - episode_begin
        ),
        record_truncated=append(storage.record_truncated, t.truncated & ~t.terminated),
        record_final_obs=append(storage.record_final_obs, t.final_obs),
        records_written=storage.records_written + jnp.sum(done),
    )


def whole_episodes(storage: Storage) -> jax.Array:
    """bool[E]: records that hold an episode whose first transition has not been
    overwritten."""
    age = storage.written - storage.record_begin
    return (storage.record_length > 0) & (age <= capacity(storage))


class Batch(NamedTuple):
    """Sampled sequences: leading axis T slots (tape) or [B, L + 1] (segments)."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    start: jax.Array
    mask: jax.Array  # the slot is a transition that enters the loss
    extras: Any = ()  # the policy's extras of each slot (zero where the slot is not a transition)


def gather(storage: Storage, stream, position, record, offset, length, truncated_end):
    """The slot at `offset` of a sampled episode: its transition, (offset == length) its final observation,
    or a zero slot (offset < 0 or beyond).

    stream, position: where the transition lives (position absolute); record: the episode record;
    truncated_end: the episode was truncated, so its final observation gets a slot of its own.
    """
    slot = position % capacity(storage)
    is_final = offset == length
    obs = jnp.where(is_final[..., None], storage.record_final_obs[record], storage.obs[stream, slot])
    real = (offset >= 0) & (offset < length)
    return Batch(
        obs=jnp.where((real | (is_final & truncated_end))[..., None], obs, 0.0),
        action=jnp.where(real, storage.action[stream, slot], 0),
        reward=jnp.where(real, storage.reward[stream, slot], 0.0),
        terminated=real & storage.terminated[stream, slot],
        start=real & storage.start[stream, slot],
        mask=real,
        extras=jax.tree.map(lambda ring: jnp.where(_trailing(real, ring), ring[stream, slot], 0), storage.extras),
    )


def _trailing(flag, ring):
    """flag [...] broadcast against one slot of `ring` [N, C, ...]: one trailing axis per axis of the slot."""
    return flag.reshape(flag.shape + (1,) * (ring.ndim - 2))
