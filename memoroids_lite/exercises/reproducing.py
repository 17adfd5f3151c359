"""Checkers for Part IV, Reproducing the paper (chapters 16-17): how much 3 seeds can say, and what an ideal
agent's memory looks like."""

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, number, parts, returned


def test_chance_all_ahead(chance_all_ahead):
    for n in (3, 1, 10, 5):
        p = number(chance_all_ahead(n), f"chance_all_ahead({n})")
        if np.isclose(p, 0.5**n, rtol=1e-9, atol=0):
            raise Wrong(f"chance_all_ahead({n}) = {p:g} is the chance that one given batching is ahead in all {n} "
                        "seeds; the question asks how likely it is that either one is.")
        if not np.isclose(p, 2 * 0.5**n, rtol=1e-9, atol=0):
            raise Wrong(f"chance_all_ahead({n}) = {p:g} is wrong: in how many ways can one batching be ahead in "
                        f"all {n} independent seed pairs, and how likely is each?")


def test_ideal_profile(answer):
    ideal_profile, share, vml = parts(answer, 3, "a triple (ideal_profile, ideal_share, ideal_vml): the profile as "
                                      "a function of the episode's length, and the two numbers")
    for length in (104, 10, 11, 52):
        s = returned(ideal_profile(length), "ideal_profile")
        if s.shape != (length,):
            raise Wrong(f"ideal_profile({length}) must give one number per observation, shape ({length},), oldest "
                        f"first; got shape {s.shape}.")
        if not np.isclose(s.sum(), 1, atol=1e-6):
            raise Wrong(f"ideal_profile({length}) sums to {s.sum():.4f}: S is normalised to sum to one.")
        want = np.eye(length)[length - 10]  # all of S on o_(n-9), age -9
        if not np.allclose(s, want, atol=1e-6):
            ages = (np.flatnonzero(np.abs(s) > 1e-6) - (length - 1)).tolist()
            raise Wrong(f"ideal_profile({length}) puts weight on the ages {ages[:12]} (the last observation has age "
                        "0): which observations does the terminal reward depend on, in a task whose episodes all "
                        "have the same length?")
    share = number(share, "ideal_share")
    if abs(share) > 1e-9:
        raise Wrong(f"share_older_than(S, 10) = {share:g} is wrong: which ages does it add up, and how much of an "
                    "ideal S lies there?")
    vml = number(vml, "ideal_vml")
    if vml != 10:
        raise Wrong(f"value_memory_length(S, 0) = {vml:g} is wrong: with tolerance 0 it is the fewest latest "
                    "observations that hold all of S.")


EXERCISES = [
    Exercise("ex-ch16-seeds", test_chance_all_ahead, answer="chance_all_ahead", skeleton='''\
def chance_all_ahead(n):
    """The chance that one of two equally good batchings is ahead in all n seeds."""
    ...  # your code


passed = check("ex-ch16-seeds", chance_all_ahead)'''),
    Exercise("ex-ch17-ideal", test_ideal_profile, answer="(ideal_profile, ideal_share, ideal_vml)", skeleton='''\
def ideal_profile(length):
    """An ideal agent's S on Repeat Previous (k = 10): one number per observation."""
    ...  # your code


ideal_share = ...  # your code: what share_older_than(S, 10) returns
ideal_vml = ...  # your code: what value_memory_length(S, 0) returns

passed = check("ex-ch17-ideal", (ideal_profile, ideal_share, ideal_vml))'''),
]
