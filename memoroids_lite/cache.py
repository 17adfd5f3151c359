"""A persistent compilation cache: programs XLA compiled once are read back from disk by later runs.

Compiling a training chunk takes seconds; the same configuration compiled again in a new process (the command
line run twice, a chapter re-run, a resumed experiment) reads the compiled program from the cache instead.
Importing memoroids_lite turns JAX's own persistent cache on (`jax_compilation_cache_dir`), in

    $MEMOROIDS_COMPILATION_CACHE      if set to a folder
    $XDG_CACHE_HOME/memoroids_lite/jax, else ~/.cache/memoroids_lite/jax

unless MEMOROIDS_COMPILATION_CACHE=0 (off), or a cache folder is already set (JAX_COMPILATION_CACHE_DIR or
jax.config): a user's own choice is kept. The command lines take --no-compilation-cache. Programs that compile
in under a second are not stored (JAX's `jax_persistent_cache_min_compile_time_secs`, 1 s by default). The cache
changes nothing but compile time: the compiled program is the same.
"""

from __future__ import annotations

import os

import jax

VARIABLE = "MEMOROIDS_COMPILATION_CACHE"


def default_folder() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "memoroids_lite", "jax")


def enable(folder: str | None = None) -> str | None:
    """Turn the persistent cache on in `folder` (default: as the module says); returns the folder in use, or
    None when the cache is off. A folder already set in JAX's configuration is kept."""
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    setting = os.environ.get(VARIABLE, "")
    if folder is None and setting == "0":
        return None
    folder = folder or setting or default_folder()
    jax.config.update("jax_compilation_cache_dir", folder)
    return folder


def disable() -> None:
    """Turn the persistent cache off for this process (what --no-compilation-cache does)."""
    jax.config.update("jax_compilation_cache_dir", None)
