"""PPO's training loop — act, advantages, epochs of minibatch updates, evaluate — as pure functions under one
jit (PureJaxRL's design: the environments are JAX too).

    trainer = make_train(config)                        # a Trainer (rl/trainer.py): plain data
    metrics = jax.jit(partial(train, trainer))(key)                          # one seed
    metrics = jax.jit(jax.vmap(partial(train, trainer)))(keys)               # several seeds at once

One iteration:
1. `collect`: every environment takes T steps with a_t ~ π_θ, storing log π(a_t | s_t) and V(s_t). After a
   step that truncated an episode, V is also read at the observation it was cut at (its bootstrap), and after
   the last step at the next observation s_T. The acting memory is recorded before every `length` steps (the
   chunks' starting states).
2. Advantages: GAE over each environment's tape as a reverse memoroid scan (`memoroids_lite.returns.gae`):
   terminated steps do not bootstrap, truncated ones bootstrap from their cut observation, and no sum crosses
   the end of an episode.
3. `update`: `update_epochs` passes, each over the rollout's sequences (rl/ppo/batching.py: tapes or chunks)
   shuffled into `num_minibatches` minibatches, one Adam step on the clipped loss each (rl/ppo/loss.py).
Every `eval_interval` iterations, `evaluate` plays `eval_episodes` episodes with the most likely actions.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from memoroids_lite.envs import make as make_env
from memoroids_lite.returns import gae
from memoroids_lite.rl import collect
from memoroids_lite.rl.ppo.act import most_likely, one_step, sample
from memoroids_lite.rl.ppo.batching import Rollout, choose, minibatches
from memoroids_lite.rl.ppo.config import PPOConfig
from memoroids_lite.rl.ppo.loss import loss
from memoroids_lite.rl.ppo.network import ActorCritic
from memoroids_lite.rl.parallel import lay_out
from memoroids_lite.rl.trainer import Trainer


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    collector: collect.Collector
    prefix_obs: jax.Array  # [N, P, d] each environment's last P observations (tapes read them again)
    prefix_start: jax.Array  # [N, P]
    key: jax.Array
    iteration: jax.Array


class Metrics(NamedTuple):
    env_steps: jax.Array  # environment steps so far
    updates: jax.Array  # gradient updates so far
    eval_return: jax.Array  # mean undiscounted return of the evaluation episodes (most likely actions)
    train_return: jax.Array  # mean return of the sampled episodes that ended during the chunk (NaN if none)
    loss: jax.Array  # mean loss over the chunk's updates
    eval_key: jax.Array  # the key the evaluation drew its episodes with
    entropy: jax.Array  # mean policy entropy over the chunk's updates
    approx_kl: jax.Array  # mean estimate of KL(π_old ‖ π_θ)
    clipped: jax.Array  # mean fraction of clipped ratios


def make_network(config: PPOConfig, num_actions: int) -> ActorCritic:
    return ActorCritic(num_actions, config.model, config.features, tuple(sorted(config.model_kwargs.items())),
                       config.scan_mode)


def make_optimizer(config: PPOConfig):
    updates = config.updates
    schedule = (optax.linear_schedule(config.learning_rate, 0.0, updates) if config.anneal_lr
                else optax.constant_schedule(config.learning_rate))
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(schedule, eps=1e-5))


def advantages(reward, value, next_value, terminated, done, gamma, lam):
    """GAE A_t of every environment's tape ([N, T] each) by the reverse memoroid scan."""
    return jax.vmap(lambda *tape: gae(*tape, gamma, lam))(reward, value, next_value, terminated, done)


def last_steps(before, rollout):
    """The last P steps ([N, P, ...]) of each environment once the rollout [N, T, ...] follows `before`."""
    return jnp.concatenate([before, rollout], axis=1)[:, rollout.shape[1]:]


