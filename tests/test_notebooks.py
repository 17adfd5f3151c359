"""Notebook hygiene, checked without a kernel (nbval runs the notebooks themselves).

Every notebook in the table of contents must be executed top to bottom in a fresh kernel, start with the
guarded Colab install cell pointing at the repository named in _config.yml, and store no error, warning or
stderr output. The README's Colab badges must point at the same repository.
"""

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
