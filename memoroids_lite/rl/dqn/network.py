"""The paper's recurrent Q-network (Appendix H.2): the memory body (rl/body.py), two blocks, a dueling head.

    obs [T, d] -> Block(256) -> memory (any registered model, 256 -> 256) -> Block(256) -> Block(256)
               -> Q = V + (A − mean(A))                                           q [T, num_actions]

The value and advantage layers start near zero (uniform ±sqrt(0.01 / fan_in), zero bias), so early Q-values
are small. The body shares the network's scope, so the parameters are {encoder, memory, hidden_0, hidden_1,
value, advantage}, as trained agents (book/results/**/agent.npz) store them.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from memoroids_lite.rl.body import Block, Body


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
        self.body = Body(self.model, self.features, self.model_options, self.mode)
        # the body's encoder and memory become this network's own parameters
        nn.share_scope(self, self.body)
        self.hidden = [Block(self.features), Block(self.features)]
        self.value = nn.Dense(1, kernel_init=_small_uniform)
        self.advantage = nn.Dense(self.num_actions, kernel_init=_small_uniform)

    def __call__(self, obs, start, state=None):
        x, state = self.body(obs, start, state)
        for block in self.hidden:
            x = block(x)
        advantage = self.advantage(x)
        return self.value(x) + advantage - advantage.mean(-1, keepdims=True), state
