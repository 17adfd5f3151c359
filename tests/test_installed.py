"""The package and the book as their readers get them: a wheel installed outside the repository.

A Colab reader's first cell runs `%pip install "memoroids_lite @ git+<repository>"`: pip builds a wheel from
pyproject.toml and installs it with the declared dependencies alone, and the chapter runs with no checkout
beside it. These tests take the same path. They build the sdist and the wheel from this checkout, install the
wheel into a fresh virtual environment (its dependencies at the versions of the environment running the tests),
and, from a temporary folder outside the repository, import every module, start both command lines, train for a
few updates, and run every chapter top to bottom under nbval. A chapter downloads each file it reads through
`memoroids_lite.results`, here from a local server that serves the committed files of this checkout (what
`git archive HEAD` holds), as Colab downloads them from the repository: a result file that is not committed, or
a chapter that opens a repository file any other way, fails here (test_notebooks.py also forbids repository
paths in chapter code).
"""

import functools
import http.server
import importlib.metadata
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import zipfile

import pytest
from test_notebooks import NOTEBOOKS  # every chapter in _toc.yml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "memoroids_lite"
# What a chapter needs beside the package: the tools that run it as a test (Colab has its own kernel), and the
# package's `book` extra (the quizzes), which every chapter's Colab cell installs.
KERNEL_TOOLS = ["pytest", "nbval", "ipykernel", "nbclient"]
BOOK_EXTRA = "book"


def checkout_modules() -> set[str]:
    """Every module of the package in this checkout, as dotted names."""
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / PACKAGE).rglob("*.py")
    }


def run(command, cwd, env=None, timeout=900):
    """Run `command`; on failure, fail the test with the end of its output."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def clean_tree(target: pathlib.Path) -> pathlib.Path:
    """A copy of the working tree's files that git tracks or would track (no build leftovers such as an
    egg-info, which setuptools would reuse): what `pip install git+<repository>` clones."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """(sdist, wheel) built from a clean copy of this checkout the way pip builds them: the wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    tree = clean_tree(tmp_path_factory.mktemp("tree"))
    run([sys.executable, "-m", "build", "--outdir", out, tree], cwd=out)
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="session")
def venv(dists, tmp_path_factory):
    """A fresh virtual environment holding the wheel and its declared dependencies, nothing else.

    Dependencies are constrained to the versions of the environment running the tests, so the pinned, newest
    and lowest CI environments each test the wheel with their own versions.
    """
    folder = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", folder / "env"], cwd=folder)
    python = folder / "env" / "bin" / "python"
    constraints = folder / "constraints.txt"
    constraints.write_text("".join(
        f"{dist.metadata['Name']}=={dist.version}\n" for dist in importlib.metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].replace("-", "_").lower() != PACKAGE
    ))
    run([python, "-m", "pip", "install", "-q", "-c", constraints, dists[1]], cwd=folder)
    # what the wheel's install alone brought, before the chapter tests add their tools to this environment
    installed = json.loads(run([python, "-m", "pip", "list", "--format", "json"], cwd=folder))
    return python, constraints, {row["name"].lower().replace("_", "-") for row in installed}


@pytest.fixture(scope="session")
def outside(tmp_path_factory):
    """A working folder outside the repository."""
    folder = tmp_path_factory.mktemp("outside")
    assert not folder.resolve().is_relative_to(ROOT)
    return folder


def test_sdist_and_wheel_hold_every_module(dists):
    sdist, wheel = dists
    expected = {f"{name.replace('.', '/')}.py" for name in checkout_modules()}
    expected |= {f"{name.replace('.', '/')}/__init__.py" for name in checkout_modules()
                 if (ROOT / name.replace(".", "/")).is_dir()}
    expected = {name for name in expected if (ROOT / name).is_file()}
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert not expected - in_wheel, f"the wheel lacks {sorted(expected - in_wheel)}"
    assert not expected - in_sdist, f"the sdist lacks {sorted(expected - in_sdist)}"


