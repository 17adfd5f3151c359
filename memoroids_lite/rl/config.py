"""The training configuration: one frozen dataclass, checked when it is made.

Defaults follow the paper's Table H.3 (Double Dueling DQN, batch 1,000 transitions, Adam lr 1e-4 with a
200-update warm-up, global-norm clip 0.01, Polyak τ = 0.005 i.e. "0.995", ε from 0.2 to 0.01, 20 greedy
evaluation episodes) and its network (256 features). Scaled for a CPU: the paper collected 5,000–10,000
random EPISODES before training and trained for 5,000–40,000 more; here `warmup_steps` and `train_steps` count
environment STEPS and default to budgets a 2-core CPU finishes in minutes. The paper's ratio of one episode
per update is kept: `num_envs × rollout_length` ≈ one episode of the task per update.

`for_task(env, **overrides)` adds the paper's memory sizes (`PAPER_MEMORY`: its code's LRU with 128 complex
states, S5 with ssm_size 256 i.e. P = 128, FFM with trace 64 × context 4, linear attention with keys of 16 and an
MLP of width 256; `TrainConfig` alone keeps the models' small defaults) and its per-task settings (γ = 0.5 and
ε_end = 0.1 on Repeat Previous with num_decks=2, k=10; γ = 0.8 on the bandit; τ = 1/400 on MineSweeper and the
bandit; 4 updates per rollout on Autoencode; FFM 16 × 16 on Repeat Previous).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from memoroids_lite.envs import make as make_env
from memoroids_lite.envs import names as env_names
from memoroids_lite.models import names as model_names
from memoroids_lite.rl.segment import INITS


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    env: str = "RepeatPreviousEasy"
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    model: str = "lru"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    features: int = 256
    batching: str = "tape"  # "tape" | "segment"
    segment_length: int = 10  # L
    segment_init: str = "zero"  # "zero" (the paper) | "stored" | "burn_in" (R2D2)
    burn_in: int = 0  # steps replayed before each segment when segment_init="burn_in" (0: L)
    batch_size: int = 1000  # transitions per update, padding included for segments
    num_envs: int = 8
    rollout_length: int = 13  # steps of each environment between updates
    updates_per_rollout: int = 1
    warmup_steps: int = 10_000  # environment steps with random actions before learning starts
    train_steps: int = 50_000  # environment steps after them
    buffer_size: int = 200_000  # transitions kept (all environments together)
    gamma: float = 0.99
    learning_rate: float = 1e-4
    lr_warmup: int = 200  # updates of linear learning-rate warm-up
    max_grad_norm: float = 0.01
    tau: float = 0.005  # target ← (1 − τ) target + τ online after every update
    epsilon_start: float = 0.2
    epsilon_end: float = 0.01
    eval_interval: int = 10  # updates between greedy evaluations
    eval_episodes: int = 20
    scan_mode: str = "auto"
    # the loss as the paper's code computed it (rl/loss.py; errata 7 and 8 of the book's appendix
    # *How memoroids_lite is built*)
    paper_code_loss: bool = False

    def __post_init__(self):
        def fail(message):
            raise ValueError(f"TrainConfig: {message}")

        if self.env not in env_names():
            try:
                make_env(self.env, **self.env_kwargs)
            except (ValueError, TypeError) as error:
                fail(str(error))
        if self.model not in model_names():
            fail(f"unknown model {self.model!r}; registered models: {', '.join(model_names())}.")
        if self.batching not in ("tape", "segment"):
            fail(f"batching must be 'tape' or 'segment', got {self.batching!r}.")
        if self.segment_init not in INITS:
            fail(f"segment_init must be one of {INITS}, got {self.segment_init!r}.")
        if self.paper_code_loss and self.batching == "segment" and self.segment_init != "zero":
            fail("paper_code_loss reproduces the paper's code, whose segments start from zero memory; "
                 f"use segment_init='zero' (got {self.segment_init!r}).")
        for name in ("segment_length", "batch_size", "num_envs", "rollout_length", "updates_per_rollout",
                     "eval_interval", "eval_episodes", "features"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                fail(f"{name} must be a positive integer, got {getattr(self, name)!r}.")
        if self.batching == "segment" and self.batch_size % self.segment_length:
            fail(f"batch_size ({self.batch_size}) must be divisible by segment_length ({self.segment_length}): "
                 "a segment batch is batch_size / L windows of L transitions.")
        if self.warmup_steps < 0 or self.train_steps < 0 or self.burn_in < 0 or self.lr_warmup < 0:
            fail("warmup_steps, train_steps, burn_in and lr_warmup must be >= 0.")
        if not self.learning_rate > 0 or not self.max_grad_norm > 0:
            fail(f"learning_rate and max_grad_norm must be > 0, got {self.learning_rate}, {self.max_grad_norm}.")
        if not 0 <= self.gamma <= 1 or not 0 < self.tau <= 1:
            fail(f"gamma must be in [0, 1] and tau in (0, 1], got {self.gamma}, {self.tau}.")
        if not 0 <= self.epsilon_end <= 1 or not 0 <= self.epsilon_start <= 1:
            fail("epsilon_start and epsilon_end must be in [0, 1].")
        longest = self.max_episode_steps
        if self.buffer_size // self.num_envs < 2 * longest + self.rollout_length:
            fail(f"buffer_size {self.buffer_size} is too small: each of the {self.num_envs} streams needs room for "
                 f"two whole episodes ({longest} steps each) plus a rollout; use >= "
                 f"{self.num_envs * (2 * longest + self.rollout_length)}.")
        if self.warmup_steps < self.num_envs * (longest + 1):
            fail(f"warmup_steps {self.warmup_steps} is too short to finish one episode per environment: use >= "
                 f"{self.num_envs * (longest + 1)} so the first update has whole episodes to sample.")

    @property
    def max_episode_steps(self) -> int:
        env, params = make_env(self.env, **self.env_kwargs)
        return int(params.max_steps_in_episode)

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.rollout_length

    @property
    def iterations(self) -> int:
        return self.train_steps // self.steps_per_iteration

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _task(env: str) -> str:
    for level in ("Easy", "Medium", "Hard"):
        if env.endswith(level):
            return env[: -len(level)]
    return env


# The memory blocks of the paper's configs (the `experiments/<task>/*.yaml` files of its code,
# github.com/proroklab/memory-monoids) in this package's option names; every model maps 256 features to 256
# (TrainConfig.features).
PAPER_MEMORY = {"linear_attention": {"key_size": 16, "mlp_size": 256}, "lru": {"hidden": 128},
                "s5": {"hidden": 128}, "ffm": {"trace_size": 64, "context_size": 4}, "gru": {}}


def for_task(env: str, **overrides: Any) -> TrainConfig:
    """A TrainConfig with the paper's memory sizes and per-task settings (Table H.3 and its configs), then
    `overrides` (a `model_kwargs` there replaces the paper's sizes whole)."""
    task = _task(env)
    model = overrides.get("model", TrainConfig.model)
    settings: dict[str, Any] = {"env": env, "model_kwargs": dict(PAPER_MEMORY.get(model, {}))}
    if env == "RepeatPreviousEasy":  # the paper's only Repeat Previous: 2 decks, k = 10 (not POPGym's Easy)
        settings.update(gamma=0.5, epsilon_end=0.1, env_kwargs={"num_decks": 2, "k": 10})
        if model == "ffm":
            settings["model_kwargs"] = {"trace_size": 16, "context_size": 16}
    if task == "MultiarmedBandit":
        settings.update(gamma=0.8, tau=1 / 400)
    if task == "MineSweeper":
        settings.update(tau=1 / 400)
    if task == "Autoencode":
        settings.update(updates_per_rollout=4)
    if task == "RepeatFirst":
        settings.update(rollout_length=7)  # 8 × 7 = 56 ≈ one 51-step episode per update
    if task == "CountRecall":
        settings.update(rollout_length=7)
    return TrainConfig(**{**settings, **overrides})
