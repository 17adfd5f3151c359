"""Training experiments as lists of runs: tape vs segments (Figures 4 and 6), a small Figure 6 (nine tasks, one
model), training time (Figure 5 right) and chapter 15's runs on Repeat Previous.

A run is (name, TrainConfig, seeds); each trains into DIR/<name>/ through `memoroids_lite.train.run`, which
checkpoints after the first evaluation, every 30 seconds and at the end, so an interrupted experiment resumes
inside the run it was in.
"""

from __future__ import annotations

import csv
import os

from memoroids_lite.experiments.paper import paper_config
from memoroids_lite.rl import TrainConfig, for_task
from memoroids_lite.train import read_metrics

# The paper's batchings at 1,000 transitions per batch: the tape, and segments of L = 10, 20, 50, 100.
BATCHINGS = {"tape": dict(batching="tape")} | {
    f"segment_{L}": dict(batching="segment", segment_length=L) for L in (10, 20, 50, 100)
}
# The stronger segment baselines the paper did not run.
STRONGER = {"segment_10_stored": dict(batching="segment", segment_length=10, segment_init="stored"),
            "segment_10_burn_in": dict(batching="segment", segment_length=10, segment_init="burn_in")}
# The paper's code's loss (errata 7 and 8 of the book's appendix *How memoroids_lite is built*; rl/dqn/loss.py), to
# measure whether its errors change the comparison: run on the Repeat First panel, where the first observation,
# the one its targets missed, is the key.
PAPER_CODE = {"tape_paper_code": dict(batching="tape", paper_code_loss=True),
              "segment_10_paper_code": dict(batching="segment", segment_length=10, paper_code_loss=True)}

# The paper's four panels (its order: S5 on Count Recall, linear attention on position-only CartPole, LRU on
# Repeat First, FFM on Repeat Previous), listed cheapest first so that whole panels finish early on a CPU.
FIGURE_4 = [("RepeatFirstEasy", "lru", 5_000), ("RepeatPreviousEasy", "ffm", 5_000),
            ("CountRecallEasy", "s5", 10_000), ("PositionOnlyCartPoleEasy", "linear_attention", 10_000)]
NINE_TASKS = ["AutoencodeEasy", "MultiarmedBanditEasy", "CountRecallEasy", "MineSweeperEasy",
              "NoisyPositionOnlyCartPoleEasy", "PositionOnlyCartPoleEasy", "RepeatFirstEasy",
              "RepeatPreviousEasy", "VelocityOnlyCartPoleEasy"]

# The ci scale: seconds per run, for tests. Repeat Previous with lag 2 and a tiny network.
CI = dict(env="RepeatPrevious", env_kwargs={"num_decks": 1, "k": 3}, features=16, model_kwargs={"hidden": 8},
          gamma=0.5, batch_size=100, num_envs=4, rollout_length=7, warmup_steps=500, train_steps=28 * 4,
          buffer_size=2000, eval_interval=2, eval_episodes=4, learning_rate=1e-3, lr_warmup=10, tau=0.05)


def config_for(env: str, model: str, updates: int, **settings) -> TrainConfig:
    """The cpu scale's run of `updates` updates: the task's settings, a random warm-up of at least 20 of its
    longest episodes, and a buffer that holds every transition of the run, as the paper's does."""
    base = for_task(env, model=model, **settings)
    steps = updates // base.updates_per_rollout * base.steps_per_iteration
    config = base.replace(train_steps=steps, warmup_steps=max(base.warmup_steps, 20 * base.max_episode_steps))
    return config.replace(buffer_size=config.collected_steps)


def tape_vs_segment_runs(scale: str):
    if scale == "ci":
        batchings = {"tape": BATCHINGS["tape"], "segment_10": BATCHINGS["segment_10"],
                     "segment_10_burn_in": STRONGER["segment_10_burn_in"],
                     "segment_10_paper_code": PAPER_CODE["segment_10_paper_code"]}
        return [(f"ci_lru_{b}", TrainConfig(**CI, model="lru", **kw), 2) for b, kw in batchings.items()]
    if scale == "cpu":
        runs = []
        for env, model, updates in FIGURE_4:
            variants = BATCHINGS | {"RepeatPreviousEasy": STRONGER, "RepeatFirstEasy": PAPER_CODE}.get(env, {})
            runs += [(f"{env}_{model}_{b}", config_for(env, model, updates, **kw), 3) for b, kw in variants.items()]
        return runs
    if scale == "paper":  # the paper's grid (Figure 6) under its protocol (Table H.3)
        return [(f"{env}_{model}_{b}", paper_config(env, model, **kw), 10)
                for env in NINE_TASKS for model in ("ffm", "lru", "linear_attention", "s5") for b, kw in BATCHINGS.items()]
    raise ValueError(f"unknown scale {scale!r}; choose ci, cpu or paper.")


