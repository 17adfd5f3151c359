"""Measure the paper's own code on this machine: the baseline chapter 15 compares the package with.

    python benchmarks/paper_code.py --workdir /tmp/memory-monoids            # clone, install, run, measure
    python benchmarks/paper_code.py --workdir DIR --out paper_code_cpu.json   # and keep the numbers

What it runs, so that anyone can repeat it:
  repository  https://github.com/proroklab/memory-monoids (the authors' code; no licence, so it is downloaded
              here, never copied into this package)
  commit      fbdda1f (the one this book's notes on the paper were read from)
  config      experiments/repeat_previous_easy/tape_lru.yaml (tape-based LRU on Repeat Previous, 2 decks,
              k = 10, the setting of chapter 15)
  command     python tape_dqn.py <config> --seed 0, in a fresh virtual environment with the repository's
              requirements_freeze.txt (its pinned 2023 stack), JAX on the CPU
  measured    solve_s: wall time from the start of the process (imports and compilation included, as for
              the package's number) until the greedy evaluation first reaches --threshold (0.95, as
              benchmarks/train.py); solve_epoch: the epoch it happened at (random-action epochs included);
              epochs_per_s: epochs per second over the run (random-action epochs included).

It needs the network (GitHub and the package index) and about 2 GB of disk; the machine that made this book's
committed results has neither GitHub access nor a copy, so the numbers chapter 15 quotes were measured
elsewhere and are printed beside the package's by benchmarks/train.py. The paper's script reports progress
only through its tqdm bar ("eval: <last>, <best> ..." after the epoch count), which this script reads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

REPOSITORY = "https://github.com/proroklab/memory-monoids"
COMMIT = "fbdda1f"
CONFIG = "experiments/repeat_previous_easy/tape_lru.yaml"
# one tqdm refresh of tape_dqn.py: "eval: -0.48, -0.45 train: ... | 5012/10000 ..."
PROGRESS = re.compile(r"eval: (?P<eval>-?[\d.]+|-?inf|nan), (?P<best>-?[\d.]+|-?inf|nan).*?(?P<epoch>\d+)/(?P<total>\d+)")


def parse_progress(text: str):
    """(epoch, last greedy evaluation) of every tqdm refresh in `text` (refreshes are separated by \\r)."""
    found = []
    for line in re.split(r"[\r\n]", text):
        match = PROGRESS.search(line)
        if match:
            found.append((int(match["epoch"]), float(match["eval"])))
    return found


def setup(workdir: str) -> str:
    """Clone the repository at COMMIT into workdir and install its pinned requirements; returns its python."""
    if not os.path.exists(os.path.join(workdir, ".git")):
        subprocess.run(["git", "clone", REPOSITORY, workdir], check=True)
    subprocess.run(["git", "-C", workdir, "checkout", COMMIT], check=True)
    python = os.path.join(workdir, ".venv", "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", os.path.join(workdir, ".venv")], check=True)
        subprocess.run([python, "-m", "pip", "install", "-r", os.path.join(workdir, "requirements_freeze.txt")],
                       check=True)
    return python


def measure(python: str, workdir: str, threshold: float, timeout_s: float) -> dict:
    """Run the paper's tape DQN and time it until its greedy evaluation first reaches `threshold`."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    begin = time.perf_counter()
    process = subprocess.Popen([python, "tape_dqn.py", CONFIG, "--seed", "0"], cwd=workdir, env=env,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, bufsize=1)
    result = {"solve_s": None, "solve_epoch": None}
    buffer, last = "", (0, float("-inf"))
    try:
        while time.perf_counter() - begin < timeout_s:
            chunk = process.stderr.read(256)
            if not chunk:
                break
            buffer = buffer[-4096:] + chunk
            for epoch, value in parse_progress(buffer):
                last = (epoch, value)
                if value >= threshold and result["solve_s"] is None:
                    result = {"solve_s": time.perf_counter() - begin, "solve_epoch": epoch}
            if result["solve_s"] is not None:
                break
    finally:
        process.kill()
    elapsed = time.perf_counter() - begin
    return result | {"epochs": last[0], "last_eval": last[1], "wall_s": elapsed, "epochs_per_s": last[0] / elapsed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="where the paper's repository is cloned and installed")
    parser.add_argument("--threshold", type=float, default=0.95, help="greedy return that counts as solved")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before giving up")
    parser.add_argument("--out", help="write the numbers here as JSON")
    args = parser.parse_args(argv)
    from memoroids_lite.timing import machine

    python = setup(args.workdir)
    numbers = measure(python, args.workdir, args.threshold, args.timeout)
    record = {"machine": machine(), "repository": REPOSITORY, "commit": COMMIT, "config": CONFIG,
              "command": f"python tape_dqn.py {CONFIG} --seed 0", "threshold": args.threshold, "results": numbers}
    print(json.dumps(record, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=2)


if __name__ == "__main__":
    main()
