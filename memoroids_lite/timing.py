"""Measuring speed honestly: compile time apart from run time, and the machine named next to the numbers."""

from __future__ import annotations

import os
import platform
import time
from typing import Callable, NamedTuple

import jax


class Timing(NamedTuple):
    compile_s: float  # tracing + XLA compilation, measured once with jax.jit(...).lower(...).compile()
    run_s: float  # the median of `repeats` calls of the compiled function, outputs ready


def time_jitted(fn: Callable, *args, repeats: int = 5) -> Timing:
    """Compile `fn` for `args` (timed), then time `repeats` runs of the compiled code and keep the median."""
    begin = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - begin
    jax.block_until_ready(compiled(*args))  # one warm-up call: first-call allocations are not the algorithm
    return Timing(compile_s, _median_s(compiled, args, repeats))


def time_carried(fn: Callable, carry, repeats: int = 5):
    """(compile s, median run s, last output) of fn(carry) -> (carry', ...), the carry donated and fed back:
    how training runs its jitted pieces (a state updated in place, not copied at every call)."""
    begin = time.perf_counter()
    compiled = jax.jit(fn, donate_argnums=0).lower(carry).compile()
    compile_s = time.perf_counter() - begin
    out = jax.block_until_ready(compiled(carry))
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        out = jax.block_until_ready(compiled(out[0]))
        runs.append(time.perf_counter() - begin)
    runs.sort()
    return compile_s, runs[len(runs) // 2], out


def time_python(fn: Callable, *args, repeats: int = 5) -> float:
    """Median wall-clock seconds of `fn(*args)` (outputs ready), after one warm-up call that compiles."""
    jax.block_until_ready(fn(*args))
    return _median_s(fn, args, repeats)


def _median_s(fn: Callable, args: tuple, repeats: int) -> float:
    """The median of `repeats` wall-clock times of fn(*args), each waiting until the outputs are ready."""
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        jax.block_until_ready(fn(*args))
        runs.append(time.perf_counter() - begin)
    runs.sort()
    return runs[len(runs) // 2]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What the numbers were measured on: device, CPU, cores and versions (this package's too)."""
    import jaxlib

    from memoroids_lite import __version__

    device = jax.devices()[0]
    return {
        "device": device.platform if device.device_kind == device.platform else f"{device.platform}: {device.device_kind}",
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "memoroids_lite": __version__,
    }
