"""Training split over devices gives the results of one device (tests/parallel_check.py, in a fresh process
with two host devices: JAX fixes its device count when it starts)."""

import os
import subprocess
import sys


def test_a_run_split_over_two_devices_equals_the_run_on_one():
    script = os.path.join(os.path.dirname(__file__), "parallel_check.py")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