def test_lowest_tested_versions_are_the_declared_bounds():
    """.ci/lowest.txt installs exactly pyproject.toml's lower bounds, its extras' included: the bounds are versions
    CI has run."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [dep for extra in project.get("optional-dependencies", {}).values()
                                          for dep in extra]
    bounds = dict(re.fullmatch(r"([\w.-]+)>=([\w.]+)", dep.replace(" ", "")).groups() for dep in declared)
    pins = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines()]
    assert dict(pin.split("==") for pin in pins if pin) == bounds


def test_only_declared_dependencies_are_installed(venv):
    _, _, names = venv
    assert PACKAGE.replace("_", "-") in names
    assert not names & set(KERNEL_TOOLS), "installing the wheel must not bring the test tools"


def test_every_module_imports_outside_the_repository(venv, outside):
    python, _, _ = venv
    script = (
        "import importlib, importlib.util, pkgutil, memoroids_lite\n"
        "found = pkgutil.walk_packages(memoroids_lite.__path__, 'memoroids_lite.')\n"
        "names = ['memoroids_lite'] + [m.name for m in found]\n"
        "for name in names:  # a __main__ runs its command line: found here, started below\n"
        "    (importlib.util.find_spec if name.endswith('__main__') else importlib.import_module)(name)\n"
        "print(memoroids_lite.__file__)\n"
        "print('\\n'.join(sorted(names)))\n"
    )
    where, *imported = run([python, "-c", script], cwd=outside).splitlines()
    assert pathlib.Path(where).resolve().is_relative_to(python.parents[1].resolve()), f"imported {where}, not the wheel"
    assert set(imported) == checkout_modules()


def test_command_lines_start_and_train_outside_the_repository(venv, outside):
    python, _, _ = venv
    assert "--batching" in run([python, "-m", "memoroids_lite.train", "--help"], cwd=outside)
    assert "tape-vs-segment" in run([python, "-m", "memoroids_lite.experiments", "--help"], cwd=outside)
    run([python, "-m", "memoroids_lite.train", "--env", "RepeatPrevious", "--env-kwargs", '{"num_decks": 1, "k": 3}',
         "--model", "lru", "--seeds", "1", "--warmup-steps", "504", "--train-steps", "112",
         "--set", "features=8", 'model_kwargs={"hidden": 4}', "rollout_length=7", "num_envs=8", "batch_size=32",
         "buffer_size=1000", "eval_interval=1", "eval_episodes=2", "--out", "tiny"], cwd=outside)
    rows = (outside / "tiny" / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("seed,") and len(rows) > 1, rows


def test_readme_package_example_runs_outside_the_repository(venv, outside):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The package alone"):]
    example = section[section.index("```python") + len("```python"):].split("```")[0]
    assert "memoroids_lite" in example
    run([venv[0], "-c", example], cwd=outside)


# --- Every chapter, the Colab way ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repository(tmp_path_factory):
    """The download address of a local server that serves the committed files of this checkout."""
    served = tmp_path_factory.mktemp("repository")
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", served], input=archive, check=True)
    handler = functools.partial(QuietHandler, directory=served)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def kernel(venv, dists):
    """The wheel's environment with the tools that run a chapter as a test, and the book extra, added."""
    python, constraints, _ = venv
    with_extra = f"{dists[1]}[{BOOK_EXTRA}]"  # the wheel again, now with what the Colab cell adds
    run([python, "-m", "pip", "install", "-q", "-c", constraints, with_extra, *KERNEL_TOOLS], cwd=python.parent)
    return python


@pytest.fixture(scope="session")
def timings():
    """_build/chapters_fast-<worker>.csv: each chapter's wall time at the fast budget, from this run, one file per
    pytest-xdist worker (.ci/run prints them)."""
    import os

    report = ROOT / "_build" / f"chapters_fast-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.csv"
    report.parent.mkdir(exist_ok=True)
    report.write_text("chapter,seconds\n")
    return report


@pytest.fixture(scope="session")
def compilation_cache(tmp_path_factory):
    """One JAX compilation cache for the chapters a worker runs: a student edition, and a chapter that compiles
    what an earlier one did, load the compiled code instead of compiling it again (the same code runs)."""
    return tmp_path_factory.mktemp("jax_cache")


