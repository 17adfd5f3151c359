#!/usr/bin/env python3
"""Build the student edition of the book: every chapter without its solutions.

    python tools/student_edition.py            # writes student/NN_name.ipynb for every chapter of _toc.yml
    python tools/student_edition.py --out DIR  # writes them into DIR instead

For every exercise the solution goes: a `{solution}` block, or everything from `{solution-start}` to
`{solution-end}` (markdown and code cells). An exercise with a checker (`memoroids_lite.exercises`) gets, where its
solution was, a code cell with the skeleton to fill in, which ends by calling `check`; the other exercises keep only
their text. Every output and execution count is cleared (a student runs the notebook), so no output of a removed
cell survives. All other cells (the Colab install cell, the chapter, its quiz) are kept as they are.
"""

import argparse
import copy
import hashlib
import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's package, also when it is not installed

from memoroids_lite.exercises import LABELS, skeleton  # noqa: E402

FENCE = re.compile(r"^(`{3,}|:{3,})\{(solution|solution-start|solution-end)\}[ \t]*(\S*)")
NOTE = (
    "This is the **student edition** of the chapter: the solutions are removed. An exercise with a code cell "
    "below it has a checker: fill in the cell where it says `# your code` and run it, and `check` says whether "
    "your answer is right, with a hint when it is not."
)


def chapters() -> list[pathlib.Path]:
    """The chapter notebooks (book/NN_name.ipynb), in the order of _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc.get("parts", []) for chapter in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files
            if re.fullmatch(r"book/\d\d_\w+", f) and (ROOT / f"{f}.ipynb").exists()]


def directive_end(lines: list[str], i: int, fence: str) -> int:
    """The index of the line that closes the directive opened at lines[i] with `fence`."""
    for j in range(i + 1, len(lines)):
        if lines[j].rstrip() == fence:
            return j
    raise ValueError(f"the directive {lines[i].strip()!r} is never closed by {fence!r}")


def new_cell(kind: str, source: str, label: str) -> dict:
    """A cell with an id derived from its content, so the edition is the same every time it is built."""
    cell = {"cell_type": kind, "id": hashlib.sha1(f"{label}:{source}".encode()).hexdigest()[:8],
            "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def split_markdown(cell: dict, in_solution: bool):
    """The parts of a markdown cell outside solutions, and the labels whose solution starts in it.

    Returns (pieces, in_solution): pieces is a list of ("text", str) and ("solution", label) in order;
    in_solution says whether a gated solution is still open at the end of the cell.
    """
    lines = "".join(cell["source"]).splitlines(keepends=True)
    pieces, kept, i = [], [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            if not in_solution:
                kept.append(lines[i])
            i += 1
            continue
        fence, kind, label = match.groups()
        end = directive_end(lines, i, fence)
        if kind == "solution-end":
            in_solution = False
        else:
            pieces += [("text", "".join(kept)), ("solution", label)]
            kept = []
            in_solution = kind == "solution-start"
        i = end + 1
    pieces.append(("text", "".join(kept)))
    return pieces, in_solution


def student_notebook(book: dict) -> dict:
    """The student edition of one chapter notebook (as JSON)."""
    nb = copy.deepcopy(book)
    cells, in_solution = [], False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if not in_solution:
                cell.update(execution_count=None, outputs=[])
                cell["metadata"].pop("execution", None)
                cells.append(cell)
            continue
        if cell["cell_type"] != "markdown":
            cells.append(cell)
            continue
        pieces, in_solution_after = split_markdown(cell, in_solution)
        first = True
        for kind, value in pieces:
            if kind == "solution":
                if value in LABELS:
                    cells.append(new_cell("code", skeleton(value), value))
                continue
            text = value.strip("\n")
            if not text.strip():
                continue
            if first:  # the cell's own id and metadata go with its first piece
                piece = dict(cell, source=text.splitlines(keepends=True))
                first = False
            else:
                piece = new_cell("markdown", text, cell["id"] + str(len(cells)))
            cells.append(piece)
        in_solution = in_solution_after
    if in_solution:
        raise ValueError("a {solution-start} is never closed by {solution-end}")
    first_markdown = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown")
    cells.insert(first_markdown + 1, new_cell("markdown", f":::{{note}}\n{NOTE}\n:::", "student-note"))
    nb["cells"] = cells
    return nb


def write(notebook: dict, path: pathlib.Path) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def build(out: pathlib.Path) -> list[pathlib.Path]:
    """Write the student edition of every chapter into `out`; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters():
        target = out / chapter.name
        write(student_notebook(json.loads(chapter.read_text())), target)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "student", help="folder (default: student/)")
    args = parser.parse_args()
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
