"""Training across devices with JAX's own sharding: the same program on 1 device or many.

Nothing here changes what is computed. `jax.jit` is told how the arrays are laid out over a mesh of devices
(`jax.sharding.NamedSharding`), and XLA's partitioner (GSPMD) splits the work and inserts the communication:

- seeds across devices (`train_seeds`): the vmapped seed axis is split; seeds never communicate.
- environments across devices (`train_split_envs`): every array with an environment axis — the collector's
  observations, environment states and memories, PPO's tape prefixes, the replay rings of DQN's environment
  streams — is split along it, the parameters and optimiser state are replicated. This splits the acting and
  the storage.
- the update across devices (data parallel): a minibatch is drawn from every environment (PPO's shuffle,
  DQN's sampling). Built with `make_train(config, batch_sharding=batch_sharding(mesh))`, every minibatch is laid
  out along "data": each device computes the loss and gradient of its share of the sequences, and XLA
  averages the gradients with one all-reduce, so every device applies the same update. Without it, XLA
  gathers the drawn sequences onto every device, each of which computes the whole update.

    mesh = devices_mesh()                                          # every local device, one axis "data"
    metrics = train_seeds(trainer, keys, mesh)                     # keys [S], S divisible by the devices
    metrics = train_split_envs(trainer, key, mesh)                 # num_envs divisible by the devices
    trainer = make_train(config, batch_sharding=batch_sharding(mesh))  # and the update split too

On several hosts, call `jax.distributed.initialize()` first on every host (JAX's multi-controller runtime);
`jax.devices()` then lists the devices of every host and the same calls run the same program on all of them.
On one CPU, `XLA_FLAGS=--xla_force_host_platform_device_count=2` (set before JAX starts) makes two host
devices: that is how the tests check that a split run gives the results of a run on one device.
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from memoroids_lite.rl.trainer import Trainer, train

AXIS = "data"
# The fields of a training state whose leaves all lead with the environment axis N: the collector (both
# algorithms), PPO's tape prefixes, and the replay storage's per-stream rings (DQN; its episode records and
# counters are not per environment and stay whole).
ENV_FIELDS = {"collector", "prefix_obs", "prefix_start"}
STORAGE_RINGS = {"obs", "action", "reward", "terminated", "start", "memory", "extras", "episode_begin"}


def devices_mesh(devices=None) -> Mesh:
    """A one-axis mesh ("data") over `devices` (default: every device JAX sees, on every host)."""
    return Mesh(np.array(devices if devices is not None else jax.devices()), (AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Every leaf of a minibatch split along its first axis (the sequences of PPO's minibatches and DQN's
    segments; a DQN tape's slots) across the mesh: `make_train(config, batch_sharding=...)` of either
    algorithm then computes its update data-parallel. That axis must be divisible by the devices."""
    return NamedSharding(mesh, PartitionSpec(AXIS))


def lay_out(batch, sharding: NamedSharding | None):
    """`batch` constrained to `sharding` inside a jitted update (None: left to XLA)."""
    if sharding is None:
        return batch
    for leaf in jax.tree.leaves(batch):
        _check_divisible("a minibatch's first axis", leaf.shape[0], sharding.mesh)
    return jax.lax.with_sharding_constraint(batch, sharding)


def _check_divisible(what: str, count: int, mesh: Mesh) -> None:
    devices = mesh.devices.size
    if count % devices:
        raise ValueError(f"{what} = {count} cannot be split over {devices} devices: use a multiple of {devices}.")


def train_seeds(trainer: Trainer, keys, mesh: Mesh):
    """`train` of every seed key ([S, 2]), the seed axis split across the mesh: metrics [S, chunks]."""
    _check_divisible("the number of seeds", len(keys), mesh)
    split = NamedSharding(mesh, PartitionSpec(AXIS))
    run = jax.jit(jax.vmap(partial(train, trainer)), in_shardings=split, out_shardings=split)
    return run(jax.device_put(keys, split))


def _env_axis(path) -> bool:
    """Whether the leaf at `path` in a training state leads with the environment axis."""
    names = [entry.name for entry in path if isinstance(entry, jax.tree_util.GetAttrKey)]
    if not names:
        return False
    return names[0] in ENV_FIELDS or (names[0] == "storage" and len(names) > 1 and names[1] in STORAGE_RINGS)


def state_shardings(state, mesh: Mesh):
    """The sharding of every leaf of a training state: split along its first axis if that is the environment
    axis, replicated otherwise."""
    split, whole = NamedSharding(mesh, PartitionSpec(AXIS)), NamedSharding(mesh, PartitionSpec())
    return jax.tree_util.tree_map_with_path(lambda path, _: split if _env_axis(path) else whole, state)


def train_split_envs(trainer: Trainer, key, mesh: Mesh):
    """`train(trainer, key)`, one seed, its environments (acting and storage) split across the mesh: metrics
    [chunks]. The update is computed whole on every device (the module's docstring)."""
    like = jax.eval_shape(trainer.init, key)
    _check_divisible("num_envs", like.collector.start.shape[0], mesh)
    shardings = state_shardings(like, mesh)
    init = jax.jit(trainer.init, out_shardings=shardings)

    def chunk(state, _):
        state, metrics = trainer.chunk(state)
        return jax.lax.with_sharding_constraint(state, shardings), metrics

    def run(state):
        return jax.lax.scan(chunk, state, None, trainer.num_chunks)[1]

    return jax.jit(run, in_shardings=(shardings,))(init(key))
