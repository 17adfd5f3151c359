"""How long each chapter takes to run top to bottom, at the full or the fast budget: the course plan's table.

What it measures. For every chapter of the table of contents (`_toc.yml`, the notebooks `book/NN_name.ipynb`) it
starts a fresh `python3` kernel with `JAX_PLATFORMS=cpu` (and `BOOK_FAST=1` for the fast budget, see
`memoroids_lite.budget`), executes the notebook top to bottom, and keeps the wall time of the whole execution,
kernel start included. Chapters run one after another, never side by side, so they do not share the cores.

It writes one CSV row per (chapter, budget) with the chapter's title and the machine (CPU, cores, Python, JAX,
date): the file the book's course plan (`book/course_plan.ipynb`) reads. Rows already in the file for the other
budget or for chapters not timed now are kept, so the two budgets fill one file. The exact commands that produced
book/results/chapter_times.csv (the full budget, about a quarter of an hour on a quiet 2-core CPU, writes the
book's outputs):

    JAX_PLATFORMS=cpu python benchmarks/chapters.py --budget fast
    JAX_PLATFORMS=cpu python benchmarks/chapters.py --budget full --inplace

`--inplace` keeps the executed notebooks in `book/`, so one full-budget run both produces the committed outputs
and the timings; it then executes `book/course_plan.ipynb` again, which shows the new times. Without it, copies
run in a temporary folder inside `book/` and the chapters are left untouched. `--chapters 04_resets 15` times a
subset (a chapter's name or its number). Offline, files a chapter does not find in the checkout count as absent
(`MEMOROIDS_FILES_URL` defaults to the checkout).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

import nbformat
import yaml
from nbclient import NotebookClient
from tqdm import tqdm

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
DEFAULT_OUT = BOOK / "results" / "chapter_times.csv"
PLAN = "course_plan.ipynb"  # the page that shows the times: with --inplace, executed again after them
BUDGETS = ("full", "fast")
CHAPTER = re.compile(r"book/(\d\d_\w+)")  # a chapter's entry in _toc.yml: book/NN_name
FIELDS = ["chapter", "title", "budget", "seconds", "cpu", "cores", "python", "jax", "jaxlib", "date"]
CELL_TIMEOUT_S = 1800  # as _config.yml's execute.timeout


def toc_chapters(toc: dict) -> list[str]:
    """The chapters (`NN_name`) of a parsed `_toc.yml`, in the book's order; other pages are left out."""
    entries = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [match.group(1) for entry in entries if (match := CHAPTER.fullmatch(entry))]


def select(chapters: list[str], wanted: list[str] | None) -> list[str]:
    """The chapters named in `wanted` (a name, `04_resets`, or a number, `04` or `4`), in the book's order; all
    of them when `wanted` is None."""
    if wanted is None:
        return chapters
    picked = set()
    for name in wanted:
        found = [c for c in chapters if name in (c, c[:2], c[:2].lstrip("0"))]
        if not found:
            raise SystemExit(f"--chapters: {name!r} is no chapter of _toc.yml; choose from {' '.join(chapters)}")
        picked.update(found)
    return [c for c in chapters if c in picked]


def title(notebook: nbformat.NotebookNode) -> str:
    """The chapter's title: the first line of its first markdown cell, `# Title`, without the `# `."""
    first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    return first.source.lstrip().splitlines()[0].removeprefix("# ").strip()


