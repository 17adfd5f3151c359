"""Figures from result files: learning curves with seed-range bands, sensitivity curves, timing plots.

    runs = load_runs("book/results/tape_vs_segment")        # {run name: metrics rows}
    learning_curves(ax, {"tape": runs["..._tape"], ...}, metric="best")

Every chapter calls `use_book_style()` once, after importing pyplot: it makes the colour-blind-safe palette
of Okabe and Ito the colour cycle, so "C0", "C1", ... (and every default colour) are its colours, and viridis
the colormap. Figures name colours as "C0".."C6" or PALETTE["..."], never "red" or "tab:blue".
"""

from __future__ import annotations

import csv
import json
import os

import numpy as np

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",  # bluish green
    "vermillion": "#D55E00",
    "purple": "#CC79A7",  # reddish purple
    "sky": "#56B4E9",
    "black": "#000000",
    "yellow": "#F0E442",  # too light for lines on white: not in the cycle
}
# The colour cycle, "C0".."C6": blue, orange, green, vermillion, purple, sky blue, black (the order of tab10's
# blue, orange, green, red, purple, so "C3" is still the warning colour).
CYCLE = [PALETTE[name] for name in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
COLORMAP = "viridis"  # perceptually uniform and colour-blind safe; "cividis" is the alternative


def use_book_style() -> None:
    """Make the Okabe–Ito palette the colour cycle and viridis the default colormap (call after importing
    pyplot, so that the inline backend's own settings are already in place)."""
    import matplotlib as mpl
    import matplotlib.pyplot  # noqa: F401  (activates the backend before the settings below)
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=CYCLE)
    mpl.rcParams["image.cmap"] = COLORMAP


def light(color, amount: float = 0.6):
    """`color` mixed with white (amount 0: the colour, 1: white), for fills behind text and lines."""
    from matplotlib.colors import to_rgb

    return tuple(c + (1 - c) * amount for c in to_rgb(color))


def load_runs(directory: str) -> dict[str, list[dict]]:
    """Every run of an experiment directory: {name: rows of its metrics.csv} (runs not started are skipped)."""
    with open(os.path.join(directory, "runs.json")) as f:
        names = [run["name"] for run in json.load(f)]
    runs = {}
    for name in names:
        path = os.path.join(directory, name, "metrics.csv")
        if os.path.exists(path):
            with open(path) as f:
                runs[name] = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return runs


def by_seed(rows: list[dict], column: str):
    """(x [T] updates, values [seeds, T]) from metric rows; seeds with fewer evaluations are cut to the shortest."""
    seeds = sorted({int(r["seed"]) for r in rows})
    series = [[r for r in rows if int(r["seed"]) == s] for s in seeds]
    length = min(len(s) for s in series)
    x = np.array([r["updates"] for r in series[0][:length]])
    return x, np.array([[r[column] for r in s[:length]] for s in series])


def seed_range(values: np.ndarray):
    """The (lowest, highest) value over axis 0 (seeds), at each point of axis 1. With 3 to 10 seeds this is
    what the data support: a bootstrap interval of the mean of 3 values never leaves their range and would only
    look narrower than the evidence."""
    return values.min(0), values.max(0)


def learning_curves(ax, runs: dict[str, list[dict]], metric: str = "best", colors=None):
    """Mean over seeds and the band from the lowest to the highest seed of the greedy evaluation return against
    updates.

    metric "best": the paper's — the running maximum of each seed's evaluation mean; "mean": the plain mean.
    """
    for i, (label, rows) in enumerate(runs.items()):
        x, y = by_seed(rows, "eval_return")
        if metric == "best":
            y = np.maximum.accumulate(y, axis=1)
        low, high = seed_range(y)
        color = None if colors is None else colors[i]
        (line,) = ax.plot(x, y.mean(0), label=label, color=color)
        ax.fill_between(x, low, high, alpha=0.2, color=line.get_color())
    ax.set_xlabel("gradient updates")
    ax.set_ylabel("greedy return" + (" (running best)" if metric == "best" else ""))


def cumulative_sensitivity(ax, curves: dict[str, np.ndarray], memory_length: int = 10):
    """Cumulative share of |∂Q/∂o| from the oldest observation to the newest, against age (0 = the last)."""
    for label, s in curves.items():
        ages = np.arange(len(s)) - (len(s) - 1)
        ax.plot(ages, np.cumsum(s), label=label)
    ax.axvline(-memory_length, color="C3", linestyle="--", linewidth=1, label=f"reward memory length ({memory_length})")
    ax.set_xlabel("observation age (steps before the last)")
    ax.set_ylabel("cumulative share of sensitivity")


def sensitivity_heatmap(ax, updates: list[int], profiles: np.ndarray, memory_length: int = 10):
    """The paper's Figure 3 heatmap: S (profiles [snapshots, ages], the last age 0) after each number of
    updates (rows) against the age of the observation (columns), on a log colour scale. Returns the image."""
    from matplotlib.colors import LogNorm

    ages = np.arange(profiles.shape[1]) - (profiles.shape[1] - 1)
    positive = profiles[profiles > 0]
    floor = positive.min() if positive.size else 1e-12
    image = ax.pcolormesh(ages, np.asarray(updates), np.maximum(profiles, floor), shading="nearest",
                          norm=LogNorm(vmin=floor, vmax=max(profiles.max(), floor * 10)), cmap="viridis")
    ax.axvline(-memory_length, color="C3", linestyle=":", linewidth=1)
    ax.set_xlabel("age of the observation (steps before the last)")
    ax.set_ylabel("gradient updates")
    return image


def timing(ax, rows: list[dict], x: str, y: str, hue: str, style: str | None = None):
    """Log-log lines of y against x, one per value of `hue` (colour) and `style` (line style)."""
    styles = ["-", "--", ":", "-."]
    hues = sorted({r[hue] for r in rows}, key=str)
    kinds = sorted({r[style] for r in rows}, key=float) if style else [None]
    for i, h in enumerate(hues):
        for j, k in enumerate(kinds):
            pts = sorted((float(r[x]), float(r[y])) for r in rows if r[hue] == h and (style is None or r[style] == k))
            if pts:
                label = f"{h}" + (f", {style} {k}" if style else "")
                ax.loglog(*zip(*pts), styles[j % 4], color=f"C{i}", marker="o", markersize=3, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
