"""The memory models side by side: training-step time, compile time, memory and size over the tape length T,
and two small studies of what they remember.

What it measures.

  timing    For every model in `memoroids_lite.models.names()` and every scan mode it has ("associative" and
            "serial" for the four memoroids, "serial" for the GRU), the forward + backward pass of one tape:
            `jax.grad` of the scalar loss mean(model.apply(params, x, start)[0] ** 2) with respect to the
            parameters, for T = 10^2, 10^3, 10^4, 10^5 at features = 64. The tape holds episodes (an episode
            starts with probability 1/100 at each step), so the reset wrapper is part of every measurement.
            Compile time (`jax.jit(...).lower(...).compile()`) is reported apart from run time (median of a few
            calls, `memoroids_lite.timing.time_jitted`). Memory is XLA's own account of the compiled program
            (`compiled.memory_analysis()`: the temporary buffers it allocates, plus arguments and outputs);
            it is measured, not estimated, on every backend. Next to it, `state_bytes_per_step` is the size of
            one monoid element (one GRU state), the least any method must keep per step for the backward pass.
            Before timing, the two scan modes of each memoroid are checked to give the same gradient.
            Sizes follow the paper's code where that fits features = 64 (its configs, `experiments/*/*.yaml`
            in github.com/proroklab/memory-monoids): FFM trace 64 x context 4; LRU and S5 two layers of 128
            complex states; linear attention keys of size 16; GRU 64 units. The paper's models are 256 wide;
            everything here is 64 wide.
  recall    How far back each model can recall with a fixed budget: `copy_with_lag` (8 tokens, tapes of 64
            steps) for lag = 1, 2, 4, 8, 16, 32, each trained from scratch with `memoroids_lite.supervised.fit`
            (features 32, the package's default sizes, 200 updates of 32 tapes, Adam 3e-3). The score is the
            mean training-batch accuracy over the last 20 updates (each batch is freshly sampled, so it is
            measured on tapes the model has not been trained on yet).
  gradient  How strongly the last output depends on each earlier input at initialisation:
            |∂y_{T-1} / ∂x_t| (Frobenius norm of the features x features Jacobian) for t = T-1 ... 0 on a
            one-episode tape of T = 256 steps, averaged over 4 random initialisations and inputs, for the same
            models as `timing`. `fraction` is each distance's share of the total over all distances.

It prints ratios (associative / serial for each memoroid; each model / GRU) and the machine, and writes tidy
CSVs with the machine in every row. The exact command that produced the book's files (about 14 minutes of CPU
time on a 2-core CPU; on a heavily shared one, load average 8, it took 33 minutes of wall time, 60 % of it in the
timing part, most of that compiling the associative scans):

    JAX_PLATFORMS=cpu python benchmarks/models.py

which writes book/results/models_cpu.csv (timing), models_recall_cpu.csv and models_gradient_cpu.csv.
Options: `--quick` (T up to 10^3, 2 lags, 40 updates: a smoke test of a minute or two); `--out PATH` names the
timing CSV and the studies go next to it (`models_gpu.csv` -> `models_recall_gpu.csv`, ...);
`--parts timing,recall,gradient` runs only some parts. On a GPU, for the book's comparison:

    python benchmarks/models.py --out book/results/models_gpu.csv --parts timing
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.models import make, names
from memoroids_lite.results import write_csv
from memoroids_lite.supervised import copy_with_lag, fit
from memoroids_lite.timing import machine, time_jitted

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "book" / "results" / "models_cpu.csv"
FEATURES = 64
RESET_PROBABILITY = 0.01
# Paper-like sizes at features = 64 (the paper's code's configs, as in rl/dqn/config.py's PAPER_MEMORY); the package's
# defaults are smaller (hidden 64, trace 32).
OPTIONS = {
    "linear_attention": {"key_size": 16},
    "lru": {"hidden": 128},
    "s5": {"hidden": 128},
    "ffm": {"trace_size": 64, "context_size": 4},
    "gru": {},
}
LAGS = (1, 2, 4, 8, 16, 32)
RECALL = {"features": 32, "num_tokens": 8, "length": 64, "steps": 200, "batch_size": 32, "learning_rate": 3e-3}
GRADIENT = {"length": 256, "seeds": 4}
MEMORY_CAP_BYTES = 8 * 2**30  # do not run a program that asks XLA for more temporary memory than this


def modes_of(name: str) -> tuple[str, ...]:
    return ("serial",) if name == "gru" else ("associative", "serial")


def nbytes(tree) -> int:
    return int(sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(tree)))


def count(tree) -> int:
    return int(sum(leaf.size for leaf in jax.tree.leaves(tree)))


def repeats_for(length: int) -> int:
    return 5 if length <= 10**3 else 3 if length <= 10**4 else 1


def tape(key, length: int):
    k_x, k_s = jax.random.split(key)
    x = jax.random.normal(k_x, (length, FEATURES))
    start = jax.random.bernoulli(k_s, RESET_PROBABILITY, (length,)).at[0].set(True)
    return x, start


def loss_fn(model):
    def loss(params, x, start):
        return jnp.mean(model.apply(params, x, start)[0] ** 2)

    return loss


def machine_columns(info: dict) -> dict:
    return {"device": info["device"], "cpu": info["cpu"], "cores": info["cores"], "jax": info["jax"]}


# ---------------------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------------------


def timing(lengths, info) -> list[dict]:
    rows = []
    begin = time.perf_counter()
    for name in names():
        for length in lengths:
            x, start = tape(jax.random.key(length), length)
            grads = {}
            for mode in modes_of(name):
                model = make(name, features=FEATURES, mode=mode, **OPTIONS[name])
                params = jax.jit(model.init)(jax.random.key(0), x[:2], start[:2])
                grad = jax.grad(loss_fn(model))
                t = time_jitted(grad, params, x, start, repeats=repeats_for(length))
                compiled = jax.jit(grad).lower(params, x, start).compile()  # cached by now: free
                memory = compiled.memory_analysis()
                grads[mode] = compiled(params, x, start)
                rows.append({
                    "model": name, "mode": mode, "T": length, "features": FEATURES,
                    "layers": model.num_layers, "options": " ".join(f"{k}={v}" for k, v in OPTIONS[name].items()),
                    "params": count(params), "state_bytes_per_step": nbytes(model.initial_state()),
                    "compile_s": f"{t.compile_s:.6g}", "run_s": f"{t.run_s:.6g}", "repeats": repeats_for(length),
                    "temp_bytes": memory.temp_size_in_bytes, "argument_bytes": memory.argument_size_in_bytes,
                    "output_bytes": memory.output_size_in_bytes, "load_1min": f"{os.getloadavg()[0]:.2f}",
                    **machine_columns(info),
                })
                if memory.temp_size_in_bytes > MEMORY_CAP_BYTES:
                    raise RuntimeError(f"{name}/{mode} at T={length} asks for {memory.temp_size_in_bytes / 2**30:.1f} GiB")
                print(f"  {name:16s} {mode:11s} T={length:>7d}  compile {t.compile_s:6.2f} s  run {1e3 * t.run_s:9.2f} ms"
                      f"  temp {memory.temp_size_in_bytes / 2**20:8.1f} MiB   ({time.perf_counter() - begin:6.1f} s so far)",
                      flush=True)
            if len(grads) == 2:  # the two scans must agree before their times mean anything
                for a, b in zip(jax.tree.leaves(grads["associative"]), jax.tree.leaves(grads["serial"])):
                    scale = 1.0 + float(jnp.max(jnp.abs(b)))
                    assert float(jnp.max(jnp.abs(a - b))) <= 1e-3 * scale, f"{name}, T={length}: the scans disagree"
    return rows


def print_timing(rows) -> None:
    run = {(r["model"], r["mode"], r["T"]): float(r["run_s"]) for r in rows}
    comp = {(r["model"], r["mode"], r["T"]): float(r["compile_s"]) for r in rows}
    lengths = sorted({r["T"] for r in rows})
    print("\nforward + backward of one tape, features = 64 (run time; compile time apart)")
    print(f"{'model':16s} {'mode':11s} " + " ".join(f"{'T=' + str(n):>10s}" for n in lengths) + " | compile s at each T")
    for (name, mode) in sorted({(r["model"], r["mode"]) for r in rows}, key=lambda k: (names().index(k[0]), k[1])):
        print(f"{name:16s} {mode:11s} " + " ".join(f"{1e3 * run[(name, mode, n)]:8.2f}ms" for n in lengths)
              + " | " + " ".join(f"{comp[(name, mode, n)]:6.2f}" for n in lengths))
    print("\nassociative / serial run time (> 1: the serial scan is faster)")
    for name in names():
        if name == "gru":
            continue
        print(f"{name:16s} " + " ".join(f"{run[(name, 'associative', n)] / run[(name, 'serial', n)]:10.2f}" for n in lengths))
    print("\nrun time / GRU run time (each model in its faster mode on this machine)")
    for name in names():
        best = [min(run[(name, m, n)] for m in modes_of(name)) for n in lengths]
        print(f"{name:16s} " + " ".join(f"{b / run[('gru', 'serial', n)]:10.2f}" for b, n in zip(best, lengths)))
    print("\nparameters, state bytes per step")
    for name in names():
        r = next(r for r in rows if r["model"] == name)
        print(f"{name:16s} {r['params']:>9,d} params  {r['state_bytes_per_step']:>7,d} B/step  ({r['layers']} layer(s) {r['options']})")


# ---------------------------------------------------------------------------------------------------------
# recall vs lag
# ---------------------------------------------------------------------------------------------------------


def recall(lags, steps, info) -> list[dict]:
    rows = []
    begin = time.perf_counter()
    for name in names():
        for lag in lags:
            task = copy_with_lag(RECALL["num_tokens"], RECALL["length"], lag)
            result = fit(make(name, features=RECALL["features"]), task, steps=steps, key=jax.random.key(lag),
                         batch_size=RECALL["batch_size"], learning_rate=RECALL["learning_rate"])
            accuracy = float(np.mean(np.asarray(result.accuracy)[-20:]))
            rows.append({
                "model": name, "lag": lag, "accuracy": f"{accuracy:.4f}",
                "loss": f"{float(np.mean(np.asarray(result.loss)[-20:])):.4f}", "chance": f"{1 / RECALL['num_tokens']:.4f}",
                "steps": steps, "batch_size": RECALL["batch_size"], "features": RECALL["features"],
                "length": RECALL["length"], "learning_rate": RECALL["learning_rate"], **machine_columns(info),
            })
            print(f"  {name:16s} lag {lag:3d}: accuracy {accuracy:.3f}   ({time.perf_counter() - begin:6.1f} s so far)", flush=True)
    return rows


def print_recall(rows) -> None:
    lags = sorted({r["lag"] for r in rows})
    print("\ncopy_with_lag accuracy after a fixed budget (chance 0.125)")
    print(f"{'model':16s} " + " ".join(f"{'lag ' + str(n):>8s}" for n in lags))
    for name in names():
        acc = {r["lag"]: float(r["accuracy"]) for r in rows if r["model"] == name}
        print(f"{name:16s} " + " ".join(f"{acc[n]:8.3f}" for n in lags))


# ---------------------------------------------------------------------------------------------------------
# gradient magnitude vs distance
# ---------------------------------------------------------------------------------------------------------


def gradient(length: int, seeds: int, info) -> list[dict]:
    rows = []
    for name in names():
        model = make(name, features=FEATURES, mode="serial", **OPTIONS[name])
        start = jnp.zeros(length, bool).at[0].set(True)  # one episode: nothing is cut by a reset

        @jax.jit
        def sensitivity(key):
            k_x, k_p = jax.random.split(key)
            x = jax.random.normal(k_x, (length, FEATURES))
            params = model.init(k_p, x[:2], start[:2])
            jac = jax.jacrev(lambda x: model.apply(params, x, start)[0][-1])(x)  # [features, T, features]
            return jnp.sqrt(jnp.sum(jac**2, axis=(0, 2)))  # |∂y_{T-1}/∂x_t| for each t

        norms = np.mean([np.asarray(sensitivity(jax.random.key(s))) for s in range(seeds)], axis=0)
        by_distance = norms[::-1]  # distance d = T-1-t
        total = by_distance.sum()
        for d, value in enumerate(by_distance):
            rows.append({
                "model": name, "distance": d, "grad_norm": f"{value:.6g}", "fraction": f"{value / total:.6g}",
                "T": length, "seeds": seeds, "features": FEATURES, **machine_columns(info),
            })
        older = by_distance[10:].sum() / total
        print(f"  {name:16s} |∂y/∂x| at distance 0: {by_distance[0]:.3g}, 1: {by_distance[1]:.3g}, 10: {by_distance[10]:.3g}, "
              f"{length - 1}: {by_distance[-1]:.3g};  share older than 10 steps {older:.1%}", flush=True)
    return rows


# ---------------------------------------------------------------------------------------------------------


def study_path(out: pathlib.Path, study: str) -> pathlib.Path:
    stem = out.stem
    new = stem.replace("models", f"models_{study}", 1) if stem.startswith("models") else f"{stem}_{study}"
    return out.with_name(new + out.suffix)


def write(rows, path: pathlib.Path) -> None:
    write_csv(path, rows)
    print(f"wrote {len(rows)} rows to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="T up to 10^3, lags 1 and 8, 40 updates: a smoke test")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help=f"timing CSV (default {DEFAULT_OUT})")
    parser.add_argument("--parts", default="timing,recall,gradient", help="comma-separated: timing, recall, gradient")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",")}
    unknown = parts - {"timing", "recall", "gradient"}
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}")

    info = machine()
    print(f"device: {info['device']} | cpu: {info['cpu']} | cores: {info['cores']} | "
          f"jax {info['jax']} (jaxlib {info['jaxlib']}) | python {info['python']} | load {os.getloadavg()[0]:.1f}")
    begin = time.perf_counter()
    if "timing" in parts:
        lengths = [10**k for k in range(2, 4 if args.quick else 6)]
        rows = timing(lengths, info)
        print_timing(rows)
        write(rows, args.out)
    if "recall" in parts:
        rows = recall((1, 8) if args.quick else LAGS, 40 if args.quick else RECALL["steps"], info)
        print_recall(rows)
        write(rows, study_path(args.out, "recall"))
    if "gradient" in parts:
        rows = gradient(64 if args.quick else GRADIENT["length"], 2 if args.quick else GRADIENT["seeds"], info)
        write(rows, study_path(args.out, "gradient"))
    print(f"\ndone in {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
