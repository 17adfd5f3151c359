"""The machinery every checker shares: an exercise, its verdict, and the rule that a checker never raises.

A checker is a function `test(answer)` that calls the student's answer on inputs of its own choosing and raises
`Wrong(hint)` at the first behaviour that differs from the right one. The hint says what went wrong (which input,
which property), never how to fix it. `verdict` turns whatever happens (a wrong result, a blank answer, an
answer that crashes) into one printed line and True or False, so a notebook of exercises runs to the end.
"""

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class Wrong(Exception):
    """Raised by a checker: the answer behaves differently from the right one; the message is the hint."""


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise of the book.

    label: the exercise's `:label:` in its chapter. test: raises `Wrong(hint)` when the answer is wrong.
    skeleton: the code a student fills in (it defines `answer` and ends by calling `check`). answer: the name
    (or tuple expression) the skeleton and the book's solution pass to `check`.
    """

    label: str
    test: Callable[[Any], None]
    skeleton: str
    answer: str


def is_blank(answer) -> bool:
    """None, `...`, or a tuple of them: nothing filled in yet."""
    if isinstance(answer, tuple):
        return any(is_blank(part) for part in answer)
    return answer is None or answer is Ellipsis


def verdict(exercise: Exercise, answer) -> bool:
    """Run the checker on `answer`, print one line saying right or wrong (with a hint), return True iff right."""
    label = exercise.label
    if is_blank(answer):
        print(f"✗ {label}: no answer yet. Fill in `{exercise.answer}` and run the cell again.")
        return False
    try:
        exercise.test(answer)
    except Wrong as hint:
        print(f"✗ {label}: not yet. Hint: {hint}")
        return False
    except Exception as error:  # the answer crashed: say so, never raise into the student's notebook
        message = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        print(f"✗ {label}: your answer raised {type(error).__name__}: {message}. Hint: run it on a small input "
              "by hand and read the error.")
        return False
    print(f"✓ {label}: correct.")
    return True


def returned(value, what: str) -> np.ndarray:
    """The answer's result as a float64 NumPy array; `Wrong` if the answer returned nothing."""
    if value is None or value is Ellipsis:
        raise Wrong(f"{what} returned None: fill in its body and return the result.")
    return np.asarray(value, np.float64)


def number(value, what: str) -> float:
    """The answer (or what it returned) as one finite float; `Wrong` if it is not one number."""
    if value is None or value is Ellipsis:
        raise Wrong(f"{what} is None: fill in your answer (a function must return its result).")
    try:
        array = np.asarray(value)
        if np.iscomplexobj(array):
            raise Wrong(f"{what} must be a real number, got a complex one.")
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} must be one number, got {type(value).__name__}.") from None
    if array.shape != ():
        raise Wrong(f"{what} must be one number, got an array of shape {array.shape}.")
    if not np.isfinite(array):
        raise Wrong(f"{what} is {float(array)}: a finite number is expected.")
    return float(array)


def parts(answer, count: int, what: str) -> tuple:
    """The `count` parts of a tuple answer; `Wrong(what)` (what to hand in) if it has another shape."""
    if not isinstance(answer, tuple | list) or len(answer) != count:
        raise Wrong(f"hand in {what}.")
    return tuple(answer)


def expect_close(got, want, hint: str, *, rtol=1e-4, atol=1e-5) -> None:
    """`Wrong(hint)` unless `got` has `want`'s shape and values (within tolerance)."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Wrong(f"expected an array of shape {want.shape}, got shape {got.shape}. {hint}")
    if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=False):
        raise Wrong(hint)


def random_starts(rng: np.random.Generator, length: int, p: float = 0.25) -> np.ndarray:
    """bool[length] episode-start flags with start[0] True."""
    start = rng.random(length) < p
    start[0] = True
    return start
