"""The algorithms a run can use, each chosen once by name: its configuration class, its per-task settings and
its `make_train`. A run's config.json names its algorithm ("algo"; runs written before PPO existed lack it and
are DQN).

    algorithm = ALGORITHMS["ppo"]
    config = algorithm.for_task("RepeatFirstEasy", batching="segment")
    trainer = algorithm.make_train(config)
    config = config_from_json(json.load(open("run/config.json")))     # back from a run's folder
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from memoroids_lite.rl import dqn, ppo


class Algorithm(NamedTuple):
    name: str  # "dqn" | "ppo", as --algo and config.json name it
    config: type  # its configuration class
    for_task: Callable  # (env, **overrides) -> config with the per-task settings
    make_train: Callable  # config -> Trainer


ALGORITHMS = {
    "dqn": Algorithm("dqn", dqn.TrainConfig, dqn.for_task, dqn.make_train),
    "ppo": Algorithm("ppo", ppo.PPOConfig, ppo.for_task, ppo.make_train),
}


def of_config(config) -> Algorithm:
    """The algorithm a configuration belongs to."""
    for algorithm in ALGORITHMS.values():
        if isinstance(config, algorithm.config):
            return algorithm
    raise TypeError(f"not a configuration of {', '.join(ALGORITHMS)}: {type(config).__name__}.")


def config_from_json(described: dict):
    """The configuration a run's config.json ({"algo": ..., "config": {...}, ...}) describes."""
    name = described.get("algo", "dqn")
    if name not in ALGORITHMS:
        raise ValueError(f"config.json names the algorithm {name!r}; this version knows {', '.join(ALGORITHMS)}.")
    return ALGORITHMS[name].config(**described["config"])
