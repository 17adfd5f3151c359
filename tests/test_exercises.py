"""The exercises' checkers, two-sided: the book's own solutions pass them, wrong answers fail them with a hint.

Every exercise of the book carries a difficulty (★ to ★★★) and a time in its title. Every checker belongs to an
exercise of the book, and every exercise without a checker says below why it has none. The book's solutions are
taken from the chapters themselves: the definitions (imports, functions, classes, UPPER_CASE constants and the
answer) of the solution cell that calls `check`, run after the chapter's imports; nbval runs the same cells in
the chapters.
"""

import ast
import json
import math
import pathlib
import re
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from memoroids_lite import Monoid, returns_to_go, scan
from memoroids_lite.examples import sum_monoid
from memoroids_lite.exercises import LABELS, check, skeleton

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from student_edition import FENCE, chapters  # noqa: E402

EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)\n:label: (\S+)", re.M)
MARKS = re.compile(r"(?:^|· )★{1,3} · \d+ min$")

# Exercises without a checker, and why. An answer in words (a proof, an explanation, a counter-example of the
# student's own choosing) has nothing a program can compare with the right one.
ESSAY = "the answer is an explanation in words"
EXPERIMENT = "the answer is an experiment to run and interpret (training, timing or a buffer), not a value"
NO_CHECKER = {
    "ch02-ex-max": "a proof (the monoid laws of max with -inf) and a counter-example in words (0 fails the identity "
                   "law on negative numbers)",
    "ch02-ex-functions": "a proof (composition is a monoid) and an explanation (why the affine monoid stores (a, b), "
                         "not the function)",
    "ex-scans-commutativity": "a proof in words (parallel scans only move brackets, never operands) and a "
                              "counter-example of the student's own choosing (any commutative operation that is not "
                              "associative)",
    "ex-resets-nan": ESSAY + ": which monoid breaks the arithmetic form, and why",
    "ex-resets-or": "a counter-example of the student's own choosing (three elements that break associativity; the "
                    "solution's check_monoid finds one) and an explanation of the flag",
    "ex-resets-bootstrap": ESSAY + ": which episode `initial` reaches (the code only confirms it)",
    "ex-returns-flags": ESSAY,
    "ex-returns-unstable": "a proof of the identity the exercise states, and a float32 experiment whose error depends "
                           "on the rewards drawn",
    "ch06-ex-state": ESSAY,
    "ch06-ex-attention": "a proof (softmax attention is a memoroid over the free monoid of lists) and an asymptotic "
                         "cost in words, O(n^2)",
    "ch07-ex-retention": "a proof (the monoid laws of the decayed element); its model is checked by check_memoroid "
                         "in the chapter",
    "ch07-ex-multihead": ESSAY,
    "ch07-ex-average": "a proof (the read-out is a convex combination of the values) and an explanation (memax's "
                       "normaliser)",
    "ch08-ex-matrix": "the name of a law (closure) and an explanation in words of why diagonal storage hides it",
    "ch08-ex-ring": EXPERIMENT,
    "ex-ffm-irregular": "a proof (the laws hold for real durations); the prefix's closed form is what the solution's "
                        "code compares with an explicit sum",
    "ex-ffm-relative": "the answer is a one-character edit of a chapter cell, checked there against one call",
    "ex-compare-combines": EXPERIMENT, "ex-compare-memory": EXPERIMENT, "ex-compare-own": EXPERIMENT,
    "ch12-ex-random-return": "a proof of the formula the exercise states, -1 + 2/|A|, and an explanation (why "
                             "Autoencode's random return is -0.5 too)",
    "ch12-ex-delay-line": "the chapter's own cell checks the policy's return",
    "ch12-ex-flag": ESSAY,
    "ex-ch13-burnin-gradient": "a derivation in words of where the gradient reaches (the solution's code confirms "
                               "it), and its cost",
    "ex-ch14-draws": "an argument in words with two example buffers of the student's choosing; the number of draws, "
                     "B + 1, is given in the exercise",
    "ex-ch14-per-transition": EXPERIMENT, "ex-ch14-priority": EXPERIMENT,
    "ex-ch15-gamma": ESSAY, "ex-ch15-budget": EXPERIMENT + " (it reads the chapter's configuration)",
    "ex-ch15-segments-at-test": EXPERIMENT, "ex-ch16-ci": EXPERIMENT,
    "ex-ch17-segments-at-test": ESSAY,
    "ex-ch18-whole-episodes": "a rollout of the student's own construction and an explanation in words (the "
                              "solution's code shows the two losses agree, then differ)",
    "ex-ch18-reuse": EXPERIMENT,
    "ex-ch19-plan": ESSAY, "ex-ch19-measure": EXPERIMENT,
    "ex-ch19-data-parallel": EXPERIMENT + " (a compiled program's collectives and a comparison of metrics)",
}


