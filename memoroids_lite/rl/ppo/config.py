"""PPO's training configuration: one frozen dataclass, checked when it is made.

Defaults follow PureJaxRL's `ppo_rnn` (lr 2.5e-4 annealed to 0, 4 epochs of 4 minibatches, γ = 0.99,
λ = 0.95, clip ε = 0.2, entropy 0.01, value 0.5, global-norm clip 0.5, 128 features) with 16 environments of
128 steps per rollout. Each iteration collects `num_envs × rollout_length` steps with the current policy, then
runs `update_epochs` passes over them in `num_minibatches` minibatches; budgets count environment steps.

`batching` chooses how the rollout becomes sequences (rl/ppo/batching.py): "tape" reads each environment's
rollout as one tape from the first step of every episode in it; "segment" cuts it into chunks of
`segment_length` steps that start from the memory stored while acting (PureJaxRL's scheme when
segment_length = rollout_length).

`PPOConfig(...)` checks every field at once and raises a ConfigError listing all problems;
`for_task(env, **overrides)` adds the per-task settings the DQN runs use (the memory sizes of the paper, the
bandit's and Repeat Previous's γ).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from memoroids_lite.envs import make as make_env
from memoroids_lite.rl.dqn.config import PAPER_MEMORY, task_of
from memoroids_lite.rl.validation import Checks, ConfigError, Problem, check_task_and_model, nearest_multiples

BATCHINGS = ("tape", "segment")


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    env: str = "RepeatFirstEasy"
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    model: str = "lru"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    features: int = 128
    batching: str = "tape"  # "tape" | "segment" (chunks): rl/ppo/batching.py makes it an object once
    segment_length: int = 16  # L, steps of a chunk; divides rollout_length
    num_envs: int = 16  # N
    rollout_length: int = 128  # T, steps of each environment per iteration
    update_epochs: int = 4
    num_minibatches: int = 4
    train_steps: int = 163_840  # environment steps: 8 evaluations of 16 × 128 × 10 steps
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True  # linearly to 0 over the run
    max_grad_norm: float = 0.5
    eval_interval: int = 10  # iterations between evaluations of the most likely actions
    eval_episodes: int = 20
    scan_mode: str = "auto"

    def __post_init__(self):
        found = problems(self)
        if found:
            raise ConfigError(found, "PPOConfig")

    @property
    def max_episode_steps(self) -> int:
        env, params = make_env(self.env, **self.env_kwargs)
        return int(params.max_steps_in_episode)

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.rollout_length

    @property
    def iterations(self) -> int:
        """Rollouts of the whole run, each followed by update_epochs × num_minibatches updates."""
        return self.train_steps // self.steps_per_iteration

    @property
    def updates(self) -> int:
        """Gradient updates of the whole run."""
        return self.iterations * self.update_epochs * self.num_minibatches

    def replace(self, **changes) -> "PPOConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def problems(config: PPOConfig) -> list[Problem]:
    """Everything wrong with `config`, in field order; [] when it is valid."""
    checks = Checks(config)
    check, good = checks.check, checks.good
    check_task_and_model(checks)
    check("batching", lambda b: b in BATCHINGS, f"choose {' or '.join(map(repr, BATCHINGS))}.")
    for name in ("segment_length", "num_envs", "rollout_length", "update_epochs", "num_minibatches",
                 "eval_interval", "eval_episodes", "train_steps"):
        check(name, lambda n: n >= 1, "must be a positive integer.")
    check("learning_rate", lambda x: x > 0, "must be a number > 0.")
    check("max_grad_norm", lambda x: x > 0, "must be a number > 0 (the global-norm clip).")
    check("clip_eps", lambda x: x > 0, "must be a number > 0 (the ratio's clip range 1 ± ε).")
    for name in ("ent_coef", "vf_coef"):
        check(name, lambda x: x >= 0, "must be a number >= 0.")
    for name in ("gamma", "gae_lambda"):
        check(name, lambda x: 0 <= x <= 1, "must be a number in [0, 1].")
    if good("batching", "segment_length", "rollout_length") and config.batching == "segment":
        check("segment_length", lambda n: config.rollout_length % n == 0,
              f"must divide rollout_length ({config.rollout_length}): each environment's rollout is cut into "
              "whole chunks.")
    if good("batching", "segment_length", "rollout_length", "num_envs", "num_minibatches"):
        if config.batching == "tape":
            check("num_minibatches", lambda m: config.num_envs % m == 0,
                  f"must divide num_envs ({config.num_envs}): a tape minibatch is whole environments' tapes.")
        else:
            chunks = config.num_envs * config.rollout_length // config.segment_length
            check("num_minibatches", lambda m: chunks % m == 0,
                  f"must divide the {chunks} chunks of a rollout (num_envs × rollout_length / segment_length).")
    if good("train_steps", "num_envs", "rollout_length", "eval_interval"):
        chunk = config.steps_per_iteration * config.eval_interval
        check("train_steps", lambda n: n % chunk == 0,
              f"must be a whole number (>= 1) of evaluations of num_envs × rollout_length × eval_interval = "
              f"{config.num_envs} × {config.rollout_length} × {config.eval_interval} = {chunk} environment "
              f"steps; use {nearest_multiples(config.train_steps, chunk)}.")
    return checks.found


def for_task(env: str, **overrides: Any) -> PPOConfig:
    """A PPOConfig with the paper's memory sizes for the model (as DQN's for_task) and the discount of the
    tasks whose paper settings change it (γ = 0.5 on Repeat Previous with 2 decks, k = 10; γ = 0.8 on the
    bandit), then `overrides`; the budget stays a whole number of evaluations."""
    model = overrides.get("model", PPOConfig.model)
    memory = PAPER_MEMORY.get(model, {}) if isinstance(model, str) else {}
    settings: dict[str, Any] = {"env": env, "model_kwargs": dict(memory)}
    if env == "RepeatPreviousEasy":
        settings.update(gamma=0.5, env_kwargs={"num_decks": 2, "k": 10})
    if isinstance(env, str) and task_of(env) == "MultiarmedBandit":
        settings.update(gamma=0.8)
    settings.update(overrides)
    return PPOConfig(**settings)
