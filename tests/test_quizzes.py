"""The end-of-chapter quizzes: one file per chapter in book/quizzes/, shown by one hidden cell of that chapter.

Every chapter in _toc.yml has `book/quizzes/<chapter>.json` in jupyterquiz's format: 4 to 6 multiple-choice
questions, each with exactly one correct answer and feedback on every answer that says why it is right or wrong.
The chapter shows its own file, read through `memoroids_lite.results.book_file` (so a chapter run alone from a
wheel, or in Colab, downloads it), in a cell whose code is hidden and whose output (a random div id) nbval ignores,
under a `## Quiz` heading between the summary and the exercises. jupyterquiz renders each file without fetching
anything (the book must work offline), and the text is valid for it: jupyterquiz writes questions, answers and
feedback into the page as HTML and turns `$...$` into MathJax.
"""

import json
import pathlib
import re
import tomllib

import pytest
from test_notebooks import NOTEBOOKS, ROOT, code_cells

QUIZZES = ROOT / "book" / "quizzes"
CHAPTERS = [path for path in NOTEBOOKS if re.match(r"\d\d_", path.name)]
QUESTIONS = range(4, 7)  # questions per quiz
ALLOWED_TAGS = re.compile(r"</?(?:code|em)>")  # HTML a quiz text may hold; any other "<" would break the page


def quiz_file(notebook: pathlib.Path) -> pathlib.Path:
    return QUIZZES / f"{notebook.stem}.json"


def text_problems(where: str, text) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return [f"{where} is empty"]
    problems = []
    if "<" in ALLOWED_TAGS.sub("", text) or ">" in ALLOWED_TAGS.sub("", text):
        problems.append(f"{where} holds '<' or '>', which the page reads as HTML: write $\\lt$, $\\gt$ or words")
    if len(re.findall(r"(?<!\\)\$", text)) % 2:
        problems.append(f"{where} has an odd number of '$': a formula is not closed")
    return problems


def quiz_problems(questions) -> list[str]:
    """Everything wrong with a quiz (jupyterquiz's JSON, parsed), as sentences; [] for a good one."""
    if not isinstance(questions, list) or len(questions) not in QUESTIONS:
        return [f"a quiz is a list of {QUESTIONS.start} to {QUESTIONS.stop - 1} questions"]
    problems = []
    for i, question in enumerate(questions, 1):
        if question.get("type") != "multiple_choice":
            problems.append(f"question {i}: type must be 'multiple_choice', not {question.get('type')!r}")
        problems += text_problems(f"question {i}", question.get("question"))
        answers = question.get("answers", [])
        if len(answers) < 3:
            problems.append(f"question {i}: {len(answers)} answers; give at least 3")
        if sum(answer.get("correct") is True for answer in answers) != 1:
            problems.append(f"question {i}: {sum(a.get('correct') is True for a in answers)} correct answers, not 1")
        for j, answer in enumerate(answers, 1):
            if not isinstance(answer.get("correct"), bool):
                problems.append(f"question {i} answer {j}: 'correct' must be true or false")
            problems += text_problems(f"question {i} answer {j}", answer.get("answer"))
            problems += text_problems(f"question {i} answer {j}'s feedback", answer.get("feedback"))
    return problems


def quiz_cells(notebook: pathlib.Path):
    return [cell for cell in code_cells(notebook) if "display_quiz" in "".join(cell["source"])]


# --- The quiz files ---------------------------------------------------------------------------------------------


def test_every_chapter_has_a_quiz_and_every_quiz_a_chapter():
    assert len(CHAPTERS) == 19, [path.name for path in CHAPTERS]
    missing = [path.name for path in CHAPTERS if not quiz_file(path).is_file()]
    assert not missing, f"chapters without book/quizzes/<chapter>.json: {missing}"
    orphans = {path.name for path in QUIZZES.glob("*.json")} - {quiz_file(path).name for path in CHAPTERS}
    assert not orphans, f"quizzes of no chapter in _toc.yml: {sorted(orphans)}"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_quiz_is_well_formed(notebook):
    problems = quiz_problems(json.loads(quiz_file(notebook).read_text()))
    assert not problems, f"{quiz_file(notebook).name}:\n" + "\n".join(problems)


