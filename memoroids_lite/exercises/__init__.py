"""Checkers for the book's exercises: `check(label, answer)` says right or wrong, with a hint when wrong.

    from memoroids_lite.exercises import check
    check("ex-resets-count", count_since_start)   # prints ✓ or ✗ with a hint; returns True or False

A checker calls the answer on inputs of its own (random tapes, resets at the first step, one-step episodes, ...)
and compares its behaviour with the right one; it never raises on a wrong, blank (None, `...`) or crashing
answer, so a notebook of exercises runs to the end. `skeleton(label)` is the code a student fills in; the
student edition of the book (tools/student_edition.py) puts it where the solution was.
"""

from memoroids_lite.exercises import foundations, memoroids, ppo, reproducing, rl, scaling
from memoroids_lite.exercises.checking import Exercise, verdict

EXERCISES: dict[str, Exercise] = {e.label: e for part in (foundations, memoroids, rl, reproducing, ppo, scaling)
                                   for e in part.EXERCISES}
LABELS = tuple(EXERCISES)


def _exercise(label: str) -> Exercise:
    if label not in EXERCISES:
        raise KeyError(f"no checker for the exercise {label!r}; the exercises with checkers are: "
                       f"{', '.join(LABELS)}")
    return EXERCISES[label]


def check(label: str, answer) -> bool:
    """Check `answer` to the exercise `label`; print the verdict (with a hint when wrong); True iff right.

    Raises KeyError only for a label that has no checker (the message lists those that have one).
    """
    return verdict(_exercise(label), answer)


def skeleton(label: str) -> str:
    """The code a student fills in for the exercise `label`: it ends by calling `check`."""
    return "from memoroids_lite.exercises import check\n\n\n" + _exercise(label).skeleton


__all__ = ["EXERCISES", "LABELS", "check", "skeleton"]
