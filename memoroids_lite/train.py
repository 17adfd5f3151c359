"""Train a recurrent agent from the command line, several seeds side by side.

    python -m memoroids_lite.train --env RepeatPreviousEasy --model lru --batching tape --out runs/rp_lru

`--algo` chooses the algorithm: dqn (the default, the paper's recurrent DQN, memoroids_lite.rl.dqn) or ppo
(PPO on tapes or chunks, memoroids_lite.rl.ppo); the other flags and --set name fields of its configuration
(TrainConfig or PPOConfig).

Writes DIR/config.json (every setting, the versions, the device), DIR/metrics.csv (one row per seed and
evaluation: seed, env_steps, updates, eval_return, train_return, loss, wall_s; PPO adds entropy,
approx_kl and clipped before wall_s), at the end DIR/agent.npz (the
trained agent: memoroids_lite.agents loads it and replays its last evaluation) and a checkpoint
(DIR/checkpoint.json and DIR/checkpoint-<n>.npz, memoroids_lite.checkpoint: after the first evaluation,
every 30 s (--checkpoint-every) and at the end). Run the same command again to resume an interrupted run from
its checkpoint; training is deterministic, so the resumed run gives the same results. Every setting is checked
before anything runs or is written: each problem is printed on one line naming its flag, and the exit status
is 2.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import difflib
import glob
import io
import json
import os
import sys
import time

import jax
import numpy as np
from tqdm import tqdm

from memoroids_lite import cache, checkpoint
from memoroids_lite.rl.algorithms import ALGORITHMS, config_from_json, of_config
from memoroids_lite.rl.batching import NAMES as BATCHINGS
from memoroids_lite.rl.segment import INITS
from memoroids_lite.rl.dqn.validation import padding_note
from memoroids_lite.rl.validation import ConfigError, Problem
from memoroids_lite.timing import machine

SNAPSHOT = "params-"  # out/params-<updates>.npz: the parameters kept along training (run's snapshot_every)
AGENT = "agent.npz"  # out/agent.npz: the final parameters and last evaluation key of every seed (agents.py)
CHECKPOINT_EVERY_S = 30.0  # a kill loses at most about this much training (plus one evaluation's worth)


# where each configuration field can be given on the command line (any field: --set FIELD=VALUE)
FLAGS = {"env": "--env", "env_kwargs": "--env-kwargs", "model": "--model", "batching": "--batching",
         "segment_length": "--segment-length", "segment_init": "--segment-init", "warmup_steps": "--warmup-steps",
         "train_steps": "--train-steps"}


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def read_json_object(text: str, what: str, problems: list[str]) -> dict:
    """`text` parsed as a JSON object; {} (and a problem naming `what`) if it is not one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(f"{what}: not valid JSON ({error}).")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{what}: must be a JSON object {{...}}, got {type(value).__name__} {value!r}.")
        return {}
    return value


def build_config(args):
    """The configuration (of --algo's class) the command line asks for, or None, and every problem with it
    (each naming its flag)."""
    algorithm = ALGORITHMS[args.algo]
    fields = {f.name for f in dataclasses.fields(algorithm.config)}
    problems: list[str] = []
    settings, source = {}, {}
    if args.config:
        try:
            with open(args.config) as f:
                text = f.read()
        except OSError as error:
            problems.append(f"--config {args.config}: cannot be read ({error.strerror}).")
            text = "{}"
        for name, value in read_json_object(text, f"--config {args.config}", problems).items():
            if name in fields:
                settings[name], source[name] = value, f"--config {args.config}: {name}"
            else:
                problems.append(f"--config {args.config}: {unknown_field(name, fields)}")
    flags = {"model": args.model, "batching": args.batching, "segment_length": args.segment_length,
             "segment_init": args.segment_init, "warmup_steps": args.warmup_steps, "train_steps": args.train_steps}
    if args.env_kwargs is not None:
        flags["env_kwargs"] = read_json_object(args.env_kwargs, f"--env-kwargs {args.env_kwargs}", problems)
    for name, value in flags.items():
        if value is None:
            continue
        if name in fields:
            settings[name], source[name] = value, FLAGS[name]
        else:
            problems.append(f"{FLAGS[name]}: not a setting of --algo {args.algo}; its fields are "
                            f"{', '.join(sorted(fields))}.")
    for item in args.set or []:
        name, equals, value = item.partition("=")
        if not equals or name not in fields:
            problems.append(f"--set {item}: {unknown_field(name, fields)}" if equals
                            else f"--set {item}: use FIELD=VALUE.")
            continue
        settings[name], source[name] = parse_value(value), f"--set {name}"
    env = settings.pop("env", args.env)  # --set env=... or a --config file may name the task too
    source.setdefault("env", "--env")
    try:
        return algorithm.for_task(env, **settings), problems
    except ConfigError as error:
        return None, problems + [describe(p, source) for p in error.problems]


