"""The whole training loop — collect, store, sample, update, evaluate — as pure functions under one jit.

    train = make_train(config)
    metrics = jax.jit(train)(jax.random.PRNGKey(0))                     # one seed
    metrics = jax.jit(jax.vmap(train))(jax.random.split(key, 5))         # five seeds at once

`train(key)` is `init(key)` (parameters, buffer, random warm-up collection) followed by `chunk` applied
`train.num_chunks` times; each chunk runs `eval_interval` iterations (a rollout of every environment, then
`updates_per_rollout` gradient updates) and ends with a greedy evaluation. The command line
(`python -m memoroids_lite.train`) calls `train.init` and `train.chunk` itself, to show progress and save
checkpoints between chunks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from memoroids_lite.envs import make as make_env
from memoroids_lite.rl import collect, replay, segment, tape
from memoroids_lite.rl.config import TrainConfig
from memoroids_lite.rl.loss import segment_loss, tape_loss
from memoroids_lite.rl.network import QNetwork, initial_state


class TrainState(NamedTuple):
    params: Any
    target_params: Any
    opt_state: Any
    storage: replay.Storage
    collector: collect.Collector
    key: jax.Array
    iteration: jax.Array


class Metrics(NamedTuple):
    env_steps: jax.Array  # environment steps so far, warm-up included
    updates: jax.Array  # gradient updates so far
    eval_return: jax.Array  # mean undiscounted return of the greedy evaluation episodes
    train_return: jax.Array  # mean return of the ε-greedy episodes that ended during the chunk (NaN if none)
    loss: jax.Array  # mean loss over the chunk's updates


def make_network(config: TrainConfig, num_actions: int) -> QNetwork:
    return QNetwork(num_actions, config.model, config.features, tuple(sorted(config.model_kwargs.items())),
                    config.scan_mode)


def make_optimizer(config: TrainConfig):
    schedule = (optax.linear_schedule(0.0, config.learning_rate, config.lr_warmup) if config.lr_warmup
                else optax.constant_schedule(config.learning_rate))
    return optax.chain(optax.zero_nans(), optax.clip_by_global_norm(config.max_grad_norm),
                       optax.adam(schedule, eps=1e-8))


def make_train(config: TrainConfig):
    env, env_params = make_env(config.env, **config.env_kwargs)
    network = make_network(config, env.num_actions)
    optimizer = make_optimizer(config)
    store_memory = config.batching == "segment" and config.segment_init != "zero"
    burn_in = config.burn_in or config.segment_length
    iterations = config.iterations  # a whole number of evaluations (validated)
    max_steps = int(env_params.max_steps_in_episode)

    def collect_steps(state: TrainState, steps: int, epsilon):
        def body(carry, key):
            state, returns, finished = carry
            collector, transition, episode_return, done = collect.step(
                env,
                env_params,
                network,
                state.params,
                state.collector,
                key,
                epsilon,
                store_memory,
            )
            storage = replay.add(state.storage, transition)
            carry = (
                state._replace(storage=storage, collector=collector),
                returns + jnp.sum(jnp.where(done, episode_return, 0.0)),
                finished + jnp.sum(done),
            )
            return carry, None

        key, sub = jax.random.split(state.key)
        (state, returns, finished), _ = jax.lax.scan(
            body, (state, 0.0, 0), jax.random.split(sub, steps)
        )
        return state._replace(key=key), returns, finished

    def loss_fn(params, target_params, key, storage):
        if config.batching == "tape":
            batch = tape.sample(storage, key, config.batch_size)
            return tape_loss(
                params, target_params, network, batch, config.gamma, config.paper_code_loss
            )
        segments = segment.sample(
            storage,
            key,
            config.batch_size,
            config.segment_length,
            config.segment_init,
            burn_in,
        )
        return segment_loss(
            params,
            target_params,
            network,
            segments,
            config.gamma,
            config.segment_init,
            config.paper_code_loss,
        )

    def update(state: TrainState, _):
        key, sub = jax.random.split(state.key)
        loss, grads = jax.value_and_grad(loss_fn)(
            state.params, state.target_params, sub, state.storage
        )
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        target_params = optax.incremental_update(params, state.target_params, config.tau)
        state = state._replace(
            params=params, target_params=target_params, opt_state=opt_state, key=key
        )
        return state, loss

    def iteration(state: TrainState, _):
        progress = jnp.minimum(state.iteration / iterations, 1.0)
        span = config.epsilon_end - config.epsilon_start
        epsilon = config.epsilon_start + span * progress
        state, returns, finished = collect_steps(state, config.rollout_length, epsilon)
        state, losses = jax.lax.scan(update, state, None, config.updates_per_rollout)
        state = state._replace(iteration=state.iteration + 1)
        return state, (returns, finished, losses.mean())

    def init(key) -> TrainState:
        k_params, k_env, k_state = jax.random.split(key, 3)
        obs, _ = env.reset(k_env, env_params)
        params = network.init(k_params, obs[None], jnp.ones(1, bool))
        storage = replay.init(
            config.buffer_size // config.num_envs,
            config.num_envs,
            obs.shape[0],
            max(config.buffer_size // 8, 4 * config.num_envs),
            initial_state(network) if store_memory else (),
        )
        collector = collect.init(env, env_params, network, k_env, config.num_envs)
        state = TrainState(
            params,
            params,
            optimizer.init(params),
            storage,
            collector,
            k_state,
            jnp.int32(0),
        )
        # random actions
        state, _, _ = collect_steps(state, config.warmup_steps // config.num_envs, 1.0)
        return state

    def evaluate(state: TrainState):
        key, sub = jax.random.split(state.key)
        eval_return = collect.evaluate(
            env, env_params, network, state.params, sub, config.eval_episodes, max_steps
        )
        return state._replace(key=key), eval_return

    def chunk(state: TrainState):
        state, (returns, finished, losses) = jax.lax.scan(
            iteration, state, None, config.eval_interval
        )
        state, eval_return = evaluate(state)
        warmup = config.warmup_steps // config.num_envs
        env_steps = (warmup + state.iteration * config.rollout_length) * config.num_envs
        mean_return = returns.sum() / jnp.maximum(finished.sum(), 1)
        metrics = Metrics(
            env_steps=env_steps,
            updates=state.iteration * config.updates_per_rollout,
            eval_return=eval_return,
            train_return=jnp.where(finished.sum() > 0, mean_return, jnp.nan),
            loss=losses.mean(),
        )
        return state, metrics

    num_chunks = iterations // config.eval_interval

    def train(key) -> Metrics:
        _, metrics = jax.lax.scan(
            lambda state, _: chunk(state), init(key), None, num_chunks
        )
        return metrics

    # The pieces, for the command line (progress, checkpoints) and for benchmarks/train.py (timing each part).
    train.init, train.chunk, train.num_chunks = init, chunk, num_chunks
    train.collect, train.update, train.evaluate = collect_steps, update, evaluate
    train.network, train.env, train.env_params = network, env, env_params
    return train
