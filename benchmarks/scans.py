"""Serial scan vs associative scan: run time and compile time over the sequence length T.

What it measures. For a linear recurrence h_t = a_t * h_{t-1} + b_t written as the affine monoid
(`memoroids_lite.examples.affine_monoid`), it times

  serial       `memoroids_lite.serial_scan`  (jax.lax.scan: T sequential steps, T combines)
  associative  `memoroids_lite.scan`         (jax.lax.associative_scan: O(log T) depth, more combines)

for T = 10^2 … 10^6 and four cases:

  scalar            elements of shape ()
  scalar+resets     the same with start flags (an episode starts with probability 1/100 at each step)
  vector64          elements of shape (64,)
  vector64+resets   the same with start flags

Before timing a case it asserts that both methods give the same prefixes (allclose). Each function is
compiled once with `jax.jit(...).lower(...).compile()` (compile time, reported apart) and then run several
times; the median run time is kept (`memoroids_lite.timing.time_jitted`). The table prints, for run time and
for compile time, the ratio serial / associative: above 1 the associative scan is faster, below 1 slower.

It writes one CSV row per (case, T, method) with the machine it ran on, the file the book's chapter on scans
reads. The exact command that produced book/results/scans_cpu.csv (about 2 minutes on a 2-core CPU):

    JAX_PLATFORMS=cpu python benchmarks/scans.py

Options: `--quick` stops at T = 10^4 (under a minute); `--out PATH` writes the CSV elsewhere (on a GPU, e.g.
`python benchmarks/scans.py --out book/results/scans_gpu.csv`).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import numpy as np

from memoroids_lite import scan, serial_scan
from memoroids_lite.examples import affine_monoid
from memoroids_lite.results import write_csv
from memoroids_lite.timing import machine, time_jitted

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "book" / "results" / "scans_cpu.csv"
CASES = {  # name: (element shape, with start flags?)
    "scalar": ((), False),
    "scalar+resets": ((), True),
    "vector64": ((64,), False),
    "vector64+resets": ((64,), True),
}
METHODS = {"serial": serial_scan, "associative": scan}
RESET_PROBABILITY = 0.01


def make_inputs(key, length: int, shape: tuple, resets: bool):
    """Random affine elements (a_t, b_t), a_t in [0.5, 0.99] so the recurrence stays bounded, and flags."""
    k_a, k_b, k_s = jax.random.split(key, 3)
    a = jax.random.uniform(k_a, (length,) + shape, minval=0.5, maxval=0.99)
    b = jax.random.normal(k_b, (length,) + shape)
    start = jax.random.bernoulli(k_s, RESET_PROBABILITY, (length,)) if resets else None
    return (a, b), start


def scan_fn(method, monoid, with_start: bool):
    """The function that is jitted: prefixes of the (a, b) sequence, with or without start flags."""
    if with_start:
        return lambda elems, start: method(monoid, elems, start=start)
    return lambda elems: method(monoid, elems)


def check_same(monoid, args, with_start: bool, case: str, length: int) -> None:
    """Both methods must give the same prefixes before either is timed."""
    outs = [jax.jit(scan_fn(m, monoid, with_start))(*args) for m in METHODS.values()]
    for leaf_serial, leaf_assoc in zip(jax.tree.leaves(outs[0]), jax.tree.leaves(outs[1])):
        x, y = np.asarray(leaf_serial), np.asarray(leaf_assoc)
        assert np.allclose(x, y, rtol=1e-4, atol=1e-4), (
            f"{case}, T={length}: serial and associative scans differ by up to {np.max(np.abs(x - y)):.3g}"
        )


def repeats_for(length: int) -> int:
    return 3 if length >= 10**6 else 5


def run(lengths, out: pathlib.Path) -> list[dict]:
    info = machine()
    print(f"device: {info['device']} | cpu: {info['cpu']} | cores: {info['cores']} | "
          f"jax {info['jax']} (jaxlib {info['jaxlib']}) | python {info['python']}")
    rows = []
    key = jax.random.key(0)
    begin = time.perf_counter()
    for case, (shape, resets) in CASES.items():
        monoid = affine_monoid(shape)
        for length in lengths:
            key, sub = jax.random.split(key)
            elems, start = make_inputs(sub, length, shape, resets)
            args = (elems, start) if resets else (elems,)
            check_same(monoid, args, resets, case, length)
            for name, method in METHODS.items():
                t = time_jitted(scan_fn(method, monoid, resets), *args, repeats=repeats_for(length))
                rows.append({
                    "case": case, "T": length, "method": name,
                    "compile_s": f"{t.compile_s:.6g}", "run_s": f"{t.run_s:.6g}",
                    "device": info["device"], "cpu": info["cpu"], "cores": info["cores"], "jax": info["jax"],
                })
            print(f"  {case:16s} T={length:>8d} done ({time.perf_counter() - begin:6.1f} s so far)", flush=True)

    write_csv(out, rows)
    print_table(rows)
    print(f"\nwrote {len(rows)} rows to {out} in {time.perf_counter() - begin:.1f} s")
    return rows


def print_table(rows: list[dict]) -> None:
    by_key = {(r["case"], r["T"], r["method"]): r for r in rows}
    print()
    print(f"{'case':16s} {'T':>8s} | {'run serial':>11s} {'run assoc':>11s} {'serial/assoc':>12s} | "
          f"{'compile serial':>14s} {'compile assoc':>13s} {'serial/assoc':>12s}")
    print("-" * 110)
    for case in CASES:
        for length in sorted({r["T"] for r in rows}):
            s, a = by_key[(case, length, "serial")], by_key[(case, length, "associative")]
            rs, ra = float(s["run_s"]), float(a["run_s"])
            cs, ca = float(s["compile_s"]), float(a["compile_s"])
            print(f"{case:16s} {length:>8d} | {rs * 1e3:9.3f}ms {ra * 1e3:9.3f}ms {rs / ra:12.2f} | "
                  f"{cs:13.3f}s {ca:12.3f}s {cs / ca:12.2f}")
    print("serial/assoc > 1: the associative scan is faster; < 1: the serial scan is faster.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="T up to 10^4 only (under a minute instead of minutes)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help=f"CSV to write (default {DEFAULT_OUT})")
    args = parser.parse_args()
    lengths = [10**k for k in range(2, 5 if args.quick else 7)]
    run(lengths, args.out)


if __name__ == "__main__":
    main()
