"""Train a recurrent DQN from the command line; seeds run together with jax.vmap.

    python -m memoroids_lite.train --env RepeatPreviousEasy --model lru --batching tape --out runs/rp_lru

Writes DIR/config.json (every setting, the versions, the device), DIR/metrics.csv (one row per seed and
evaluation: seed, env_steps, updates, eval_return, train_return, loss, wall_s) and DIR/checkpoint.pkl (after
the first evaluation, every 5 minutes, and at the end). Run the same command again to resume an interrupted
run from its checkpoint; training is deterministic, so the resumed run gives the same results.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import pickle
import sys
import time

import jax
import numpy as np
from tqdm import tqdm

from memoroids_lite.rl.config import TrainConfig, for_task
from memoroids_lite.rl.train import Metrics, make_train
from memoroids_lite.timing import machine


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_config(args) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {}
    if args.config:
        with open(args.config) as f:
            settings.update(json.load(f))
    flags = {
        "env_kwargs": json.loads(args.env_kwargs) if args.env_kwargs else None,
        "model": args.model, "batching": args.batching, "segment_length": args.segment_length,
        "segment_init": args.segment_init, "warmup_steps": args.warmup_steps, "train_steps": args.train_steps,
    }
    settings.update({k: v for k, v in flags.items() if v is not None})
    for item in args.set or []:
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"--set {item}: unknown field {name!r}; fields are {sorted(fields)}.")
        settings[name] = parse_value(value)
    unknown = set(settings) - fields
    if unknown:
        raise SystemExit(f"unknown config field(s) {sorted(unknown)}; fields are {sorted(fields)}.")
    env = settings.pop("env", args.env)  # --set env=... or a --config file may name the task too
    try:
        return for_task(env, **settings)
    except (ValueError, TypeError) as error:
        raise SystemExit(str(error))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m memoroids_lite.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="a task id, e.g. RepeatPreviousEasy")
    parser.add_argument("--env-kwargs", help='JSON options for the task, e.g. \'{"num_decks": 2, "k": 10}\'')
    parser.add_argument("--model", help="memory model: linear_attention, lru, s5, ffm, gru")
    parser.add_argument("--batching", choices=["tape", "segment"])
    parser.add_argument("--segment-length", type=int)
    parser.add_argument("--segment-init", choices=["zero", "stored", "burn_in"])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1, trained together with jax.vmap")
    parser.add_argument("--warmup-steps", type=int, help="random-action environment steps before learning")
    parser.add_argument("--train-steps", type=int, help="environment steps after the warm-up")
    parser.add_argument("--config", help="a JSON file of TrainConfig fields")
    parser.add_argument("--set", nargs="*", metavar="FIELD=VALUE", help="override any TrainConfig field")
    parser.add_argument("--out", required=True, help="output directory (also where a run resumes from)")
    args = parser.parse_args(argv)

    run(build_config(args), args.seeds, args.out)


def run(config: TrainConfig, seeds: int, out: str, show_progress: bool = True, checkpoint_every_s: float = 300.0
        ) -> list[dict]:
    """Train `seeds` seeds of `config` into directory `out`, resuming from its checkpoint if there is one.

    The checkpoint (parameters, optimiser, replay storage, environments, keys and the metric rows so far) is
    written after the first evaluation, then whenever `checkpoint_every_s` seconds have passed, and at the end:
    the storage can be gigabytes (stored recurrent states), too much to write after every evaluation. Training
    is deterministic, so a resumed run recomputes the evaluations after its checkpoint exactly as they were.
    A finished run whose checkpoint is gone (checkpoints are not committed with results) is recognised by
    its config.json and complete metrics.csv and is not trained again.
    `show_progress`: a tqdm bar on stderr, one step per evaluation; False writes nothing to stderr.
    Returns the metric rows (also written to out/metrics.csv)."""
    os.makedirs(out, exist_ok=True)
    described = {"config": dataclasses.asdict(config), "seeds": seeds, "machine": machine()}
    config_path = os.path.join(out, "config.json")
    checkpoint_path = os.path.join(out, "checkpoint.pkl")
    metrics_path = os.path.join(out, "metrics.csv")
    train = make_train(config)
    if os.path.exists(config_path) and (os.path.exists(checkpoint_path) or os.path.exists(metrics_path)):
        with open(config_path) as f:
            before = json.load(f)
        if not same_config(before["config"], config) or before["seeds"] != seeds:
            raise SystemExit(f"{out} holds a run with another configuration; choose another --out.")
        if not os.path.exists(checkpoint_path):
            rows = read_metrics(metrics_path)
            if len(rows) == train.num_chunks * seeds:
                return rows  # finished; nothing to redo
    init, chunk = jax.jit(jax.vmap(train.init)), jax.jit(jax.vmap(train.chunk), donate_argnums=0)
    begin = time.perf_counter()
    if os.path.exists(checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            saved = pickle.load(f)
        state, rows, done, wall_before = saved["state"], saved["rows"], saved["chunks"], saved["wall_s"]
        if done == train.num_chunks:  # finished: its config.json still names the machine that trained it, and
            write_metrics(metrics_path, rows)  # its metrics.csv holds every row (a stale copy may have been restored)
            return rows
        if show_progress:
            print(f"resuming {out} after {done} of {train.num_chunks} evaluations", file=sys.stderr)
    else:
        keys = jax.vmap(jax.random.PRNGKey)(np.arange(seeds))
        state, rows, done, wall_before = init(keys), [], 0, 0.0
    with open(config_path, "w") as f:
        json.dump(described, f, indent=2, sort_keys=True)
    saved_at = time.perf_counter()
    # One step of the bar per evaluation. A resumed run's bar starts where it resumed, so its rate and remaining
    # time count only the evaluations this process computes.
    bar = tqdm(total=train.num_chunks, initial=done, unit="eval", desc=os.path.basename(os.path.normpath(out)),
               disable=not show_progress)
    with bar:
        for index in range(done, train.num_chunks):
            state, metrics = chunk(state)
            metrics = Metrics(*(np.asarray(m) for m in metrics))
            wall = wall_before + time.perf_counter() - begin
            for seed in range(seeds):
                rows.append({"seed": seed, **{k: float(v[seed]) for k, v in metrics._asdict().items()}, "wall_s": wall})
            if index == 0 or index + 1 == train.num_chunks or time.perf_counter() - saved_at >= checkpoint_every_s:
                with open(checkpoint_path + ".tmp", "wb") as f:
                    pickle.dump({"state": jax.device_get(state), "rows": rows, "chunks": index + 1, "wall_s": wall}, f)
                os.replace(checkpoint_path + ".tmp", checkpoint_path)
                saved_at = time.perf_counter()
            write_metrics(metrics_path, rows)
            bar.set_postfix_str(f"eval {np.nanmean(metrics.eval_return):+.3f} loss {np.nanmean(metrics.loss):.2e}",
                                refresh=False)
            bar.update(1)
    return rows


def load_params(out: str):
    """The online parameters of every seed of a finished (or interrupted) run in `out`: leading axis = seed."""
    with open(os.path.join(out, "checkpoint.pkl"), "rb") as f:
        return pickle.load(f)["state"].params


def same_config(stored: dict, config: TrainConfig) -> bool:
    """Whether a config.json's fields describe `config`. A field added to TrainConfig after the run was written
    is absent from it; it matches if `config` holds the field's default (which is what the run used)."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}
    now = dataclasses.asdict(config)
    return set(stored) <= set(now) and all(
        stored[name] == value if name in stored else name in defaults and value == defaults[name]
        for name, value in now.items())


def read_metrics(path) -> list[dict]:
    with open(path) as f:
        return [{k: (int(v) if k in ("seed", "env_steps", "updates") else float(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]


def write_metrics(path, rows):
    """Write the rows as CSV; a file that already holds exactly these rows is left untouched (its mtime too).
    The new file replaces the old one at once, so a reader (a notebook, while the run trains) never sees it half
    written."""
    columns = ["seed", "env_steps", "updates", "eval_return", "train_return", "loss", "wall_s"]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (int(row[k]) if k in ("seed", "env_steps", "updates") else row[k]) for k in columns})
    if os.path.exists(path):
        with open(path, newline="") as f:
            if f.read() == text.getvalue():
                return
    with open(path + ".tmp", "w", newline="") as f:
        f.write(text.getvalue())
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
