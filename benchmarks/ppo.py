"""PPO's speed, measured in one run: GAE by the memoroid scan against a step-by-step loop, and environment
steps per second of the LRU's PPO on tapes and on chunks.

    python benchmarks/ppo.py                  # writes book/results/ppo_speed_<backend>.json
    python benchmarks/ppo.py --quick          # smaller sizes, nothing written unless --out is given

GAE: advantages of N tapes of T steps with random episode ends (`memoroids_lite.returns.gae`), the reverse
memoroid scan in its "associative" mode (a parallel scan) and its "serial" mode (one lax.scan over the
memoroid), against the loop every PPO library writes (PureJaxRL's `_calculate_gae`: a reverse lax.scan of
A_t = δ_t + γλ(1 − done_t) A_{t+1}), written here as the baseline. All three are checked to agree; each is
compiled apart (compile_s) and timed as the median of repeated calls (run_ms); ratios are loop / scan.

Throughput: PPO with the LRU (128 features, 128 complex states), Repeat First, 1,024 environments of 128 steps
per rollout, 4 epochs of 4 minibatches: environment steps per second of collection alone (acting, values and
GAE), and of whole iterations (collection + every update), for tapes and chunks of 16 and of 128 steps.
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite import cache
from memoroids_lite.returns import gae
from memoroids_lite.rl.ppo import for_task, make_train
from memoroids_lite.timing import machine, time_jitted


def gae_loop(reward, value, next_value, terminated, done, gamma, lam):
    """The baseline: A_t by a reverse lax.scan over the steps of one tape [T]."""

    def step(following, t):
        r, v, nv, term, d = t
        delta = r + gamma * jnp.where(term, 0.0, nv) - v
        a = delta + gamma * lam * jnp.where(d, 0.0, following)
        return a, a

    _, out = jax.lax.scan(step, jnp.float32(0.0), (reward, value, next_value, terminated, done), reverse=True)
    return out


def gae_rows(sizes, repeats):
    rows = []
    for n, t in sizes:
        keys = jax.random.split(jax.random.PRNGKey(t + n), 4)
        reward, value, next_value = (jax.random.normal(k, (n, t)) for k in keys[:3])
        done = jax.random.uniform(keys[3], (n, t)) < 0.02
        terminated = done & (jnp.arange(t) % 2 == 0)
        args = (reward, value, next_value, terminated, done)
        ways = {"loop": lambda *a: jax.vmap(lambda *x: gae_loop(*x, 0.99, 0.95))(*a)}
        for mode in ("associative", "serial"):
            ways[f"scan {mode}"] = (lambda m: lambda *a: jax.vmap(lambda *x: gae(*x, 0.99, 0.95, mode=m))(*a))(mode)
        reference = jax.jit(ways["loop"])(*args)
        for name, fn in ways.items():
            np.testing.assert_allclose(jax.jit(fn)(*args), reference, rtol=1e-4, atol=1e-4)
            timing = time_jitted(fn, *args, repeats=repeats)
            rows.append({"n": n, "t": t, "method": name, "compile_s": timing.compile_s,
                         "run_ms": 1000 * timing.run_s})
        loop_ms = rows[-3]["run_ms"]
        for row in rows[-3:]:
            row["loop_over_this"] = loop_ms / row["run_ms"]
        print(" | ".join(f"N={n} T={t} {r['method']}: {r['run_ms']:.3f} ms ({r['loop_over_this']:.2f}×)"
                         for r in rows[-3:]), flush=True)
    return rows


def throughput_rows(num_envs, repeats, quick):
    rows = []
    variants = {"tape": {"batching": "tape"},
                "chunks of 16": {"batching": "segment", "segment_length": 16},
                "chunks of 128": {"batching": "segment", "segment_length": 128}}
    for name, variant in variants.items():
        size = {"features": 32, "model_kwargs": {"hidden": 16}} if quick else {"features": 128}
        config = for_task("RepeatFirstEasy", model="lru", num_envs=num_envs, eval_interval=1,
                          train_steps=num_envs * 128, **size, **variant)
        trainer = make_train(config)
        state = jax.jit(trainer.init)(jax.random.PRNGKey(0))
        collect = time_jitted(lambda s: trainer.collect(s)[1].advantage, state, repeats=repeats)

        def iteration(s):
            s, rollout, _ = trainer.collect(s)
            return trainer.update(s, rollout)[1][0]

        whole = time_jitted(iteration, state, repeats=repeats)
        steps = config.steps_per_iteration
        rows.append({"batching": name, "num_envs": num_envs, "rollout_length": config.rollout_length,
                     "features": config.features, "collect_compile_s": collect.compile_s,
                     "collect_steps_per_s": steps / collect.run_s, "iteration_compile_s": whole.compile_s,
                     "iteration_steps_per_s": steps / whole.run_s, "iteration_s": whole.run_s})
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="JSON file (default book/results/ppo_speed_<backend>.json; none with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    cache.disable()  # compile times are cold compiles
    out = args.out or (None if args.quick else f"book/results/ppo_speed_{jax.default_backend()}.json")
    sizes = [(1, 128), (64, 128)] if args.quick else [(1, 128), (1, 8192), (1024, 128), (64, 8192)]
    result = {"machine": machine(), "quick": args.quick, "gae": gae_rows(sizes, 3 if args.quick else 7),
              "throughput": throughput_rows(64 if args.quick else 1024, 2 if args.quick else 3, args.quick)}
    print(f"machine: {result['machine']}")
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
