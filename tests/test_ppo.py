"""PPO on tapes and chunks: GAE against a loop, the two batchings against each other, gradients that stop at
episode boundaries, the recorded memories and prefixes against the acting policy, configuration errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from memoroids_lite.rl import trainer
from memoroids_lite.rl.ppo import PPOConfig, for_task, make_train
from memoroids_lite.rl.ppo.batching import Chunks, Rollout, Tapes, choose, minibatches
from memoroids_lite.rl.ppo.loop import advantages
from memoroids_lite.rl.ppo.loss import loss
from memoroids_lite.rl.ppo.network import ActorCritic
from memoroids_lite.rl.validation import ConfigError
from reference import gae_loop

MODELS = [("lru", {"hidden": 8}), ("linear_attention", {"key_size": 4}), ("s5", {"hidden": 8}),
          ("ffm", {"trace_size": 4, "context_size": 2}), ("gru", {})]
SMALL = dict(features=16, model_kwargs={"hidden": 8}, num_envs=4, rollout_length=16, segment_length=4,
             num_minibatches=2, update_epochs=2, eval_interval=2, eval_episodes=4)


def test_gae_of_every_tape_equals_the_loop():
    """advantages(): the reverse scan on [N, T] tapes with terminations, truncations and episodes that run on
    past the tape's end, against the per-step loop of each tape."""
    rng = np.random.default_rng(0)
    n, t = 3, 40
    reward, value, next_value = (rng.normal(size=(n, t)).astype(np.float32) for _ in range(3))
    done = rng.random((n, t)) < 0.15
    terminated = done & (rng.random((n, t)) < 0.5)
    out = advantages(reward, value, next_value, jnp.asarray(terminated), jnp.asarray(done), 0.9, 0.8)
    for i in range(n):
        expected = gae_loop(reward[i], value[i], next_value[i], terminated[i], done[i], 0.9, 0.8)
        np.testing.assert_allclose(out[i], expected, rtol=1e-5, atol=1e-5)


