"""The DQN reference: what small ci-scale runs give, recorded once so that a reshaped package can be held to it.

    python tests/dqn_reference.py          # (re)writes tests/data/dqn_reference.npz; from the repository root

Each configuration of CONFIGS trains 2 seeds (seed i: PRNGKey(i)) as `python -m memoroids_lite.train` does,
`init` then `chunk` jitted apiece, one seed at a time, and the file keeps every field of every chunk's Metrics and
the final online parameters of each seed (arrays named "<run>/seed<i>/<metric>" and
"<run>/seed<i>/params<keystr of the leaf>"). tests/test_dqn_reference.py trains the same configurations with the
package as it is now and asserts that every array is equal: bit for bit where the recording was made (it was),
to float32 rounding on another processor, whose XLA code may order sums differently. The file records the jax and
jaxlib versions it was written with; under other versions the test is skipped, since their numbers may differ.

It was written by the code at the commit that introduced it (before the reshaping of `memoroids_lite.rl` into
shared pieces and `rl/dqn/`); rewrite it only when a change is meant to change DQN's numbers, and say so in the
commit.
"""

from __future__ import annotations

import os

import jax
import numpy as np

from memoroids_lite.experiments.training import CI
from memoroids_lite.rl import TrainConfig, make_train

PATH = os.path.join(os.path.dirname(__file__), "data", "dqn_reference.npz")
SEEDS = 2

# Four updates each (two chunks of two), except "episode" (four episodes, one update each): every batching and
# initial memory, a sequential model, two updates per rollout, the paper's code's loss and the paper's collection.
CONFIGS = {
    "tape": dict(model="lru"),
    "segment_10_zero": dict(model="lru", batching="segment", segment_length=10),
    "segment_10_burn_in_4": dict(model="lru", batching="segment", segment_length=10, segment_init="burn_in",
                                 burn_in=4),
    "gru_segment_10_stored": dict(model="gru", model_kwargs={}, batching="segment", segment_length=10,
                                  segment_init="stored"),
    "ffm_tape_2_updates_per_rollout": dict(model="ffm", model_kwargs={"trace_size": 4, "context_size": 4},
                                           updates_per_rollout=2),
    "segment_10_paper_code": dict(model="lru", batching="segment", segment_length=10, paper_code_loss=True),
    "episode_tape": dict(model="lru", rollout="episode", num_envs=1, warmup_steps=0, train_steps=0,
                         warmup_episodes=3, train_episodes=4),
}


def config(name: str) -> TrainConfig:
    return TrainConfig(**CI | CONFIGS[name])


def train(name: str) -> dict[str, np.ndarray]:
    """The arrays of run `name`: every Metrics field of every chunk and the final parameters, per seed."""
    trainer = make_train(config(name))
    init, chunk = jax.jit(trainer.init), jax.jit(trainer.chunk)
    arrays = {}
    for seed in range(SEEDS):
        state, chunks = init(jax.random.PRNGKey(seed)), []
        for _ in range(trainer.num_chunks):
            state, metrics = chunk(state)
            chunks.append(metrics)
        for field in metrics._fields:
            arrays[f"{name}/seed{seed}/{field}"] = np.stack([np.asarray(getattr(m, field)) for m in chunks])
        for path, leaf in jax.tree_util.tree_flatten_with_path(state.params)[0]:
            arrays[f"{name}/seed{seed}/params{jax.tree_util.keystr(path)}"] = np.asarray(leaf)
    return arrays


def versions() -> dict[str, np.ndarray]:
    """The versions that decide the numbers, stored beside them."""
    return {"versions/jax": np.array(jax.__version__), "versions/jaxlib": np.array(jax.lib.__version__)}


def main() -> None:
    arrays = versions()
    for name in CONFIGS:
        arrays |= train(name)
        print(name, "done", flush=True)
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    np.savez_compressed(PATH, **arrays)
    print(f"{PATH}: {len(arrays)} arrays, {os.path.getsize(PATH):,} bytes")


if __name__ == "__main__":
    main()
