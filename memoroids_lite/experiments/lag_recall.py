"""Why FFM does not solve Repeat Previous at the book's budget while the LRU does: recall at a fixed lag.

Repeat Previous (2 decks, k = 10) asks at every step for the suit of the card dealt 9 steps before. Its memory
problem, without reinforcement learning, is `supervised.copy_with_lag(num_tokens=4, length=103, lag=9)`: a
random suit every step of a 103-step episode, and the target at step t the suit of step t − 9. Each variant
trains on it with `supervised.fit` (Adam, batches of 32 tapes), one run per seed, and the accuracy of every
update is written to lag_recall.csv.

The variants: the LRU and FFM with the paper's memory sizes for Repeat Previous (128 complex states; a trace of
16 × 16), and FFM with its rotation periods started at 2 to 20 steps instead of FFM's own 1 to 1,000. A trace
entry responds to an input s steps old with exp(−s|α|) e^{isω}: with periods of hundreds of steps, ages 8, 9 and
10 differ by a phase of a few hundredths of a turn, and the readout must tell them apart from that alone.

    write(path, scale)   # runs every variant and seed, writes the CSV
    load(path)           # {variant: accuracy [seeds, updates]}
"""

from __future__ import annotations

import csv
import os

import jax
import numpy as np

from memoroids_lite.models import make
from memoroids_lite.supervised import copy_with_lag, fit

VARIANTS = {
    "lru": ("lru", {"hidden": 128}),
    "ffm": ("ffm", {"trace_size": 16, "context_size": 16}),
    "ffm, periods 2-20": ("ffm", {"trace_size": 16, "context_size": 16, "min_period": 2.0, "max_period": 20.0}),
}
SCALES = {"ci": dict(features=16, steps=20, seeds=1), "cpu": dict(features=64, steps=300, seeds=3),
          "paper": dict(features=256, steps=1_000, seeds=10)}


def write(path: str, scale: str) -> str:
    settings = SCALES[scale]
    task = copy_with_lag(num_tokens=4, length=103, lag=9)
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["variant", "seed", "update", "accuracy", "features"])
        for variant, (name, options) in VARIANTS.items():
            for seed in range(settings["seeds"]):
                memory = make(name, features=settings["features"], **options)
                result = fit(memory, task, steps=settings["steps"], key=jax.random.key(seed))
                writer.writerows([variant, seed, update + 1, float(a), settings["features"]]
                                 for update, a in enumerate(np.asarray(result.accuracy)))
    os.replace(path + ".tmp", path)
    return path


def load(path: str) -> dict[str, np.ndarray]:
    """{variant: accuracy [seeds, updates]} from lag_recall.csv."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    out = {}
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        seeds = sorted({int(r["seed"]) for r in mine})
        out[variant] = np.array([[float(r["accuracy"]) for r in mine if int(r["seed"]) == s] for s in seeds])
    return out