def exercises() -> dict[str, tuple[pathlib.Path, str]]:
    """{label: (chapter, title)} for every exercise of the book."""
    found = {}
    for path in chapters():
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                for match in EXERCISE.finditer("".join(cell["source"])):
                    found[match.group(3)] = (path, match.group(2).strip())
    return found


def solution_cells(path: pathlib.Path) -> dict[str, list[str]]:
    """{label: [source of each code cell of its gated solution]} for one chapter."""
    found, label = {}, None
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code" and label:
            found[label].append("".join(cell["source"]))
        elif cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                match = FENCE.match(line)
                if match and match.group(2) == "solution-start":
                    label = match.group(3)
                    found[label] = []
                elif match and match.group(2) == "solution-end":
                    label = None
    return found


def chapter_imports(path: pathlib.Path) -> str:
    """Every top-level import statement of a chapter's code cells (cells with IPython magics are skipped)."""
    lines = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            lines += [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "\n".join(lines)


def book_answer(label: str):
    """The book's answer to `label`: its solution cell's definitions run after the chapter's imports."""
    path, _ = exercises()[label]
    calls = [(source, node) for source in solution_cells(path).get(label, [])
             for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "check" and ast.literal_eval(node.args[0]) == label]
    assert len(calls) == 1, f"{path.name}: the solution of {label} must call check({label!r}, ...) once"
    source, call = calls[0]
    answer = call.args[1]
    names = {n.id for n in ast.walk(answer) if isinstance(n, ast.Name)}
    kept = [n for n in ast.parse(source).body
            if isinstance(n, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef)
            or isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) and (t.id.isupper() or t.id in names)
                                                 for t in n.targets)]
    namespace = {}
    exec(chapter_imports(path), namespace)
    exec(ast.unparse(ast.Module(kept, type_ignores=[])), namespace)
    return eval(ast.unparse(answer), namespace)


def test_every_exercise_shows_its_difficulty_and_time():
    found = exercises()
    assert len(found) >= 50, f"found only {len(found)} exercises"
    for label, (path, title) in found.items():
        assert MARKS.search(title), (f"{path.name}: exercise {label} has the title {title!r}; end it with a "
                                     "difficulty and a time, e.g. 'Title · ★★ · 20 min'")


def test_every_exercise_has_a_checker_or_a_reason():
    book = set(exercises())
    assert set(LABELS) <= book, f"checkers for exercises the book does not have: {set(LABELS) - book}"
    assert not set(LABELS) & set(NO_CHECKER), f"both a checker and a reason: {set(LABELS) & set(NO_CHECKER)}"
    assert book - set(LABELS) == set(NO_CHECKER), (
        f"exercises with neither a checker nor a reason: {book - set(LABELS) - set(NO_CHECKER)}; "
        f"reasons for exercises the book does not have: {set(NO_CHECKER) - book}")


@pytest.mark.parametrize("label", LABELS)
def test_the_books_solution_passes_its_checker(label, capsys):
    assert check(label, book_answer(label)), capsys.readouterr().out
    assert f"✓ {label}: correct." in capsys.readouterr().out


@pytest.mark.parametrize("label", LABELS)
def test_blank_crashing_and_skeleton_answers_fail_cleanly(label, capsys):
    def crashes(*args, **kwargs):
        raise ValueError("boom")

    namespace = {}
    exec(chapter_imports(exercises()[label][0]), namespace)  # the skeleton runs after the chapter's imports
    exec(skeleton(label).replace("passed = check", "skeleton_passed = check"), namespace)  # the student's start
    for answer in (None, ..., crashes, 42):
        assert check(label, answer) is False
        assert f"✗ {label}:" in capsys.readouterr().out
    assert namespace["skeleton_passed"] is False


def test_an_unknown_label_lists_the_known_ones():
    with pytest.raises(KeyError, match="ex-resets-count"):
        check("ex-no-such-thing", lambda x: x)


def ones_since(start, flags):
    return scan(sum_monoid(), jnp.ones(start.shape), start=flags)


def swapped(monoid):  # the wrong combine order
    return Monoid(monoid.identity, lambda earlier, later: monoid.combine(later, earlier))


def exclusive(monoid, elems, inclusive=False):
    import jax

    out = scan(monoid, elems)
    if inclusive:
        return out
    first = jax.tree.map(lambda e, x: jnp.broadcast_to(e, x.shape[1:])[None].astype(x.dtype), monoid.identity(),
                         elems)
    return jax.tree.map(lambda f, x: jnp.concatenate([f, x[:-1]]), first, out)


