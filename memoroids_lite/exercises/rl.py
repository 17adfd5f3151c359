"""Checkers for Part III, Recurrent RL (chapters 12-15): what segments can and cannot learn."""

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, returned


def test_repeat_first_coverage(repeat_first_coverage):
    for L in (1, 10, 17, 20, 50, 51, 100):
        got = returned(repeat_first_coverage(L), "repeat_first_coverage")
        if got.shape != ():
            raise Wrong(f"repeat_first_coverage({L}) must be one number, got shape {got.shape}.")
        if not np.isclose(got, min(L, 51) / 51, atol=1e-6):
            raise Wrong(f"repeat_first_coverage({L}) = {float(got):.3f} is wrong: which of the 51 rewarded steps "
                        "share a segment with o_0?")


EXERCISES = [
    Exercise("ex-ch13-coverage-rf", test_repeat_first_coverage, answer="repeat_first_coverage", skeleton='''\
def repeat_first_coverage(L):
    """The share of Repeat First's 51 rewarded steps whose segment of length L holds o_0."""
    ...  # your code


passed = check("ex-ch13-coverage-rf", repeat_first_coverage)'''),
]
