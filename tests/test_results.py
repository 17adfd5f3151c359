"""Committed result files: found in the checkout, fetched from the repository otherwise, clear when missing."""

import pathlib

import pytest
import yaml

from memoroids_lite import results

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_url_follows_config():
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_name = repository["url"].rstrip("/").removeprefix("https://github.com/")
    assert results.REPOSITORY_RESULTS == (
        f"https://raw.githubusercontent.com/{owner_name}/{repository['branch']}/book/results/"
    )


def test_reads_a_committed_file_from_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # found through the package's own checkout, not the working directory
    rows = results.read_csv("scans_cpu.csv")
    assert rows and {"case", "T", "method", "run_s"} <= set(rows[0])
    assert results.result_file("scans_cpu.csv") == ROOT / "book" / "results" / "scans_cpu.csv"


def test_fetches_what_the_checkout_lacks(tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    (remote / "exp").mkdir(parents=True)
    (remote / "exp" / "r.json").write_text('{"a": 1}')
    monkeypatch.setattr(results, "REPOSITORY_RESULTS", remote.as_uri() + "/")
    assert results.read_json("exp/r.json") == {"a": 1}


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "REPOSITORY_RESULTS", tmp_path.as_uri() + "/")
    assert results.result_file("no_such_run/metrics.csv", required=False) is None
    assert results.read_csv("no_such_run/metrics.csv", required=False) is None
    with pytest.raises(FileNotFoundError, match="run the command the chapter names"):
        results.read_csv("no_such_run/metrics.csv")


def test_write_csv_round_trip(tmp_path):
    rows = [{"method": "tape", "run_s": "0.5"}, {"method": "segment", "run_s": "0.25"}]
    path = results.write_csv(tmp_path / "new" / "folder" / "t.csv", rows)
    assert path.read_text().splitlines() == ["method,run_s", "tape,0.5", "segment,0.25"]
    results.write_csv(path, rows, fieldnames=["run_s", "method"])
    assert path.read_text().splitlines()[0] == "run_s,method"
