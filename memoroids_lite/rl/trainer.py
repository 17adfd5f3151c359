"""What an algorithm's `make_train(config)` returns: the pieces of one run, as plain data.

    trainer = make_train(config)
    state = trainer.init(key)                  # parameters, storage, collector; the random warm-up collected
    state, metrics = trainer.chunk(state)      # `eval_interval` iterations, then a greedy evaluation
    ...                                        # trainer.num_chunks times
    metrics = jax.jit(partial(train, trainer))(key)                         # the whole run, one seed
    metrics = jax.jit(jax.vmap(partial(train, trainer)))(keys)              # several seeds at once

The command line (memoroids_lite.train) calls `init` and `chunk` itself, to show progress and save
checkpoints between chunks; the other pieces serve the book, the agents and benchmarks/train.py.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax


class Trainer(NamedTuple):
    init: Callable  # key -> state
    chunk: Callable  # state -> (state, metrics)
    num_chunks: int  # chunks of the whole run
    env: Any  # the task, and its parameters
    env_params: Any
    network: Any  # the flax module: a memory body with the algorithm's head
    # the algorithm's own steps, for the book and the benchmarks:
    # DQN: collect(state, steps, exploration) -> (state, summed returns, finished episodes);
    #      update(state, _) -> (state, loss), one gradient update, a lax.scan body
    # PPO: collect(state) -> (state, rollout, (summed returns, finished episodes));
    #      update(state, rollout) -> (state, (losses, loss parts)), every epoch's minibatch updates
    collect: Callable
    update: Callable
    evaluate: Callable  # state -> (state, eval_return, the key of the evaluation's episodes)
    greedy_return: Callable  # (params, key) -> mean return of the greedy (most likely) episodes `key` draws
    evaluation_key: Callable  # (seed key, chunks) -> the key of the evaluation after chunk `chunks`


def train(trainer: Trainer, key):
    """The whole run from seed `key`: the metrics of every chunk (leading axis:
    chunk)."""

    def chunk(state, _):
        return trainer.chunk(state)

    _, metrics = jax.lax.scan(chunk, trainer.init(key), None, trainer.num_chunks)
    return metrics
