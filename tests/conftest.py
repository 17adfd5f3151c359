import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Training graphs that several tests build identically compile once per test session.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".jax_cache"))

from hypothesis import settings  # noqa: E402

# JAX compiles once per new shape: keep example counts modest and never time-limit an example.
settings.register_profile("memoroids", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("memoroids")