# The small Figure 6: every task, one model (the LRU), the tape against segments of 10 and 50, 3 seeds; a
# 64-feature network (the paper's: 256) and 5,000 updates per run, so that the 81 seed runs finish in a few
# hours on a 2-core CPU.
NINE_TASK_BATCHINGS = ("tape", "segment_10", "segment_50")
SMALL = dict(features=64, model_kwargs={"hidden": 64})


def nine_task_runs(scale: str):
    if scale == "ci":  # the one batching the tape-vs-segment ci runs do not train
        return [("ci_lru_segment_50", TrainConfig(**CI, model="lru", **BATCHINGS["segment_50"]), 1)]
    if scale == "cpu":
        runs = []
        for env in NINE_TASKS:
            for b in NINE_TASK_BATCHINGS:
                runs.append((f"{env}_lru_{b}", config_for(env, "lru", 5_000, **BATCHINGS[b], **SMALL), 3))
        return runs
    return [r for r in tape_vs_segment_runs(scale) if r[1].model == "lru"
            and r[0].endswith(tuple(f"_lru_{b}" for b in NINE_TASK_BATCHINGS))]


# The lag-recall experiment's question asked with reinforcement learning: FFM on Repeat Previous, tapes, the
# Figure 4 run's settings but FFM's initial rotation periods spread over 2-20 steps instead of 1-1,000.
SHORT_PERIODS = {"min_period": 2.0, "max_period": 20.0}


def lag_recall_runs(scale: str):
    if scale == "ci":
        small = {"trace_size": 4, "context_size": 4, **SHORT_PERIODS}
        return [("ci_ffm_periods_2_20_tape", TrainConfig(**CI | {"model_kwargs": small}, model="ffm"), 1)]
    if scale == "cpu":
        config, seeds = config_for("RepeatPreviousEasy", "ffm", 5_000, **BATCHINGS["tape"]), 3
    else:
        config, seeds = paper_config("RepeatPreviousEasy", "ffm", **BATCHINGS["tape"]), 10
    periods = config.replace(model_kwargs=config.model_kwargs | SHORT_PERIODS)
    return [("RepeatPreviousEasy_ffm_periods_2_20_tape", periods, seeds)]


# Chapter 15's runs at its full budget, so that a lab can load their agents instead of training them: the LRU
# on Repeat Previous for 500 updates, trained on tapes, on segments of 10, and on segments of 10 after a burn-in
# of 10 steps, 2 seeds, every other setting the task's (`for_task`).
REPEAT_PREVIOUS = {"tape": BATCHINGS["tape"], "segment_10": BATCHINGS["segment_10"],
                   "segment_10_burn_in": STRONGER["segment_10_burn_in"] | {"burn_in": 10}}


def repeat_previous_runs(scale: str):
    if scale == "ci":
        return [("ci_lru_tape", TrainConfig(**CI, model="lru"), 1)]
    if scale == "cpu":
        return [(f"RepeatPreviousEasy_lru_{b}",
                 for_task("RepeatPreviousEasy", model="lru", train_steps=104 * 500, eval_interval=10, **kw), 2)
                for b, kw in REPEAT_PREVIOUS.items()]
    return [(f"RepeatPreviousEasy_lru_{b}", paper_config("RepeatPreviousEasy", "lru", **kw), 10)
            for b, kw in REPEAT_PREVIOUS.items()]


def train_time_runs(scale: str):
    """Figure 5 right: the same training on Repeat First with every batching; wall time is the measurement."""
    if scale == "ci":
        return [(f"ci_{b}", TrainConfig(**CI, model="lru", **kw), 2)
                for b, kw in (("tape", BATCHINGS["tape"]), ("segment_10", BATCHINGS["segment_10"]))]
    updates = 500 if scale == "cpu" else 5_000
    return [(f"RepeatFirstEasy_lru_{b}", config_for("RepeatFirstEasy", "lru", updates, **kw), 1)
            for b, kw in BATCHINGS.items()]


def summarise_train_time(out: str, runs) -> str:
    """One row per batching: training wall time (the last row's wall_s; compile included) and updates."""
    path = os.path.join(out, "train_time.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run", "batching", "segment_length", "updates", "wall_s"])
        for name, config, _ in runs:
            last = read_metrics(os.path.join(out, name, "metrics.csv"))[-1]
            length = config.segment_length if config.batching == "segment" else ""
            writer.writerow([name, config.batching, length, last["updates"], last["wall_s"]])
    return path
