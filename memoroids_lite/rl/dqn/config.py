"""DQN's training configuration: one frozen dataclass, checked when it is made.

Defaults follow the paper's Table H.3 (Double Dueling DQN, batch 1,000 transitions, Adam lr 1e-4 with a
200-update warm-up, global-norm clip 0.01, Polyak τ = 0.005 i.e. "0.995", ε from 0.2 to 0.01, 20 greedy
evaluation episodes) and its network (256 features).

Two ways to collect between updates (`rollout`):
- "episode", the paper's epoch: ONE environment plays ONE whole episode, then `updates_per_rollout` updates
  (the paper's train ratio). Budgets count episodes: `warmup_episodes` with random actions, then
  `train_episodes` epochs. `experiments.paper.paper_config` builds the paper's runs this way.
- "steps" (the default), sized for a CPU: `num_envs` environments each take `rollout_length` steps, then
  `updates_per_rollout` updates; budgets count environment steps (`warmup_steps`, `train_steps`), defaulting
  to budgets a 2-core CPU finishes in minutes. `for_task` sets `num_envs × rollout_length` near one episode:
  exact for the fixed-length card games, more episodes for tasks whose episodes end early (MineSweeper), less
  for long ones (CartPole, the bandit).
`memoroids_lite.experiments.paper.deviations` lists every difference of a run from the paper's protocol.

`TrainConfig(...)` checks every field at once (`rl/dqn/validation.py`) and raises a ConfigError listing all problems.
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
from memoroids_lite.rl.dqn.validation import problems
from memoroids_lite.rl.validation import ConfigError


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    env: str = "RepeatPreviousEasy"
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    model: str = "lru"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    features: int = 256
    batching: str = "tape"  # "tape" | "segment": rl/batching.py makes it an object once
    segment_length: int = 10  # L
    segment_init: str = "zero"  # "zero" (the paper) | "stored" | "burn_in" (R2D2)
    burn_in: int = 0  # steps replayed before each segment when segment_init="burn_in" (0: L)
    batch_size: int = 1000  # transitions per update, padding included for segments
    num_envs: int = 8
    rollout_length: int = 13  # steps of each environment between updates
    updates_per_rollout: int = 1
    rollout: str = "steps"  # "steps": num_envs × rollout_length steps per rollout | "episode": one episode
    warmup_steps: int = 10_000  # environment steps with random actions before learning starts ("steps")
    train_steps: int = 49_920  # environment steps after them: 48 evaluations of 8 × 13 × 10 steps ("steps")
    warmup_episodes: int = 0  # episodes with random actions before learning starts ("episode")
    train_episodes: int = 0  # episodes after them, one per rollout: the paper's training epochs ("episode")
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
        found = problems(self)
        if found:
            raise ConfigError(found)

    @property
    def max_episode_steps(self) -> int:
        env, params = make_env(self.env, **self.env_kwargs)
        return int(params.max_steps_in_episode)

    @property
    def by_episode(self) -> bool:
        """Each rollout is one whole episode (the paper's epoch), budgets count episodes."""
        return self.rollout == "episode"

    @property
    def steps_per_iteration(self) -> int:
        """Environment steps of one rollout ("steps"; an episode's length varies)."""
        return self.num_envs * self.rollout_length

    @property
    def iterations(self) -> int:
        """Rollouts of the whole run, each followed by `updates_per_rollout` updates."""
        return self.train_episodes if self.by_episode else self.train_steps // self.steps_per_iteration

    @property
    def updates(self) -> int:
        """Gradient updates of the whole run."""
        return self.iterations * self.updates_per_rollout

    @property
    def episodes(self) -> int:
        """Episodes of the whole run, warm-up included ("episode"; 0 for "steps", where they vary)."""
        return self.warmup_episodes + self.train_episodes if self.by_episode else 0

    @property
    def collected_steps(self) -> int:
        """Environment steps of the whole run, warm-up included ("episode": at most, every episode at its
        longest): what a buffer that never discards must hold."""
        if self.by_episode:
            return self.episodes * self.max_episode_steps
        return self.warmup_steps + self.train_steps

    @property
    def collection(self) -> str:
        """What is collected between updates, in words."""
        if self.by_episode:
            ratio = self.updates_per_rollout
            return "one episode" + (f" per {ratio} updates" if ratio > 1 else " per update")
        per_update, longest = self.steps_per_iteration / self.updates_per_rollout, self.max_episode_steps
        return (f"{per_update:g} steps of {self.num_envs} environments per update ({per_update / longest:.2f} "
                f"episodes of the longest, {longest} steps)")

    @property
    def warmup(self) -> str:
        """The random-action warm-up, in words."""
        if self.by_episode:
            return f"{self.warmup_episodes:,} episodes"
        return f"{self.warmup_steps:,} steps ({self.warmup_steps / self.max_episode_steps:,.0f} longest episodes)"

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def task_of(env: str) -> str:
    """The task of a task id: RepeatPreviousEasy -> RepeatPrevious."""
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
    task = task_of(env) if isinstance(env, str) else env  # (TrainConfig names a wrong type)
    model = overrides.get("model", TrainConfig.model)
    memory = PAPER_MEMORY.get(model, {}) if isinstance(model, str) else {}
    settings: dict[str, Any] = {"env": env, "model_kwargs": dict(memory)}
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
    settings.update(overrides)
    if "train_steps" not in overrides:  # the default budget in whole evaluations of this task's rollouts
        chunk = 1
        for name in ("num_envs", "rollout_length", "eval_interval"):
            chunk *= settings.get(name, getattr(TrainConfig, name))
        settings["train_steps"] = TrainConfig.train_steps // chunk * chunk
    return TrainConfig(**settings)
