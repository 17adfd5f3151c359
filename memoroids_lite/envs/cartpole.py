"""The POPGym CartPoles: gymnasium's CartPole with part of the state hidden (POPGym 1.0.7).

Dynamics are gymnasium's CartPole-v1 unchanged (explicit Euler, τ = 0.02 s; the pole falls past 12° or the
cart leaves ±2.4). Every step, the terminating one included, gives +1/L, so the return is the fraction of
the L steps survived. `terminated` when the pole falls, `truncated` after L steps; both can be True at once.

- PositionOnlyCartPole: observes [x, θ]; the velocities must be inferred from consecutive observations.
- NoisyPositionOnlyCartPole: the same plus N(0, σ²) noise on both (the reset observation too), clipped to
  the observation bounds; L = 200 at every level.
- VelocityOnlyCartPole: observes [ẋ, θ̇]. As in POPGym, the reset observation is [x, θ] (a quirk kept).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from memoroids_lite.envs.base import POPGymTask

GRAVITY, MASS_CART, MASS_POLE, LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
X_LIMIT, THETA_LIMIT = 2.4, 12 * 2 * math.pi / 360
OBS_BOUND = jnp.array([2 * X_LIMIT, 2 * THETA_LIMIT], jnp.float32)


@struct.dataclass
class CartPoleState(environment.EnvState):
    physics: jax.Array  # [x, ẋ, θ, θ̇]


def cartpole_dynamics(physics, action):
    """One Euler step of gymnasium's CartPole; returns the new [x, ẋ, θ, θ̇] and whether it failed."""
    x, x_dot, theta, theta_dot = physics
    force = jnp.where(action == 1, FORCE, -FORCE)
    total_mass, pole_mass_length = MASS_CART + MASS_POLE, MASS_POLE * LENGTH
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    temp = (force + pole_mass_length * theta_dot**2 * sin) / total_mass
    theta_acc = (GRAVITY * sin - cos * temp) / (LENGTH * (4.0 / 3.0 - MASS_POLE * cos**2 / total_mass))
    x_acc = temp - pole_mass_length * theta_acc * cos / total_mass
    physics = jnp.stack([x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc])
    failed = (jnp.abs(physics[0]) > X_LIMIT) | (jnp.abs(physics[2]) > THETA_LIMIT)
    return physics, failed


class PositionOnlyCartPole(POPGymTask):
    """CartPole observing only [x, θ]; L = max_episode_length (Easy 200, Medium 400, Hard 600)."""

    observed = (0, 2)

    def __init__(self, max_episode_length: int = 200):
        if not isinstance(max_episode_length, int) or max_episode_length < 1:
            raise ValueError(f"max_episode_length must be a positive integer, got {max_episode_length!r}.")
        self.max_episode_length = max_episode_length
        self.obs_size, self.num_actions_, self.max_steps = 2, 2, max_episode_length

    def observation_space(self, params=None):
        return spaces.Box(-OBS_BOUND, OBS_BOUND, (2,), jnp.float32)

    def _observe(self, key, physics):
        return physics[jnp.array(self.observed)]

    def _reset_observation(self, key, physics):
        return self._observe(key, physics)

    def reset_env(self, key, params):
        k_physics, k_noise = jax.random.split(key)
        physics = jax.random.uniform(k_physics, (4,), minval=-0.05, maxval=0.05)
        return self._reset_observation(k_noise, physics), CartPoleState(time=0, physics=physics)

    def step_env(self, key, state, action, params):
        physics, failed = cartpole_dynamics(state.physics, action)
        state = state.replace(time=state.time + 1, physics=physics)
        return self._observe(key, physics), state, jnp.float32(1.0 / self.max_episode_length), failed, {}


class NoisyPositionOnlyCartPole(PositionOnlyCartPole):
    """PositionOnlyCartPole with Gaussian noise N(0, σ²) on [x, θ], clipped; σ Easy 0.1, Medium 0.2, Hard 0.3."""

    def __init__(self, noise_sigma: float = 0.1, max_episode_length: int = 200):
        super().__init__(max_episode_length)
        if not noise_sigma >= 0:
            raise ValueError(f"noise_sigma must be >= 0, got {noise_sigma!r}.")
        self.noise_sigma = float(noise_sigma)

    def _observe(self, key, physics):
        noisy = physics[jnp.array(self.observed)] + self.noise_sigma * jax.random.normal(key, (2,))
        return jnp.clip(noisy, -OBS_BOUND, OBS_BOUND)


class VelocityOnlyCartPole(PositionOnlyCartPole):
    """CartPole observing only [ẋ, θ̇] (the reset observation is [x, θ], as in POPGym)."""

    observed = (1, 3)

    def observation_space(self, params=None):
        return spaces.Box(-jnp.inf, jnp.inf, (2,), jnp.float32)

    def _reset_observation(self, key, physics):
        return physics[jnp.array([0, 2])]
