"""PPO with memoroids: tapes against chunks, and PPO against DQN at equal environment steps.

The runs: PPO on Repeat First, Count Recall and position-only CartPole with the LRU and linear attention, each
trained on tapes (every episode read from its first step) and on chunks of 16 and of 128 steps that start from
the stored acting memory (128 = the whole rollout: PureJaxRL's `ppo_rnn` scheme). At the cpu scale the network
is the small Figure 6's (64 features, memories of 64) and each run collects as many environment steps as that
experiment's DQN runs on the same task collected (book/results/nine_tasks: the random warm-up included), rounded
down to whole evaluations (one every 5 rollouts), so the LRU's PPO and DQN curves compare at equal environment steps. 3 seeds.
The paper scale (sized for a GPU): the paper's network (256 features, its memory sizes), 64 environments,
5,242,880 steps (64 evaluations), 10 seeds. The paper trains no PPO; nothing here reproduces a figure of it.
"""

from __future__ import annotations

from memoroids_lite.experiments.training import CI, NINE_TASK_BATCHINGS, SMALL, config_for
from memoroids_lite.rl.ppo import PPOConfig, for_task

TASKS = ("RepeatFirstEasy", "CountRecallEasy", "PositionOnlyCartPoleEasy")
MODELS = ("lru", "linear_attention")
BATCHINGS = {"tape": {"batching": "tape"},
             "segment_16": {"batching": "segment", "segment_length": 16},
             "segment_128": {"batching": "segment", "segment_length": 128}}
SMALL_MEMORY = {"lru": SMALL["model_kwargs"], "linear_attention": {"key_size": 16, "mlp_size": 64}}
DQN_UPDATES = 5_000  # the small Figure 6's runs, whose environment steps PPO gets


def dqn_steps(env: str) -> int:
    """Environment steps the small Figure 6's DQN run on `env` collects, warm-up included."""
    return config_for(env, "lru", DQN_UPDATES, **SMALL, batching=NINE_TASK_BATCHINGS[0]).collected_steps


def cpu_config(env: str, model: str, **batching) -> PPOConfig:
    base = for_task(env, model=model, features=SMALL["features"], model_kwargs=SMALL_MEMORY[model],
                    eval_interval=5, **batching)
    per_evaluation = base.steps_per_iteration * base.eval_interval
    return base.replace(train_steps=dqn_steps(env) // per_evaluation * per_evaluation)


def ppo_runs(scale: str):
    """[(run name, PPOConfig, seeds)] of the experiment at `scale`."""
    if scale == "ci":  # Repeat Previous with lag 3 and a tiny network, seconds per run
        tiny = {k: CI[k] for k in ("env", "env_kwargs", "features", "model_kwargs", "gamma", "eval_episodes")}
        small = dict(num_envs=4, rollout_length=16, eval_interval=2, train_steps=4 * 16 * 2 * 2, **tiny)
        return [("ci_lru_tape", PPOConfig(**small), 1),
                ("ci_lru_segment_4", PPOConfig(**small, batching="segment", segment_length=4), 1)]
    runs = []
    for env in TASKS:
        for model in MODELS:
            for label, batching in BATCHINGS.items():
                if scale == "cpu":
                    config, seeds = cpu_config(env, model, **batching), 3
                else:
                    config, seeds = for_task(env, model=model, features=256, num_envs=64, train_steps=5_242_880,
                                             **batching), 10
                runs.append((f"{env}_{model}_{label}", config, seeds))
    return runs


def describe(name: str, config: PPOConfig, seeds: int) -> str:
    """One line of what a PPO run will train."""
    batching = config.batching + (f" L={config.segment_length}" if config.batching == "segment" else "")
    return (f"{name}: {config.env} {config.model} {batching}, {seeds} seeds | PPO, {config.train_steps:,} "
            f"environment steps: {config.iterations:,} rollouts of {config.num_envs} × {config.rollout_length} "
            f"steps | {config.updates:,} updates ({config.update_epochs} epochs of {config.num_minibatches} "
            f"minibatches a rollout)")
