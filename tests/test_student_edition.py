"""The student edition (tools/student_edition.py -> student/NN_name.ipynb): up to date, and without solutions.

The committed student/ must be what the generator builds from the chapters now (regenerate it after changing a
chapter). No solution survives in it: no solution directive, no line of a solution's code, no output at all. Each
exercise with a checker has its skeleton, which calls the checker. tests/test_installed.py runs every student
notebook from the wheel, outside the repository, and checks that each skeleton prints its verdict.
"""

import json
import pathlib
import sys

import pytest

from memoroids_lite.exercises import LABELS, skeleton

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from student_edition import build, chapters  # noqa: E402
from test_exercises import exercises, solution_cells  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    build(out)
    return out


def test_the_committed_edition_is_up_to_date(built):
    committed = sorted(p.name for p in (ROOT / "student").glob("*.ipynb"))
    assert committed == sorted(p.name for p in built.glob("*.ipynb")) == [c.name for c in chapters()]
    for name in committed:
        assert (ROOT / "student" / name).read_text() == (built / name).read_text(), (
            f"student/{name} is out of date: run `python tools/student_edition.py`")


def solution_prose(book: dict) -> set[str]:
    """The lines of text (over 40 characters) inside the chapter's gated solutions."""
    lines, inside = set(), False
    for cell in book["cells"]:
        if cell["cell_type"] == "markdown":
            for line in cell["source"]:
                inside = (inside or "{solution-start}" in line) and "{solution-end}" not in line
                if inside and len(line.strip()) > 40:
                    lines.add(line)
    return lines


@pytest.mark.parametrize("chapter", chapters(), ids=lambda p: p.stem)
def test_no_solution_survives(chapter, built):
    student = json.loads((built / chapter.name).read_text())
    book = json.loads(chapter.read_text())
    kept = {line.strip() for c in student["cells"] if c["cell_type"] == "code" for line in c["source"]}
    solutions = [source for sources in solution_cells(chapter).values() for source in sources]
    elsewhere = {line.strip() for c in book["cells"] if c["cell_type"] == "code"
                 and "".join(c["source"]) not in solutions for line in c["source"]}
    skeletons = {line.strip() for label in LABELS for line in skeleton(label).splitlines()}
    in_solutions_only = {line.strip() for source in solutions for line in source.splitlines()
                         if len(line.strip()) > 12} - elsewhere - skeletons
    assert not kept & in_solutions_only, f"solution code survives: {sorted(kept & in_solutions_only)[:3]}"
    prose = {line for c in student["cells"] if c["cell_type"] == "markdown" for line in c["source"]}
    assert not prose & solution_prose(book), "the text of a solution survives"
    for cell in student["cells"]:
        text = "".join(cell["source"])
        assert "{solution" not in text, f"a solution directive survives: {text[:200]}"
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "an output survives"
    first = next(c for c in student["cells"] if c["cell_type"] == "code")
    book_first = next(c for c in book["cells"] if c["cell_type"] == "code")
    assert first["source"] == book_first["source"] and "remove-cell" in first["metadata"]["tags"], (
        "the first code cell must stay the Colab install cell")


def test_every_checkable_exercise_has_its_skeleton(built):
    for label in LABELS:
        chapter, _ = exercises()[label]
        cells = json.loads((built / chapter.name).read_text())["cells"]
        assert ["".join(c["source"]) for c in cells].count(skeleton(label)) == 1, f"{label}: no skeleton"


def test_exercises_without_a_checker_keep_only_their_text(built):
    for label, (chapter, _) in exercises().items():
        text = (built / chapter.name).read_text()
        assert f":label: {label}" in text, f"{label}: the exercise itself is missing"
