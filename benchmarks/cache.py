"""Cold and warm starts: the tape-trained LRU solving Repeat Previous (2 decks, k = 10) in a fresh process, with
an empty persistent compilation cache and then with the cache the first process filled.

    python benchmarks/cache.py                 # writes book/results/cache_<backend>.json
    python benchmarks/cache.py --runs 1        # one cold and one warm process, nothing written unless --out

Each process (this script with --child) imports the package, builds the trainer of chapter 15 (for_task's
settings, 600 updates at most), compiles init and the chunk, and trains until the greedy return first reaches
0.95: it reports the wall time from the start of the process's work (imports excluded) to that evaluation, the
time spent compiling (init and the first chunk call), and the updates. Cold: MEMOROIDS_COMPILATION_CACHE names
a new empty folder. Warm: the same folder again. The training itself is the same in both (same seed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def child():
    begin = time.perf_counter()
    import jax

    from memoroids_lite.rl import for_task, make_train

    config = for_task("RepeatPreviousEasy", model="lru", train_steps=104 * 600, eval_interval=10)
    train = make_train(config)
    start = time.perf_counter()
    init = jax.jit(train.init).lower(jax.random.PRNGKey(1)).compile()
    state = init(jax.random.PRNGKey(1))
    chunk = jax.jit(train.chunk, donate_argnums=0).lower(state).compile()
    compile_s = time.perf_counter() - start
    solved = None
    for _ in range(train.num_chunks):
        state, metrics = chunk(state)
        if float(metrics.eval_return) >= 0.95:
            solved = int(metrics.updates)
            break
    print(json.dumps({"wall_s": time.perf_counter() - begin, "compile_s": compile_s, "solve_updates": solved,
                      "final_eval_return": float(metrics.eval_return)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="cold/warm pairs (each with its own empty cache)")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        return child()
    import jax

    from memoroids_lite.timing import machine

    out = args.out or (None if args.runs < 3 else f"book/results/cache_{jax.default_backend()}.json")
    rows = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            for start in ("cold", "warm"):
                env = dict(os.environ, MEMOROIDS_COMPILATION_CACHE=folder)
                done = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
                                      check=True)
                row = {"run": run, "start": start, **json.loads(done.stdout.strip().splitlines()[-1])}
                rows.append(row)
                print(row, flush=True)
    for start in ("cold", "warm"):
        walls = sorted(r["wall_s"] for r in rows if r["start"] == start)
        print(f"{start}: wall {walls[len(walls) // 2]:.1f} s (median of {len(walls)})")
    result = {"machine": machine(), "rows": rows}
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
