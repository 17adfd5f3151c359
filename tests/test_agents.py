"""Trained agents (memoroids_lite.agents): written by every run, loaded without running code, replaying the run's
last evaluation exactly."""

import functools
import json
import os
import pathlib
import shutil

import jax
import numpy as np
import pytest

from memoroids_lite import agents, checkpoint
from memoroids_lite import train as cli
from memoroids_lite.experiments.training import CI
from memoroids_lite.rl import TrainConfig, make_train, trainer

CONFIG = TrainConfig(**CI, model="lru")
SEEDS = 2


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> pathlib.Path:
    """A tiny run of two seeds, trained to the end, with a parameter snapshot after every evaluation."""
    folder = tmp_path_factory.mktemp("runs") / "tiny"
    cli.run(CONFIG, SEEDS, str(folder), show_progress=False, snapshot_every=1)
    return folder


def copy_run(finished, to: pathlib.Path) -> pathlib.Path:
    shutil.copytree(finished, to)
    return to


def same_tree(a, b) -> bool:
    return jax.tree.structure(a) == jax.tree.structure(b) and all(
        np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_a_run_writes_its_final_parameters_and_they_replay_its_last_evaluation(finished, tmp_path, monkeypatch):
    assert (finished / cli.AGENT).exists()
    copy_run(finished, tmp_path / "results" / "tiny_experiment" / "tiny")
    monkeypatch.setenv("MEMOROIDS_FILES_URL", (tmp_path / "nothing_served").as_uri() + "/")
    monkeypatch.chdir(tmp_path)  # results.result_file finds results/<name> under the working directory
    agent = agents.load("tiny_experiment/tiny")
    assert agent.seeds == SEEDS and agent.config == CONFIG
    assert same_tree(agent.params, jax.device_get(cli.load_params(str(finished))))  # the final online parameters
    replayed = agents.evaluate(agent)
    np.testing.assert_array_equal(replayed, agents.final_returns(finished))
    # the stored key is what makes it exact: other keys draw other episodes
    shifted = agent._replace(eval_key=np.roll(np.asarray(agent.eval_key), 1, axis=1))
    assert not np.array_equal(agents.evaluate(shifted), replayed)


def test_the_agent_downloads_where_there_is_no_checkout(finished, tmp_path, monkeypatch):
    copy_run(finished, tmp_path / "served" / "book" / "results" / "tiny_download" / "tiny")
    monkeypatch.setenv("MEMOROIDS_FILES_URL", (tmp_path / "served").as_uri() + "/")
    monkeypatch.chdir(tmp_path)
    agent = agents.load("tiny_download/tiny")
    np.testing.assert_array_equal(agents.evaluate(agent), agents.final_returns(finished))


def test_the_evaluation_key_is_a_function_of_the_seed_alone():
    """What lets `export` write agents for runs that only kept a checkpoint: every evaluation's key, computed
    from the seed, is the key training drew it with."""
    train = make_train(CONFIG)
    key = jax.random.PRNGKey(5)
    drawn = jax.jit(functools.partial(trainer.train, train))(key).eval_key  # [chunks, 2]
    computed = [train.evaluation_key(key, chunks) for chunks in range(1, train.num_chunks + 1)]
    np.testing.assert_array_equal(drawn, np.stack(computed))
    with pytest.raises(ValueError, match="episode"):
        make_train(CONFIG.replace(rollout="episode", num_envs=1, warmup_steps=0, train_steps=0,
                                       warmup_episodes=2, train_episodes=4)).evaluation_key(key, 1)


@pytest.mark.parametrize("keep", ["checkpoint", "snapshot"])
def test_export_writes_the_agent_the_run_would_have_written(finished, tmp_path, keep):
    folder = copy_run(finished, tmp_path / "old")
    os.remove(folder / cli.AGENT)  # a run trained before runs kept their agents
    if keep == "snapshot":  # its checkpoint deleted, its parameter snapshots kept
        for path in folder.glob("checkpoint*"):
            os.remove(path)
    assert agents.export(str(folder)) == str(folder / cli.AGENT)
    exported, written = agents.read(folder), agents.read(finished)
    assert same_tree(exported.params, written.params)
    np.testing.assert_array_equal(exported.eval_key, written.eval_key)


def test_the_export_command_writes_into_another_folder(finished, tmp_path, capsys):
    folder = copy_run(finished, tmp_path / "tiny")
    os.remove(folder / cli.AGENT)
    agents.main([str(folder), "--into", str(tmp_path / "book")])
    assert "agent.npz" in capsys.readouterr().out and not (folder / cli.AGENT).exists()
    shutil.copy(folder / "config.json", tmp_path / "book" / "tiny")
    assert same_tree(agents.read(tmp_path / "book" / "tiny").params, agents.read(finished).params)


def test_export_refuses_an_unfinished_run_and_a_wrong_replay(finished, tmp_path):
    folder = copy_run(finished, tmp_path / "unfinished")
    rows = cli.read_metrics(folder / "metrics.csv")
    cli.write_metrics(str(folder / "metrics.csv"), rows[:-SEEDS])
    with pytest.raises(ValueError, match="not finished"):
        agents.export(str(folder))
    cli.write_metrics(str(folder / "metrics.csv"), rows[:-SEEDS] + [dict(r, eval_return=9.0) for r in rows[-SEEDS:]])
    os.remove(folder / cli.AGENT)
    with pytest.raises(ValueError, match="the run measured"):
        agents.export(str(folder))
    assert not (folder / cli.AGENT).exists()


class RunsCode:
    """An object whose unpickling creates a file: what a malicious agent.npz could carry."""

    marker = None

    def __reduce__(self):
        return pathlib.Path.touch, (RunsCode.marker,)


def test_loading_refuses_a_pickle(finished, tmp_path):
    folder = copy_run(finished, tmp_path / "pickled")
    RunsCode.marker = tmp_path / "code_ran"
    with open(folder / cli.AGENT, "wb") as f:
        np.savez(f, np.array([RunsCode()], dtype=object))
    with pytest.raises(checkpoint.CheckpointError, match="cannot be read"):
        agents.read(folder)
    assert not RunsCode.marker.exists()


def test_an_agent_of_another_configuration_is_refused(finished, tmp_path):
    folder = copy_run(finished, tmp_path / "other")
    described = json.loads((folder / "config.json").read_text())
    described["config"]["features"] = 2 * CONFIG.features
    (folder / "config.json").write_text(json.dumps(described))
    with pytest.raises(checkpoint.CheckpointError, match=r"has shape .* this configuration needs"):
        agents.read(folder)


def test_an_unknown_run_names_the_runs_there_are(finished, tmp_path, monkeypatch):
    experiment = tmp_path / "results" / "tiny_names"
    copy_run(finished, experiment / "tiny")
    (experiment / "runs.json").write_text(json.dumps([{"name": "tiny"}, {"name": "other"}]))
    monkeypatch.setenv("MEMOROIDS_FILES_URL", (tmp_path / "nothing_served").as_uri() + "/")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="the runs of tiny_names are: tiny_names/tiny, tiny_names/other"):
        agents.load("tiny_names/tiny2")
    with pytest.raises(FileNotFoundError, match=r"'<experiment>/<run>'.*agents.read\(DIR\)"):
        agents.load("no_such_experiment/tiny")
    os.remove(experiment / "tiny" / cli.AGENT)
    with pytest.raises(FileNotFoundError, match="python -m memoroids_lite.agents"):
        agents.load("tiny_names/tiny")
