"""The paper's Figure 5 (left) on this machine: discounted returns of many episodes, a loop vs one scan.

    python benchmarks/returns.py                      # full grid -> book/results/returns_<backend>.csv
    python benchmarks/returns.py --quick --out /tmp/returns_quick.csv    # a small grid, for tests
    python -m memoroids_lite.experiments returns --scale cpu --out DIR    # the same, as an experiment

The full grid takes about 5-10 minutes on a 2-core CPU. On a CPU it writes book/results/returns_cpu.csv, the file
chapter 5 of the book ("Returns and advantages as monoids") plots.

What is measured (paper §5 "Accelerated discounted returns", Figure 5 left; its code `returns.py`):

- A tape of `episodes` episodes whose lengths are drawn uniformly from 1..max_len (inclusive), rewards ~ U[0, 1),
  gamma = 0.99, for max_len in {10, 100, 1000} and episodes in {10, 50, 100, 500, 1000, 10000}.
- The quantity is the paper's forward form, per-episode prefix sums out[t] = sum_{i=t0..t} gamma^(i - t0) r_i
  (Theorem D.1), which at an episode's last step is its discounted return.
- "per-episode loop": the paper's baseline, a jitted cumsum(r * gamma^arange(n)) called once per episode from a
  Python for-loop (episode lengths differ, so one call per episode). Every distinct length is compiled before
  timing; its compile_s is the sum of those first calls over the lengths the tape needs. The episodes are already
  on the device as separate arrays, which favours the loop (no slicing inside the timed region).
- "associative scan": memoroids_lite.discounted_return over the whole tape, one jitted call
  (jax.lax.associative_scan with the resettable monoid of Theorem 4.2).
- "serial scan": the same monoid and resets with jax.lax.scan over the whole tape (memoroids_lite.serial_scan), one
  jitted call. On a CPU with few cores this is usually the fastest of the three.

Before timing, all three are checked against a float64 NumPy loop (atol = 1e-4 x the largest |value|). Run times are
the median of --repeats calls (default 5) with outputs ready; compile times are reported apart
(memoroids_lite.timing.time_jitted for the two scans). The CSV is tidy: one row per (max_len, episodes, method),
with the machine (memoroids_lite.timing.machine()) on every row.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite import discounted_return, serial_scan
from memoroids_lite.results import write_csv
from memoroids_lite.returns import discount_monoid
from memoroids_lite.timing import machine, time_jitted, time_python

GAMMA = 0.99
FULL_GRID = ((10, 100, 1000), (10, 50, 100, 500, 1000, 10000))
QUICK_GRID = ((10, 100), (10, 100))
METHODS = ("per-episode loop", "associative scan", "serial scan")
FIELDS = ("max_len", "episodes", "transitions", "method", "compile_s", "run_s", *machine().keys())


# ----------------------------------------------------------------------------------------------------------------
# The three ways to compute the per-episode discounted prefix sums
# ----------------------------------------------------------------------------------------------------------------


@jax.jit
def episode_prefix_sums(rewards):
    """ONE episode: sum_{i<=t} gamma^i r_i for every t (the paper's serial baseline, cumsum(r * gamma^arange(n)))."""
    return jnp.cumsum(rewards * GAMMA ** jnp.arange(rewards.shape[0], dtype=rewards.dtype))


def per_episode_loop(pieces):
    """The baseline: one jitted call per episode, from Python."""
    return [episode_prefix_sums(piece) for piece in pieces]


def associative(rewards, start):
    """The whole tape in one call: memoroids_lite.discounted_return (an associative scan with resets)."""
    return discounted_return(rewards, start, GAMMA, mode="associative")


def serial(rewards, start):
    """The whole tape in one call: the same monoid and resets, with jax.lax.scan."""
    discounts = jnp.full_like(rewards, GAMMA)
    _, sums = serial_scan(discount_monoid(), (discounts, rewards), start=start)
    return sums


# ----------------------------------------------------------------------------------------------------------------
# One cell of the grid
# ----------------------------------------------------------------------------------------------------------------


def make_tape(max_len: int, episodes: int, seed: int = 0):
    """Episode lengths ~ randint(1, max_len) inclusive, rewards ~ U[0, 1), and the start flags of the tape."""
    rng = np.random.default_rng([seed, max_len, episodes])
    lengths = rng.integers(1, max_len + 1, size=episodes)
    rewards = rng.random(int(lengths.sum()), dtype=np.float32)
    start = np.zeros(rewards.shape[0], bool)
    start[np.concatenate([[0], np.cumsum(lengths)[:-1]])] = True
    return lengths, rewards, start


def reference(lengths, rewards):
    """Float64 NumPy, one episode at a time: the values every method must reproduce."""
    out, begin = np.empty(rewards.shape[0]), 0
    for n in lengths:
        out[begin:begin + n] = np.cumsum(rewards[begin:begin + n].astype(np.float64) * GAMMA ** np.arange(n))
        begin += n
    return out


_first_call_s: dict[int, float] = {}  # episode length -> seconds of the loop function's first (compiling) call


def warm_up_loop(lengths) -> float:
    """Compile the per-episode function for every distinct length not seen yet; return the compile cost of these."""
    for n in sorted(set(int(n) for n in lengths) - _first_call_s.keys()):
        begin = time.perf_counter()
        jax.block_until_ready(episode_prefix_sums(jnp.zeros(n, jnp.float32)))
        _first_call_s[n] = time.perf_counter() - begin
    return sum(_first_call_s[int(n)] for n in set(lengths))


def check(name, got, want):
    got = np.asarray(got, np.float64)
    atol = 1e-4 * max(1.0, float(np.abs(want).max()))
    if not np.allclose(got, want, rtol=0.0, atol=atol):
        worst = float(np.abs(got - want).max())
        raise AssertionError(f"{name} disagrees with the float64 reference: max |difference| {worst:.3g} > {atol:.3g}")


def measure(max_len: int, episodes: int, repeats: int) -> tuple[dict[str, tuple[float, float]], int]:
    """({method: (compile_s, run_s)}, transitions) for one tape, after checking that all methods agree."""
    lengths, rewards, start = make_tape(max_len, episodes)
    want = reference(lengths, rewards)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    pieces = [jax.device_put(rewards[s:e]) for s, e in zip(bounds[:-1], bounds[1:])]
    rewards_d, start_d = jax.device_put(rewards), jax.device_put(start)

    loop_compile_s = warm_up_loop(lengths)
    check("per-episode loop", np.concatenate([np.asarray(x) for x in per_episode_loop(pieces)]), want)
    # Checked through separate wrappers, so that time_jitted below traces and compiles from scratch.
    check("associative scan", jax.jit(lambda r, s: associative(r, s))(rewards_d, start_d), want)
    check("serial scan", jax.jit(lambda r, s: serial(r, s))(rewards_d, start_d), want)

    results = {"per-episode loop": (loop_compile_s, time_python(per_episode_loop, pieces, repeats=repeats))}
    results["associative scan"] = tuple(time_jitted(associative, rewards_d, start_d, repeats=repeats))
    results["serial scan"] = tuple(time_jitted(serial, rewards_d, start_d, repeats=repeats))
    return results, int(rewards.shape[0])


# ----------------------------------------------------------------------------------------------------------------
# The grid, the table and the CSV
# ----------------------------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="CSV to write (default: book/results/returns_<backend>.csv; --quick writes nothing "
                             "unless --out is given)")
    parser.add_argument("--quick", action="store_true", help="a small grid (2 x 2 tapes), for tests")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per method; the median is kept")
    args = parser.parse_args(argv)

    out = args.out
    if out is None and not args.quick:
        out = pathlib.Path("book") / "results" / f"returns_{jax.default_backend()}.csv"
    max_lens, episode_counts = QUICK_GRID if args.quick else FULL_GRID
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    print(f"gamma={GAMMA}, median of {args.repeats} runs, compile times apart\n")
    header = (f"{'max_len':>7} {'episodes':>8} {'transitions':>11} | {'loop ms':>9} {'assoc ms':>9} {'serial ms':>9} | "
              f"{'loop/assoc':>10} {'loop/serial':>11} | compile s: loop assoc serial")
    print(header)
    print("-" * len(header))

    rows, begin = [], time.perf_counter()
    for max_len in max_lens:
        for episodes in episode_counts:
            results, transitions = measure(max_len, episodes, args.repeats)
            for method in METHODS:
                compile_s, run_s = results[method]
                rows.append({"max_len": max_len, "episodes": episodes, "transitions": transitions, "method": method,
                             "compile_s": f"{compile_s:.6g}", "run_s": f"{run_s:.6g}", **info})
            loop, assoc, ser = (results[m][1] for m in METHODS)
            print(f"{max_len:7d} {episodes:8d} {transitions:11d} | {1e3 * loop:9.3f} {1e3 * assoc:9.3f} "
                  f"{1e3 * ser:9.3f} | {loop / assoc:10.1f} {loop / ser:11.1f} | "
                  f"{results[METHODS[0]][0]:.2f} {results[METHODS[1]][0]:.2f} {results[METHODS[2]][0]:.2f}",
                  flush=True)
    print(f"\ntotal {time.perf_counter() - begin:.0f} s")

    if out is not None:
        write_csv(out, rows, FIELDS)
        print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
