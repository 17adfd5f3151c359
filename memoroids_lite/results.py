"""The book's committed result files (`book/results/`): read from the checkout, or downloaded when a chapter runs alone.

A chapter shows numbers that a named command wrote (`python benchmarks/scans.py`,
`python -m memoroids_lite.experiments ...`) instead of measuring them again while it runs. Every file a chapter
reads goes through `result_file`: in a clone of the repository it is the committed copy; in Colab, or wherever the
package was installed from a wheel and the chapter runs on its own, it is downloaded from the repository.

    rows = read_csv("scans_cpu.csv")                      # [{column: text}, ...]
    path = result_file("tape_vs_segment/runs.json")      # a pathlib.Path
    write_csv("book/results/scans_cpu.csv", rows)         # what a benchmark does: one row per measurement

The repository is the one `_config.yml` names (`repository: url, branch`); `REPOSITORY` and `BRANCH` repeat it
here, because an installed package has no `_config.yml` (the tests keep the two in step). The environment
variable `MEMOROIDS_FILES_URL` replaces the download address, for a fork or a mirror, or for a local server that
serves a checkout: `MEMOROIDS_FILES_URL=http://127.0.0.1:8000/` downloads `<that>/book/results/<name>`.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import pathlib
import tempfile
import urllib.error
import urllib.request

REPOSITORY = "https://github.com/memoroids-book/memoroids-book"
BRANCH = "main"
FILES_URL_VARIABLE = "MEMOROIDS_FILES_URL"

_CHECKOUT_BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"


def files_url() -> str:
    """The address the repository's files are downloaded from, ending in "/": `MEMOROIDS_FILES_URL` when set,
    else the raw files of `REPOSITORY` at `BRANCH`."""
    raw = REPOSITORY.replace("https://github.com/", "https://raw.githubusercontent.com/", 1)
    return os.environ.get(FILES_URL_VARIABLE) or f"{raw}/{BRANCH}/"


def result_file(name: str, required: bool = True) -> pathlib.Path | None:
    """The path of `book/results/<name>` (see `book_file`): a result a named command wrote.

    `required=False` answers None for a file that is not committed (yet), e.g. a run still in progress; a
    download that fails for any other reason (no network) raises either way.
    """
    return book_file(f"results/{name}", required)


def book_file(name: str, required: bool = True) -> pathlib.Path | None:
    """The path of the book's file `book/<name>` (a result, a quiz, a trained agent): under the working directory
    (a chapter runs in book/, a script at the top of the repository), else in the checkout the package was
    installed from, else a downloaded copy. `required` as in `result_file`.
    """
    for base in (pathlib.Path("."), pathlib.Path("book"), _CHECKOUT_BOOK):
        if (base / name).is_file():
            return base / name
    return _download(f"book/{name}", required)


def _download(path: str, required: bool) -> pathlib.Path | None:
    """The repository's file `path`, downloaded once per process into a temporary folder (its path kept)."""
    local = _download_folder() / path
    if local.is_file():
        return local
    url = files_url().rstrip("/") + "/" + path
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            content = response.read()
    except OSError as error:  # HTTPError and URLError are OSErrors
        absent = getattr(error, "code", None) == 404 or isinstance(getattr(error, "reason", None), FileNotFoundError)
        if absent and not required:
            return None
        why = "it is not there" if absent else "the download failed"
        raise FileNotFoundError(
            f"{path!r} is not in this checkout, and {why} from {url} ({error}); run the command the chapter "
            f"names to write it, or set {FILES_URL_VARIABLE} to where the repository's files are served"
        ) from error
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(content)
    return local


@functools.cache
def _download_folder() -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp(prefix="memoroids_files_"))


def read_csv(name: str, required: bool = True) -> list[dict] | None:
    """The rows of a committed CSV result as dicts of text ({column: value}); None if absent and not required."""
    path = result_file(name, required)
    return None if path is None else list(csv.DictReader(path.read_text().splitlines()))


def read_json(name: str, required: bool = True):
    """A committed JSON result, parsed; None if absent and not required."""
    path = result_file(name, required)
    return None if path is None else json.loads(path.read_text())


def write_csv(path, rows: list[dict], fieldnames=None) -> pathlib.Path:
    """Write `rows` (dicts with the same keys) as a CSV file at `path`, creating its folder; returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
