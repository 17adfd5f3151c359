"""Notebook hygiene, checked without a kernel (nbval runs the notebooks themselves).

Every notebook in the table of contents must be executed top to bottom in a fresh kernel, start with the
guarded Colab install cell pointing at the repository named in _config.yml, and store no error, warning or
stderr output. The README's Colab badges must point at the same repository.

What the reader sees is checked too: titles without a number of their own (the table of contents numbers them),
code lines that fit the page column (in code cells and in the package code a chapter shows with
`literalinclude`), math that MathJax renders, and alt text for every figure.
"""

import ast
import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


NOTEBOOKS = [ROOT / (f + ".ipynb") for f in toc_files() if (ROOT / (f + ".ipynb")).exists()]


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_every_toc_entry_exists():
    for f in toc_files():
        assert (ROOT / (f + ".ipynb")).exists() or (ROOT / (f + ".md")).exists(), f"{f} is in _toc.yml but missing"


def test_every_book_notebook_is_in_the_toc():
    listed = {p.resolve() for p in NOTEBOOKS}
    for path in (ROOT / "book").glob("*.ipynb"):
        assert path.resolve() in listed, f"{path.name} is not in _toc.yml: the book would not show it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order(path):
    counts = [c["execution_count"] for c in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; run it top to bottom in a fresh kernel "
        "(jupyter nbconvert --to notebook --execute --inplace)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_first(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = code_cells(path)[0]
    source = "".join(first["source"])
    assert 'if "google.colab" in sys.modules:' in source, f"{path.name}: the first code cell must be the Colab install"
    assert f"git+{REPO_URL}" in source, f"{path.name}: the Colab cell must install from {REPO_URL} (_config.yml)"
    assert '"memoroids_lite[book] @ git+' in source, f"{path.name}: the Colab cell must install the book extra"
    assert "remove-cell" in first["metadata"].get("tags", []), f"{path.name}: tag the Colab cell remove-cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_warnings_or_stderr(path):
    for cell in code_cells(path):
        for out in cell["outputs"]:
            where = f"{path.name} cell {cell['execution_count']}"
            assert out["output_type"] != "error", f"{where} stored an error"
            assert out.get("name") != "stderr", f"{where} wrote to stderr: {''.join(out.get('text', ''))[:200]}"
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, f"{where} stored a warning: {text[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_headless_backend(path):
    for cell in code_cells(path):
        assert 'matplotlib.use("Agg")' not in "".join(cell["source"]), f"{path.name}: Agg hides the figures"


REPO_MENTION = re.compile(
    r"(?:git\+https://github\.com/|git clone https://github\.com/|colab\.research\.google\.com/github/"
    r"|raw\.githubusercontent\.com/)"
    r"([\w.-]+/[\w.-]+)"
)


def test_every_mention_of_the_repository_follows_the_config():
    slug = REPO_URL.removeprefix("https://github.com/")
    files = [ROOT / "README.md", *(ROOT / "book").glob("*.md"), *(ROOT / "book").glob("*.ipynb")]
    found = 0
    for path in files:
        for match in REPO_MENTION.finditer(path.read_text()):
            found += 1
            assert match.group(1) == slug, f"{path.name} names {match.group(1)}, _config.yml says {slug}"
    assert found > len(NOTEBOOKS), "expected badges and install cells naming the repository"


def test_readme_badges_follow_the_config():
    readme = (ROOT / "README.md").read_text()
    slug = REPO_URL.removeprefix("https://github.com/")
    badges = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", readme)
    assert badges, "README.md has no Open-in-Colab badges"
    for link in badges:
        assert link.startswith(f"{slug}/blob/{BRANCH}/"), f"badge {link} does not follow _config.yml ({slug})"
        assert (ROOT / link.removeprefix(f"{slug}/blob/{BRANCH}/")).exists(), f"badge {link} points at no file"
    assert len(badges) == len(NOTEBOOKS), "one Colab badge per chapter notebook"


def test_readme_links_the_published_book():
    """GitHub Pages publishes the repository <owner>/<name> at https://<owner>.github.io/<name>/."""
    owner, name = REPO_URL.removeprefix("https://github.com/").split("/")
    sites = re.findall(r"https://[\w.-]+\.github\.io/[^\s>)]*", (ROOT / "README.md").read_text())
    assert sites == [f"https://{owner.lower()}.github.io/{name}/"], f"README links {sites}"


def test_readme_numbers_are_those_of_the_committed_results():
    """The README's measured numbers, recomputed from the files the chapters read (chapter 12's environment
    benchmark, chapter 15's training benchmark): a re-measurement that changes them fails here until the README
    says the new numbers."""
    import csv

    readme = " ".join((ROOT / "README.md").read_text().split())
    rows = list(csv.DictReader((ROOT / "book/results/envs_cpu.csv").open()))
    task = "RepeatPreviousEasy"
    popgym = next(float(r["steps_per_s"]) for r in rows if r["task"] == task and r["method"] == "popgym")
    ours = max(float(r["steps_per_s"]) for r in rows if r["task"] == task and r["method"] == "memoroids_lite")
    assert f"{ours / 1e6:.0f} M environment steps per second, {ours / popgym:.0f} times POPGym's own loop" in readme
    train = json.loads((ROOT / "book/results/train_cpu.json").read_text())
    tape, paper = train["results"]["tape"], train["paper_code"]
    assert (f"in {tape['solve_s']:.0f} s from a cold start, {tape['solve_updates']} updates of "
            f"{tape['update_ms']:.0f} ms each; the paper's code took {paper['solve_s']:.0f} s") in readme


# --- What the reader sees ---------------------------------------------------------------------------------

PAGE_WIDTH = 88  # characters of code that fit the page column of the book's HTML theme
HIDDEN = {"remove-cell", "remove-input"}  # tags of cells whose code the book does not show


def markdown_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


def markdown_sources():
    """(name, text) of every markdown cell of every notebook and of every book/*.md page."""
    for path in NOTEBOOKS:
        for i, cell in enumerate(markdown_cells(path)):
            yield f"{path.name} markdown cell {i}", "".join(cell["source"])
    for path in sorted((ROOT / "book").glob("*.md")):
        yield path.name, path.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_is_not_numbered(path):
    """The toc numbers the chapters (`numbered: true`); a number in the title would show twice ("2. 2. Monoids")."""
    first = "".join(markdown_cells(path)[0]["source"]).lstrip()
    assert first.startswith("# "), f"{path.name}: the first markdown cell must start with the title, '# Title'"
    title = first.splitlines()[0][2:].strip()
    assert not re.match(r"\d", title), f"{path.name}: title {title!r} starts with a number; _toc.yml numbers chapters"


def test_math_text_has_no_escaped_underscore():
    """MathJax does not process `\\_` inside `\\text{...}`: it shows the backslash. Write `\\mathtt{max\\_phase}`."""
    for where, text in markdown_sources():
        for match in re.finditer(r"\\text\{[^{}]*\\_[^{}]*\}", text):
            raise AssertionError(f"{where}: {match.group(0)} renders with a backslash; use \\mathtt{{...}}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    for cell in code_cells(path):
        if HIDDEN & set(cell["metadata"].get("tags", [])):
            continue
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= PAGE_WIDTH, (
                f"{path.name} cell {cell['execution_count']}: {len(line)} > {PAGE_WIDTH} characters, "
                f"the line runs off the page: {line.strip()[:60]}..."
            )


LITERALINCLUDE = re.compile(r"```\{literalinclude\}[ \t]*(\S+)[ \t]*\n((?:[ \t]*:[\w-]+:.*\n)*)")


def pyobject_lines(source: str, name: str):
    """(first, last) line of a top-level object or `Class.method` as Sphinx's :pyobject: takes it (decorators
    included)."""
    body, node = ast.parse(source).body, None
    for part in name.split("."):
        node = next((n for n in body if getattr(n, "name", None) == part), None)
        assert node is not None, f":pyobject: {name} is not in the file"
        body = getattr(node, "body", [])
    return min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno


def included_lines(page: pathlib.Path, target: str, options: dict[str, str]):
    """The lines a `literalinclude` shows, in Sphinx's order: pyobject, start-*, end-*, lines, dedent."""
    path = (page.parent / target).resolve()
    lines = path.read_text().splitlines()
    if "pyobject" in options:
        first, last = pyobject_lines(path.read_text(), options["pyobject"])
        lines = lines[first - 1 : last]
    for key in ("start-at", "start-after"):
        if key in options:
            marker = options[key].strip("\"'")
            at = next(i for i, line in enumerate(lines) if marker in line)
            lines = lines[at + (key == "start-after") :]
    for key in ("end-at", "end-before"):
        if key in options:
            marker = options[key].strip("\"'")
            at = next(i for i, line in enumerate(lines) if marker in line)
            lines = lines[: at + (key == "end-at")]
    if "lines" in options:
        keep = []
        for part in options["lines"].split(","):
            low, _, high = part.strip().partition("-")
            stop = len(lines) if part.strip().endswith("-") else int(high or low)
            keep += lines[int(low) - 1 : stop]
        lines = keep
    if "dedent" in options:
        lines = [line[int(options["dedent"]) :] for line in lines]
    return path, lines


def literalincludes(path):
    for cell in markdown_cells(path):
        for match in LITERALINCLUDE.finditer("".join(cell["source"])):
            options = dict(re.match(r"\s*:([\w-]+):\s*(.*)", line).groups() for line in match.group(2).splitlines())
            yield included_lines(path, match.group(1), {k: v.strip() for k, v in options.items()})


def test_every_literalinclude_is_found():
    assert sum(1 for path in NOTEBOOKS for _ in literalincludes(path)) >= 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_included_code_fits_the_page(path):
    """Package code that a chapter shows keeps to the page width (the rest of the package may be wider)."""
    for source, lines in literalincludes(path):
        assert lines, f"{path.name} includes nothing from {source.name}"
        for line in lines:
            assert len(line) <= PAGE_WIDTH, (
                f"{path.name} shows {source.relative_to(ROOT)} with a line of {len(line)} > {PAGE_WIDTH} "
                f"characters: {line.strip()[:60]}..."
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    """myst-nb writes alt="<the image path>" unless the cell says otherwise: `"mystnb": {"image": {"alt": ...}}`
    in the cell metadata (it applies to every image the cell outputs)."""
    for cell in code_cells(path):
        if not any(k.startswith("image/") for out in cell["outputs"] for k in out.get("data", {})):
            continue
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt.split()) >= 5, f"{path.name} cell {cell['execution_count']}: a figure without alt text"


MAX_FIGURE_PX = 820  # 8 inches at matplotlib's 100 dpi, plus a little of bbox_inches="tight"'s margin
NAMED_COLOUR = re.compile(
    r"""(?:\bcolou?rs?|\bfacecolors?|\bedgecolors?|\bfc|\bec|\bc)\s*=\s*\[?\s*["'](?:tab:\w+|red|green|blue|orange|"""
    r"""purple|cyan|magenta|yellow|brown|pink|#[0-9a-fA-F]{6})["']"""
)


def png_width(data: str) -> int:
    import base64

    return int.from_bytes(base64.b64decode(data[:64])[16:20], "big")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_fit_the_page(path):
    """A figure wider than about 8 inches is shrunk to the page column and its text becomes unreadable."""
    for cell in code_cells(path):
        for out in cell["outputs"]:
            if "image/png" in out.get("data", {}):
                width = png_width(out["data"]["image/png"])
                assert width <= MAX_FIGURE_PX, (
                    f"{path.name} cell {cell['execution_count']}: a figure {width} px wide (> 8 inches); "
                    "stack its panels or make it narrower"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_use_the_book_palette(path):
    """Colours come from memoroids_lite.plotting's colour-blind-safe palette ("C0".."C6", PALETTE, light())."""
    sources = ["".join(cell["source"]) for cell in code_cells(path)]
    if not any("import matplotlib" in source for source in sources):
        return
    assert any("use_book_style()" in source for source in sources), (
        f"{path.name} imports matplotlib without calling memoroids_lite.plotting.use_book_style()"
    )
    for source in sources:
        for match in NAMED_COLOUR.finditer(source):
            raise AssertionError(f"{path.name}: {match.group(0)!r}; use the palette (\"C0\"..\"C6\") instead")
        assert "plt.cm.tab" not in source and "cmap=\"jet\"" not in source, f"{path.name}: a non-palette colormap"


def test_no_chapter_opens_repository_files_itself():
    """Every file a chapter reads goes through memoroids_lite.results: no paths into the repository in code."""
    for notebook in NOTEBOOKS:
        for cell in code_cells(notebook):
            lines = "".join(cell["source"]).splitlines()
            # an IPython magic line (the Colab cell's %pip) becomes `pass`, at its indentation
            source = "\n".join(line.split("%")[0] + "pass" if line.lstrip().startswith("%") else line
                               for line in lines)
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " not in node.value:
                    text = node.value  # a word, not prose: is it a path into the repository?
                    assert not (text.startswith(("../", "./", "book/", "results/")) or "book/results" in text), (
                        f"{notebook.name} names the repository path {text!r}: read files with memoroids_lite.results"
                    )
