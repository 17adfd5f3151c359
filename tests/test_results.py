"""Committed result files: found in the checkout, downloaded from the repository otherwise, clear when missing."""

import pathlib

import pytest
import yaml

from memoroids_lite import results

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_address_follows_config(monkeypatch):
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert (results.REPOSITORY, results.BRANCH) == (repository["url"].rstrip("/"), repository["branch"])
    monkeypatch.delenv(results.FILES_URL_VARIABLE, raising=False)
    owner_name = repository["url"].rstrip("/").removeprefix("https://github.com/")
    assert results.files_url() == f"https://raw.githubusercontent.com/{owner_name}/{repository['branch']}/"
    monkeypatch.setenv(results.FILES_URL_VARIABLE, "http://127.0.0.1:8000/")
    assert results.files_url() == "http://127.0.0.1:8000/"


def test_reads_a_committed_file_from_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # found through the package's own checkout, not the working directory
    monkeypatch.setenv(results.FILES_URL_VARIABLE, "http://127.0.0.1:9/")  # never asked
    rows = results.read_csv("scans_cpu.csv")
    assert rows and {"case", "T", "method", "run_s"} <= set(rows[0])
    assert results.result_file("scans_cpu.csv") == ROOT / "book" / "results" / "scans_cpu.csv"


def serve_folder(tmp_path, monkeypatch, files):
    """A stand-in for the repository: `files` {path: text} under a folder the download address points at."""
    remote = tmp_path / "remote"
    for path, text in files.items():
        (remote / path).parent.mkdir(parents=True, exist_ok=True)
        (remote / path).write_text(text)
    monkeypatch.setenv(results.FILES_URL_VARIABLE, remote.as_uri() + "/")
    monkeypatch.setattr(results, "_CHECKOUT_BOOK", tmp_path / "no_checkout")
    monkeypatch.chdir(tmp_path)
    return remote


def test_downloads_what_the_checkout_lacks(tmp_path, monkeypatch):
    remote = serve_folder(tmp_path, monkeypatch, {"book/results/exp/run/r.json": '{"a": 1}'})
    assert results.read_json("exp/run/r.json") == {"a": 1}
    path = results.result_file("exp/run/r.json")
    assert path.parts[-3:] == ("exp", "run", "r.json") and not path.is_relative_to(remote)
    (remote / "book/results/exp/run/r.json").write_text('{"a": 2}')
    assert results.read_json("exp/run/r.json") == {"a": 1}, "downloaded once per process"


def test_any_book_file_comes_the_same_way(tmp_path, monkeypatch):
    remote = serve_folder(tmp_path, monkeypatch, {"book/quizzes/q.json": "[]"})
    path = results.book_file("quizzes/q.json")
    assert path.read_text() == "[]" and not path.is_relative_to(remote)
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes" / "q.json").write_text("[1]")  # a chapter running in book/
    assert results.book_file("quizzes/q.json").read_text() == "[1]"


def test_missing_file(tmp_path, monkeypatch):
    serve_folder(tmp_path, monkeypatch, {})
    assert results.result_file("no_such_run/metrics.csv", required=False) is None
    assert results.read_csv("no_such_run/metrics.csv", required=False) is None
    with pytest.raises(FileNotFoundError, match="run the command the chapter names"):
        results.read_csv("no_such_run/metrics.csv")


def test_no_network_is_an_error_even_for_optional_files(tmp_path, monkeypatch):
    serve_folder(tmp_path, monkeypatch, {})
    monkeypatch.setenv(results.FILES_URL_VARIABLE, "http://127.0.0.1:9/")  # nothing listens there
    with pytest.raises(FileNotFoundError, match="the download failed.*MEMOROIDS_FILES_URL"):
        results.result_file("no_such_run/metrics.csv", required=False)


def test_write_csv_round_trip(tmp_path):
    rows = [{"method": "tape", "run_s": "0.5"}, {"method": "segment", "run_s": "0.25"}]
    path = results.write_csv(tmp_path / "new" / "folder" / "t.csv", rows)
    assert path.read_text().splitlines() == ["method,run_s", "tape,0.5", "segment,0.25"]
    results.write_csv(path, rows, fieldnames=["run_s", "method"])
    assert path.read_text().splitlines()[0] == "run_s,method"
