"""The paper's experiments, one entry point each; results are tidy CSV files next to their configs.

    python -m memoroids_lite.experiments NAME --scale ci|cpu|paper --out DIR

NAME: returns (Figure 5 left), tape-vs-segment (Figures 4 and 6), nine-tasks (a small Figure 6: every task,
the LRU, tape vs segments of 10 and 50), sensitivity (Figures 3 and 8), train-time (Figure 5 right), lag-recall
(why FFM does not solve Repeat Previous at the book's budget: recall at a fixed lag, supervised, then FFM with
short rotation periods trained on Repeat Previous), repeat-previous (chapter 15's runs: the LRU on Repeat
Previous, tapes, segments of 10 and burn-in, whose agents a lab loads instead of training them), ppo (PPO on
tapes against chunks of 16 and 128 steps, at the environment steps of the small Figure 6's DQN; ppo.py). Scales: ci
(seconds, for tests), cpu (the book's committed results: hours on a 2-core CPU, resumable), paper (the paper's
protocol, its Table H.3, for the full grid, sized for a GPU). Running the same command again resumes: finished
runs are kept, an interrupted training run continues from its last checkpoint. `memoroids_lite.plotting` draws the
figures from DIR.

    python -m memoroids_lite.experiments tape-vs-segment --scale cpu --out DIR --only 'CountRecall*'

trains only the runs whose names match the pattern, so that one experiment can be split over processes or
machines (each writes its own DIR/<run>/); the summary files are written by a call without --only (for
tape-vs-segment: DIR/acting.csv, every trained agent evaluated with its memory reset every L steps, acting.py).
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import sys

import numpy as np

from memoroids_lite.experiments import acting, lag_recall, ppo, returns, sensitivity, training
from memoroids_lite.experiments.paper import paper_config
from memoroids_lite.rl.algorithms import of_config
from memoroids_lite.rl.dqn.validation import padding_note

EXPERIMENTS = ("returns", "tape-vs-segment", "nine-tasks", "sensitivity", "train-time", "lag-recall",
               "repeat-previous", "ppo")
SCALES = ("ci", "cpu", "paper")


def _plan(runs, out, only=None):
    """Write out/runs.json, every planned run, and return those whose names match the glob `only` (all if None):
    [(name, config, seeds)]."""
    with open(os.path.join(out, "runs.json"), "w") as f:
        json.dump([{"name": name, "seeds": seeds, "algo": of_config(config).name, "config": config.to_dict()}
                   for name, config, seeds in runs], f, indent=1)
    chosen = [r for r in runs if only is None or fnmatch.fnmatchcase(r[0], only)]
    if not chosen:
        raise ValueError(f"--only {only!r} matches no run; the runs are {[name for name, _, _ in runs]}.")
    return chosen


def _announce(i, chosen):
    name, _, seeds = chosen[i]
    print(f"run {i + 1}/{len(chosen)}: {name} ({seeds} seeds)", file=sys.stderr, flush=True)


def _train_all(runs, out, only=None):
    """Train (or resume) every run into out/<name>/, or only those whose names match the glob `only`.
    out/runs.json lists every planned run either way."""
    from memoroids_lite.train import run

    chosen = _plan(runs, out, only)
    for i, (name, config, seeds) in enumerate(chosen):
        _announce(i, chosen)
        run(config, seeds, os.path.join(out, name))


# The sensitivity study: Repeat Previous (k = 10, RML 10; the paper's Figure 3) and Repeat First (the first
# card; its Figure 8), every model, tapes and segments of 10. Parameters are kept every SNAPSHOT_EVERY
# evaluations, for the sensitivity along training (Figure 3's heatmap).
SENSITIVITY_TASKS = ("RepeatPreviousEasy", "RepeatFirstEasy")
SNAPSHOT_EVERY = {"ci": 1, "cpu": 20, "paper": 50}


def sensitivity_runs(scale: str):
    if scale == "ci":
        return [(f"ci_lru_{label}", training.TrainConfig(**training.CI, model="lru", **training.BATCHINGS[label]), 2)
                for label in ("tape", "segment_10")]
    runs = []
    for env in SENSITIVITY_TASKS:
        for model in ("ffm", "lru", "linear_attention", "s5"):
            for label in ("tape", "segment_10"):
                batching = training.BATCHINGS[label]
                if scale == "cpu":  # 2,000 updates (the paper: 5,000 epochs), 3 seeds
                    runs.append((f"{env}_{model}_{label}", training.config_for(env, model, 2_000, **batching), 3))
                else:
                    runs.append((f"{env}_{model}_{label}", paper_config(env, model, **batching), 10))
    return runs


SENSITIVITY_COLUMNS = ["run", "env", "model", "batching", "seed", "updates", "episode", "age", "sensitivity"]


def run_sensitivity(scale: str, out: str, episodes: int = 4, only=None) -> str:
    """Train each run keeping snapshots, and right after it S of `episodes` greedy episodes per seed at every
    snapshot (out/<run>/sensitivity.csv: the snapshots are not kept in git, so a finished run carries its
    measurements with it); then out/sensitivity.csv, every run's rows, one per (run, seed, snapshot, episode,
    age)."""
    from memoroids_lite.train import run

    runs = sensitivity_runs(scale)
    chosen = _plan(runs, out, only)
    for i, (name, config, seeds) in enumerate(chosen):
        _announce(i, chosen)
        run(config, seeds, os.path.join(out, name), snapshot_every=SNAPSHOT_EVERY[scale])
        _measure_sensitivity(os.path.join(out, name), name, config, seeds, episodes)
    if only is not None:
        return os.path.join(out, "runs.json")  # some runs only: the summary waits for a call without --only
    path = os.path.join(out, "sensitivity.csv")
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SENSITIVITY_COLUMNS)
        for name, _, _ in runs:
            with open(os.path.join(out, name, "sensitivity.csv"), newline="") as one:
                writer.writerows(list(csv.reader(one))[1:])
    os.replace(path + ".tmp", path)
    return path


def _measure_sensitivity(run_dir: str, name: str, config, seeds: int, episodes: int) -> None:
    """run_dir/sensitivity.csv from the run's snapshots, unless it is there already."""
    import jax

    from memoroids_lite.train import snapshots

    path = os.path.join(run_dir, "sensitivity.csv")
    if os.path.exists(path):
        return
    kept = snapshots(run_dir)
    if not kept:
        raise FileNotFoundError(f"{run_dir} is trained but keeps no parameter snapshots (params-*.npz) to measure "
                                f"S from; delete {run_dir} and run the experiment again to retrain it.")
    batching = "tape" if config.batching == "tape" else f"segment_{config.segment_length}"
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SENSITIVITY_COLUMNS)
        for updates, params in kept:
            for seed in range(seeds):
                one = jax.tree.map(lambda x: x[seed], params)
                for e in range(episodes):
                    s = sensitivity.sensitivity(config, one, jax.random.PRNGKey(1000 + e))
                    ages = np.arange(len(s)) - (len(s) - 1)
                    writer.writerows([name, config.env, config.model, batching, seed, updates, e, int(a), f"{v:.6g}"]
                                     for a, v in zip(ages, s))
    os.replace(path + ".tmp", path)


