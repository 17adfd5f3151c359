"""Recurrent reinforcement learning with memoroids (paper §4.1, Appendix C, Appendix H).

Shared by the algorithms:
    replay.py      the storage: rings of transitions (with the policy's extras) and episode records
    tape.py        tape batching: whole episodes on one tape (TapeBatching)
    segment.py     segment batching: zero-padded windows, their memory zero, stored or burnt in (SegmentBatching)
    batching.py    the batching a configuration names, chosen once as an object
    body.py        the memory body every network's head attaches to
    collect.py     the collector: N environments acting through an `act` function
    trainer.py     Trainer, what make_train returns, and `train`, the whole run
    validation.py  the checks of a configuration every algorithm shares (the task, the model)
The algorithms: dqn/ (the paper's recurrent DQN) and ppo/ (PPO on tapes or chunks). DQN's TrainConfig,
for_task, make_train and Metrics are re-exported here, the names the book uses.
"""

from memoroids_lite.rl.dqn import Metrics, TrainConfig, for_task, make_train
from memoroids_lite.rl.trainer import Trainer, train

__all__ = ["Metrics", "TrainConfig", "Trainer", "for_task", "make_train", "train"]
