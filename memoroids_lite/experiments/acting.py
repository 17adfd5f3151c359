"""Acting with the memory that training saw: each trained agent's greedy return with its memory reset every L steps.

A segment of length L trained from a zero state (SBB, paper §4.1) shapes Q only on memories of at most L steps;
the agent then acts with a memory of its whole episode, which it was never trained on. Evaluating the same
parameters both ways measures what that mismatch costs: reset_every = 0 is the paper's evaluation (one memory per
episode); reset_every = L hands the agent, while it acts, exactly the memories its segments gave it (segments
start at multiples of L inside an episode, rl/segment.py). A tape-trained agent is the control: it was trained
on whole-episode memories, so cutting them should cost it return.
"""

from __future__ import annotations

import csv
import os

import jax
import numpy as np
from tqdm import tqdm

from memoroids_lite.rl import collect, make_train
from memoroids_lite.rl.dqn.act import greedy
from memoroids_lite import checkpoint
from memoroids_lite.train import load_params

RESET_EVERY = (0, 10, 20, 50, 100)  # 0: never inside an episode
EPISODES = 100
KEY = 7  # one evaluation key for every run and window: the same initial states, so comparisons are paired


def greedy_returns(config, params, episodes: int = EPISODES) -> np.ndarray:
    """The mean greedy return over `episodes` episodes of every seed's parameters (leading axis = seed), for each
    memory reset window of RESET_EVERY: [windows, seeds], one compiled evaluation."""
    train = make_train(config)
    max_steps = int(train.env_params.max_steps_in_episode)

    def one(p, reset_every):
        return collect.evaluate(train.env, train.env_params, train.network, greedy(train.network, p),
                                jax.random.PRNGKey(KEY), episodes, max_steps, reset_every)

    every_seed = jax.vmap(one, in_axes=(0, None))
    return np.asarray(jax.jit(jax.vmap(every_seed, in_axes=(None, 0)))(params, np.array(RESET_EVERY)))


def write(out: str, runs, episodes: int = EPISODES) -> str:
    """out/acting.csv: one row per (run, seed, reset_every), from the final parameters in out/<run>/'s checkpoint.

    Written once, after every run has trained; delete the file to recompute it."""
    path = os.path.join(out, "acting.csv")
    if os.path.exists(path):
        return path
    missing = [name for name, _, _ in runs if not checkpoint.exists(os.path.join(out, name))]
    if missing:
        raise FileNotFoundError(f"{path} needs the trained parameters in each run's checkpoint, and {missing} have "
                                "none (checkpoints are not committed): train those runs into this directory first.")
    rows = []
    with tqdm(runs, desc="acting.csv", unit="run") as bar:  # on stderr, one step per trained run
        for name, config, seeds in bar:
            bar.set_postfix_str(name, refresh=False)
            params = load_params(os.path.join(out, name))
            batching = name.split(f"{config.model}_", 1)[1]  # <env>_<model>_<batching>: tape, segment_10, ...
            for reset_every, returns in zip(RESET_EVERY, greedy_returns(config, params, episodes)):
                rows += [dict(run=name, env=config.env, model=config.model, batching=batching, seed=seed,
                              reset_every=reset_every, episodes=episodes, eval_return=float(returns[seed]))
                         for seed in range(seeds)]
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(path + ".tmp", path)
    return path


def load(path: str) -> dict[tuple[str, str], dict[int, np.ndarray]]:
    """acting.csv -> {(env, batching): {reset_every: returns [seeds]}}."""
    table: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            by_reset = table.setdefault((row["env"], row["batching"]), {})
            by_reset.setdefault(int(row["reset_every"]), {})[int(row["seed"])] = float(row["eval_return"])
    return {key: {r: np.array([seeds[s] for s in sorted(seeds)]) for r, seeds in by_reset.items()}
            for key, by_reset in table.items()}
