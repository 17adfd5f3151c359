"""Recurrent Q-learning with memoroids: replay storage, tape and segment batching, the Q-network, the loss,
the collector and the training loop (paper §4.1, Appendix C, Appendix H)."""

from memoroids_lite.rl.config import TrainConfig, for_task
from memoroids_lite.rl.train import Metrics, make_train

__all__ = ["Metrics", "TrainConfig", "for_task", "make_train"]
