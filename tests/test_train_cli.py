"""The training command line at the door: every bad input refused at once with a one-line, flag-naming error and
exit status 2, nothing written; budgets trained exactly; checkpoints that cannot run code; kills that lose
nothing but time; each seed the same alone or beside others."""

import io
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
import tqdm

from memoroids_lite import checkpoint
from memoroids_lite import train as cli
from memoroids_lite.rl import TrainConfig, make_train

# A tiny valid run: RepeatPrevious with lag 3, a GRU of 16 features; 4 × 13 × 2 = 104 environment steps per
# evaluation.
TINY = ["--env", "RepeatPrevious", "--env-kwargs", '{"num_decks": 1, "k": 3}', "--model", "gru",
        "--warmup-steps", "1000", "--train-steps", str(104 * 3),
        "--set", "features=16", "batch_size=100", "buffer_size=8000", "num_envs=4", "eval_interval=2",
        "eval_episodes=4"]


def refused(argv, capsys) -> list[str]:
    """The error lines of a command line that must be refused with exit status 2."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def with_flag(argv, flag, value):
    """TINY with `flag` given `value` instead (or added)."""
    argv = list(argv)
    if flag in argv:
        argv[argv.index(flag) + 1] = value
        return argv
    return argv[:argv.index("--set")] + [flag, value] + argv[argv.index("--set"):]


CASES = [  # (flag, value, what the one error line must say)
    ("--train-steps", "3000", r"--train-steps 3000: must be a whole number .* = 104 environment steps; use 2912 or "
                              r"3016\."),
    ("--train-steps", "0", r"--train-steps 0: .*; use 104\."),
    ("--seeds", "0", r"--seeds 0: must be at least 1\."),
    ("--seeds", "-2", r"--seeds -2: must be at least 1\."),
    ("--warmup-steps", "1001", r"--warmup-steps 1001: must be a whole number of steps of each of the 4 "
                               r"environments; use 1000 or 1004\."),
    ("--env-kwargs", "{bad", r"--env-kwargs \{bad: not valid JSON"),
    ("--env-kwargs", "[1, 2]", r"--env-kwargs \[1, 2\]: must be a JSON object"),
    ("--env-kwargs", '{"decks": 2}', r"--env-kwargs \{\"decks\": 2\}: RepeatPrevious has no option"),
    ("--env", "RepeatLast", r"--env RepeatLast: unknown task; the POPGym tasks are"),
    ("--model", "lstm", r"--model lstm: unknown model; choose one of"),
    ("--config", "missing.json", r"--config missing.json: cannot be read"),
    ("--checkpoint-every", "0", r"--checkpoint-every 0: must be a number of seconds > 0\."),
]


@pytest.mark.parametrize("flag, value, message", CASES, ids=[f"{f} {v}" for f, v, _ in CASES])
def test_a_bad_flag_is_refused_in_one_line_and_nothing_is_written(flag, value, message, tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = with_flag(TINY, flag, value)
    (line,) = refused(argv + ["--out", "out"], capsys)
    assert re.search(message, line), line
    assert os.listdir(tmp_path) == []


SET_CASES = [  # (--set item, what the one error line must say)
    ("gamma=high", r"--set gamma=high: must be a number\."),
    ('model_kwargs={"hiden": 3}', r"--set model_kwargs=\{\"hiden\": 3\}: gru has no option"),
    ("scan_mode=asociative", r"--set scan_mode=asociative: choose one of \('auto', 'associative', 'serial'\)"),
    ("scan_mode=associative", r"--set scan_mode=associative: .*'associative' is not available for gru"),
    ("gama=0.5", r"--set gama=0.5: unknown field 'gama' \(did you mean 'gamma'\?\); the fields are"),
    ("env=5", r"--set env=5: must be a string\."),
    ('model={"lru": 1}', r"--set model=\{\"lru\": 1\}: must be a string\."),
    ("gamma", r"--set gamma: use FIELD=VALUE\."),
    ("tau=0", r"--set tau=0: the target update rate must be a number in \(0, 1\]\."),
    ("features=true", r"--set features=True: must be an integer\."),
]


@pytest.mark.parametrize("item, message", SET_CASES, ids=[item for item, _ in SET_CASES])
def test_a_bad_set_is_refused_naming_its_field(item, message, tmp_path, capsys):
    (line,) = refused(TINY + [item, "--out", str(tmp_path / "out")], capsys)
    assert re.search(message, line), line
    assert not (tmp_path / "out").exists()


def test_segments_longer_than_the_episode_are_allowed_with_their_padding_said():
    """The paper's grid runs segments of 50 and 100 steps on 14-step MineSweeper episodes: allowed, not hidden."""
    from memoroids_lite.rl.dqn.validation import padding_note

    config = tiny_config(batching="segment", segment_length=100)
    assert padding_note(config) == ("segment_length 100 is longer than the longest episode of RepeatPrevious "
                                    "(52 steps): at least 48% of every segment batch is padding.")
    assert padding_note(config.replace(segment_length=50)) is None and padding_note(tiny_config()) is None


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    argv = with_flag(with_flag(TINY, "--train-steps", "100"), "--seeds", "0")
    lines = refused(argv + ["gamma=2", "scan_mode=fast", "--out", str(tmp_path / "out")], capsys)
    assert [line.split(":")[0] for line in lines] == [
        "error", "error", "error", "error"] and len(lines) == 4
    said = "\n".join(lines)
    for flag in ("--set gamma=2", "--set scan_mode=fast", "--train-steps 100", "--seeds 0"):
        assert f"error: {flag}" in said, said


