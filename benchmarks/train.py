"""Throughput of the recurrent DQN, tape vs segments, with the paper's network — measured in one run.

    python benchmarks/train.py                  # writes book/results/train_cpu.json
    python benchmarks/train.py --quick          # a smaller run, nothing written unless --out is given

Task: Repeat Previous (2 decks, k = 10), LRU memory (2 layers, 256 features, 128 complex states per layer),
batch of 1,000 transitions, the paper's hyperparameters (memoroids_lite.rl.for_task). For tape batching and
for segments of L = 10 (zero init and burn-in) it measures, compile time apart from run time:

  update_ms          one gradient update (sample + loss + gradient + Adam + Polyak): a lax.scan of ten,
                     median of repeats, divided by ten
  collect_steps_per_s  ε-greedy environment steps per second of the collector (8 environments)
  eval_s             one greedy evaluation (20 episodes)
  updates_per_s      end to end: collection, updates and evaluation as training runs them
  eval_share         the share of end-to-end time spent evaluating
  solve_s, solve_updates   wall time (compile included) and updates until the greedy return first
                     reaches 0.95, from a cold start (tape only unless --solve-all)
  seed_runs_per_hour  the default training budget, seeds vmapped, at 4 seeds

The paper's own code is not run here (it is unlicensed; see the book). Its numbers, measured once for the book
on a 2-core CPU and quoted there, are printed beside ours as a reference; benchmarks/paper_code.py measures them anew.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax

from memoroids_lite.rl import for_task, make_train
from memoroids_lite.timing import machine, time_carried

PAPER_CODE = {  # tape LRU on Repeat Previous (2 decks, k = 10), 2-core CPU, the paper's pinned 2023 stack
    # (proroklab/memory-monoids, experiments/repeat_previous_easy/tape_lru.yaml; benchmarks/paper_code.py)
    "update_ms": 243.0, "collect_steps_per_s": 138.0, "updates_per_s": 1.34, "compile_s": 47.0,
    "eval_share": 0.44, "solve_s": 386.0, "solve_updates": 370,
}


def measure(config, solve: bool, solve_budget: int, seeds: int):
    train = make_train(config)
    result = {}
    begin = time.perf_counter()
    init = jax.jit(train.init).lower(jax.random.PRNGKey(0)).compile()
    result["init_compile_s"] = time.perf_counter() - begin
    state = init(jax.random.PRNGKey(0))
    # Ten updates in one lax.scan, as training runs them (one call per update would add the call's overhead).
    result["update_compile_s"], update_s, (state, _) = time_carried(lambda s: jax.lax.scan(train.update, s, None, 10), state)
    result["update_ms"] = 1000 * update_s / 10
    steps = config.rollout_length
    _, collect_s, (state, *_) = time_carried(lambda s: train.collect(s, steps, 0.1), state)
    result["collect_steps_per_s"] = steps * config.num_envs / collect_s
    _, result["eval_s"], (state, *_) = time_carried(train.evaluate, state, repeats=3)
    result["chunk_compile_s"], chunk_s, _ = time_carried(train.chunk, state, repeats=3)
    result["updates_per_s"] = config.eval_interval * config.updates_per_rollout / chunk_s
    result["eval_share"] = result["eval_s"] / chunk_s
    result["compile_s"] = result["init_compile_s"] + result["chunk_compile_s"]

    if solve:  # a cold start: compile included, stop at the first evaluation >= 0.95
        begin = time.perf_counter()
        fresh = make_train(config)
        init, chunk = jax.jit(fresh.init), jax.jit(fresh.chunk, donate_argnums=0)
        state = init(jax.random.PRNGKey(1))
        result["solve_s"] = result["solve_updates"] = None
        while True:
            state, metrics = chunk(state)
            updates = int(metrics.updates)
            if float(metrics.eval_return) >= 0.95:
                result["solve_s"], result["solve_updates"] = time.perf_counter() - begin, updates
                break
            if updates >= solve_budget:
                break
        result["final_eval_return"] = float(metrics.eval_return)

    vmapped = jax.jit(jax.vmap(train.chunk), donate_argnums=0)
    states = jax.jit(jax.vmap(train.init))(jax.random.split(jax.random.PRNGKey(2), seeds))
    states, _ = jax.block_until_ready(vmapped(states))
    begin = time.perf_counter()
    jax.block_until_ready(vmapped(states))
    per_chunk = time.perf_counter() - begin
    result["seed_runs_per_hour"] = 3600 / (per_chunk * train.num_chunks) * seeds
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="JSON file (default book/results/train_<backend>.json; none with --quick)")
    parser.add_argument("--quick", action="store_true", help="a small network and no solve run")
    parser.add_argument("--solve-all", action="store_true", help="also time solving with segments")
    args = parser.parse_args()
    out = args.out or (None if args.quick else f"book/results/train_{jax.default_backend()}.json")

    variants = {"tape": dict(batching="tape"), "segment L=10 zero": dict(batching="segment", segment_length=10),
                "segment L=10 burn_in": dict(batching="segment", segment_length=10, segment_init="burn_in")}
    base = dict(model="lru", train_steps=104 * 600, eval_interval=10)
    if args.quick:
        base.update(features=32, model_kwargs={"hidden": 16}, train_steps=104 * 40)
    results = {}
    for name, variant in variants.items():
        config = for_task("RepeatPreviousEasy", **base, **variant)
        solve = not args.quick and (name == "tape" or args.solve_all)
        results[name] = measure(config, solve, solve_budget=1500, seeds=4)
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in results[name].items()}, flush=True)

    print(f"\nmachine: {machine()}")
    print(f"{'':24s}{'paper code':>12s}" + "".join(f"{n:>22s}" for n in results))
    for key, paper in PAPER_CODE.items():
        row = f"{key:24s}{paper:12.2f}"
        for r in results.values():
            value = r.get(key)
            row += f"{'—':>22s}" if value is None else f"{value:14.2f}"
            if value is not None:
                better = paper / value if key in ("update_ms", "compile_s", "eval_share", "solve_s") else value / paper
                row += f" ({better:4.1f}×)"
        print(row)
    tape, segment = results["tape"], results["segment L=10 zero"]
    print(f"\ntape / segment update time: {tape['update_ms'] / segment['update_ms']:.2f}")
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            json.dump({"machine": machine(), "paper_code": PAPER_CODE, "results": results,
                       "command": "python benchmarks/train.py"}, f, indent=2)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
