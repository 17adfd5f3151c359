"""Every experiment runs at the ci scale, writes tidy results, resumes without recomputing, and plots."""

import csv

import matplotlib

matplotlib.use("Agg")  # tests only: no display
import matplotlib.pyplot as plt  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from memoroids_lite import experiments, plotting  # noqa: E402


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class Experiments(dict):
    """Experiment name -> (its folder, its main result file): each runs at the ci scale the first time a test asks
    for it, once per module."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def __missing__(self, name):
        self[name] = (self.out / name, experiments.run(name, "ci", str(self.out / name)))
        return self[name]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return Experiments(tmp_path_factory.mktemp("experiments"))


@pytest.mark.experiments
def test_returns(results):
    _, path = results["returns"]
    table = rows(path)
    assert {r["method"] for r in table} == {"per-episode loop", "associative scan", "serial scan"}
    assert all(float(r["run_s"]) > 0 and float(r["compile_s"]) >= 0 for r in table)
    fig, ax = plt.subplots()
    plotting.timing(ax, table, "episodes", "run_s", hue="method", style="max_len")
    assert len(ax.lines) == 3 * 2


@pytest.mark.experiments
def test_tape_vs_segment(results):
    directory, _ = results["tape-vs-segment"]
    runs = plotting.load_runs(str(directory))
    assert set(runs) == {"ci_lru_tape", "ci_lru_segment_10", "ci_lru_segment_10_burn_in", "ci_lru_segment_10_paper_code"}
    for table in runs.values():
        assert {int(r["seed"]) for r in table} == {0, 1}
        assert all(np.isfinite(r["eval_return"]) and -1 <= r["eval_return"] <= 1 for r in table)
    x, best = plotting.by_seed(runs["ci_lru_tape"], "eval_return")
    assert best.shape == (2, len(x))
    fig, ax = plt.subplots()
    plotting.learning_curves(ax, runs, metric="best")
    plotting.learning_curves(ax, runs, metric="mean")
    assert len(ax.lines) == 8


@pytest.mark.experiments
def test_acting(results):
    directory, path = results["tape-vs-segment"]
    table = rows(path)
    names = {"ci_lru_tape", "ci_lru_segment_10", "ci_lru_segment_10_burn_in", "ci_lru_segment_10_paper_code"}
    assert {(r["run"], int(r["seed"]), int(r["reset_every"])) for r in table} == {
        (name, seed, L) for name in names for seed in (0, 1) for L in experiments.acting.RESET_EVERY}
    loaded = experiments.acting.load(path)
    assert set(loaded) == {("RepeatPrevious", name[len("ci_lru_"):]) for name in names}
    for by_reset in loaded.values():
        assert all(r.shape == (2,) and np.all(np.abs(r) <= 1) for r in by_reset.values())
        assert np.array_equal(by_reset[100], by_reset[0])  # episodes of 52 steps: a reset at step 100 never comes
    with pytest.raises(FileNotFoundError, match=r"\['ci_lru_tape'\] have none"):
        experiments.acting.write(str(directory / "elsewhere"), [("ci_lru_tape", None, 2)])


@pytest.mark.experiments
def test_train_time(results):
    _, path = results["train-time"]
    table = rows(path)
    assert [r["batching"] for r in table] == ["tape", "segment"]
    assert all(float(r["wall_s"]) > 0 and int(r["updates"]) > 0 for r in table)


@pytest.mark.experiments
def test_sensitivity(results):
    """S at every snapshot of every run: each episode's S sums to one; `load` reads the last snapshot (or any),
    and the last snapshot holds the run's final parameters."""
    from memoroids_lite.train import load_params, snapshots

    directory, path = results["sensitivity"]
    table = rows(path)
    keys = {(r["run"], r["seed"], r["updates"], r["episode"]) for r in table}
    for key in keys:
        s = np.array([float(r["sensitivity"]) for r in table if (r["run"], r["seed"], r["updates"], r["episode"]) == key])
        assert abs(s.sum() - 1) < 1e-4 and np.all(s >= 0)
    ages = [int(r["age"]) for r in table]
    assert max(ages) == 0 and min(ages) < -10
    runs = experiments.sensitivity_runs("ci")
    every = [int(u) for u in experiments.sensitivity.snapshot_updates(path, runs[0][1].env)]
    config = runs[0][1]
    assert every == [config.eval_interval * (i + 1) for i in range(config.iterations // config.eval_interval)]
    loaded = experiments.sensitivity.load(path, runs[0][1].env)
    assert set(loaded) == {("lru", "tape"), ("lru", "segment_10")}
    for s in loaded.values():
        assert s.shape[:2] == (2, 4) and s.shape[2] == 1 - min(ages) and np.allclose(s.sum(-1), 1, atol=1e-4)
    first = experiments.sensitivity.load(path, runs[0][1].env, updates=every[0])
    assert not np.allclose(first["lru", "tape"], loaded["lru", "tape"])  # training moved it
    kept = snapshots(str(directory / "ci_lru_tape"))
    assert [u for u, _ in kept] == every
    final = load_params(str(directory / "ci_lru_tape"))
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(np.array_equal(a, b)), kept[-1][1], final))
    profiles = np.stack([experiments.sensitivity.load(path, config.env, updates=u)["lru", "tape"].mean((0, 1))
                         for u in every])
    fig, ax = plt.subplots()
    image = plotting.sensitivity_heatmap(ax, every, profiles)
    assert image.get_array().size == profiles.size
    plt.close(fig)


