"""The paper's recurrent Q-network (Appendix H.2): blocks, a memory model, blocks, and a dueling head.

    obs [T, d] -> Block(256) -> memory (any registered model, 256 -> 256) -> Block(256) -> Block(256)
               -> Q = V + (A − mean(A))                                           q [T, num_actions]

Block = Dense -> LayerNorm without scale or bias -> leaky ReLU(0.01). The value and advantage layers start
near zero (uniform ±sqrt(0.01 / fan_in), zero bias), so early Q-values are small.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from memoroids_lite.models import make


class Block(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        x = nn.LayerNorm(use_scale=False, use_bias=False)(nn.Dense(self.features)(x))
        return nn.leaky_relu(x, 0.01)


def _small_uniform(key, shape, dtype=jnp.float32):
    limit = jnp.sqrt(0.01 / shape[0])
    return jax.random.uniform(key, shape, dtype, -limit, limit)


class QNetwork(nn.Module):
    """Q-values over one tape:
    `q, state = net.apply(params, obs [T, d], start bool[T], state)`."""

    num_actions: int
    model: str = "lru"
    features: int = 256
    # (("hidden", 128), ...): hashable, so the module stays a static jit argument
    model_options: tuple = ()
    mode: str = "auto"

    def setup(self):
        self.encoder = Block(self.features)
        options = dict(self.model_options)
        self.memory = make(self.model, self.features, mode=self.mode, **options)
        self.hidden = [Block(self.features), Block(self.features)]
        self.value = nn.Dense(1, kernel_init=_small_uniform)
        self.advantage = nn.Dense(self.num_actions, kernel_init=_small_uniform)

    def __call__(self, obs, start, state=None):
        x, state = self.memory(self.encoder(obs), start, state)
        for block in self.hidden:
            x = block(x)
        advantage = self.advantage(x)
        return self.value(x) + advantage - advantage.mean(-1, keepdims=True), state


def initial_state(network: QNetwork):
    """The memory's identity state for one environment (needs no parameters).

    A function rather than a method: flax would make a module built inside a method its child.
    """
    return make(network.model, network.features, **dict(network.model_options)).initial_state()
