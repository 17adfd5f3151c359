"""Timing helpers: compile apart from run, medians of finished calls, the machine named."""

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
