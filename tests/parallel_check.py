"""Run by tests/test_parallel.py in a fresh process, with two host devices made before JAX starts: a run split
over 2 devices gives the metrics of the run on one device (float tolerance), for DQN and PPO, seeds split or
environments split, with the update data-parallel or not, and the split state and update really are split."""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["JAX_PLATFORMS"] = "cpu"

from functools import partial  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from memoroids_lite.experiments.training import CI  # noqa: E402
from memoroids_lite.rl import TrainConfig, parallel, trainer  # noqa: E402
from memoroids_lite.rl import make_train as dqn_train  # noqa: E402
from memoroids_lite.rl.ppo import for_task as ppo_config  # noqa: E402
from memoroids_lite.rl.ppo import make_train as ppo_train  # noqa: E402

TINY_PPO = dict(features=16, model_kwargs={"hidden": 8}, num_envs=4, rollout_length=16, segment_length=4,
                num_minibatches=2, update_epochs=2, eval_interval=2, eval_episodes=4, train_steps=4 * 16 * 2 * 2)


def close(a, b, what):
    for name, x, y in zip(a._fields, a, b):
        if name != "eval_key":
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5, err_msg=f"{what}: {name}")
    np.testing.assert_array_equal(np.asarray(a.eval_key), np.asarray(b.eval_key), err_msg=what)


def update_flops(run, state, shardings, algorithm) -> float:
    """The operations one device runs for one update (PPO: all its epochs of minibatches), by XLA's cost model."""
    if algorithm == "ppo":
        rollout = jax.eval_shape(lambda s: run.collect(s)[1], state)
        step = jax.jit(run.update, in_shardings=(shardings, None))
        compiled = step.lower(state, rollout).compile()
    else:
        compiled = jax.jit(run.update, in_shardings=(shardings, None)).lower(state, None).compile()
    cost = compiled.cost_analysis()
    return float((cost[0] if isinstance(cost, list) else cost)["flops"])


def main():
    assert len(jax.devices()) == 2, jax.devices()
    mesh = parallel.devices_mesh()
    # DQN with segments from stored states (the replay rings, memories included, split by stream); PPO on tapes
    # (the collector and the tape prefixes split by environment)
    # (96 = 24 segments of 4: an even number of sequences to split)
    dqn = TrainConfig(**{**CI, "batch_size": 96}, model="lru", batching="segment", segment_length=4,
                      segment_init="stored")
    configs = {"dqn": (dqn_train, dqn),
               "ppo": (ppo_train, ppo_config("RepeatFirstEasy", **TINY_PPO))}
    runs = {algorithm: make(config) for algorithm, (make, config) in configs.items()}
    key = jax.random.PRNGKey(0)
    for algorithm, run in runs.items():
        alone = jax.jit(partial(trainer.train, run))(key)
        # environments and the update split (the split without the update is chapter 19's; its update is the
        # one-device update, compiled below)
        make, config = configs[algorithm]
        data_parallel = make(config, batch_sharding=parallel.batch_sharding(mesh))
        close(alone, parallel.train_split_envs(data_parallel, key, mesh), f"{algorithm}: environments split")
        like = jax.eval_shape(run.init, key)
        shardings = parallel.state_shardings(like, mesh)
        state = jax.jit(run.init, out_shardings=shardings)(key)
        per_env = state.storage.memory if algorithm == "dqn" else state.prefix_obs
        for split in (state.collector.obs, *jax.tree.leaves(per_env)):
            shards = split.addressable_shards
            assert len(shards) == 2 and shards[0].data.shape[0] == split.shape[0] // 2, algorithm
        for leaf in jax.tree.leaves(state.params):  # replicated: every device holds all of it
            assert all(shard.data.shape == leaf.shape for shard in leaf.addressable_shards)
        # each device computes about half of a data-parallel update: XLA's count of one device's operations
        whole, halved = (update_flops(r, state, shardings, algorithm) for r in (run, data_parallel))
        assert halved < 0.75 * whole, (algorithm, halved, whole)
        print(f"{algorithm}: one device's share of an update's operations {halved / whole:.2f}")
    # seeds split: the first of two split seeds against PPO's run alone above (vmapped seeds round alike)
    keys = np.stack([key, jax.random.PRNGKey(1)])
    split = parallel.train_seeds(runs["ppo"], keys, mesh)
    close(alone, jax.tree.map(lambda x: x[0], split), "ppo: seeds split")
    assert len({shard.device for shard in split.loss.addressable_shards}) == 2
    try:
        parallel.train_seeds(runs["ppo"], jax.random.split(key, 3), mesh)
    except ValueError as error:
        assert "cannot be split over 2 devices: use a multiple of 2" in str(error)
    else:
        raise AssertionError("3 seeds over 2 devices must be refused")
    print("ok")


if __name__ == "__main__":
    main()