def kernel_env(budget: str, base: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: `base` on the CPU, with BOOK_FAST=1 for the fast budget and unset for the full
    one, the checkout as the place to download files from unless MEMOROIDS_FILES_URL says otherwise, and the
    persistent compilation cache off: every program is compiled, as in a student's first run."""
    if budget not in BUDGETS:
        raise ValueError(f"budget {budget!r}: choose one of {BUDGETS}")
    env = {key: value for key, value in base.items() if key != "BOOK_FAST"}
    env["JAX_PLATFORMS"] = "cpu"
    env.setdefault("MEMOROIDS_FILES_URL", ROOT.as_uri() + "/")
    env["MEMOROIDS_COMPILATION_CACHE"] = "0"
    if budget == "fast":
        env["BOOK_FAST"] = "1"
    return env


def execute(path: pathlib.Path, env: dict[str, str], timeout: int = CELL_TIMEOUT_S) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook at `path` top to bottom in a fresh kernel started in its folder; (executed notebook, wall
    seconds of the whole execution, kernel start included). A cell that raises stops it with nbclient's error."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    begin = time.perf_counter()
    client.execute(env=env)
    return notebook, time.perf_counter() - begin


def machine_columns(info: dict, today: datetime.date) -> dict:
    """The CSV's machine columns from `memoroids_lite.timing.machine()`, and the date of the run."""
    return {"cpu": info["cpu"], "cores": info["cores"], "python": info["python"], "jax": info["jax"],
            "jaxlib": info["jaxlib"], "date": today.isoformat()}


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """`old` rows with those of `new` replacing the ones of the same (chapter, budget), sorted by chapter then
    budget (full before fast); every row with exactly the columns FIELDS."""
    by_key = {(row["chapter"], row["budget"]): row for row in [*old, *new]}
    ordered = sorted(by_key.items(), key=lambda item: (item[0][0], BUDGETS.index(item[0][1])))
    return [{field: row.get(field, "") for field in FIELDS} for _, row in ordered]


def read_rows(path: pathlib.Path) -> list[dict]:
    """The rows already in the CSV at `path`; none if there is no file yet."""
    if not path.is_file():
        return []
    rows = list(csv.DictReader(path.read_text().splitlines()))
    unknown = [row.get("budget") for row in rows if row.get("budget") not in BUDGETS]
    if unknown:
        raise SystemExit(f"{path} holds rows of budget {unknown[0]!r}, not one of {BUDGETS}: fix or delete the file")
    return rows


def run(chapters: list[str], budget: str, inplace: bool, out: pathlib.Path) -> list[dict]:
    """Time `chapters` at `budget`, writing the merged CSV after each chapter (a failure keeps the rows so far)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax is imported: the machine is the CPU
    from memoroids_lite.results import write_csv
    from memoroids_lite.timing import machine

    columns = machine_columns(machine(), datetime.date.today())
    print(f"{budget} budget, {len(chapters)} chapters | cpu: {columns['cpu']} | cores: {columns['cores']} | "
          f"python {columns['python']} | jax {columns['jax']} | {'in place' if inplace else 'on copies'}")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"the machine is busy (load average {load:.1f} over the last minute): the times will be too long")
    env, rows = kernel_env(budget, dict(os.environ)), []
    with tempfile.TemporaryDirectory(dir=BOOK, prefix="_timing_") as scratch:
        progress = tqdm(chapters, unit="chapter", file=sys.stdout)
        for chapter in progress:
            progress.set_description(chapter)
            source = BOOK / f"{chapter}.ipynb"
            path = source if inplace else pathlib.Path(shutil.copy(source, scratch))
            notebook, seconds = execute(path, env)
            if inplace:
                nbformat.write(notebook, path)
            rows.append({"chapter": chapter, "title": title(notebook), "budget": budget,
                         "seconds": f"{seconds:.1f}", **columns})
            write_csv(out, merge(read_rows(out), rows[-1:]), fieldnames=FIELDS)
            progress.write(f"  {chapter:28s} {seconds:7.1f} s")
    if inplace and (BOOK / PLAN).is_file():
        nbformat.write(execute(BOOK / PLAN, env)[0], BOOK / PLAN)
        print(f"executed {PLAN} again: it shows the new times")
    total = sum(float(row["seconds"]) for row in rows)
    print(f"wrote {len(rows)} rows to {out}; {total / 60:.1f} minutes in all")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=BUDGETS, required=True, help="full: the committed outputs' sizes; "
                        "fast: BOOK_FAST=1, the tests' sizes")
    parser.add_argument("--chapters", nargs="+", metavar="CHAPTER",
                        help="time these chapters only (names like 04_resets, or numbers like 4); default all")
    parser.add_argument("--inplace", action="store_true",
                        help="keep the executed notebooks in book/ (their outputs replace the committed ones)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help=f"CSV to update (default {DEFAULT_OUT})")
    args = parser.parse_args()
    chapters = select(toc_chapters(yaml.safe_load((ROOT / "_toc.yml").read_text())), args.chapters)
    run(chapters, args.budget, args.inplace, args.out)


if __name__ == "__main__":
    main()