def unknown_field(name: str, fields: set[str]) -> str:
    close = difflib.get_close_matches(name, fields, n=1)
    return (f"unknown field {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; the fields are {', '.join(sorted(fields))}.")


def describe(problem: Problem, source: dict) -> str:
    """One line for a problem, naming where the value came from: a flag, --set, --config, or a default."""
    where = source.get(problem.field)
    value = json.dumps(problem.value) if isinstance(problem.value, (dict, list)) else problem.value
    if where is None:
        return (f"{problem.field} = {problem.value!r} (not given; set it with --set {problem.field}=VALUE): "
                f"{problem.allowed}")
    if where.startswith("--set"):
        return f"{where}={value}: {problem.allowed}"
    if where.startswith("--config"):
        return f"{where} = {problem.value!r}: {problem.allowed}"
    return f"{where} {value}: {problem.allowed}"


def out_problems(out: str, config, seeds: int) -> list[str]:
    """What keeps directory `out` from receiving this run: a file in the way, no write permission, or another
    run there (naming each field that differs)."""
    path = os.path.abspath(out)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return [f"{existing} is a file; give a directory (it is created if missing)."]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"{existing} is not writable."]
    config_path = os.path.join(path, "config.json")
    if config is None or existing != path or not os.path.exists(config_path):
        return []
    try:
        with open(config_path) as f:
            before = json.load(f)
        differences = config_differences(before["config"], config)
        if before.get("algo", "dqn") != of_config(config).name:
            differences.insert(0, f"algo: {before.get('algo', 'dqn')} there, {of_config(config).name} now")
    except (OSError, ValueError, KeyError, TypeError):
        return ["holds a config.json this package cannot read; choose another directory."]
    if before["seeds"] != seeds:
        differences.append(f"seeds: {before['seeds']} there, {seeds} now")
    if differences:
        return [f"holds a run with another configuration ({'; '.join(differences)}); choose another directory, "
                "or give the same settings to resume it."]
    return []


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m memoroids_lite.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", choices=tuple(ALGORITHMS), default="dqn",
                        help="the algorithm: dqn (the paper's recurrent DQN, the default) or ppo")
    parser.add_argument("--env", required=True, help="a task id, e.g. RepeatPreviousEasy")
    parser.add_argument("--env-kwargs", help='JSON options for the task, e.g. \'{"num_decks": 2, "k": 10}\'')
    parser.add_argument("--model", help="memory model: linear_attention, lru, s5, ffm, gru")
    parser.add_argument("--batching", choices=BATCHINGS)
    parser.add_argument("--segment-length", type=int)
    parser.add_argument("--segment-init", choices=INITS)
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds 0..N-1 (seed i: PRNGKey(i)), each trained as it would be alone")
    parser.add_argument("--warmup-steps", type=int, help="random-action environment steps before learning")
    parser.add_argument("--train-steps", type=int,
                        help="environment steps after the warm-up: a whole number of evaluations")
    parser.add_argument("--config", help="a JSON file of configuration fields (TrainConfig or PPOConfig)")
    parser.add_argument("--set", nargs="*", metavar="FIELD=VALUE", help="override any configuration field")
    parser.add_argument("--out", required=True, help="output directory (also where a run resumes from)")
    parser.add_argument("--no-compilation-cache", action="store_true",
                        help="compile everything anew instead of reading compiled programs from the persistent "
                             "cache (memoroids_lite/cache.py; MEMOROIDS_COMPILATION_CACHE=0 does the same)")
    parser.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_EVERY_S, metavar="SECONDS",
                        help=f"seconds between checkpoints (default {CHECKPOINT_EVERY_S:g}): what a kill can lose")
    return parser


def main(argv=None) -> None:
    parser = make_parser()
    args = parser.parse_args(argv)

    if args.no_compilation_cache:
        cache.disable()
    config, problems = build_config(args)
    if args.seeds < 1:
        problems.append(f"--seeds {args.seeds}: must be at least 1.")
    if not args.checkpoint_every > 0:
        problems.append(f"--checkpoint-every {args.checkpoint_every:g}: must be a number of seconds > 0.")
    problems += [f"--out {args.out}: {p}" for p in out_problems(args.out, config, args.seeds)]
    if problems:
        parser.exit(2, "".join(f"error: {p}\n" for p in problems))
    note = padding_note(config) if args.algo == "dqn" else None
    if note:
        print(f"note: {note}", file=sys.stderr)
    try:
        run(config, args.seeds, args.out, checkpoint_every_s=args.checkpoint_every)
    except checkpoint.CheckpointError as error:
        parser.exit(2, f"error: {error}\n")


