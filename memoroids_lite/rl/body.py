"""The memory body every head attaches to (the paper's Appendix H.2, up to its memory):

    obs [T, d] -> Block(features) -> memory (any registered model, features -> features) -> x [T, features]

Block = Dense -> LayerNorm without scale or bias -> leaky ReLU(0.01). A network with a head (DQN's dueling
Q-head, rl/dqn/network.py) holds a Body and shares its scope, so the body's layers `encoder` and `memory` sit
beside the head's in the parameters: every network's tree starts {"encoder": ..., "memory": ...}.

    x, state = Body(model="lru", features=256).apply(params, obs, start, state)   # state None: a fresh memory
    state0 = initial_state(network)    # any network with the body's fields; needs no parameters
"""

from __future__ import annotations

import flax.linen as nn

from memoroids_lite.models import make


class Block(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        x = nn.LayerNorm(use_scale=False, use_bias=False)(nn.Dense(self.features)(x))
        return nn.leaky_relu(x, 0.01)


class Body(nn.Module):
    """Features of one tape:
    `x, state = body.apply(params, obs [T, d], start bool[T], state)`."""

    model: str = "lru"
    features: int = 256
    # (("hidden", 128), ...): hashable, so the module stays a static jit argument
    model_options: tuple = ()
    mode: str = "auto"

    def setup(self):
        self.encoder = Block(self.features)
        options = dict(self.model_options)
        self.memory = make(self.model, self.features, mode=self.mode, **options)

    def __call__(self, obs, start, state=None):
        return self.memory(self.encoder(obs), start, state)


def initial_state(network):
    """The memory's identity state for one environment (needs no parameters), of a Body or of any network
    with the body's fields (model, features, model_options).

    A function rather than a method: flax would make a module built inside a method its child.
    """
    return make(network.model, network.features, **dict(network.model_options)).initial_state()
