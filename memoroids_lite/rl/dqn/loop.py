"""DQN's training loop — collect, store, sample, update, evaluate — as pure functions under one jit.

    trainer = make_train(config)                     # a Trainer (rl/trainer.py): plain data
    metrics = jax.jit(partial(train, trainer))(jax.random.PRNGKey(0))                 # one seed
    metrics = jax.jit(jax.vmap(partial(train, trainer)))(jax.random.split(key, 5))    # five seeds at once

`train(trainer, key)` is `init(key)` (parameters, buffer, random warm-up collection) followed by `chunk`
applied `num_chunks` times; each chunk runs `eval_interval` iterations (a rollout, then `updates_per_rollout`
gradient updates) and ends with a greedy evaluation. A rollout is `rollout_length` steps of every environment,
or (rollout="episode", the paper's epoch) one whole episode of the one environment: a `lax.while_loop` steps
it until the episode ends. Its transitions go into the replay storage; the batching chosen once from the
configuration (rl/batching.py) samples from it and runs the networks for the loss (rl/dqn/loss.py). The command
line (`python -m memoroids_lite.train`) calls `init` and `chunk` itself, to show progress and save checkpoints
between chunks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from memoroids_lite.envs import make as make_env
from memoroids_lite.rl import collect, replay
from memoroids_lite.rl.batching import choose
from memoroids_lite.rl.body import initial_state
from memoroids_lite.rl.dqn.act import epsilon_greedy, greedy
from memoroids_lite.rl.dqn.config import TrainConfig
from memoroids_lite.rl.dqn.loss import loss
from memoroids_lite.rl.dqn.network import QNetwork
from memoroids_lite.rl.parallel import lay_out
from memoroids_lite.rl.trainer import Trainer


class TrainState(NamedTuple):
    params: Any  # θ, the online network's
    target_params: Any  # φ, the target network's (Polyak averages of θ)
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
    eval_key: jax.Array  # the key the greedy evaluation drew its episodes with (greedy_return replays it)


def make_network(config: TrainConfig, num_actions: int) -> QNetwork:
    return QNetwork(num_actions, config.model, config.features, tuple(sorted(config.model_kwargs.items())),
                    config.scan_mode)


def make_optimizer(config: TrainConfig):
    schedule = (optax.linear_schedule(0.0, config.learning_rate, config.lr_warmup) if config.lr_warmup
                else optax.constant_schedule(config.learning_rate))
    return optax.chain(optax.zero_nans(), optax.clip_by_global_norm(config.max_grad_norm),
                       optax.adam(schedule, eps=1e-8))


def make_storage(config: TrainConfig, network: QNetwork, obs_size: int) -> replay.Storage:
    """The empty replay storage of a run: `buffer_size` transitions over the streams, with per-step memory
    states for segments that start from stored ones, and episode records for every episode of the run when
    they are counted (rollout="episode"), else one per 8 transitions."""
    store_memory = choose(config).stores_memory
    records = config.episodes if config.by_episode else max(config.buffer_size // 8, 4 * config.num_envs)
    return replay.init(config.buffer_size // config.num_envs, config.num_envs, obs_size, records,
                       initial_state(network) if store_memory else ())


def storage_bytes(config: TrainConfig) -> int:
    """Bytes the replay storage of one seed takes (computed from shapes, nothing allocated)."""
    env, env_params = make_env(config.env, **config.env_kwargs)
    obs = jax.eval_shape(env.reset, jax.random.PRNGKey(0), env_params)[0]
    network = make_network(config, env.num_actions)
    shapes = jax.eval_shape(lambda: make_storage(config, network, obs.shape[0]))
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(shapes))


def make_train(config: TrainConfig, batch_sharding=None) -> Trainer:
    """The run of `config` (memoroids_lite.rl.trainer). `batch_sharding` (rl.parallel.batch_sharding(mesh)) lays
    every minibatch out across devices: a data-parallel update."""
    env, env_params = make_env(config.env, **config.env_kwargs)
    network = make_network(config, env.num_actions)
    optimizer = make_optimizer(config)
    batching = choose(config)
    iterations = config.iterations  # a whole number of evaluations (validated)
    max_steps = int(env_params.max_steps_in_episode)

    def collect_steps(state: TrainState, steps: int, epsilon):
        key, sub = jax.random.split(state.key)
        act = epsilon_greedy(network, state.params, epsilon)
        collector, transitions, episode_returns, done = collect.rollout(
            env, env_params, act, state.collector, sub, steps, batching.stores_memory
        )

        def store(carry, step):
            storage, returns, finished = carry
            transition, episode_return, done = step
            carry = (
                replay.add(storage, transition),
                returns + jnp.sum(jnp.where(done, episode_return, 0.0)),
                finished + jnp.sum(done),
            )
            return carry, None

        start = (state.storage, 0.0, 0)
        steps_taken = (transitions, episode_returns, done)
        (storage, returns, finished), _ = jax.lax.scan(store, start, steps_taken)
        state = state._replace(storage=storage, collector=collector, key=key)
        return state, returns, finished

    def collect_episodes(state: TrainState, episodes: int, epsilon):
        """`episodes` whole episodes of the one environment (num_envs = 1), each
        stepped until it ends (at most max_steps). The collector starts every call
        at an episode's first step."""

        def not_ended(carry):
            _, _, ended, t = carry
            return ~ended & (t < max_steps)

        def one_step(carry):
            state, returns, _, t = carry
            state, step_returns, finished = collect_steps(state, 1, epsilon)
            return state, returns + step_returns, finished > 0, t + 1

        def one_episode(_, carry):
            state, returns = carry
            start = (state, returns, jnp.bool_(False), jnp.int32(0))
            state, returns, _, _ = jax.lax.while_loop(not_ended, one_step, start)
            return state, returns

        start = (state, jnp.float32(0.0))
        state, returns = jax.lax.fori_loop(0, episodes, one_episode, start)
        return state, returns, episodes

    # How to collect, chosen once: a rollout and the random warm-up.
    if config.by_episode:
        def rollout(state, epsilon):
            return collect_episodes(state, 1, epsilon)

        def warmup(state):
            return collect_episodes(state, config.warmup_episodes, 1.0)[0]
    else:
        def rollout(state, epsilon):
            return collect_steps(state, config.rollout_length, epsilon)

        def warmup(state):
            steps = config.warmup_steps // config.num_envs
            return collect_steps(state, steps, 1.0)[0]

    def loss_fn(params, target_params, key, storage):
        sample = lay_out(batching.sample(storage, key), batch_sharding)
        return loss(params, target_params, network, batching, sample, config.gamma,
                    config.paper_code_loss)

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
        state, returns, finished = rollout(state, epsilon)
        state, losses = jax.lax.scan(update, state, None, config.updates_per_rollout)
        state = state._replace(iteration=state.iteration + 1)
        return state, (returns, finished, losses.mean())

    def init(key) -> TrainState:
        k_params, k_env, k_state = jax.random.split(key, 3)
        obs, _ = env.reset(k_env, env_params)
        params = network.init(k_params, obs[None], jnp.ones(1, bool))
        storage = make_storage(config, network, obs.shape[0])
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
        return warmup(state)  # random actions

    def greedy_return(params, key):
        """An evaluation: the mean return of the greedy episodes `key` draws."""
        act = greedy(network, params)
        return collect.evaluate(
            env, env_params, network, act, key, config.eval_episodes, max_steps
        )

    def evaluate(state: TrainState):
        """(state with its key advanced, eval_return, the key of the episodes)."""
        key, sub = jax.random.split(state.key)
        return state._replace(key=key), greedy_return(state.params, sub), sub

    def evaluation_key(key, chunks: int):
        """The key of the evaluation after chunk `chunks` (1, 2, ...) of the seed `key`,
        without training. Rollouts of "steps" split the state's key a fixed number of
        times (the warm-up once, an iteration once plus once per update, an evaluation
        once); an episode's rollout splits it once per step, as many as the episode's."""
        if config.by_episode:
            raise ValueError(
                "rollout='episode': the evaluation key depends on the episodes' "
                "lengths; only a run's own agent.npz records it."
            )
        per_chunk = config.eval_interval * (1 + config.updates_per_rollout) + 1
        splits = 1 + chunks * per_chunk - 1  # the warm-up, the chunks, less the draw
        state_key = jax.random.split(key, 3)[2]  # init's k_state

        def advance(_, k):
            return jax.random.split(k)[0]

        state_key = jax.lax.fori_loop(0, splits, advance, state_key)
        return jax.random.split(state_key)[1]

    def chunk(state: TrainState):
        state, (returns, finished, losses) = jax.lax.scan(
            iteration, state, None, config.eval_interval
        )
        state, eval_return, eval_key = evaluate(state)
        env_steps = state.storage.written * config.num_envs  # streams step together
        mean_return = returns.sum() / jnp.maximum(finished.sum(), 1)
        metrics = Metrics(
            env_steps=env_steps,
            updates=state.iteration * config.updates_per_rollout,
            eval_return=eval_return,
            train_return=jnp.where(finished.sum() > 0, mean_return, jnp.nan),
            loss=losses.mean(),
            eval_key=eval_key,
        )
        return state, metrics

    return Trainer(
        init=init,
        chunk=chunk,
        num_chunks=iterations // config.eval_interval,
        env=env,
        env_params=env_params,
        network=network,
        collect=collect_steps,
        update=update,
        evaluate=evaluate,
        greedy_return=greedy_return,
        evaluation_key=evaluation_key,
    )