def run_chapter_outside_the_repository(notebook, kernel, repository, timings, compilation_cache, tmp_path):
    """The chapter alone in an empty folder, at the fast budget, its outputs compared by nbval."""
    shutil.copy(notebook, tmp_path)
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", tmp_path)
    env = {"PATH": f"{kernel.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "BOOK_FAST": "1",
           "JAX_PLATFORMS": "cpu", "MEMOROIDS_FILES_URL": repository,
           "JAX_COMPILATION_CACHE_DIR": str(compilation_cache), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    begin = time.perf_counter()
    run([kernel, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "nbval_sanitize.cfg", notebook.name], cwd=tmp_path, env=env, timeout=1800)
    with open(timings, "a") as f:
        f.write(f"{notebook.stem},{time.perf_counter() - begin:.1f}\n")
    run_student_edition(notebook, kernel, env, timings, tmp_path)


# Executes a notebook in the kernel's environment and saves it with its outputs (no comparison: the student
# edition stores none).
EXECUTE = ("import sys, nbclient, nbformat\n"
           "nb = nbformat.read(sys.argv[1], 4)\n"
           "nbclient.NotebookClient(nb, timeout=1800, kernel_name='python3').execute()\n"
           "nbformat.write(nb, sys.argv[2])\n")


def run_student_edition(notebook, kernel, env, timings, tmp_path):
    """The chapter's student edition (student/NN_name.ipynb), alone in an empty folder, run to the end at the
    fast budget: every skeleton runs and prints its checker's verdict (not yet solved) instead of crashing."""
    student = ROOT / "student" / notebook.name
    if not student.exists():
        return
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy(student, folder)
    begin = time.perf_counter()
    run([kernel, "-c", EXECUTE, student.name, "executed.ipynb"], cwd=folder, env=env, timeout=1800)
    with open(timings, "a") as f:
        f.write(f"student/{notebook.stem},{time.perf_counter() - begin:.1f}\n")
    executed = json.loads((folder / "executed.ipynb").read_text())
    printed = "".join("".join(out.get("text", "")) for cell in executed["cells"] if cell["cell_type"] == "code"
                      for out in cell["outputs"])
    for cell in executed["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and 'passed = check("' in text:
            label = text.split('passed = check("')[1].split('"')[0]
            assert f"✗ {label}: " in printed, f"student/{notebook.name}: the skeleton of {label} printed no verdict"


# The chapters in four classes: pytest-xdist's loadscope sends each class to a free worker as a whole, so the
# quarters (each a few minutes) fill the two workers evenly beside the unit tests.
@pytest.mark.chapters
class TestChaptersFirstQuarter:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[0::4], ids=lambda p: p.stem)
    def test_runs_outside_the_repository(self, notebook, kernel, repository, timings, compilation_cache, tmp_path):
        run_chapter_outside_the_repository(notebook, kernel, repository, timings, compilation_cache, tmp_path)


@pytest.mark.chapters
class TestChaptersSecondQuarter:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[1::4], ids=lambda p: p.stem)
    def test_runs_outside_the_repository(self, notebook, kernel, repository, timings, compilation_cache, tmp_path):
        run_chapter_outside_the_repository(notebook, kernel, repository, timings, compilation_cache, tmp_path)


@pytest.mark.chapters
class TestChaptersThirdQuarter:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[2::4], ids=lambda p: p.stem)
    def test_runs_outside_the_repository(self, notebook, kernel, repository, timings, compilation_cache, tmp_path):
        run_chapter_outside_the_repository(notebook, kernel, repository, timings, compilation_cache, tmp_path)


@pytest.mark.chapters
class TestChaptersFourthQuarter:
    @pytest.mark.parametrize("notebook", NOTEBOOKS[3::4], ids=lambda p: p.stem)
    def test_runs_outside_the_repository(self, notebook, kernel, repository, timings, compilation_cache, tmp_path):
        run_chapter_outside_the_repository(notebook, kernel, repository, timings, compilation_cache, tmp_path)
