"""On-policy memoroids: PPO on tapes or chunks, with GAE as a reverse memoroid scan.

    config.py      PPOConfig (every field checked when it is made) and for_task
    network.py     ActorCritic: the memory body (rl/body.py) with a policy head and a value head
    act.py         sampling and most-likely acting, the collector's `act`
    batching.py    Tapes (whole episodes, no truncated backpropagation) or Chunks (stored memory), chosen once
    loss.py        the clipped PPO loss over either batching
    loop.py        make_train: act, advantages, minibatch epochs, evaluate, returned as a Trainer
"""

from memoroids_lite.rl.ppo.config import PPOConfig, for_task
from memoroids_lite.rl.ppo.loop import Metrics, TrainState, make_train

__all__ = ["Metrics", "PPOConfig", "TrainState", "for_task", "make_train"]
