"""Timing helpers: compile apart from run, medians of finished calls, the machine named."""

import os

import jax.numpy as jnp

from memoroids_lite.timing import Timing, machine, time_jitted, time_python


def test_time_jitted_separates_compile_from_run():
    timing = time_jitted(lambda x: jnp.cumsum(x) * 2, jnp.arange(1000.0), repeats=3)
    assert isinstance(timing, Timing) and timing.compile_s > 0 and timing.run_s > 0


def test_time_python_runs_the_function_once_per_repeat_plus_warm_up():
    calls = []
    seconds = time_python(lambda x: calls.append(1) or x + 1, jnp.ones(3), repeats=4)
    assert len(calls) == 5 and seconds >= 0


def test_machine_names_device_and_versions():
    assert {"device", "cpu", "cores", "python", "jax", "jaxlib"} <= set(machine())


def _compile_in_fresh_process(env_changes):
    """The files a fresh process leaves in a cache folder after compiling one program (min compile time 0)."""
    import subprocess
    import sys

    code = ("import memoroids_lite, jax; jax.config.update('jax_persistent_cache_min_compile_time_secs', 0);"
            "print(jax.config.jax_compilation_cache_dir); jax.jit(lambda x: x * 2 + 1)(1.0).block_until_ready()")
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"} | env_changes
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_compilation_cache_is_on_by_default_and_can_be_turned_off(tmp_path):
    folder = tmp_path / "cache"
    assert _compile_in_fresh_process({"MEMOROIDS_COMPILATION_CACHE": str(folder)}) == str(folder)
    assert any(folder.iterdir()), "a compiled program is stored"
    assert _compile_in_fresh_process({"MEMOROIDS_COMPILATION_CACHE": "0"}) == "None"
    mine = tmp_path / "mine"
    assert _compile_in_fresh_process({"MEMOROIDS_COMPILATION_CACHE": str(folder),
                                      "JAX_COMPILATION_CACHE_DIR": str(mine)}) == str(mine), "a user's own is kept"
    home = tmp_path / "home"
    assert _compile_in_fresh_process({"XDG_CACHE_HOME": str(home), "MEMOROIDS_COMPILATION_CACHE": ""}) == str(
        home / "memoroids_lite" / "jax")