def random_rollout(seed, n, t, d, episode_starts, prefix, memory_example):
    """A Rollout of random data whose episodes start at the steps `episode_starts` of every tape."""
    rng = np.random.default_rng(seed)
    start = np.zeros((n, t), bool)
    start[:, episode_starts] = True
    f32 = lambda *shape: jnp.asarray(rng.normal(size=shape), jnp.float32)
    memory = jax.tree.map(lambda m: jnp.asarray(rng.normal(size=(n, t // 4) + m.shape), m.dtype),
                          memory_example)
    return Rollout(obs=f32(n, t, d), start=jnp.asarray(start), action=jnp.asarray(rng.integers(0, 3, (n, t))),
                   log_prob=f32(n, t) - 1.0, value=f32(n, t), advantage=f32(n, t), target=f32(n, t),
                   memory=memory, prefix_obs=f32(n, prefix, d),
                   prefix_start=jnp.asarray(rng.random((n, prefix)) < 0.3))


@pytest.mark.parametrize("model, options", [MODELS[0], MODELS[-1]])  # a memoroid and the sequential GRU
def test_tapes_and_chunks_give_the_same_loss_when_chunks_hold_whole_episodes(model, options):
    """Episodes of 4 steps starting at 0, 4, 8, 12 and chunks of 4: no chunk's memory (random here) and no
    tape prefix can matter, so the two losses and their gradients agree. Shifted episodes make them differ."""
    net = ActorCritic(3, model, 8, tuple(options.items()), "auto")
    d = 5
    params = net.init(jax.random.key(0), jnp.zeros((2, d)), jnp.ones(2, bool))
    memory_example = net.apply(params, jnp.zeros((1, d)), jnp.ones(1, bool))[1]
    tapes, chunks = Tapes(16, 6), Chunks(4)

    def compiled(b):
        return jax.jit(lambda p, s: jax.value_and_grad(loss, has_aux=True)(p, net, b, s, 0.2, 0.5, 0.01))

    of_tapes, of_chunks = compiled(tapes), compiled(chunks)

    def both(rollout):
        return [of_tapes(params, tapes.sequences(rollout)), of_chunks(params, chunks.sequences(rollout))]

    (tape_loss, tape_grad), (chunk_loss, chunk_grad) = both(
        random_rollout(1, 3, 16, d, [0, 4, 8, 12], 6, memory_example))
    np.testing.assert_allclose(tape_loss[0], chunk_loss[0], rtol=1e-5)
    for a, b in zip(jax.tree.leaves(tape_grad), jax.tree.leaves(chunk_grad)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    (tape_loss, _), (chunk_loss, _) = both(random_rollout(1, 3, 16, d, [2, 6, 10], 6, memory_example))
    assert abs(float(tape_loss[0] - chunk_loss[0])) > 1e-4


@pytest.mark.parametrize("model, options", MODELS)
def test_the_policy_at_step_t_never_sees_another_episode(model, options):
    """d logits_t / d o_t' over a tape with three episodes: zero for every t' in another episode, nonzero
    for the earlier steps of its own (the memory reads the whole episode)."""
    net = ActorCritic(3, model, 8, tuple(options.items()), "auto")
    starts = np.zeros(12, bool)
    starts[[0, 5, 9]] = True
    episode = np.cumsum(starts)
    obs = jax.random.normal(jax.random.key(1), (12, 4))
    params = net.init(jax.random.key(0), obs, jnp.asarray(starts))

    def logits(x):
        return net.apply(params, x, jnp.asarray(starts))[0][0].sum(-1)

    jacobian = np.abs(np.asarray(jax.jacobian(logits)(obs))).sum(-1)  # [t, t']
    same = episode[:, None] == episode[None, :]
    before = np.arange(12)[:, None] >= np.arange(12)[None, :]
    assert np.all(jacobian[~same] == 0.0)
    assert np.all(jacobian[same & before] > 0.0)


def test_chunks_take_no_gradient_into_their_stored_memory():
    net = ActorCritic(3, "lru", 8, (("hidden", 8),), "auto")
    params = net.init(jax.random.key(0), jnp.zeros((2, 5)), jnp.ones(2, bool))
    memory_example = net.apply(params, jnp.zeros((1, 5)), jnp.ones(1, bool))[1]
    rollout = random_rollout(2, 2, 16, 5, [3], 0, memory_example)

    def of_memory(memory):
        chunks = Chunks(4)
        return loss(params, net, chunks, chunks.sequences(rollout._replace(memory=memory)), 0.2, 0.5, 0.01)[0]

    grad = jax.grad(of_memory)(rollout.memory)
    assert all(np.all(np.asarray(g) == 0) for g in jax.tree.leaves(grad))


@pytest.mark.parametrize("batching", ["tape", "segment"])
def test_the_sequences_reproduce_the_acting_policy(batching):
    """Two rollouts with the same parameters and no update between: every log π(a_t | s_t) the loss
    recomputes, from the tape with its prefix or from each chunk's stored memory, equals the one stored while
    acting (ratio 1). This checks the recorded memories, the prefix carried from the first rollout, and the
    alignment of every step."""
    config = for_task("RepeatFirstEasy", batching=batching, **SMALL, train_steps=4 * 16 * 2)
    run = make_train(config)
    state = run.init(jax.random.PRNGKey(0))
    collect = jax.jit(run.collect)
    state, _, _ = collect(state)
    state, rollout, _ = collect(state)
    assert bool(jnp.any(~rollout.start[:, 0])), "an episode runs on from the first rollout"
    batch = choose(config)
    sequences = batch.sequences(rollout)
    logits, value = batch.outputs(run.network, state.params, sequences)
    log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), sequences.action[..., None], -1)[..., 0]
    mask = np.asarray(sequences.mask)
    np.testing.assert_allclose(np.asarray(log_prob)[mask], np.asarray(sequences.log_prob)[mask], atol=2e-5)
    np.testing.assert_allclose(np.asarray(value)[mask], np.asarray(sequences.value)[mask], atol=2e-5)


def test_minibatches_are_a_permutation_of_the_sequences():
    net = ActorCritic(3, "lru", 8, (("hidden", 8),), "auto")
    params = net.init(jax.random.key(0), jnp.zeros((2, 5)), jnp.ones(2, bool))
    memory_example = net.apply(params, jnp.zeros((1, 5)), jnp.ones(1, bool))[1]
    sequences = Chunks(4).sequences(random_rollout(3, 4, 16, 5, [0], 0, memory_example))
    batches = minibatches(sequences, jax.random.key(4), 4)
    assert batches.obs.shape == (4, 4, 4, 5)
    flat = np.sort(np.asarray(batches.advantage).reshape(-1))
    np.testing.assert_array_equal(flat, np.sort(np.asarray(sequences.advantage).reshape(-1)))


def test_seeds_vmapped_equal_seeds_alone_and_the_evaluation_key_is_known():
    config = for_task("RepeatFirstEasy", **SMALL, train_steps=4 * 16 * 2 * 2)
    run = make_train(config)
    train = functools.partial(trainer.train, run)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    together = jax.jit(jax.vmap(train))(keys)
    alone = jax.jit(train)(keys[1])
    np.testing.assert_allclose(together.loss[1], alone.loss, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(together.eval_key[1], alone.eval_key)
    expected = [run.evaluation_key(keys[1], c) for c in range(1, run.num_chunks + 1)]
    np.testing.assert_array_equal(np.stack(expected), alone.eval_key)


def test_config_errors_name_every_field():
    with pytest.raises(ConfigError) as error:
        PPOConfig(batching="chunks", clip_eps=0.0, gae_lambda=1.5, train_steps=1000)
    fields = [p.field for p in error.value.problems]
    assert fields == ["batching", "clip_eps", "gae_lambda", "train_steps"]
    assert "PPOConfig has 4 problem(s)" in str(error.value)
    with pytest.raises(ConfigError, match="must divide rollout_length"):
        PPOConfig(batching="segment", segment_length=5)
    with pytest.raises(ConfigError, match="must divide num_envs"):
        PPOConfig(num_minibatches=3)


def test_advantages_bootstrap_from_the_observation_an_episode_was_cut_at():
    """The rollout's GAE against a per-step reference built independently: the same steps replayed with
    collect.step (same keys), V(s_{t+1}) of the next step, V of the final observation (read with the memory
    after o_t) where MineSweeper cut an episode at its time limit, V(s_T) after the last step, then the loop."""
    from memoroids_lite.rl import collect
    from memoroids_lite.rl.ppo.act import one_step, sample

    config = for_task("MineSweeperEasy", **SMALL | {"num_envs": 8, "rollout_length": 32}, train_steps=8 * 32 * 2)
    run = make_train(config)
    state = run.init(jax.random.PRNGKey(0))
    _, rollout, _ = jax.jit(run.collect)(state)
    act = sample(run.network, state.params)

    @jax.jit
    def step_and_cut_value(collector, step_key):
        collector, step, _, _ = collect.step(run.env, run.env_params, act, collector, step_key)
        cut = one_step(run.network, state.params, step.final_obs, jnp.zeros(8, bool), collector.memory)[0][1]
        return collector, step, cut

    collector, value, next_value, steps = state.collector, [], [], []
    for step_key in jax.random.split(jax.random.split(state.key)[1], config.rollout_length):
        collector, step, cut = step_and_cut_value(collector, step_key)
        steps.append(step)
        value.append(step.extras.value)
        next_value.append(cut)
    last = one_step(run.network, state.params, collector.obs, collector.start, collector.memory)[0][1]
    value = np.stack(value, 1)
    following = np.concatenate([value[:, 1:], np.asarray(last)[:, None]], 1)
    truncated = np.stack([s.truncated for s in steps], 1)
    terminated = np.stack([s.terminated for s in steps], 1)
    assert truncated.any() and terminated.any(), "the test needs both endings"
    next_value = np.where(truncated, np.stack(next_value, 1), following)
    reward = np.stack([s.reward for s in steps], 1)
    for i in range(8):
        expected = gae_loop(reward[i], value[i], next_value[i], terminated[i], terminated[i] | truncated[i],
                            config.gamma, config.gae_lambda)
        np.testing.assert_allclose(rollout.advantage[i], expected, rtol=1e-4, atol=1e-5)
