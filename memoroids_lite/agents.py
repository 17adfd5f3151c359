"""Trained agents: a run's final parameters, loaded instead of trained, and its last evaluation replayed.

    agent = load("nine_tasks/CountRecallEasy_lru_tape")  # a committed run (downloaded where there is no checkout)
    agent = read("runs/rp_lru")                           # a run trained here (python -m memoroids_lite.train)
    evaluate(agent)                                       # each seed's last eval_return, computed again

`memoroids_lite.train.run` writes DIR/agent.npz when a run ends: the online parameters of every seed (leading
axis = seed) and the key each seed's last evaluation drew its episodes with. It is a NumPy .npz read with
`allow_pickle=False` (memoroids_lite.checkpoint), so loading a downloaded agent runs no code. With the run's
config.json it replays that evaluation: `evaluate(agent)` equals the last eval_return of every seed in metrics.csv.

    python -m memoroids_lite.agents RUN [RUN ...] [--into DIR]

writes RUN/agent.npz (or DIR/<RUN's name>/agent.npz) for a finished run trained before runs kept their agents,
from its final checkpoint or last parameter snapshot, once it has checked that the agent replays the run's last
evaluations. Only runs of rollout="steps" qualify: there the evaluation key depends on the seed alone.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
from typing import Any, NamedTuple

import jax
import numpy as np

from memoroids_lite import checkpoint, results
from memoroids_lite import train as runs
from memoroids_lite.rl.algorithms import config_from_json, of_config


class Agent(NamedTuple):
    config: Any  # its TrainConfig (DQN) or PPOConfig
    params: Any  # online parameters, leading axis = seed
    eval_key: np.ndarray  # [seeds, 2]: the key of each seed's last evaluation

    @property
    def seeds(self) -> int:
        return len(self.eval_key)


def load(run: str) -> Agent:
    """The agent of the committed run `run`, "<experiment>/<run>" (e.g. "nine_tasks/CountRecallEasy_lru_tape"):
    its files come through `memoroids_lite.results`, from the checkout or downloaded."""
    config_path = results.result_file(f"{run}/config.json", required=False)
    if config_path is None:
        raise FileNotFoundError(unknown_run(run))
    agent_path = results.result_file(f"{run}/{runs.AGENT}", required=False)
    if agent_path is None:
        raise FileNotFoundError(
            f"{run} has no {runs.AGENT}: it was trained before runs kept their agents. `python -m "
            f"memoroids_lite.agents DIR` writes it from the run's final checkpoint; training the run again "
            f"(python -m memoroids_lite.experiments ...) writes it too.")
    return _agent(config_path, agent_path)


def read(folder) -> Agent:
    """The agent of a run trained into `folder` (python -m memoroids_lite.train --out FOLDER)."""
    agent_path = os.path.join(folder, runs.AGENT)
    if not os.path.exists(agent_path):
        raise FileNotFoundError(f"{agent_path} does not exist: the run in {folder} has not finished (or was "
                                f"trained before runs kept their agents: python -m memoroids_lite.agents {folder}).")
    return _agent(os.path.join(folder, "config.json"), agent_path)


def _agent(config_path, agent_path) -> Agent:
    with open(config_path) as f:
        described = json.load(f)
    config = config_from_json(described)
    like = runs.agent_like(of_config(config).make_train(config), described["seeds"])
    stored = checkpoint.load_arrays(str(agent_path), like, runs.AGENT)
    return Agent(config, stored["params"], stored["eval_key"])


def unknown_run(run: str) -> str:
    experiment, _, _ = run.partition("/")
    planned = results.read_json(f"{experiment}/runs.json", required=False)
    if planned is None:
        return (f"{run!r} is not a committed run. Name one as '<experiment>/<run>', e.g. "
                f"'nine_tasks/CountRecallEasy_lru_tape' (book/results/<experiment>/runs.json lists an "
                f"experiment's runs), or train your own with `python -m memoroids_lite.train ... --out DIR` and "
                f"read it with memoroids_lite.agents.read(DIR).")
    return (f"{run!r} is not a committed run; the runs of {experiment} are: "
            + ", ".join(f"{experiment}/{r['name']}" for r in planned) + ".")


def evaluate(agent: Agent) -> np.ndarray:
    """Each seed's return in the run's last evaluation, computed again: its `eval_episodes` greedy episodes,
    drawn with the stored key (each seed alone, the program training compiles for one seed)."""
    greedy_return = jax.jit(of_config(agent.config).make_train(agent.config).greedy_return)
    returns = []
    for seed, key in enumerate(agent.eval_key):
        params = jax.tree.map(operator.itemgetter(seed), agent.params)
        returns.append(float(greedy_return(params, key)))
    return np.array(returns)


def final_returns(folder) -> np.ndarray:
    """Each seed's last eval_return in folder/metrics.csv."""
    rows = runs.read_metrics(os.path.join(folder, "metrics.csv"))
    last = {row["seed"]: row["eval_return"] for row in rows}  # rows are in the order of training
    return np.array([last[seed] for seed in sorted(last)])


