"""Environment throughput: the nine POPGym tasks in JAX (jit + vmap) against `popgym` itself, in one run.

What it measures. For each of the nine tasks the paper trains on, at Easy (Repeat Previous with the paper's
num_decks=2, k=10), it times a uniformly random policy:

  memoroids_lite  `memoroids_lite.envs.make(task)`: B environments stepped together by a `jax.vmap`ped
                  `env.step` (gymnax auto-reset, the paper's observation pipeline), T steps in one
                  `jax.lax.scan` under `jax.jit`; each step draws B actions and B step keys inside the scan.
                  B = 1, 64, 1024, 4096. Compiled once (compile time reported apart), then the median of
                  several runs (`memoroids_lite.timing.time_jitted`); steps/s = B · T / run time.
                  On a CPU, XLA runs such a program on one core. So for B ≥ 64 it is timed twice: on one
                  device (devices = 1), and with the B environments split evenly over one XLA host device per
                  core (`jax.shard_map`; devices = number of cores), which is how to use the whole CPU.
  popgym          ONE `popgym` environment under the paper's wrappers (`Flatten(Antialias(PreviousAction(env)))`,
                  `DiscreteAction` for MineSweeper) stepped in a Python loop with random actions (drawn
                  beforehand with NumPy, so the loop pays only for the environment), resetting by hand when an
                  episode ends; steps/s = steps / wall time over at least a couple of seconds.

It prints a table of steps/s and of the ratio memoroids_lite / popgym for every task and B, the machine it ran
on, and writes one tidy CSV row per (task, num_envs, method) with the machine columns: the file the book's
chapter on memory tasks plots. The exact command that produced book/results/envs_cpu.csv (about 5 minutes on
a 2-core CPU):

    JAX_PLATFORMS=cpu python benchmarks/envs.py

Options: `--quick` measures B = 1 and 1024 with fewer steps (a few minutes); `--out PATH` writes the CSV
elsewhere (on a GPU, e.g. `python benchmarks/envs.py --out book/results/envs_gpu.csv`).

The goal set for this benchmark (a 2-core CPU): Repeat Previous at 4096 environments at least 10 M steps/s,
and at least 200 times popgym's single process. The script prints whether the run met it.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time
from importlib.metadata import version

# One XLA device per core, so that a batch of environments can be split over the cores (must precede `import jax`).
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={os.cpu_count()}"
    ).strip()

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from memoroids_lite.envs import TASKS, make
from memoroids_lite.results import write_csv
from memoroids_lite.timing import machine, time_jitted

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "book" / "results" / "envs_cpu.csv"
# (task id, options): the nine tasks of the paper at Easy; Repeat Previous with the paper's settings.
BENCH_TASKS = [
    ("RepeatFirstEasy", {}),
    ("RepeatPreviousEasy", dict(num_decks=2, k=10)),
    ("CountRecallEasy", {}),
    ("AutoencodeEasy", {}),
    ("PositionOnlyCartPoleEasy", {}),
    ("NoisyPositionOnlyCartPoleEasy", {}),
    ("VelocityOnlyCartPoleEasy", {}),
    ("MineSweeperEasy", {}),
    ("MultiarmedBanditEasy", {}),
]
OURS, POPGYM = "memoroids_lite", "popgym"
GOAL_TASK, GOAL_ENVS, GOAL_STEPS_PER_S, GOAL_RATIO = "RepeatPreviousEasy", 4096, 10e6, 200


# ---------------------------------------------------------------------------------------------------------
# memoroids_lite: a jitted scan over steps of a vmapped env.step
# ---------------------------------------------------------------------------------------------------------


def random_rollout(env, params, num_envs: int, steps: int):
    """run(key, obs, state) -> (obs, state, summed rewards): `steps` steps of `num_envs` environments."""
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def body(carry, key):
        obs, state, total = carry
        k_action, k_step = jax.random.split(key)
        actions = jax.random.randint(k_action, (num_envs,), 0, env.num_actions)
        obs, state, reward, terminated, truncated, info = step(jax.random.split(k_step, num_envs), state, actions, params)
        return (obs, state, total + reward), None

    def run(key, obs, state):
        carry = (obs, state, jnp.zeros(num_envs, jnp.float32))
        return jax.lax.scan(body, carry, jax.random.split(key, steps))[0]

    return run


def time_ours(env, params, num_envs: int, steps: int, repeats: int, devices: int = 1):
    """(compile seconds, run seconds) of `steps` vmapped steps of `num_envs` environments on `devices` devices."""
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.key(0), num_envs), params)
    if devices == 1:
        timing = time_jitted(random_rollout(env, params, num_envs, steps), jax.random.key(1), obs, state, repeats=repeats)
        return timing.compile_s, timing.run_s
    # Each device steps num_envs / devices environments with its own key; the batch axis is split over devices.
    mesh = jax.make_mesh((devices,), ("envs",), devices=jax.devices()[:devices])
    rollout = random_rollout(env, params, num_envs // devices, steps)
    split = jax.shard_map(lambda keys, obs, state: rollout(keys[0], obs, state), mesh=mesh,
                          in_specs=PartitionSpec("envs"), out_specs=PartitionSpec("envs"), check_vma=False)
    args = jax.device_put((jax.random.split(jax.random.key(1), devices), obs, state),
                          NamedSharding(mesh, PartitionSpec("envs")))
    timing = time_jitted(split, *args, repeats=repeats)
    return timing.compile_s, timing.run_s


# ---------------------------------------------------------------------------------------------------------
# popgym: one environment in a Python loop
# ---------------------------------------------------------------------------------------------------------


def popgym_env(env_id: str, **kwargs):
    """The popgym task under the paper's wrapper stack (its code's `utils.load_popgym_env`), as tests/test_envs.py
    builds it."""
    import popgym
    from popgym.wrappers import Antialias, DiscreteAction, Flatten, PreviousAction

    task = next(t for t in TASKS if env_id.startswith(t))
    env = getattr(popgym.envs, env_id)(**kwargs)
    if TASKS[task][1]:  # the paper's previous-action setting for the task
        env = PreviousAction(env)
    env = Flatten(Antialias(env))
    return DiscreteAction(env) if task == "MineSweeper" else env


def time_popgym(env, min_seconds: float, chunk: int = 500) -> tuple[int, float]:
    """(steps, seconds) of random steps of one popgym environment, with resets, for at least `min_seconds`."""
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.action_space.n, size=chunk)
    env.reset(seed=0)
    steps, begin = 0, time.perf_counter()
    while True:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += chunk
        elapsed = time.perf_counter() - begin
        if elapsed >= min_seconds:
            return steps, elapsed


# ---------------------------------------------------------------------------------------------------------


def steps_for(num_envs: int, env_steps: int, max_steps: int = 8192) -> int:
    """Scan length: about `env_steps` environment steps in all, between 64 and `max_steps` scan steps."""
    return min(max_steps, max(64, env_steps // num_envs))


def run(sizes, env_steps: int, repeats: int, popgym_seconds: float, out: pathlib.Path) -> list[dict]:
    info = machine()
    info["popgym"] = version("popgym")
    print(f"device: {info['device']} | cpu: {info['cpu']} | cores: {info['cores']} | jax {info['jax']} "
          f"(jaxlib {info['jaxlib']}) | python {info['python']} | popgym {info['popgym']}")
    columns = {key: info[key] for key in ("device", "cpu", "cores", "python", "jax", "jaxlib", "popgym")}
    rows, begin = [], time.perf_counter()
    for task, options in BENCH_TASKS:
        settings = " ".join(f"{k}={v}" for k, v in options.items())
        env, params = make(task, **options)
        theirs = popgym_env(task, **options)
        assert theirs.observation_space.shape == (env.obs_size,) and theirs.action_space.n == env.num_actions, task

        steps, seconds = time_popgym(theirs, popgym_seconds)
        rows.append({"task": task, "settings": settings, "num_envs": 1, "method": POPGYM, "devices": 1,
                     "steps_per_s": f"{steps / seconds:.6g}", "compile_s": "", "run_s": f"{seconds:.6g}",
                     "env_steps": steps, **columns})
        for num_envs in sizes:
            steps = steps_for(num_envs, env_steps)
            for devices in sorted({1, jax.device_count()} if num_envs >= 64 else {1}):
                compile_s, run_s = time_ours(env, params, num_envs, steps, repeats, devices)
                rows.append({"task": task, "settings": settings, "num_envs": num_envs, "method": OURS,
                             "devices": devices, "steps_per_s": f"{num_envs * steps / run_s:.6g}",
                             "compile_s": f"{compile_s:.6g}", "run_s": f"{run_s:.6g}", "env_steps": num_envs * steps,
                             **columns})
        print(f"  {task:30s} done ({time.perf_counter() - begin:6.1f} s so far)", flush=True)

    write_csv(out, rows)
    print_table(rows, sizes)
    print(f"\nwrote {len(rows)} rows to {out} in {time.perf_counter() - begin:.1f} s")
    return rows


def print_table(rows: list[dict], sizes) -> None:
    theirs = {r["task"]: float(r["steps_per_s"]) for r in rows if r["method"] == POPGYM}
    best = {}  # (task, B) -> (steps/s, devices): the faster of one device and all cores
    for devices in sorted({int(r["devices"]) for r in rows if r["method"] == OURS}):
        ours = {(r["task"], int(r["num_envs"])): r for r in rows if r["method"] == OURS and int(r["devices"]) == devices}
        shown = [b for b in sizes if any((t, b) in ours for t in theirs)]
        header = " ".join(f"{f'B={b}':>19s}" for b in shown)
        print(f"\nmemoroids_lite on {devices} device{'s' if devices > 1 else ''}"
              + (" (the B environments split evenly, one XLA host device per core)" if devices > 1 else ""))
        print(f"{'task':30s} {'popgym':>9s} | {header} | {'compile':>8s}")
        print(f"{'':30s} {'steps/s':>9s} | " + " ".join(f"{'steps/s (x popgym)':>19s}" for _ in shown) + f" | {'(max)':>8s}")
        print("-" * (44 + 20 * len(shown) + 11))
        for task in theirs:
            cells = []
            for b in shown:
                speed = float(ours[(task, b)]["steps_per_s"])
                cells.append(f"{speed / 1e6:8.3f}M ({speed / theirs[task]:6.1f}x)")
                best[(task, b)] = max(best.get((task, b), (0.0, 1)), (speed, devices))
            compile_s = max(float(ours[(task, b)]["compile_s"]) for b in shown)
            print(f"{task:30s} {theirs[task] / 1e3:8.1f}k | {' '.join(f'{c:>19s}' for c in cells)} | {compile_s:7.2f}s")
    print("memoroids_lite: B environments, jit + vmap + lax.scan; popgym: one environment, Python loop.")
    if (GOAL_TASK, GOAL_ENVS) in best:
        speed, devices = best[(GOAL_TASK, GOAL_ENVS)]
        ratio = speed / theirs[GOAL_TASK]
        met = speed >= GOAL_STEPS_PER_S and ratio >= GOAL_RATIO
        print(f"\ngoal, {GOAL_TASK} (num_decks=2, k=10) at {GOAL_ENVS} environments: >= {GOAL_STEPS_PER_S / 1e6:.0f} M "
              f"steps/s and >= {GOAL_RATIO}x popgym. Measured {speed / 1e6:.2f} M steps/s on {devices} device(s), "
              f"{ratio:.0f}x popgym: {'met' if met else 'NOT met'}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="B = 1 and 1024 only, fewer steps (a few minutes)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help=f"CSV to write (default {DEFAULT_OUT})")
    args = parser.parse_args()
    if args.quick:
        run(sizes=[1, 1024], env_steps=2**16, repeats=3, popgym_seconds=0.5, out=args.out)
    else:
        run(sizes=[1, 64, 1024, 4096], env_steps=2**19, repeats=5, popgym_seconds=2.0, out=args.out)


if __name__ == "__main__":
    main()
