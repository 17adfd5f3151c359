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


def one_hot(index, size) -> jax.Array:
    return jax.nn.one_hot(jnp.asarray(index, jnp.int32), size, dtype=jnp.float32)


def uniform_below(key, n: jax.Array) -> jax.Array:
    """A uniform integer in [0, n) from ONE 32-bit random word: ⌊bits · n / 2³²⌋ (Lemire's multiply-shift).

    Each value is hit by ⌊2³²/n⌋ or ⌈2³²/n⌉ of the 2³² words, so its probability is within 2⁻³² of 1/n
    (for a deck of 104 cards, a relative error below 3·10⁻⁸). `jax.random.randint` with a traced bound combines
    two words (a bias nearer n/2⁶⁴) at twice the random bits and more arithmetic; under `vmap` the auto-reset
    deals a card for every environment at every step, and this made Repeat Previous about 1.8 times faster.
    """
    bits = jax.random.bits(key, (), jnp.uint32)
    return mul_high(bits, jnp.asarray(n).astype(jnp.uint32)).astype(jnp.int32)


def mul_high(a: jax.Array, b: jax.Array) -> jax.Array:
    """The high 32 bits of the 64-bit product of two uint32 arrays, in 32-bit arithmetic (no x64 needed)."""
    a_lo, a_hi, b_lo, b_hi = a & 0xFFFF, a >> 16, b & 0xFFFF, b >> 16
    middle = (a_lo * b_lo >> 16) + (a_hi * b_lo & 0xFFFF) + a_lo * b_hi  # < 2³², no overflow
    return a_hi * b_hi + (a_hi * b_lo >> 16) + (middle >> 16)


def deal(key, remaining: jax.Array):
    """Deal one card from a shuffled deck, knowing only how many cards of each kind
    remain.

    Reading a uniformly shuffled deck card by card, the next card is of kind j with
    probability remaining[j] / Σ remaining. So drawing a uniform integer r < Σ remaining
    and taking the kind whose cumulative count first exceeds r deals exactly the
    sequence a uniform shuffle of the multiset would, in O(number of kinds) instead of
    sorting the whole deck at every reset. Returns (kind, remaining').
    """
    r = uniform_below(key, jnp.maximum(jnp.sum(remaining), 1))
    kind = jnp.sum(jnp.cumsum(remaining) <= r)
    kind = jnp.minimum(kind, remaining.shape[0] - 1)
    return kind, remaining.at[kind].add(-1)
