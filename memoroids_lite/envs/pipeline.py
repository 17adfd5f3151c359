"""The paper's observation pipeline, auto-reset aware.

POPGym's wrappers, as the paper stacked them (`Flatten(Antialias(PreviousAction(env)))`), give the agent

    [ env observation (flat) | previous action, one-hot (optional) | is_t0, one-hot of 2 ]

At a reset the previous action is the null action 0 and is_t0 = 1 ([0, 1]); at every other step it is the
action just taken and is_t0 = 0 ([1, 0]). The flag tells a real action 0 from the null one.

Under gymnax's auto-reset the observation returned by a step that ended an episode is the NEXT episode's
first observation: it must carry the null action and is_t0 = 1, while `info["final_observation"]` (the last
observation of the finished episode) carries the action and is_t0 = 0. Earlier JAX ports (popjaxrl,
popgymnax) appended the action and is_t0 = 0 unconditionally, mislabelling every first observation after
the first episode; `tests/test_envs.py` checks this case.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from gymnax.environments import spaces
from gymnax.wrappers.purerl import GymnaxWrapper


def encode_action(env, action) -> jax.Array:
    """The previous-action block: the task's own encoding (MineSweeper: row ‖ column), else a one-hot."""
    if hasattr(env, "encode_action"):
        return env.encode_action(action)
    return jax.nn.one_hot(action, env.num_actions)


class PaperObservation(GymnaxWrapper):
    """Append the previous action (if `prev_action`) and the first-step flag to every
    observation."""

    def __init__(self, env, prev_action: bool):
        super().__init__(env)
        self.prev_action = prev_action
        shape = env.observation_space(env.default_params).shape
        self.env_obs_size = int(jnp.prod(jnp.array(shape)))
        self.action_size = encode_action(env, 0).shape[0] if prev_action else 0
        self.obs_size = self.env_obs_size + self.action_size + 2

    def _augment(self, obs, action_code, first):
        parts = [jnp.reshape(obs, -1).astype(jnp.float32)]
        if self.prev_action:
            parts.append(action_code)
        parts.append(jax.nn.one_hot(jnp.asarray(first, jnp.int32), 2))
        return jnp.concatenate(parts)

    def observation_space(self, params=None):
        inner = self._env.observation_space(
            self._env.default_params if params is None else params
        )
        n, extra = self.env_obs_size, self.action_size + 2
        low = jnp.concatenate([jnp.broadcast_to(inner.low, (n,)), jnp.zeros(extra)])
        high = jnp.concatenate([jnp.broadcast_to(inner.high, (n,)), jnp.ones(extra)])
        return spaces.Box(low, high, (self.obs_size,), jnp.float32)

    @partial(jax.jit, static_argnames=("self",))
    def reset(self, key, params=None):
        obs, state = self._env.reset(key, params)
        return self._augment(obs, encode_action(self._env, 0), True), state

    @partial(jax.jit, static_argnames=("self",))
    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = self._env.step(
            key, state, action, params
        )
        done = terminated | truncated
        code = encode_action(self._env, action)
        null = encode_action(self._env, 0)
        # after a reset: the next episode's o_0
        obs = self._augment(obs, jnp.where(done, null, code), done)
        final = self._augment(info["final_observation"], code, False)
        info = {**info, "final_observation": final}
        return obs, state, reward, terminated, truncated, info