@pytest.mark.experiments
def test_sensitivity_resumes_from_committed_files_alone(results, tmp_path):
    """A copy of the results as git holds them (no checkpoint, no snapshot) gives the same sensitivity.csv without
    training; a run that lost its measurements and its snapshots is refused with what to do."""
    import shutil

    directory, path = results["sensitivity"]
    committed = tmp_path / "sensitivity"
    shutil.copytree(directory, committed, ignore=shutil.ignore_patterns("checkpoint*", "params-*", "sensitivity.csv"))
    for run in (p for p in directory.iterdir() if p.is_dir()):
        shutil.copy(run / "sensitivity.csv", committed / run.name / "sensitivity.csv")
    again = experiments.run("sensitivity", "ci", str(committed))
    assert open(again).read() == open(path).read()
    (committed / "ci_lru_tape" / "sensitivity.csv").unlink()
    with pytest.raises(FileNotFoundError, match="keeps no parameter snapshots"):
        experiments.run("sensitivity", "ci", str(committed))


def test_share_older_than_and_value_memory_length():
    from memoroids_lite.experiments.sensitivity import share_older_than, value_memory_length

    s = np.array([0.1, 0.0, 0.2, 0.3, 0.4])  # ages -4 .. 0
    assert share_older_than(s, 0) == pytest.approx(1.0) and share_older_than(s, 3) == pytest.approx(0.1)
    assert share_older_than(s, 4) == pytest.approx(0.1) and share_older_than(s, 5) == 0.0
    assert value_memory_length(s, 0.0) == 5 and value_memory_length(s, 0.1) == 3
    assert value_memory_length(s, 0.35) == 2 and value_memory_length(np.array([1.0]), 0.0) == 1


@pytest.mark.experiments
def test_running_again_resumes_without_recomputing(results):
    directory, _ = results["tape-vs-segment"]
    metrics, acting = directory / "ci_lru_tape" / "metrics.csv", directory / "acting.csv"
    before = [(f.stat().st_mtime, f.read_text()) for f in (metrics, acting)]
    experiments.run("tape-vs-segment", "ci", str(directory))
    assert [(f.stat().st_mtime, f.read_text()) for f in (metrics, acting)] == before


def test_the_seed_range_is_the_lowest_and_highest_seed():
    values = np.array([[0.1, 0.5], [0.3, -0.2], [0.2, 0.0]])  # 3 seeds, 2 evaluations
    low, high = plotting.seed_range(values)
    np.testing.assert_array_equal(low, [0.1, -0.2])
    np.testing.assert_array_equal(high, [0.3, 0.5])


def test_unknown_names():
    with pytest.raises(ValueError, match="choose one of"):
        experiments.run("atari", "ci", "/tmp/nowhere")
    with pytest.raises(ValueError, match="choose one of"):
        experiments.run("returns", "laptop", "/tmp/nowhere")