def test_a_bad_config_file_is_refused(tmp_path, capsys):
    for text, message in (("{", "not valid JSON"), ("[1]", "must be a JSON object"),
                          ('{"gamma": 0.5, "gama": 1}', "unknown field 'gama' (did you mean 'gamma'?)"),
                          ('{"gamma": "x"}', "gamma = 'x': must be a number")):
        (tmp_path / "run.json").write_text(text)
        (line,) = refused(TINY + ["--config", str(tmp_path / "run.json"), "--out", str(tmp_path / "out")], capsys)
        assert line.startswith(f"error: --config {tmp_path / 'run.json'}") and message in line, line
    assert not (tmp_path / "out").exists()


def test_an_out_that_cannot_take_the_run_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        (line,) = refused(TINY + ["--out", str(out)], capsys)
        assert line == f"error: --out {out}: {tmp_path / 'file'} is a file; give a directory (it is created if " \
                       "missing)."
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    (line,) = refused(TINY + ["--out", str(tmp_path / "new")], capsys)
    assert line == f"error: --out {tmp_path / 'new'}: {tmp_path} is not writable."
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_a_folder_of_another_run_is_refused_naming_what_differs(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    config, _ = cli.build_config(cli.make_parser().parse_args(TINY + ["--out", str(out)]))
    (out / "config.json").write_text(json.dumps({"config": config.to_dict(), "seeds": 2, "machine": {}}))
    (line,) = refused(TINY + ["eval_episodes=5", "--out", str(out)], capsys)
    assert "holds a run with another configuration (eval_episodes: 4 there, 5 now; seeds: 2 there, 1 now)" in line
    assert os.listdir(out) == ["config.json"]


def tiny_config(**changes) -> TrainConfig:
    config, problems = cli.build_config(cli.make_parser().parse_args(TINY + ["--out", "unused"]))
    assert problems == []
    return config.replace(**changes)


def strip_wall(rows):
    """The rows without their wall times, as text (so that NaN equals NaN)."""
    return [repr({k: v for k, v in row.items() if k != "wall_s"}) for row in rows]


def test_the_budget_is_trained_exactly(tmp_path):
    config = tiny_config()
    rows = cli.run(config, 1, str(tmp_path / "out"), show_progress=False)
    assert [row["env_steps"] for row in rows] == [1000 + 104 * k for k in (1, 2, 3)]
    assert rows[-1]["env_steps"] == config.warmup_steps + config.train_steps
    assert rows[-1]["updates"] == config.train_steps // config.steps_per_iteration


def test_a_seed_trains_the_same_alone_or_beside_others(tmp_path):
    alone = cli.run(tiny_config(), 1, str(tmp_path / "alone"), show_progress=False)
    beside = cli.run(tiny_config(), 3, str(tmp_path / "beside"), show_progress=False)
    assert strip_wall(alone) == strip_wall([row for row in beside if row["seed"] == 0])
    assert strip_wall([row for row in beside if row["seed"] == 1]) != strip_wall(alone)


class KilledAfter(tqdm.tqdm):
    """The progress bar, stopping the run when `KilledAfter.evaluations` evaluations are written; until then
    each evaluation takes `KilledAfter.slow_s` seconds longer (work that the kill loses)."""

    evaluations, slow_s = 1, 0.0

    def update(self, n=1):
        super().update(n)
        if self.n >= KilledAfter.evaluations:
            raise KeyboardInterrupt
        time.sleep(KilledAfter.slow_s)


def test_a_kill_between_checkpoints_loses_only_time(tmp_path, monkeypatch):
    whole = cli.run(tiny_config(), 2, str(tmp_path / "whole"), show_progress=False)
    out = str(tmp_path / "killed")
    monkeypatch.setattr(cli, "tqdm", KilledAfter)
    KilledAfter.evaluations, KilledAfter.slow_s = 2, 5.0  # checkpointed after the first evaluation only
    with pytest.raises(KeyboardInterrupt):
        cli.run(tiny_config(), 2, out, checkpoint_every_s=1000.0)
    before = cli.read_metrics(os.path.join(out, "metrics.csv"))
    assert len(before) == 2 * 2  # two evaluations written, one checkpointed
    assert json.loads((tmp_path / "killed" / "checkpoint.json").read_text())["meta"]["chunks"] == 1
    monkeypatch.undo()
    resumed = cli.run(tiny_config(), 2, out, show_progress=False)
    assert strip_wall(resumed) == strip_wall(whole)
    # The recomputed second evaluation counts the 5 s spent on the lost one too.
    assert resumed[2]["wall_s"] > before[2]["wall_s"] > before[0]["wall_s"] + 5.0


@pytest.mark.parametrize("where", ["state file", "index"])
def test_a_kill_while_writing_a_checkpoint_resumes_from_the_one_before(where, tmp_path, monkeypatch):
    """Killed half-way through writing the second checkpoint's arrays, or its checkpoint.json."""
    whole = cli.run(tiny_config(), 1, str(tmp_path / "whole"), show_progress=False)
    out = str(tmp_path / "killed")
    written = []

    def dies_half_way(original):
        def write(*args, **kwargs):
            f = args[0] if where == "state file" else args[1]  # np.savez(file, ...), json.dump(obj, file)
            if where == "index" and not f.name.endswith(checkpoint.INDEX + ".tmp"):
                return original(*args, **kwargs)
            written.append(f.name)
            if len(written) < 2:
                return original(*args, **kwargs)
            f.write(b"half of it" if where == "state file" else "half of it")
            raise KeyboardInterrupt

        return write

    if where == "state file":
        monkeypatch.setattr(checkpoint.np, "savez", dies_half_way(np.savez))
    else:
        monkeypatch.setattr(checkpoint.json, "dump", dies_half_way(json.dump))
    with pytest.raises(KeyboardInterrupt):
        cli.run(tiny_config(), 1, out, show_progress=False, checkpoint_every_s=1e-9)
    monkeypatch.undo()
    assert json.loads((tmp_path / "killed" / "checkpoint.json").read_text())["meta"]["chunks"] == 1
    assert strip_wall(cli.run(tiny_config(), 1, out, show_progress=False)) == strip_wall(whole)
    assert sorted(p for p in os.listdir(out) if p.startswith("checkpoint")) == [
        "checkpoint-000003.npz", "checkpoint.json"]


def test_kill_9_at_random_moments_resumes_to_the_same_metrics(tmp_path):
    """The command line in a subprocess, checkpointing after every evaluation (so kills land in writes too),
    killed with SIGKILL twice at random moments once it is training, then run to the end."""
    argv = [sys.executable, "-m", "memoroids_lite.train"] + with_flag(TINY, "--train-steps", str(104 * 8)) + [
        "--checkpoint-every", "1e-9"]
    subprocess.run(argv + ["--out", str(tmp_path / "whole")], check=True, capture_output=True)
    out = tmp_path / "killed"
    rng = np.random.default_rng()
    for _ in range(2):
        process = subprocess.Popen(argv + ["--out", str(out)], stderr=subprocess.DEVNULL)
        while not (out / "metrics.csv").exists() and process.poll() is None:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    subprocess.run(argv + ["--out", str(out)], check=True, capture_output=True)
    whole = cli.read_metrics(tmp_path / "whole" / "metrics.csv")
    assert strip_wall(cli.read_metrics(out / "metrics.csv")) == strip_wall(whole)


class Planted:
    """What a hostile pickle would do when loaded: leave a file behind."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_checkpoint_runs_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    marker = tmp_path / "pwned"
    (out / "checkpoint.pkl").write_bytes(pickle.dumps(Planted(str(marker))))
    pickle.loads((out / "checkpoint.pkl").read_bytes()).close()  # the file does run code when unpickled
    marker.unlink()
    (line,) = refused(TINY + ["--out", str(out)], capsys)
    assert "checkpoint.pkl is a checkpoint in an old format (a Python pickle" in line and "not read" in line
    assert not marker.exists() and sorted(os.listdir(out)) == ["checkpoint.pkl"]


def test_a_planted_or_damaged_checkpoint_is_refused(tmp_path):
    config = tiny_config()
    out = tmp_path / "out"
    cli.run(config, 1, str(out), show_progress=False)
    (out / "metrics.csv").unlink()  # so that the run wants its checkpoint
    state_file = out / json.loads((out / "checkpoint.json").read_text())["state"]
    good = state_file.read_bytes()
    state_file.write_bytes(good[:-100])  # damaged
    with pytest.raises(checkpoint.CheckpointError, match="cannot be read"):
        cli.run(config, 1, str(out), show_progress=False)
    # Planted: arrays of Python objects, whose unpickling would leave a file behind, are never unpickled.
    marker = tmp_path / "pwned"
    arrays = np.load(io.BytesIO(good))
    planted = {name: arrays[name] for name in arrays.files}
    planted["arr_0"] = np.array([Planted(str(marker))], dtype=object)
    with open(state_file, "wb") as f:
        np.savez(f, **planted)
    with pytest.raises(checkpoint.CheckpointError, match="cannot be read .*allow_pickle"):
        cli.run(config, 1, str(out), show_progress=False)
    assert not marker.exists()
    # A checkpoint of another configuration: refused, naming a leaf that differs.
    state_file.write_bytes(good)
    other = make_train(config.replace(features=32))
    with pytest.raises(checkpoint.CheckpointError, match=r"\.params\['params'\].* this configuration needs"):
        checkpoint.load(str(out), jax.eval_shape(jax.vmap(other.init), cli.seed_keys(1)))
    other = make_train(config.replace(batching="segment", segment_init="stored"))  # stores memories too
    with pytest.raises(checkpoint.CheckpointError, match="another format or structure"):
        checkpoint.load(str(out), jax.eval_shape(jax.vmap(other.init), cli.seed_keys(1)))
    like = {"w": jax.ShapeDtypeStruct((2, 3), np.float32)}
    checkpoint.save(str(tmp_path), {"w": np.zeros((2, 4), np.float32)}, {}, 1)
    with pytest.raises(checkpoint.CheckpointError, match=r"\['w'\] has shape \(2, 4\) .* needs \(2, 3\) float32"):
        checkpoint.load(str(tmp_path), like)
    state, meta = checkpoint.load(str(tmp_path), {"w": jax.ShapeDtypeStruct((2, 4), np.float32)})
    assert state["w"].shape == (2, 4) and meta == {}


PPO_TINY = ["--algo", "ppo", "--env", "RepeatFirstEasy", "--batching", "segment", "--set", "features=16",
            'model_kwargs={"hidden": 8}', "num_envs=4", "rollout_length=16", "segment_length=8",
            "train_steps=1280", "eval_episodes=4"]


def test_ppo_trains_from_the_command_line_and_its_agent_replays(tmp_path, capsys):
    """--algo ppo: config.json names the algorithm, metrics.csv adds PPO's own columns, the agent replays its
    last evaluation; DQN's flags are refused by name, and a DQN run's folder is not resumed as PPO."""
    from memoroids_lite import agents

    out = str(tmp_path / "ppo")
    cli.main(PPO_TINY + ["--seeds", "2", "--out", out])
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["algo"] == "ppo"
    rows = cli.read_metrics(os.path.join(out, "metrics.csv"))
    assert len(rows) == 4 and {"entropy", "approx_kl", "clipped"} <= set(rows[0])
    np.testing.assert_array_equal(agents.evaluate(agents.read(out)), agents.final_returns(out))
    (line,) = refused(PPO_TINY + ["--warmup-steps", "1000", "--out", str(tmp_path / "x")], capsys)
    assert re.search(r"--warmup-steps: not a setting of --algo ppo; its fields are .*update_epochs", line), line
    dqn = str(tmp_path / "dqn")
    cli.main(TINY + ["--out", dqn])
    capsys.readouterr()
    (line,) = refused(PPO_TINY + ["--out", dqn], capsys)
    assert "algo: dqn there, ppo now" in line, line
