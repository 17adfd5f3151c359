"""Checkers for Part V, Beyond the paper (chapter 19, scaling out): the largest speed-up of a training chunk when
only its acting is split over devices and its update is computed whole on every one (Amdahl's law)."""

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, number


def _close(a, b) -> bool:
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-12))


def test_best_speedup(best_speedup):
    for share, devices in ((0.5, 2), (0.25, 4), (0.9, 8), (0.6, 3), (0.0, 4), (1.0, 4), (0.7, 1)):
        got = number(best_speedup(share, devices), f"best_speedup({share}, {devices})")
        if _close(got, 1 / (1 - share + share / devices)):
            continue
        if _close(got, devices):
            raise Wrong(f"best_speedup({share}, {devices}) = {got:g}, as if the whole chunk were split: the update "
                        "is computed whole on every device and takes as long as on one.")
        if _close(got, 1 / (share + (1 - share) / devices)):
            raise Wrong(f"best_speedup({share}, {devices}) = {got:g} splits the update and keeps the collection "
                        "whole: collect_share is the part of the chunk that is split.")
        if share > 0 and _close(got, devices / share):
            raise Wrong(f"best_speedup({share}, {devices}) = {got:g} leaves out the update, which still takes "
                        "its time on every device.")
        if _close(got, share * devices + 1 - share):
            raise Wrong(f"best_speedup({share}, {devices}) = {got:g} adds speed-ups; add the times of the two "
                        "parts instead, and divide the one-device time by their sum.")
        raise Wrong(f"best_speedup({share}, {devices}) = {got:g} is wrong: on one device a chunk takes 1 (a share "
                    f"{share:g} collecting); how long does it take when only the collection is split?")


EXERCISES = [
    Exercise("ex-ch19-amdahl", test_best_speedup, answer="best_speedup", skeleton='''\
def best_speedup(collect_share, devices):
    """The largest speed-up of a chunk when only its collection is split."""
    ...  # your code


passed = check("ex-ch19-amdahl", best_speedup)'''),
]
