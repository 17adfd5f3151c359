"""The book's committed result files (`book/results/`): read from the checkout, or fetched when a chapter runs alone.

A chapter shows numbers that a named command wrote (`python benchmarks/scans.py`,
`python -m memoroids_lite.experiments ...`) instead of measuring them again while it runs. In a clone of the
repository the file is read where that command wrote it; in Colab, where only the notebook is there, the committed
copy is downloaded from the repository.

    rows = read_csv("scans_cpu.csv")                      # [{column: text}, ...]
    path = result_file("tape_vs_segment/runs.json")      # a pathlib.Path
    write_csv("book/results/scans_cpu.csv", rows)         # what a benchmark does: one row per measurement
"""

from __future__ import annotations

import csv
import json
import pathlib
import tempfile
import urllib.request

# Where the committed results live online; _config.yml names the same repository (tests keep them in step).
REPOSITORY_RESULTS = "https://raw.githubusercontent.com/memoroids-book/memoroids-book/main/book/results/"

_CHECKOUT_RESULTS = pathlib.Path(__file__).resolve().parents[1] / "book" / "results"


def result_file(name: str, required: bool = True) -> pathlib.Path | None:
    """The path of `book/results/<name>`: under the working directory (a chapter runs in book/, a script at the
    top of the repository), else in the checkout the package was installed from, else a downloaded copy.

    `required=False` answers None for a file that is not committed (yet), e.g. a run still in progress.
    """
    for base in (pathlib.Path("results"), pathlib.Path("book") / "results", _CHECKOUT_RESULTS):
        if (base / name).is_file():
            return base / name
    url = REPOSITORY_RESULTS + name
    local = pathlib.Path(tempfile.mkdtemp(prefix="memoroids_results_")) / pathlib.PurePosixPath(name).name
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            local.write_bytes(response.read())
    except OSError as error:  # URLError and HTTPError (404: not committed) are OSErrors
        if required:
            raise FileNotFoundError(
                f"result file {name!r} is not in results/ or book/results/ here, nor in {_CHECKOUT_RESULTS}, nor "
                f"downloadable from {url} ({error}); "
                "run the command the chapter names to write it"
            ) from error
        return None
    return local


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