@pytest.mark.experiments
def test_only_trains_the_runs_it_names(tmp_path):
    import json

    path = experiments.run("tape-vs-segment", "ci", str(tmp_path), only="*_tape")
    assert len(json.loads(open(path).read())) == 4  # the plan lists every run
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["ci_lru_tape"]
    assert len(rows(tmp_path / "ci_lru_tape" / "metrics.csv")) > 0
    with pytest.raises(ValueError, match="matches no run; the runs are .*ci_lru_segment_10"):
        experiments.run("tape-vs-segment", "ci", str(tmp_path), only="CountRecall*")
    with pytest.raises(ValueError, match="returns has none"):
        experiments.run("returns", "ci", str(tmp_path), only="*")


@pytest.mark.experiments
def test_lag_recall(results):
    """Every variant, every seed, one accuracy per update; `load` gives them as [seeds, updates]."""
    _, path = results["lag-recall"]
    settings = experiments.lag_recall.SCALES["ci"]
    loaded = experiments.lag_recall.load(path)
    assert list(loaded) == list(experiments.lag_recall.VARIANTS)
    for accuracy in loaded.values():
        assert accuracy.shape == (settings["seeds"], settings["steps"])
        assert np.all((0 <= accuracy) & (accuracy <= 1))
    # and FFM with short rotation periods trained with reinforcement learning
    directory, _ = results["lag-recall"]
    (name, config, seeds), = experiments.runs_of("lag-recall", "ci")
    assert config.model_kwargs["min_period"] == 2.0 and config.model_kwargs["max_period"] == 20.0
    assert {int(r["seed"]) for r in rows(directory / name / "metrics.csv")} == set(range(seeds))


@pytest.mark.experiments
def test_ppo(results):
    """PPO on tapes and on chunks, every seed of every run evaluated; runs.json names the algorithm; at the cpu
    scale each PPO run gets the environment steps of the DQN run it is compared with (whole evaluations)."""
    directory, _ = results["ppo"]
    for name, config, seeds in experiments.runs_of("ppo", "ci"):
        table = rows(directory / name / "metrics.csv")
        assert len(table) == seeds * config.iterations // config.eval_interval
        assert {"entropy", "approx_kl", "clipped"} <= set(table[0])
    import json

    assert {r["algo"] for r in json.loads((directory / "runs.json").read_text())} == {"ppo"}
    for name, config, _ in experiments.runs_of("ppo", "cpu"):
        dqn = experiments.ppo.dqn_steps(config.env)
        per_evaluation = config.steps_per_iteration * config.eval_interval
        assert dqn - per_evaluation < config.train_steps <= dqn, name


@pytest.mark.parametrize("scale", experiments.SCALES)
def test_a_dry_run_describes_every_run_and_writes_nothing(scale, tmp_path, capsys):
    """Every run of every experiment is a valid configuration at every scale (the paper's grid included), and
    --dry-run prints one line for each, with its collection and buffer, training and writing nothing."""
    for name in experiments.EXPERIMENTS:
        planned = experiments.runs_of(name, scale)
        assert experiments.run(name, scale, str(tmp_path / "out"), dry_run=True) is None
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == max(len(planned), 1)
        for line, (run_name, config, seeds) in zip(lines, planned):
            assert line.startswith(f"{run_name}: {config.env} {config.model} {config.batching}")
            assert f"{seeds} seeds" in line
            assert (f"PPO, {config.train_steps:,} environment steps" if name == "ppo"
                    else f"buffer {config.buffer_size:,} transitions") in line
    assert not (tmp_path / "out").exists()
    if scale == "paper":
        assert len(experiments.runs_of("tape-vs-segment", "paper")) == 9 * 4 * 5
        minesweeper = experiments.describe(*experiments.runs_of("tape-vs-segment", "paper")[
            [r[0] for r in experiments.runs_of("tape-vs-segment", "paper")].index("MineSweeperEasy_ffm_segment_100")])
        assert "at least 86% of every segment batch is padding" in minesweeper


