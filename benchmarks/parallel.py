"""Speed-up from splitting training over devices, 1 device against all of them, in one run.

    python benchmarks/parallel.py                 # writes book/results/parallel_<backend>.json
    python benchmarks/parallel.py --quick         # smaller, nothing written unless --out is given

On a CPU the script first asks XLA for as many host devices as there are cores
(`--xla_force_host_platform_device_count`, set before JAX starts); on a GPU machine it uses the GPUs. With
the same process and the same compiled program shapes it times (memoroids_lite.rl.parallel):
- PPO with the LRU (64 features, 64 states, 64 environments) on Repeat First, its environments split: one
  chunk (eval_interval iterations and an evaluation) on a mesh of 1 device and on a mesh of every device;
- the same, with the update data-parallel too (make_train(config, batch_sharding=...): every minibatch split);
- the same PPO, seeds split: one chunk of every seed (vmapped), 1 device against every device.
Compile time apart from run time (the median of repeats); the ratio is 1-device time / n-device time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

if "jax" not in sys.modules and "--xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + f" --xla_force_host_platform_device_count={os.cpu_count()}").strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402

from memoroids_lite import cache  # noqa: E402
from memoroids_lite.rl import parallel  # noqa: E402
from memoroids_lite.rl.ppo import for_task, make_train  # noqa: E402
from memoroids_lite.timing import machine  # noqa: E402


def time_chunk(trainer, state, shardings, repeats):
    """(compile s, median run s) of one chunk with the state laid out by `shardings`."""
    state = jax.device_put(state, shardings)
    begin = time.perf_counter()
    chunk = jax.jit(trainer.chunk, in_shardings=(shardings,)).lower(state).compile()
    compile_s = time.perf_counter() - begin
    jax.block_until_ready(chunk(state))
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        jax.block_until_ready(chunk(state))
        runs.append(time.perf_counter() - begin)
    return compile_s, float(np.median(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="JSON file (default book/results/parallel_<backend>.json; none with --quick)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cache.disable()  # compile times are cold compiles
    out = args.out or (None if args.quick else f"book/results/parallel_{jax.default_backend()}.json")
    devices = jax.devices()
    size = ({"features": 32, "model_kwargs": {"hidden": 16}, "num_envs": 32} if args.quick
            else {"features": 64, "model_kwargs": {"hidden": 64}, "num_envs": 64})
    config = for_task("RepeatFirstEasy", model="lru", eval_interval=2, train_steps=size["num_envs"] * 128 * 2,
                      num_minibatches=len(devices) * 2, **size)
    trainer = make_train(config)
    repeats = 2 if args.quick else 3
    rows = []
    for count in sorted({1, len(devices)}):
        mesh = parallel.devices_mesh(devices[:count])
        like = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
        shardings = parallel.state_shardings(like, mesh)
        state = jax.jit(trainer.init)(jax.random.PRNGKey(0))
        steps = config.steps_per_iteration * config.eval_interval
        data_parallel = make_train(config, batch_sharding=parallel.batch_sharding(mesh))
        for split, run in (("environments", trainer), ("environments and update", data_parallel)):
            compile_s, run_s = time_chunk(run, state, shardings, repeats)
            rows.append({"split": split, "devices": count, "compile_s": compile_s, "run_s": run_s,
                         "env_steps_per_s": steps / run_s})
        seeds = 2 * len(devices)
        states = jax.jit(jax.vmap(trainer.init))(jax.random.split(jax.random.PRNGKey(1), seeds))
        split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(parallel.AXIS))
        vmapped = type(trainer)(**{**trainer._asdict(), "chunk": jax.vmap(trainer.chunk)})
        compile_s, run_s = time_chunk(vmapped, states, split, repeats)
        rows.append({"split": f"{seeds} seeds", "devices": count, "compile_s": compile_s, "run_s": run_s,
                     "env_steps_per_s": seeds * steps / run_s})
    for row in rows:
        one = next(r for r in rows if r["split"] == row["split"] and r["devices"] == 1)
        row["speedup"] = one["run_s"] / row["run_s"]
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    result = {"machine": machine(), "quick": args.quick, "devices": [str(d) for d in devices], "num_envs": config.num_envs,
              "features": config.features, "rows": rows}
    print(f"machine: {result['machine']}")
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