def runs_of(name: str, scale: str):
    """The training runs of experiment `name` at `scale`: [(run name, TrainConfig, seeds)] ([] for returns)."""
    if name == "tape-vs-segment":
        return training.tape_vs_segment_runs(scale)
    if name == "train-time":
        return training.train_time_runs(scale)
    if name == "nine-tasks":
        return training.nine_task_runs(scale)
    if name == "sensitivity":
        return sensitivity_runs(scale)
    if name == "lag-recall":
        return training.lag_recall_runs(scale)
    if name == "repeat-previous":
        return training.repeat_previous_runs(scale)
    if name == "ppo":
        return ppo.ppo_runs(scale)
    return []


def describe(name: str, config, seeds: int) -> str:
    """One line of what a run will train: its task, warm-up, training, updates, collection and buffer."""
    from memoroids_lite.rl.dqn.loop import storage_bytes

    padding = padding_note(config)
    kept = ("keeps every transition" if config.buffer_size >= config.collected_steps
            else f"overwritten: the run collects {config.collected_steps:,}")
    training = (f"{config.train_episodes:,} training episodes" if config.by_episode
                else f"{config.train_steps:,} training steps")
    return (f"{name}: {config.env} {config.model} {config.batching}"
            + (f" L={config.segment_length}" if config.batching == "segment" else "")
            + f", {seeds} seeds | random warm-up {config.warmup} | {training}, {config.updates:,} updates,"
            f" {config.collection} | buffer {config.buffer_size:,} transitions ({storage_bytes(config) / 2**20:,.0f} MiB"
            f" a seed), {kept}" + (f" | {padding}" if padding else ""))


def run(name: str, scale: str, out: str, only: str | None = None, dry_run: bool = False) -> str | None:
    """Run (or resume) experiment `name` at `scale` into directory `out`; returns the main result file.
    `only`, a glob over run names, trains some runs only (and returns out/runs.json, the list of all runs).
    `dry_run` prints one line per run (`describe`) and trains and writes nothing."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {EXPERIMENTS}.")
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {SCALES}.")
    if only is not None and name == "returns":
        raise ValueError(f"--only selects training runs of the reinforcement-learning experiments; {name} has none.")
    if dry_run:  # what would train, one line a run; nothing is trained or written
        chosen = [r for r in runs_of(name, scale) if only is None or fnmatch.fnmatchcase(r[0], only)]
        one_line = ppo.describe if name == "ppo" else describe
        for line in [one_line(*r) for r in chosen] or [f"{name} trains no agent (it times the return scans)"]:
            print(line)
        return None
    os.makedirs(out, exist_ok=True)
    if name == "lag-recall":  # the supervised recall (lag_recall.csv), then the reinforcement-learning runs
        path = os.path.join(out, "lag_recall.csv")
        if only is None and not os.path.exists(path):
            lag_recall.write(path, scale)
        _train_all(training.lag_recall_runs(scale), out, only)
        return os.path.join(out, "runs.json") if only else path
    if name == "returns":
        path = os.path.join(out, "returns.csv")
        if not os.path.exists(path):
            returns.main(["--out", path] + (["--quick", "--repeats", "2"] if scale == "ci" else []))
        return path
    if name == "tape-vs-segment":
        runs = training.tape_vs_segment_runs(scale)
        _train_all(runs, out, only)
        return os.path.join(out, "runs.json") if only else acting.write(out, runs)
    if name in ("nine-tasks", "repeat-previous", "ppo"):
        _train_all(runs_of(name, scale), out, only)
        return os.path.join(out, "runs.json")
    if name == "train-time":
        runs = training.train_time_runs(scale)
        _train_all(runs, out, only)
        return os.path.join(out, "runs.json") if only else training.summarise_train_time(out, runs)
    return run_sensitivity(scale, out, only=only)
