"""PPO's actor-critic: the memory body (rl/body.py) read by a policy head and a value head.

    obs [T, d] -> Block -> memory -> x [T, features] -> Block -> Dense(A)   logits of π_θ(· | s_t)  [T, A]
                                                     -> Block -> Dense(1)   V_θ(s_t)                [T]

One body, two heads, so one pass over a tape gives both. The policy's last layer starts near zero (orthogonal,
scale 0.01: a near-uniform first policy), the value's at scale 1, as in PureJaxRL's `ppo_rnn`. Parameters:
{encoder, memory, actor_hidden, actor, critic_hidden, critic}.
"""

from __future__ import annotations

import flax.linen as nn

from memoroids_lite.rl.body import Block, Body


class ActorCritic(nn.Module):
    """Policy logits and values over one tape:
    `(logits [T, A], value [T]), state = net.apply(params, obs [T, d], start bool[T], state)`."""

    num_actions: int
    model: str = "lru"
    features: int = 128
    model_options: tuple = ()  # (("hidden", 64), ...): hashable, a static jit argument
    mode: str = "auto"

    def setup(self):
        self.body = Body(self.model, self.features, self.model_options, self.mode)
        nn.share_scope(self, self.body)  # encoder and memory become this network's own parameters
        self.actor_hidden = Block(self.features)
        self.actor = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01))
        self.critic_hidden = Block(self.features)
        self.critic = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0))

    def __call__(self, obs, start, state=None):
        x, state = self.body(obs, start, state)
        logits = self.actor(self.actor_hidden(x))
        value = self.critic(self.critic_hidden(x))[..., 0]
        return (logits, value), state

