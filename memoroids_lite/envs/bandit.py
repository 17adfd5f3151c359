"""POPGym's episodic multi-armed bandit (1.0.7).

Each episode draws arm probabilities p ~ U(0, 1). Pulling arm a pays out with probability p_a: the
observation is 1 and the reward +1/L, else 0 and −1/L. The observation does not say which arm was pulled
(the paper feeds the previous action back in). Episodes are truncated after L steps and never terminate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment

from memoroids_lite.envs.base import POPGymTask, one_hot


@struct.dataclass
class BanditState(environment.EnvState):
    payout: jax.Array  # [arms] probability that each arm pays


class MultiarmedBandit(POPGymTask):
    def __init__(self, num_bandits: int = 10, episode_length: int = 200):
        if num_bandits < 1 or episode_length < 1:
            raise ValueError(f"num_bandits and episode_length must be >= 1, got {num_bandits}, {episode_length}.")
        self.num_bandits, self.episode_length = num_bandits, episode_length
        self.obs_size, self.num_actions_, self.max_steps = 2, num_bandits, episode_length

    def reset_env(self, key, params):
        return one_hot(0, 2), BanditState(time=0, payout=jax.random.uniform(key, (self.num_bandits,)))

    def step_env(self, key, state, action, params):
        paid = jax.random.uniform(key) < state.payout[action]
        reward = jnp.where(paid, 1.0, -1.0) / self.episode_length
        return one_hot(paid, 2), state.replace(time=state.time + 1), reward, jnp.bool_(False), {}