def run(config, seeds: int, out: str, show_progress: bool = True,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S, snapshot_every: int = 0) -> list[dict]:
    """Train `seeds` seeds of `config` into directory `out`, resuming from its checkpoint if there is one.

    The checkpoint (parameters, optimiser, replay storage, environments, keys and the metric rows so far; see
    memoroids_lite.checkpoint) is written after the first evaluation, then at the first evaluation at least
    `checkpoint_every_s` seconds after the last one, and at the end. Training is deterministic, so a resumed
    run recomputes the evaluations after its checkpoint exactly as they were; their `wall_s` counts the time
    really spent, the lost work included. A finished run whose checkpoint is gone (checkpoints are not
    committed with results) is recognised by its config.json and complete metrics.csv and is not trained
    again. Each seed's run is the same whether it trains alone or beside others.
    `show_progress`: a tqdm bar on stderr, one step per evaluation; False writes nothing to stderr.
    `snapshot_every` = k > 0 also keeps the online parameters of every seed after every k-th evaluation and the
    last, as out/params-<updates>.npz (`snapshots` reads them back): parameters along training.
    At the end, out/agent.npz keeps the final online parameters of every seed and the key of its last
    evaluation (`save_agent`; small, committed with results, loaded by memoroids_lite.agents).
    Returns the metric rows (also written to out/metrics.csv)."""
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}.")
    for problem in out_problems(out, config, seeds):
        raise ValueError(f"out {out}: {problem}")
    checkpoint.refuse_legacy(out)
    config_path = os.path.join(out, "config.json")
    metrics_path = os.path.join(out, "metrics.csv")
    algorithm = of_config(config)
    train = algorithm.make_train(config)
    rows = read_metrics(metrics_path) if os.path.exists(metrics_path) else []
    if os.path.exists(config_path) and not checkpoint.exists(out) and len(rows) == train.num_chunks * seeds:
        return rows  # finished; nothing to redo
    keys = seed_keys(seeds)
    # Each seed runs the same compiled program on its own state: a seed's numbers are then bit for bit those of
    # the seed trained alone (batching seeds with jax.vmap changes the floating-point rounding of its updates).
    init, chunk = jax.jit(train.init), jax.jit(train.chunk, donate_argnums=0)
    begin = time.perf_counter()
    saved = checkpoint.load(out, saved_state_like(train, seeds))
    if saved is not None:
        stacked, meta = saved
        states = [jax.tree.map(lambda x: x[seed], stacked) for seed in range(seeds)]
        # the time really spent so far: up to the last evaluation written, which may be after the checkpoint
        wall_before = max([meta["wall_s"]] + [row["wall_s"] for row in rows])
        rows, done = meta["rows"], meta["chunks"]
        if done == train.num_chunks:  # finished: its config.json still names the machine that trained it, and
            write_metrics(metrics_path, rows)  # its metrics.csv holds every row (a stale copy may have been restored)
            return rows
        if show_progress:
            print(f"resuming {out} after {done} of {train.num_chunks} evaluations", file=sys.stderr)
    else:
        states, rows, done, wall_before = [init(key) for key in keys], [], 0, 0.0
    os.makedirs(out, exist_ok=True)
    with open(config_path, "w") as f:
        json.dump({"algo": algorithm.name, "config": dataclasses.asdict(config), "seeds": seeds,
                   "machine": machine()}, f, indent=2,
                  sort_keys=True)
    saved_at = time.perf_counter()
    # One step of the bar per evaluation. A resumed run's bar starts where it resumed, so its rate and remaining
    # time count only the evaluations this process computes.
    bar = tqdm(total=train.num_chunks, initial=done, unit="eval", desc=os.path.basename(os.path.normpath(out)),
               disable=not show_progress)
    with bar:
        for index in range(done, train.num_chunks):
            states, metrics = zip(*(chunk(state) for state in states))  # dispatched without waiting on each other
            metrics = type(metrics[0])(*(np.stack(m) for m in zip(*metrics)))  # [seeds] each
            wall = wall_before + time.perf_counter() - begin
            for seed in range(seeds):
                rows.append({"seed": seed, **{k: float(v[seed]) for k, v in metrics._asdict().items()
                                              if k != "eval_key"}, "wall_s": wall})
            if snapshot_every and ((index + 1) % snapshot_every == 0 or index + 1 == train.num_chunks):
                params = jax.tree.map(lambda *x: np.stack(x), *(state.params for state in states))
                updates = int(metrics.updates[0])
                checkpoint.save_arrays(os.path.join(out, f"{SNAPSHOT}{updates:06d}.npz"), params)
            if index + 1 == train.num_chunks:  # before the last checkpoint: a finished checkpoint implies the agent
                save_agent(out, jax.tree.map(lambda *x: np.stack(x), *(state.params for state in states)),
                           metrics.eval_key)
            if index == 0 or index + 1 == train.num_chunks or time.perf_counter() - saved_at >= checkpoint_every_s:
                stacked = jax.tree.map(lambda *x: np.stack(x), *states)  # leading axis = seed
                checkpoint.save(out, stacked, {"rows": rows, "chunks": index + 1, "wall_s": wall}, index + 1)
                saved_at = time.perf_counter()
            write_metrics(metrics_path, rows)
            bar.set_postfix_str(f"eval {np.nanmean(metrics.eval_return):+.3f} loss {np.nanmean(metrics.loss):.2e}",
                                refresh=False)
            bar.update(1)
    return rows


