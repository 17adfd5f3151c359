"""memoroids_lite: memoroids for recurrent reinforcement learning, in JAX.

The package behind the book "Memoroids from Scratch". Data flows one way:
monoid -> memoroid -> models -> rl -> experiments.

Importing it turns on JAX's persistent compilation cache (memoroids_lite/cache.py; MEMOROIDS_COMPILATION_CACHE=0
turns it off).
"""

from memoroids_lite import cache
from memoroids_lite.budget import budget
from memoroids_lite.monoid import Monoid, check_monoid, resettable, scan, serial_scan
from memoroids_lite.returns import discounted_return, gae, returns_to_go

__version__ = "0.2.0"

cache.enable()

__all__ = [
    "Monoid",
    "budget",
    "check_monoid",
    "discounted_return",
    "gae",
    "resettable",
    "returns_to_go",
    "scan",
    "serial_scan",
]
