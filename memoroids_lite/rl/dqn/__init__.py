"""The paper's algorithm: recurrent double dueling DQN (paper §4.1, Appendix H).

    config.py      TrainConfig and for_task, the paper's per-task settings
    validation.py  every problem of a TrainConfig at once (on the checks every algorithm shares, rl/validation.py)
    network.py     QNetwork: the memory body (rl/body.py) with a dueling Q-head
    act.py         ε-greedy and greedy acting, the collector's `act`
    loss.py        the Double DQN Huber loss over either batching
    loop.py        make_train: collect, store, sample, update, evaluate, returned as a Trainer (rl/trainer.py)
"""

from memoroids_lite.rl.dqn.config import TrainConfig, for_task
from memoroids_lite.rl.dqn.loop import Metrics, TrainState, make_train

__all__ = ["Metrics", "TrainConfig", "TrainState", "for_task", "make_train"]