def lambda_return(gamma_factor=True, terminated_stops=True, stops_at_done=True):
    def answer(rewards, next_values, terminated, done, gamma, lam):
        bootstrap = jnp.where(done, 1.0, 1 - lam)
        if terminated_stops:
            bootstrap = jnp.where(terminated, 0.0, bootstrap)
        x = rewards + gamma * bootstrap * next_values
        ends = done if stops_at_done else terminated.at[-1].set(True)
        return returns_to_go(x, ends, gamma * lam if gamma_factor else gamma)

    return answer


def naive_variance():
    triple = Monoid(lambda: (jnp.zeros(()),) * 3, lambda p, q: tuple(a + b for a, b in zip(p, q)))
    return triple, lambda x: (jnp.ones_like(x), x, x * x), lambda e: e[2] / e[0] - (e[1] / e[0]) ** 2


def argmin_ties_to_the_later():
    def combine(p, q):
        take_p = p[0] < q[0]
        return jnp.where(take_p, p[0], q[0]), jnp.where(take_p, p[1], q[1])

    return Monoid(lambda: (jnp.array(jnp.inf), jnp.array(2**31 - 1)), combine)


def flags_one_based(start):
    t = jnp.arange(len(start))
    import jax

    return jnp.cumsum(start), t - jax.lax.cummax(jnp.where(start, t, 0)), start[1:]