def export(folder: str, into: str | None = None) -> str:
    """Write the agent.npz of the finished run in `folder` into `into` (default `folder`), from its final
    checkpoint or last parameter snapshot, after checking that it replays the run's last evaluations; returns
    the path. Raises ValueError if the run is not finished, has neither, or the replay differs."""
    with open(os.path.join(folder, "config.json")) as f:
        described = json.load(f)
    config, seeds = config_from_json(described), described["seeds"]
    train = of_config(config).make_train(config)
    if len(runs.read_metrics(os.path.join(folder, "metrics.csv"))) != train.num_chunks * seeds:
        raise ValueError(f"{folder} is not finished: train it to the end (python -m memoroids_lite.train), "
                         f"which writes its {runs.AGENT}.")
    eval_keys = np.asarray(jax.vmap(lambda key: train.evaluation_key(key, train.num_chunks))(runs.seed_keys(seeds)))
    agent = Agent(config, final_params(folder, train, seeds, config.updates), eval_keys)
    replayed, measured = evaluate(agent), final_returns(folder)
    if not np.array_equal(replayed, measured):
        raise ValueError(f"{folder}: the agent's evaluation gives {replayed.tolist()}, the run measured "
                         f"{measured.tolist()}; no {runs.AGENT} written.")
    out = folder if into is None else into
    os.makedirs(out, exist_ok=True)
    runs.save_agent(out, agent.params, agent.eval_key)
    return os.path.join(out, runs.AGENT)


def final_params(folder: str, train, seeds: int, updates: int):
    """The online parameters of every seed at the end of the run in `folder` (`updates` updates): its finished
    checkpoint, else its snapshot after the last update."""
    saved = checkpoint.load(folder, runs.saved_state_like(train, seeds))
    if saved is not None and saved[1]["chunks"] == train.num_chunks:
        return saved[0].params
    last = [params for at, params in runs.snapshots(folder) if at == updates]
    if not last:
        raise ValueError(f"{folder} keeps neither its final checkpoint nor a snapshot after its last update: "
                         f"train it again (python -m memoroids_lite.train), which writes its {runs.AGENT}.")
    return last[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m memoroids_lite.agents",
                                     description="Write agent.npz for runs trained before runs kept their agents.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="a finished run's folder")
    parser.add_argument("--into", metavar="DIR", help="write DIR/<RUN's name>/agent.npz instead of RUN/agent.npz")
    args = parser.parse_args(argv)
    for folder in args.runs:
        into = None if args.into is None else os.path.join(args.into, os.path.basename(os.path.normpath(folder)))
        try:
            path = export(folder, into)
        except (OSError, ValueError) as error:  # CheckpointError is a ValueError
            parser.exit(2, f"error: {error}\n")
        print(f"{path}: {os.path.getsize(path):,} bytes; replays {final_returns(folder).tolist()}")


if __name__ == "__main__":
    main()