def good_question():
    return {"question": "Which law?", "type": "multiple_choice", "answers": [
        {"answer": "Associativity", "correct": True, "feedback": "Right: it regroups."},
        {"answer": "Commutativity", "correct": False, "feedback": "It never reorders."},
        {"answer": "Closure", "correct": False, "feedback": "Says nothing about grouping."},
    ]}


def broken(change):
    questions = [good_question() for _ in range(4)]
    change(questions)
    return questions


@pytest.mark.parametrize("change, problem", [
    (lambda qs: qs.pop(), "4 to 6 questions"),
    (lambda qs: qs.extend([good_question()] * 3), "4 to 6 questions"),
    (lambda qs: qs[0]["answers"][1].update(correct=True), "2 correct answers"),
    (lambda qs: qs[0]["answers"][0].update(correct=False), "0 correct answers"),
    (lambda qs: qs[1]["answers"][2].pop("feedback"), "feedback is empty"),
    (lambda qs: qs[1]["answers"][2].update(feedback=" "), "feedback is empty"),
    (lambda qs: qs[2].update(type="numeric"), "type must be 'multiple_choice'"),
    (lambda qs: qs[2]["answers"].pop(), "give at least 3"),
    (lambda qs: qs[3].update(question="Is $a < b$ here?"), "'<' or '>'"),
    (lambda qs: qs[3].update(question="Is $a$ or $b here?"), "odd number of '$'"),
])
def test_a_broken_quiz_is_refused(change, problem):
    assert quiz_problems(broken(lambda qs: None)) == []
    assert any(problem in p for p in quiz_problems(broken(change))), quiz_problems(broken(change))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_jupyterquiz_renders_the_quiz_without_fetching_anything(notebook):
    """jupyterquiz's own display: the questions embedded in the page's script, nothing loaded from a URL."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from jupyterquiz import display_quiz

    InteractiveShell.instance()  # a shell to publish the displays to, as in a notebook
    with capture_output() as shown:
        display_quiz(str(quiz_file(notebook)))
    html, script = (output.data for output in shown.outputs)
    div = re.search(r'<div id="(\w+)"', html["text/html"]).group(1)
    javascript = script["application/javascript"]
    questions = json.loads(quiz_file(notebook).read_text())
    assert f"var questions{div}=" in javascript and f"show_questions(questions{div}, {div})" in javascript
    assert json.dumps(questions[0]["question"])[1:-1] in javascript, "the questions are not in the page"
    assert "fetch(" not in javascript, "the quiz would download its questions: the book must work offline"


def test_the_book_extra_installs_jupyterquiz():
    """The chapters' Colab cell installs `memoroids_lite[book]`; requirements.txt pins the same package."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("jupyterquiz") for dep in extras["book"])
    assert re.search(r"^jupyterquiz==[\d.]+", (ROOT / "requirements.txt").read_text(), re.M)


# --- The quiz cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_displays_its_own_quiz(notebook):
    cells = quiz_cells(notebook)
    assert len(cells) == 1, f"{notebook.name}: {len(cells)} quiz cells; the chapter needs exactly one"
    source = "".join(cells[0]["source"])
    assert f'book_file("quizzes/{notebook.stem}.json")' in source, (
        f"{notebook.name}: the quiz cell must show book_file(\"quizzes/{notebook.stem}.json\"), its own quiz"
    )
    tags = set(cells[0]["metadata"].get("tags", []))
    assert {"remove-input", "nbval-ignore-output"} <= tags, (
        f"{notebook.name}: tag the quiz cell remove-input (readers see the quiz, not the code) and "
        "nbval-ignore-output (its HTML carries a random id)"
    )


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_quiz_sits_between_the_summary_and_the_exercises(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    headings = [(i, line) for i, cell in enumerate(cells) if cell["cell_type"] == "markdown"
                for line in "".join(cell["source"]).splitlines() if line.startswith("## ")]
    quiz = next(i for i, cell in enumerate(cells) if "display_quiz" in "".join(cell["source"]))
    before = [line for i, line in headings if i < quiz]
    after = [line for i, line in headings if i > quiz]
    assert before[-2:] == ["## Summary", "## Quiz"], f"{notebook.name}: the quiz follows the summary: {before[-2:]}"
    assert after and after[0] == "## Exercises", f"{notebook.name}: the exercises follow the quiz, not {after[:1]}"