def test_deviations_from_the_paper_are_computed_from_the_configuration():
    from memoroids_lite.envs import TASKS
    from memoroids_lite.experiments.paper import PROTOCOL, deviations
    from memoroids_lite.experiments.training import config_for

    assert set(PROTOCOL) == set(TASKS)  # the nine tasks of the paper
    config = config_for("RepeatPreviousEasy", "ffm", 5_000, batching="tape")
    found = {aspect: (paper, here) for aspect, paper, here in deviations(config, 3)}
    assert found["seeds"] == ("10", "3")
    assert "replay buffer" not in found  # the cpu scale's buffers hold the whole run
    overwritten = dict((a, h) for a, _, h in deviations(config.replace(buffer_size=200_000), 3))
    assert overwritten["replay buffer"] == "200,000 transitions, overwritten (the run collects 530,000)"
    assert "updates" not in found and "gamma" not in found and "ffm sizes" not in found  # as the paper's
    assert "segment loss" not in found and "Q-targets" in found  # a tape; this package's targets
    changed = {aspect: here for aspect, _, here in deviations(config.replace(gamma=0.9, buffer_size=600_000), 10)}
    assert changed["gamma"] == "0.9" and "replay buffer" not in changed and "seeds" not in changed
    segment = dict((a, h) for a, _, h in deviations(config.replace(batching="segment", paper_code_loss=True), 3))
    assert "segment loss" not in segment and "Q-targets" not in segment  # the paper's code's loss, on purpose
    s5 = config_for("CountRecallEasy", "s5", 10_000)
    assert "S5 output matrix C at initialisation" not in dict((a, h) for a, _, h in deviations(s5, 3))
    before = dict((a, h) for a, _, h in deviations(s5, 3, trained_with="0.1.0"))  # runs before the fix
    assert before["S5 output matrix C at initialisation"].startswith("real, lecun normal")
    minesweeper = {a: (p, h) for a, p, h in deviations(config_for("MineSweeperEasy", "lru", 40_000), 10)}
    assert minesweeper["collection"] == (
        "one episode per update", "104 steps of 8 environments per update (7.43 episodes of the longest, 14 steps)")
    assert "tau" not in minesweeper and "updates" not in minesweeper  # 1/400 and 40,000, as the paper's


# Table H.3 of the paper, typed from the table: (random episodes, training epochs, train ratio, γ, τ, ε at the end)
TABLE_H3 = {
    "RepeatFirstEasy": (5_000, 5_000, 1, 0.99, 1 / 200, 0.01),
    "RepeatPreviousEasy": (5_000, 5_000, 1, 0.5, 1 / 200, 0.1),
    "CountRecallEasy": (10_000, 10_000, 1, 0.99, 1 / 200, 0.01),
    "PositionOnlyCartPoleEasy": (10_000, 10_000, 1, 0.99, 1 / 200, 0.01),
    "VelocityOnlyCartPoleEasy": (10_000, 10_000, 1, 0.99, 1 / 200, 0.01),
    "NoisyPositionOnlyCartPoleEasy": (10_000, 10_000, 1, 0.99, 1 / 200, 0.01),
    "AutoencodeEasy": (10_000, 10_000, 4, 0.99, 1 / 200, 0.01),
    "MultiarmedBanditEasy": (10_000, 10_000, 1, 0.8, 1 / 400, 0.01),  # τ: its code's config (the table: 1/200)
    "MineSweeperEasy": (10_000, 40_000, 1, 0.99, 1 / 400, 0.01),
}


def test_the_paper_scale_is_table_h3(capsys):
    """Every run of the paper's grid collects one episode per epoch and has the table's budgets; its buffer
    holds every transition of the run; the dry run prints exactly that, one line a run."""
    runs = experiments.runs_of("tape-vs-segment", "paper")
    assert {config.env for _, config, _ in runs} == set(TABLE_H3) and len(runs) == 9 * 4 * 5
    experiments.run("tape-vs-segment", "paper", "unused", dry_run=True)
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    for name, config, seeds in runs:
        random, epochs, ratio, gamma, tau, epsilon = TABLE_H3[config.env]
        assert seeds == 10 and config.by_episode and config.num_envs == 1
        assert (config.warmup_episodes, config.train_episodes, config.updates) == (random, epochs, epochs * ratio)
        assert (config.gamma, config.tau, config.epsilon_end, config.eval_interval) == (gamma, tau, epsilon, 10)
        assert (config.batch_size, config.learning_rate, config.max_grad_norm) == (1000, 1e-4, 0.01)
        capacity = (random + epochs) * config.max_episode_steps
        assert config.buffer_size == capacity
        line = lines[name]
        assert f"random warm-up {random:,} episodes | {epochs:,} training episodes, {epochs * ratio:,} updates" in line
        assert f"buffer {capacity:,} transitions" in line and "keeps every transition" in line
