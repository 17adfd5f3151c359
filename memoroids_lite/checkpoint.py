"""Checkpoints that cannot run code when loaded: the state's arrays in a NumPy .npz, everything else as JSON.

    save(directory, state, meta, step)    # state: any pytree of arrays; meta: a JSON-able dict
    state, meta = load(directory, like)   # like: a pytree of the same structure (arrays or ShapeDtypeStructs)
    save_arrays(path, tree); tree = load_arrays(path, like)   # one pytree in one .npz, the same safeguards

A checkpoint is two files: DIR/checkpoint-<step>.npz holds the state's leaves as plain arrays (read back
with `allow_pickle=False`, so an array of Python objects, the one thing in an .npz that could run code, is
refused), and DIR/checkpoint.json names that file and lists the leaves' paths, with the metadata. `save`
writes the arrays under a fresh name, then replaces checkpoint.json in one step (os.replace), then removes
older (and half-written) array files: a process killed at any moment leaves either the previous checkpoint or
the new one, whole. `load` refuses a state whose leaves, shapes or dtypes differ from `like` (a checkpoint of
another configuration), a damaged file (the .npz's CRC-32 checks), and a checkpoint in this package's old
pickle format (a pickle can run arbitrary code when it is loaded, so it is never opened).
"""

from __future__ import annotations

import glob
import json
import os
import zipfile

import jax
import numpy as np

INDEX = "checkpoint.json"
LEGACY = "checkpoint.pkl"  # the format before this one: a pickle, refused unread
FORMAT = 2


class CheckpointError(ValueError):
    """A checkpoint that is refused; the message says why and what to do."""


def exists(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, INDEX))


def _paths(tree) -> list[str]:
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def save_arrays(path: str, tree) -> None:
    """Write the leaves of `tree` (a pytree of arrays) to the .npz `path`, atomically (a fresh file, then
    os.replace)."""
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(jax.device_get(tree))]
    with open(path + ".tmp", "wb") as f:
        np.savez(f, *leaves)  # arr_0, arr_1, ... in the order of the leaves
    os.replace(path + ".tmp", path)


def load_arrays(path: str, like, what: str = "the file"):
    """The pytree of `like`'s structure whose leaves `save_arrays` wrote to `path` (never unpickled); raises
    CheckpointError if the file is damaged or a leaf's shape or dtype differs from `like`'s."""
    paths = _paths(like)
    try:
        with np.load(path, allow_pickle=False) as arrays:
            leaves = [arrays[f"arr_{i}"] for i in range(len(paths))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} cannot be read ({error}); delete {what} and compute it again.")
    for leaf_path, want, have in zip(paths, jax.tree.leaves(like), leaves):
        if have.shape != want.shape or have.dtype != want.dtype:
            raise CheckpointError(f"{path}: {leaf_path} has shape {have.shape} and dtype {have.dtype}; this "
                                  f"configuration needs {want.shape} {want.dtype}.")
    return jax.tree.unflatten(jax.tree.structure(like), leaves)


def save(directory: str, state, meta: dict, step: int) -> None:
    """Write `state` (a pytree of arrays) and `meta` as the checkpoint of `directory` after `step`."""
    name = f"checkpoint-{step:06d}.npz"
    save_arrays(os.path.join(directory, name), state)
    index = {"format": FORMAT, "state": name, "leaves": _paths(state), "meta": meta}
    with open(os.path.join(directory, INDEX + ".tmp"), "w") as f:
        json.dump(index, f)
    os.replace(os.path.join(directory, INDEX + ".tmp"), os.path.join(directory, INDEX))
    for old in glob.glob(os.path.join(directory, "checkpoint-*.npz*")):  # older states, half-written ones
        if os.path.basename(old) != name:
            os.remove(old)


def refuse_legacy(directory: str) -> None:
    """Raise CheckpointError if `directory` holds a checkpoint in the old pickle format."""
    path = os.path.join(directory, LEGACY)
    if os.path.exists(path):
        raise CheckpointError(
            f"{path} is a checkpoint in an old format (a Python pickle, which can run arbitrary code when "
            "loaded); it is not read. Delete it to train this run again from the start, or train into "
            "another directory.")


def load(directory: str, like):
    """(state, meta) from the checkpoint of `directory`, in the structure of `like`; None if there is none.
    Raises CheckpointError for a legacy pickle, a damaged file or a state that does not fit `like`."""
    refuse_legacy(directory)
    index_path = os.path.join(directory, INDEX)
    if not os.path.exists(index_path):
        return None
    try:
        with open(index_path) as f:
            index = json.load(f)
        state_path = os.path.join(directory, os.path.basename(index["state"]))
        paths, meta = list(index["leaves"]), index["meta"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{index_path} cannot be read ({error}); delete it to start the run again.")
    if index.get("format") != FORMAT or paths != _paths(like):
        raise CheckpointError(f"{state_path} holds a state of another format or structure than this "
                              "configuration's; delete the checkpoint to start the run again.")
    return load_arrays(state_path, like, "the checkpoint"), meta