def saved_state_like(train, seeds: int):
    """The shapes and dtypes of a checkpointed state (leading axis = seed), computed without running init."""
    return jax.eval_shape(jax.vmap(train.init), seed_keys(seeds))


def save_agent(out: str, params, eval_keys) -> None:
    """Write out/agent.npz: `params` (online parameters, leading axis = seed) and `eval_keys` ([seeds, 2], the
    key each seed's last evaluation drew its episodes with), in the layout `agent_like` describes."""
    checkpoint.save_arrays(os.path.join(out, AGENT), {"params": params, "eval_key": eval_keys})


def agent_like(train, seeds: int):
    """The shapes and dtypes of an agent.npz of `seeds` seeds of `train`'s configuration."""
    return {"params": saved_state_like(train, seeds).params, "eval_key": jax.eval_shape(lambda: seed_keys(seeds))}


def seed_keys(seeds: int) -> jax.Array:
    """The keys of seeds 0..seeds-1: seed i's key is PRNGKey(i), whatever the number of seeds beside it."""
    return jax.vmap(jax.random.PRNGKey)(np.arange(seeds))


def snapshots(out: str) -> list[tuple[int, object]]:
    """[(updates, parameters of every seed, leading axis = seed)] of the snapshots a run kept
    (run(..., snapshot_every=k)), in the order of training."""
    with open(os.path.join(out, "config.json")) as f:
        described = json.load(f)
    config = config_from_json(described)
    like = saved_state_like(of_config(config).make_train(config), described["seeds"]).params
    paths = sorted(glob.glob(os.path.join(out, f"{SNAPSHOT}*.npz")))
    return [(int(os.path.basename(p)[len(SNAPSHOT):-4]), checkpoint.load_arrays(p, like, "the snapshot"))
            for p in paths]


def load_params(out: str):
    """The online parameters of every seed of a finished (or interrupted) run in `out`: leading axis = seed."""
    with open(os.path.join(out, "config.json")) as f:
        described = json.load(f)
    config = config_from_json(described)
    train = of_config(config).make_train(config)
    saved = checkpoint.load(out, saved_state_like(train, described["seeds"]))
    if saved is None:
        raise FileNotFoundError(f"{out} has no checkpoint ({checkpoint.INDEX}): train the run into it first.")
    return saved[0].params


def config_differences(stored: dict, config) -> list[str]:
    """How a config.json's fields differ from `config`, one 'field: X there, Y now' each. A field added to
    the configuration class after the run was written is absent from it; it matches if `config` holds the
    field's default (which is what the run used)."""
    defaults = {f.name: f.default for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
    now = dataclasses.asdict(config)
    differences = [f"{name}: {stored[name]!r} there, not a field now" for name in sorted(set(stored) - set(now))]
    for name, value in now.items():
        before = stored[name] if name in stored else defaults.get(name, "absent")
        if before != value:
            differences.append(f"{name}: {before!r} there, {value!r} now")
    return differences


def read_metrics(path) -> list[dict]:
    with open(path) as f:
        return [{k: (int(v) if k in ("seed", "env_steps", "updates") else float(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]


def write_metrics(path, rows):
    """Write the rows as CSV; a file that already holds exactly these rows is left untouched (its mtime too).
    The new file replaces the old one at once, so a reader (a notebook, while the run trains) never sees it half
    written."""
    columns = list(rows[0]) if rows else ["seed", "env_steps", "updates", "eval_return", "train_return", "loss",
                                          "wall_s"]  # and the algorithm's own metrics (PPO: entropy, ...)
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