MISTAKES = {  # typical wrong answers: each must fail with the hint quoted
    "count from 0": ("ex-resets-count", lambda s: ones_since(s, s) - 1, "count it as 1"),
    "no reset": ("ex-resets-count", lambda s: jnp.cumsum(jnp.ones(s.shape)), "start again"),
    "reset one step late": ("ex-resets-count", lambda s: ones_since(s, jnp.roll(s, 1).at[0].set(True)),
                            "start again"),
    "missing (1 - terminated)": ("ex-returns-lambda", lambda_return(terminated_stops=False), "terminated"),
    "discount γ instead of γλ": ("ex-returns-lambda", lambda_return(gamma_factor=False), "discount"),
    "sum not stopped at truncation": ("ex-returns-lambda", lambda_return(stops_at_done=False), "Hint"),
    "wrong combine order": ("ex-scans-exclusive", lambda m, e: exclusive(swapped(m), e), "in order"),
    "inclusive scan": ("ex-scans-exclusive", lambda m, e: exclusive(m, e, inclusive=True), "identity"),
    "ties to the later index": ("ch02-ex-argmin", argmin_ties_to_the_later(), "ties"),
    "(n, Σx, Σx²) in float32": ("ch02-ex-variance", naive_variance(), "precision"),
    "episodes numbered from 1": ("ch01-ex-flags", flags_one_based, "number 0"),
    "|λ| uniform instead of |λ|²": ("ch08-ex-timescales",
                                    lambda L, lo, hi: min(max((hi - 2.718281828 ** (-1 / L)) / (hi - lo), 0), 1)
                                    if hi > lo else 0.0, "uniform"),
    "no clipping": ("ch08-ex-timescales", lambda L, lo, hi: (hi**2 - 2.718281828 ** (-2 / L)) / (hi**2 - lo**2),
                    "[0, 1]"),
    "no modulus squared": ("ch09-ex-variance", lambda lam, d: abs((2.718281828 ** (lam * d) - 1) / lam) ** 2
                           / (1 - abs(2.718281828 ** (lam * d))), "squared"),
    "bilinear with a sign flipped": ("ch09-ex-bilinear", lambda lam, d: ((1 - lam * d / 2) / (1 + lam * d / 2),
                                                                         d / (1 - lam * d / 2)), "Lambda_bar"),
    "coverage not capped at the episode": ("ex-ch13-coverage-rf", lambda L: L / 51, "rewarded steps"),
    "the fair deck's 1/k": ("ch01-ex-deck", lambda p: 1 / len(p), "fair deck"),
    "naming cards with the deck's odds": ("ch01-ex-deck", lambda p: float((p**2).sum()), "probability p_a"),
    "window one step too short": ("ch01-ex-window", lambda w, L: L < w, "window of"),
    "window one step too long": ("ch01-ex-window", lambda w, L: L <= w + 1, "window of"),
    "wasted combines off by one": ("ex-scans-blelloch-count", lambda n: math.log2(n) - 1, "unchanged"),
    "every down-sweep combine": ("ex-scans-blelloch-count", lambda n: n - 1, "some of them"),
    "JAX's count": ("ex-scans-blelloch-count", lambda n: 2 * n - math.log2(n) - 2, "in vain"),
    "the full spacing below 1, 2^-24": ("ch08-ex-float32", (math.log(2**-24), 2**24), "0.99999994"),
    "machine epsilon 2^-23": ("ch08-ex-float32", (math.log(2**-23), 2**23), "just below 1"),
    "ν too far below the edge": ("ch08-ex-float32", (-20.0, math.exp(20.0)), "already is at larger nu"),
    "τ = -ν": ("ch08-ex-float32", (math.log(2**-25), -math.log(2**-25)), "time scale"),
    "B̄ → +B̃/Λ": ("ch09-ex-limits", lambda lam, b: ((1, 0), (0, b / lam)), "sign"),
    "B̄ → B̃ for small steps": ("ch09-ex-limits", lambda lam, b: ((1, b), (0, -b / lam)), "small Delta"),
    "Λ̄ and B̄ swapped": ("ch09-ex-limits", lambda lam, b: ((0, 1), (-b / lam, 0)), "Lambda_bar as Delta -> 0"),
    "overflow one step early": ("ex-ffm-precision", lambda a, dtype: math.floor(math.log(
        float(jnp.finfo(dtype).max)) / a), "one step earlier"),
    "bfloat16 with float16's range": ("ex-ffm-precision", lambda a, dtype: math.ceil(math.log(float(jnp.finfo(
        jnp.float16 if dtype == jnp.bfloat16 else dtype).max)) / a), "exponent bits"),
    "base-10 logarithm": ("ex-ffm-precision", lambda a, dtype: math.ceil(math.log10(float(jnp.finfo(
        dtype).max)) / a), "base-10"),
    "blank sum one term too long": ("ex-ffm-blank", (lambda s, first, blank, g: g**s * first + blank * (
        1 - g ** (s + 1)) / (1 - g), 12.9), "recurrence"),
    "blanks that never decay": ("ex-ffm-blank", (lambda s, first, blank, g: g**s * first + blank * (1 - g**s) / (
        1 - g), 500 / 31), "never forgets"),
    "the random agent's return": ("ch12-ex-constant", 2 / 27 - 1, "random agent"),
    "no right answer at the c-th card": ("ch12-ex-constant", (2 * 26 / 27 - 51) / 51, "c-th card"),
    "right answers, not a return": ("ch12-ex-constant", 53 / 27, "not a return"),
    "one length of a tie": ("ex-ch13-density", ({17}, {50, 100}), "tie"),
    "round numbers waste least": ("ex-ch13-density", ({10, 20}, {50, 100}), "wastes less"),
    "window positions off by one": ("ex-ch13-sliding", lambda L: (L - 10) / L, "positions k"),
    "one given batching, not either": ("ex-ch16-seeds", lambda n: 0.5**n, "either one"),
    "one half whatever the seeds": ("ex-ch16-seeds", lambda n: 0.5, "independent seed pairs"),
    "the weight one step too old": ("ex-ch17-ideal", (lambda n: np.eye(n)[n - 11], 0.0, 10), "ages [-10]"),
    "the weight spread over the last 10": ("ex-ch17-ideal", (lambda n: np.r_[np.zeros(n - 10), np.full(10, 0.1)],
                                                              0.0, 10), "ages [-9, -8"),
    "VML off by one": ("ex-ch17-ideal", (lambda n: np.eye(n)[n - 10], 0.0, 9), "value_memory_length"),
    "P = longest, not longest − 1": ("ex-ch18-prefix", lambda t, l: l / (t + l), "earlier steps"),
    "share of the rollout, not the tape": ("ex-ch18-prefix", lambda t, l: (l - 1) / t, "every slot"),
    "stale by E·M, one too many": ("ex-ch18-stale", lambda e, m: e * m, "one too many"),
    "epochs only": ("ex-ch18-stale", lambda e, m: e - 1, "counts epochs"),
    "one epoch only": ("ex-ch18-stale", lambda e, m: m - 1, "one epoch only"),
    "every part split": ("ex-ch19-amdahl", lambda f, d: d, "computed whole"),
    "the update split, not the collection": ("ex-ch19-amdahl", lambda f, d: 1 / (f + (1 - f) / d),
                                             "part of the chunk that is split"),
    "speed-ups added": ("ex-ch19-amdahl", lambda f, d: f * d + 1 - f, "add the times"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_typical_mistakes_fail_with_a_hint(mistake, capsys):
    label, answer, hint = MISTAKES[mistake]
    assert check(label, answer) is False
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {label}: not yet. Hint:") and hint in out, out


def test_a_memory_layer_combined_in_the_wrong_order_fails(capsys):
    """The decaying sum with the operands of combine swapped: check_memoroid's laws catch it."""
    layer = book_answer("ch06-ex-ema")

    class Swapped(layer):
        def monoid(self):
            return swapped(super().monoid())

    assert check("ch06-ex-ema", Swapped) is False
    assert "check_memoroid fails" in capsys.readouterr().out