def make_train(config: PPOConfig, batch_sharding=None) -> Trainer:
    """The run of `config` (memoroids_lite.rl.trainer). `batch_sharding` (rl.parallel.batch_sharding(mesh)) lays
    every minibatch out across devices: a data-parallel update."""
    env, env_params = make_env(config.env, **config.env_kwargs)
    network = make_network(config, env.num_actions)
    optimizer = make_optimizer(config)
    batching = choose(config)
    n, t, length = config.num_envs, config.rollout_length, batching.length
    max_steps = int(env_params.max_steps_in_episode)

    def collect_rollout(state: TrainState):
        """(state', Rollout): T steps of every environment with π_θ, and their advantages."""
        key, sub = jax.random.split(state.key)
        act = sample(network, state.params)

        def cut_values(step, memory):
            """V of the observation each episode was cut at (it continues its episode's memory)."""
            not_start = jnp.zeros(n, bool)
            return one_step(network, state.params, step.final_obs, not_start, memory)[0][1]

        def one(collector, step_key):
            collector, step, returns, done = collect.step(env, env_params, act, collector, step_key)
            # only on steps that cut an episode (under vmap, cond computes both branches)
            cut_value = jax.lax.cond(jnp.any(step.truncated), cut_values, lambda *_: jnp.zeros(n), step,
                                     collector.memory)
            return collector, (step, cut_value, returns, done)

        def chunk(collector, keys):  # `length` steps, after recording the memory they start from
            memory = collector.memory
            collector, steps = jax.lax.scan(one, collector, keys)
            return collector, (memory, steps)

        keys = jax.random.split(sub, t).reshape(t // length, length, -1)
        collector, (memory, (steps, cut_value, returns, done)) = jax.lax.scan(chunk, state.collector, keys)

        def flat(x):  # [T / length, length, N, ...] -> [N, T, ...]
            return x.reshape((t,) + x.shape[2:]).swapaxes(0, 1)

        steps, cut_value, returns, done = jax.tree.map(flat, (steps, cut_value, returns, done))
        (_, last_value), _ = one_step(network, state.params, collector.obs, collector.start, collector.memory)
        value = steps.extras.value
        following = jnp.concatenate([value[:, 1:], last_value[:, None]], axis=1)  # V(s_{t+1}) of the tape
        next_value = jnp.where(steps.truncated, cut_value, following)
        advantage = advantages(steps.reward, value, next_value, steps.terminated, done, config.gamma,
                               config.gae_lambda)
        rollout = Rollout(obs=steps.obs, start=steps.start, action=steps.action, log_prob=steps.extras.log_prob,
                          value=value, advantage=advantage, target=advantage + value,
                          memory=jax.tree.map(lambda m: m.swapaxes(0, 1), memory),
                          prefix_obs=state.prefix_obs, prefix_start=state.prefix_start)
        state = state._replace(collector=collector, key=key, prefix_obs=last_steps(state.prefix_obs, steps.obs),
                               prefix_start=last_steps(state.prefix_start, steps.start))
        finished = (jnp.sum(jnp.where(done, returns, 0.0)), jnp.sum(done))
        return state, rollout, finished

    def gradient_step(carry, minibatch):
        params, opt_state = carry
        (total, parts), grads = jax.value_and_grad(loss, has_aux=True)(
            params, network, batching, lay_out(minibatch, batch_sharding), config.clip_eps, config.vf_coef, config.ent_coef)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (total, parts)

    def update(state: TrainState, rollout: Rollout):
        """update_epochs passes of minibatch updates over the rollout: (state', (losses, parts) [E, M])."""
        key, sub = jax.random.split(state.key)
        sequences = batching.sequences(rollout)

        def epoch(carry, epoch_key):
            return jax.lax.scan(gradient_step, carry, minibatches(sequences, epoch_key, config.num_minibatches))

        carry = (state.params, state.opt_state)
        (params, opt_state), out = jax.lax.scan(epoch, carry, jax.random.split(sub, config.update_epochs))
        return state._replace(params=params, opt_state=opt_state, key=key), out

    def iteration(state: TrainState, _):
        state, rollout, finished = collect_rollout(state)
        state, (losses, parts) = update(state, rollout)
        state = state._replace(iteration=state.iteration + 1)
        return state, (finished, losses.mean(), jax.tree.map(jnp.mean, parts))

    def init(key) -> TrainState:
        k_params, k_env, k_state = jax.random.split(key, 3)
        obs, _ = env.reset(k_env, env_params)
        params = network.init(k_params, obs[None], jnp.ones(1, bool))
        collector = collect.init(env, env_params, network, k_env, n)
        p = batching.prefix
        prefix_obs = jnp.zeros((n, p) + obs.shape, obs.dtype)
        return TrainState(params, optimizer.init(params), collector, prefix_obs, jnp.ones((n, p), bool), k_state,
                          jnp.int32(0))

    def greedy_return(params, key):
        """An evaluation: the mean return of the episodes `key` draws, played with the most likely actions."""
        act = most_likely(network, params)
        return collect.evaluate(env, env_params, network, act, key, config.eval_episodes, max_steps)

    def evaluate(state: TrainState):
        key, sub = jax.random.split(state.key)
        return state._replace(key=key), greedy_return(state.params, sub), sub

    def evaluation_key(key, chunks: int):
        """The key of the evaluation after chunk `chunks` (1, 2, ...) of seed `key`, without training: an
        iteration splits the state's key twice (rollout, update), an evaluation once."""
        splits = chunks * (2 * config.eval_interval + 1) - 1
        state_key = jax.random.split(key, 3)[2]
        state_key = jax.lax.fori_loop(0, splits, lambda _, k: jax.random.split(k)[0], state_key)
        return jax.random.split(state_key)[1]

    def chunk(state: TrainState):
        state, ((returns, finished), losses, parts) = jax.lax.scan(iteration, state, None, config.eval_interval)
        state, eval_return, eval_key = evaluate(state)
        mean_return = returns.sum() / jnp.maximum(finished.sum(), 1)
        metrics = Metrics(
            env_steps=state.iteration * config.steps_per_iteration,
            updates=state.iteration * config.update_epochs * config.num_minibatches,
            eval_return=eval_return,
            train_return=jnp.where(finished.sum() > 0, mean_return, jnp.nan),
            loss=losses.mean(),
            eval_key=eval_key,
            entropy=parts.entropy.mean(),
            approx_kl=parts.approx_kl.mean(),
            clipped=parts.clipped.mean(),
        )
        return state, metrics

    return Trainer(
        init=init,
        chunk=chunk,
        num_chunks=config.iterations // config.eval_interval,
        env=env,
        env_params=env_params,
        network=network,
        collect=collect_rollout,
        update=update,
        evaluate=evaluate,
        greedy_return=greedy_return,
        evaluation_key=evaluation_key,
    )
