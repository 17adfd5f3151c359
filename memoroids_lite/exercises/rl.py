"""Checkers for Part III, Recurrent RL (chapters 12-15): what memory tasks pay, what segments can and cannot learn."""

from fractions import Fraction

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, number, parts, returned


def test_constant_return(constant_return):
    got = number(constant_return, "constant_return")
    want = (2 * (1 + 26 / 27) - 51) / 51
    if abs(got - want) <= 5e-4:
        return
    if not -1 <= got <= 1:
        raise Wrong(f"{got:.4f} is not a return of Count Recall: each of the 51 answered steps gives +1/51 or -1/51.")
    if abs(got - (2 / 27 - 1)) <= 5e-4:
        raise Wrong("that is the random agent's return. A constant answer c is right only at the steps where the "
                    "count of the queried colour equals c: how many are they, on average?")
    if abs(got - (2 * 26 / 27 - 51) / 51) <= 5e-4:
        raise Wrong(f"{got:.4f} counts too few right answers: is the step at which the c-th card is dealt one of "
                    "the steps where the count equals c?")
    raise Wrong(f"{got:.4f} is wrong: find the expected number of steps at which the queried colour's count "
                "equals c, then turn the right and wrong answers into a return.")


def _rho(L, n=51):
    """The share of real transitions in the fragments of one episode of n steps: an exact fraction."""
    return Fraction(n, L * -(-n // L))


def _lengths(value, what: str) -> set[int]:
    """A set of whole segment lengths between 10 and 100, from one length or a collection of them."""
    if value is None or value is Ellipsis:
        raise Wrong(f"{what} is None: fill it in.")
    values = list(value) if isinstance(value, set | frozenset | tuple | list | range) else np.ravel(value).tolist()
    lengths = set()
    for v in values:
        try:
            whole = float(v) == int(v)
        except (TypeError, ValueError):
            whole = False
        if not (whole and 10 <= int(v) <= 100):
            raise Wrong(f"{what} holds {v!r}: give whole segment lengths between 10 and 100.")
        lengths.add(int(v))
    if not lengths:
        raise Wrong(f"{what} is empty: give at least one segment length.")
    return lengths


def test_least_and_most_waste(answer):
    least, most = parts(answer, 2, "a pair (least_waste, most_waste), each a set of segment lengths")
    rho = {L: _rho(L) for L in range(10, 101)}
    for name, given, extreme, better in (("least_waste", least, max(rho.values()), "less"),
                                         ("most_waste", most, min(rho.values()), "more")):
        given = _lengths(given, name)
        for L in sorted(given):
            if rho[L] != extreme:
                raise Wrong(f"{name} holds L = {L}, with rho = {float(rho[L]):.2f}, but another length between 10 and "
                            f"100 wastes {better}.")
        if given != {L for L in rho if rho[L] == extreme}:
            raise Wrong(f"{name} misses a length that wastes exactly as {'little' if better == 'less' else 'much'} as "
                        f"{sorted(given)}: there is a tie.")


def test_sliding_share(sliding_share):
    for L in (10, 9, 17, 20, 50, 100):
        got = number(sliding_share(L), f"sliding_share({L})")
        if not np.isclose(got, (L - 9) / L, atol=1e-6):
            raise Wrong(f"sliding_share({L}) = {got:.3f} is wrong: at which positions k of a window (counted from 0) "
                        "does the window hold the card 9 steps back?")


def test_repeat_first_coverage(repeat_first_coverage):
    for L in (1, 10, 17, 20, 50, 51, 100):
        got = returned(repeat_first_coverage(L), "repeat_first_coverage")
        if got.shape != ():
            raise Wrong(f"repeat_first_coverage({L}) must be one number, got shape {got.shape}.")
        if not np.isclose(got, min(L, 51) / 51, atol=1e-6):
            raise Wrong(f"repeat_first_coverage({L}) = {float(got):.3f} is wrong: which of the 51 rewarded steps "
                        "share a segment with o_0?")


EXERCISES = [
    Exercise("ch12-ex-constant", test_constant_return, answer="constant_return", skeleton='''\
constant_return = ...  # your code: the expected return of a constant answer c

passed = check("ch12-ex-constant", constant_return)'''),
    Exercise("ex-ch13-density", test_least_and_most_waste, answer="(least_waste, most_waste)", skeleton='''\
least_waste = ...  # your code: the set of lengths (10 to 100) that waste the least
most_waste = ...  # your code: the set of lengths (10 to 100) that waste the most

passed = check("ex-ch13-density", (least_waste, most_waste))'''),
    Exercise("ex-ch13-coverage-rf", test_repeat_first_coverage, answer="repeat_first_coverage", skeleton='''\
def repeat_first_coverage(L):
    """The share of Repeat First's 51 rewarded steps whose segment of length L holds o_0."""
    ...  # your code


passed = check("ex-ch13-coverage-rf", repeat_first_coverage)'''),
    Exercise("ex-ch13-sliding", test_sliding_share, answer="sliding_share", skeleton='''\
def sliding_share(L):
    """The share of a window's rewarded transitions that see their card (L >= 9)."""
    ...  # your code


passed = check("ex-ch13-sliding", sliding_share)'''),
]
