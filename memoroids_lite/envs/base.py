"""What the POPGym tasks share: the gymnax 1.0 base classes, card dealing, and one-hot observations.

Every task here is a gymnax 1.0 `Environment`: `reset(key, params) -> (obs, state)` and
`step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)` with auto-reset and
`info["final_observation"]`. Observations are already flat float32 vectors laid out as gymnasium's `flatten`
lays out POPGym's spaces (one-hot for Discrete, concatenated one-hots for MultiDiscrete/Tuple, raw floats for
Box), so the paper's observation pipeline (`pipeline.py`) only appends to them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces


@struct.dataclass
class EnvParams(environment.EnvParams):
    """gymnax's params; `max_steps_in_episode` is set per task (its default of 1 would truncate every step)."""

    max_steps_in_episode: int = 1


class POPGymTask(environment.Environment):
    """A POPGym task on the gymnax 1.0 API. Subclasses set `obs_size`, `num_actions_` and `max_steps`."""

    obs_size: int
    num_actions_: int
    max_steps: int

    @property
    def default_params(self) -> EnvParams:
        return EnvParams(max_steps_in_episode=self.max_steps)

    @property
    def num_actions(self) -> int:
        return self.num_actions_

    def action_space(self, params=None):
        return spaces.Discrete(self.num_actions_)

    def observation_space(self, params=None):
        return spaces.Box(0.0, 1.0, (self.obs_size,), jnp.float32)

    def encode_action(self, action) -> jax.Array:
        """The previous-action block of the paper's pipeline: a one-hot of the action."""
        return jax.nn.one_hot(action, self.num_actions_)

    @property
    def action_encoding_size(self) -> int:
        return self.num_actions_


def one_hot(index, size) -> jax.Array:
    return jax.nn.one_hot(jnp.asarray(index, jnp.int32), size, dtype=jnp.float32)


def deal(key, remaining: jax.Array):
    """Deal one card from a shuffled deck, knowing only how many cards of each kind remain.

    Reading a uniformly shuffled deck card by card, the next card is of kind j with probability
    remaining[j] / Σ remaining. So drawing a uniform integer r < Σ remaining and taking the kind whose
    cumulative count first exceeds r deals exactly the sequence a uniform shuffle of the multiset would, in
    O(number of kinds) instead of sorting the whole deck at every reset. Returns (kind, remaining').
    """
    total = jnp.sum(remaining)
    r = jax.random.randint(key, (), 0, jnp.maximum(total, 1))
    kind = jnp.sum(jnp.cumsum(remaining) <= r)
    kind = jnp.minimum(kind, remaining.shape[0] - 1)
    return kind, remaining.at[kind].add(-1)
