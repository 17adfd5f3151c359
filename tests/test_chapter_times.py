"""The chapters' run times and the course plan that shows them.

benchmarks/chapters.py times every chapter of _toc.yml at a budget and merges the times into
book/results/chapter_times.csv; its pieces are checked here, and one run on a one-cell notebook in a temporary
folder. book/course_plan.ipynb maps chapters and their exercises to the weeks of a course: its tables are read
from the notebook and held against the chapters. The committed CSV must time every chapter at both budgets.
"""

import collections
import csv
import datetime
import importlib.util
import json
import pathlib
import re

import nbformat
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("chapters", ROOT / "benchmarks" / "chapters.py")
chapters = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chapters)

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = chapters.toc_chapters(TOC)
PLAN = ROOT / "book" / "course_plan.ipynb"


# --- The timing script --------------------------------------------------------------------------------------


def test_toc_chapters_are_the_numbered_notebooks_in_the_books_order():
    assert CHAPTERS == sorted(path.stem for path in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    toc = {"root": "book/index", "parts": [
        {"caption": "For teachers", "chapters": [{"file": "book/course_plan"}]},
        {"caption": "I", "chapters": [{"file": "book/02_b"}, {"file": "book/01_a"}]},
        {"caption": "Back", "chapters": [{"file": "book/how_it_is_built"}]},
    ]}
    assert chapters.toc_chapters(toc) == ["02_b", "01_a"]


def test_chapters_are_selected_by_name_or_number_in_the_books_order():
    assert chapters.select(CHAPTERS, None) == CHAPTERS
    assert chapters.select(["01_a", "04_resets", "15_dqn"], ["15_dqn", "4"]) == ["04_resets", "15_dqn"]
    assert chapters.select(["01_a", "04_resets"], ["04"]) == ["04_resets"]
    with pytest.raises(SystemExit, match="'99' is no chapter of _toc.yml; choose from 01_a 04_resets"):
        chapters.select(["01_a", "04_resets"], ["99"])


def test_merging_keeps_the_other_budget_and_chapters_and_replaces_a_remeasured_row():
    old = [{"chapter": "02_b", "budget": "full", "seconds": "9.0"},
           {"chapter": "01_a", "budget": "fast", "seconds": "1.0"}]
    new = [{"chapter": "01_a", "budget": "fast", "seconds": "2.0"},
           {"chapter": "01_a", "budget": "full", "seconds": "5.0"}]
    merged = chapters.merge(old, new)
    assert [(r["chapter"], r["budget"], r["seconds"]) for r in merged] == [
        ("01_a", "full", "5.0"), ("01_a", "fast", "2.0"), ("02_b", "full", "9.0")]
    assert all(list(row) == chapters.FIELDS for row in merged)
    assert merged[0]["cpu"] == ""  # a column the row lacks is left empty, never dropped


def test_the_kernel_runs_on_the_cpu_with_the_budget_it_is_asked_for():
    base = {"PATH": "/bin", "BOOK_FAST": "1", "MEMOROIDS_FILES_URL": "http://mirror/"}
    full, fast = chapters.kernel_env("full", base), chapters.kernel_env("fast", base)
    assert "BOOK_FAST" not in full and fast["BOOK_FAST"] == "1"
    assert full["JAX_PLATFORMS"] == fast["JAX_PLATFORMS"] == "cpu" and full["PATH"] == "/bin"
    assert full["MEMOROIDS_FILES_URL"] == "http://mirror/"
    assert full["MEMOROIDS_COMPILATION_CACHE"] == fast["MEMOROIDS_COMPILATION_CACHE"] == "0", "cold compiles"
    assert chapters.kernel_env("full", {})["MEMOROIDS_FILES_URL"] == ROOT.as_uri() + "/"
    with pytest.raises(ValueError, match="budget 'slow'"):
        chapters.kernel_env("slow", base)


def test_the_machine_columns_name_the_cpu_the_versions_and_the_date():
    from memoroids_lite.timing import machine

    columns = chapters.machine_columns(machine(), datetime.date(2026, 12, 4))
    assert set(columns) == set(chapters.FIELDS) - {"chapter", "title", "budget", "seconds"}
    assert columns["date"] == "2026-12-04" and int(columns["cores"]) >= 1 and columns["cpu"]


def tiny_notebook(path: pathlib.Path, title: str) -> pathlib.Path:
    """A notebook of one markdown and one code cell that prints the budget it runs at."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {title}\n\nIt prints its budget."),
        nbformat.v4.new_code_cell("import os\nprint(os.environ.get('BOOK_FAST', 'full'), os.environ['JAX_PLATFORMS'])"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, path)
    return path


def outputs(path: pathlib.Path) -> list:
    return nbformat.read(path, as_version=4).cells[1].outputs


def test_a_run_times_each_budget_into_one_file_and_inplace_keeps_the_outputs(tmp_path, monkeypatch):
    book = tmp_path / "book"
    book.mkdir()
    path = tiny_notebook(book / "01_tiny.ipynb", "A tiny chapter")
    plan = tiny_notebook(book / chapters.PLAN, "A plan")
    monkeypatch.setattr(chapters, "BOOK", book)
    out = tmp_path / "times.csv"

    chapters.run(["01_tiny"], "fast", inplace=False, out=out)
    assert not outputs(path) and not outputs(plan), "without --inplace the book is untouched"
    assert sorted(book.iterdir()) == [path, plan], "the temporary copy is removed"
    chapters.run(["01_tiny"], "full", inplace=True, out=out)
    assert [output.get("text") for output in outputs(path)] == ["full cpu\n"]
    assert outputs(plan), "the course plan is executed again with the new times"

    rows = list(csv.DictReader(out.open()))
    assert [(r["chapter"], r["title"], r["budget"]) for r in rows] == [
        ("01_tiny", "A tiny chapter", "full"), ("01_tiny", "A tiny chapter", "fast")]
    assert all(float(r["seconds"]) > 0 and r["cpu"] and r["jax"] for r in rows)


# --- The course plan ----------------------------------------------------------------------------------------


def markdown_tables(path: pathlib.Path) -> dict[str, list[list[str]]]:
    """The Markdown tables of a notebook's markdown cells by the text of their first header cell: the rows after
    the header and the separator, each a list of cell texts."""
    tables = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines() + [""]
        block = []
        for line in lines:
            if line.startswith("|"):
                block.append([part.strip() for part in line.strip().strip("|").split("|")])
            elif block:
                tables[block[0][0]] = block[2:]
                block = []
    return tables


def docs(text: str) -> list[str]:
    return re.findall(r"\{doc\}`([^`]+)`", text)


def refs(text: str) -> list[str]:
    """Labels of {ref}`label` and {ref}`text <label>`."""
    return [explicit or plain for explicit, plain in re.findall(r"\{ref\}`(?:[^`<]*<([^`>]+)>|([^`<]+))`", text)]


def exercises(chapter: str) -> list[str]:
    """The labels of a chapter's sphinx-exercise {exercise} directives."""
    cells = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    options = re.findall(r"\{exercise\}[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n)*)", text)
    return [label for block in options for label in re.findall(r":label:\s*(\S+)", block)]


TABLES = markdown_tables(PLAN)
WEEKS = TABLES["Week"]  # Week | Main chapters | Lecture | Lab (in class) | Homework


def test_the_plan_has_ten_to_twelve_weeks_and_the_workshop_two_days():
    assert [int(row[0]) for row in WEEKS] == list(range(1, len(WEEKS) + 1)) and 10 <= len(WEEKS) <= 12
    assert {row[0] for row in TABLES["Day"]} == {"1", "2"}


def test_the_week_table_names_every_chapter_exactly_once_as_a_main_chapter():
    named = collections.Counter(doc for row in WEEKS for doc in docs(row[1]))
    assert sorted(named) == CHAPTERS, f"main chapters {sorted(named)}, the toc has {CHAPTERS}"
    assert [c for c, n in named.items() if n > 1] == [], "a chapter is the main chapter of two weeks"


def test_every_exercise_is_set_once_in_the_week_of_its_chapter():
    set_in = collections.Counter()
    for week, main, _, lab, homework in WEEKS:
        own = {label for chapter in docs(main) for label in exercises(chapter)}
        for label in refs(lab) + refs(homework):
            assert label in own, f"week {week} sets {label!r}, which is no exercise of {docs(main)}"
            set_in[label] += 1
    every = [label for chapter in CHAPTERS for label in exercises(chapter)]
    assert len(every) >= 3 * len(CHAPTERS)
    assert sorted(set_in) == sorted(every), f"not in the plan: {sorted(set(every) - set(set_in))}"
    assert max(set_in.values()) == 1


def test_the_workshop_covers_every_chapter_with_its_own_exercises():
    rows = TABLES["Day"]  # Day | Session | Chapters | Topic | Exercise done together
    assert sorted(doc for row in rows for doc in docs(row[2])) == CHAPTERS
    for row in rows:
        own = {label for chapter in docs(row[2]) for label in exercises(chapter)}
        assert refs(row[4]) and set(refs(row[4])) <= own, f"day {row[0]} {row[1]}: {refs(row[4])}"


def test_prerequisites_name_every_chapter_and_only_earlier_ones():
    rows = TABLES["Chapter"]  # Chapter | Earlier chapters it builds on | Outside knowledge
    assert [docs(row[0]) for row in rows] == [[c] for c in CHAPTERS]
    for chapter, earlier, knowledge in rows:
        assert all(before < docs(chapter)[0] for before in docs(earlier)), f"{chapter} builds on {earlier}"
        assert knowledge, f"{chapter}: say what outside knowledge it needs"


# --- The committed times ------------------------------------------------------------------------------------


def test_the_committed_times_hold_one_row_per_chapter_and_budget():
    path = ROOT / "book" / "results" / "chapter_times.csv"
    assert path.is_file(), "run python benchmarks/chapters.py --budget fast, then --budget full --inplace"
    rows = list(csv.DictReader(path.open()))
    timed = collections.Counter((row["chapter"], row["budget"]) for row in rows)
    expected = {(chapter, budget) for chapter in CHAPTERS for budget in chapters.BUDGETS}
    assert set(timed) == expected, (
        f"missing {sorted(expected - set(timed))}, not in the toc {sorted(set(timed) - expected)}: run "
        "python benchmarks/chapters.py --budget <budget> --chapters <chapters>"
    )
    assert max(timed.values()) == 1
    for row in rows:
        assert float(row["seconds"]) > 0 and row["title"] and row["cpu"] and row["jax"] and row["date"], row
