"""Replay storage, tape and segment sampling against a NumPy reference; the loss; the training loop."""

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import tqdm

from memoroids_lite import models
from memoroids_lite.models.base import MemoroidLayer
from memoroids_lite.monoid import Monoid
from memoroids_lite.rl import TrainConfig, collect, for_task, make_train, replay, segment, tape, trainer
from memoroids_lite.rl.body import initial_state
from memoroids_lite.rl.dqn.act import greedy
from memoroids_lite.rl.dqn.loss import loss, paper_code_next_q, per_transition, td_errors
from memoroids_lite.rl.dqn.network import QNetwork
from memoroids_lite.rl.segment import SegmentBatching
from memoroids_lite.rl.tape import TapeBatching

N, C = 3, 40  # streams, ring capacity per stream


def synthetic_stream(seed, steps, truncate_every=0):
    """Transitions of N streams with random episode lengths 1..12. obs = [stream, step, episode] + 1, so a
    sampled slot says where it came from (and a zero slot is padding); a final observation is its step's
    observation + 0.5 in the step entry. Returns the transitions and the reference: every completed episode
    as (stream, first step, length, truncated)."""
    rng = np.random.default_rng(seed)
    transitions, episodes = [], []
    remaining = rng.integers(1, 13, N)
    begin, start, episode_id = np.zeros(N, int), np.ones(N, bool), np.zeros(N, int)
    for t in range(steps):
        done = remaining == 1
        truncated = done & (truncate_every > 0) & (episode_id % max(truncate_every, 1) == 1)
        terminated = done & ~truncated
        obs = np.stack([np.arange(N), np.full(N, t), episode_id], 1).astype(np.float32) + 1
        final = obs + np.array([0, 0.5, 0], np.float32)  # the observation after the last action
        transitions.append(replay.Transition(obs, np.full(N, t % 4), np.full(N, float(t)), terminated, truncated,
                                             start.copy(), final, ()))
        for n in np.flatnonzero(done):
            episodes.append((n, begin[n], t + 1 - begin[n], bool(truncated[n])))
        begin = np.where(done, t + 1, begin)
        episode_id = episode_id + done
        remaining = np.where(done, rng.integers(1, 13, N), remaining - 1)
        start = done
    return transitions, episodes


def stream_step(obs):
    return int(obs[0]) - 1, float(obs[1]) - 1


def fill(transitions, capacity=C, records=64):
    storage = replay.init(capacity, N, 3, records)
    add = jax.jit(replay.add)
    for t in transitions:
        storage = add(storage, replay.Transition(*(jnp.asarray(x) for x in t[:7])))
    return storage


def whole_in_buffer(episodes, written, capacity=C):
    return {(n, b, length, tr) for n, b, length, tr in episodes if written - b <= capacity}


@pytest.mark.parametrize("steps", [30, 200])  # 200 steps: the rings wrap around five times
def test_records_match_the_reference(steps):
    transitions, episodes = synthetic_stream(0, steps)
    storage = fill(transitions)
    valid = np.asarray(replay.whole_episodes(storage))
    found = {(int(storage.record_stream[i]), int(storage.record_begin[i]), int(storage.record_length[i]),
              bool(storage.record_truncated[i])) for i in np.flatnonzero(valid)}
    expected = whole_in_buffer(episodes, steps)
    assert found <= expected
    assert len(found) >= min(len(expected), 64) * 0.5  # the records ring may have dropped the oldest


@pytest.mark.parametrize("truncate_every", [0, 3])
def test_tape_sampling(truncate_every):
    steps, batch_size = 200, 64
    transitions, episodes = synthetic_stream(1, steps, truncate_every)
    storage = fill(transitions)
    reference = {(n, b): (length, tr) for n, b, length, tr in whole_in_buffer(episodes, steps)}
    sample = jax.jit(tape.sample, static_argnums=2)
    for key in jax.random.split(jax.random.key(0), 20):
        batch = jax.tree.map(np.asarray, sample(storage, key, batch_size))
        assert batch.obs.shape == (batch_size + 1, 3) and not batch.mask[batch_size]
        if not truncate_every:
            assert batch.mask.sum() == batch_size  # exactly B transitions
        assert batch.start[0]  # a tape begins at an episode start
        starts = list(np.flatnonzero(batch.start)) + [batch_size + 1]
        for a, b in zip(starts[:-1], starts[1:]):
            n, first = stream_step(batch.obs[a])
            assert (n, first) in reference, "only whole, not overwritten episodes"
            length, truncated = reference[(n, first)]
            steps_seen = [stream_step(o)[1] for o in batch.obs[a:b][batch.mask[a:b]]]
            assert steps_seen == list(first + np.arange(len(steps_seen))), "in order, consecutive"
            if b <= batch_size:  # an episode that is not the tape's last is there whole ...
                assert len(steps_seen) == length
                assert b - a == length + truncated
                if truncated:  # ... a truncated one followed by its final observation, outside the loss
                    assert stream_step(batch.obs[a + length])[1] == first + length - 0.5


def test_segment_sampling():
    steps, length, batch_size = 200, 4, 64
    transitions, episodes = synthetic_stream(2, steps, truncate_every=3)
    storage = fill(transitions)
    reference = {(n, b): (ln, tr) for n, b, ln, tr in whole_in_buffer(episodes, steps)}
    for key in jax.random.split(jax.random.key(1), 10):
        seg = jax.tree.map(np.asarray, segment.sample(storage, key, batch_size, length))
        assert seg.batch.obs.shape == (batch_size // length, length + 1, 3)
        for w in range(batch_size // length):
            window = jax.tree.map(lambda x: x[w], seg.batch)
            real = np.flatnonzero(window.mask)
            assert len(real) >= 1 and real[0] == 0 and np.all(np.diff(real) == 1)
            n, step0 = stream_step(window.obs[0])
            owner = [(b, ln, tr) for (m, b), (ln, tr) in reference.items() if m == n and b <= step0 < b + ln]
            assert len(owner) == 1
            b, ln, tr = owner[0]
            assert (step0 - b) % length == 0, "fragments begin at multiples of L from the episode start"
            assert window.start[0] == (step0 == b)
            assert len(real) == min(length, b + ln - step0)
            assert np.all(window.obs[len(real) + 1 :] == 0), "zero padding"
            if len(real) < length and not tr:
                assert np.all(window.obs[len(real)] == 0), "a terminated episode needs no final observation"


def test_gradients_stop_at_a_segment_boundary():
    """d loss / d obs is zero outside the windows for every segment init (stored state is data, burn-in is
    replayed without gradient); a tape's gradient reaches back to its episodes' first steps."""
    transitions, _ = synthetic_stream(3, 120)
    storage = fill(transitions, capacity=120)
    net = QNetwork(4, "lru", 16, (("hidden", 8),), "serial")
    params = net.init(jax.random.key(0), jnp.zeros((2, 3)), jnp.ones(2, bool))
    key = jax.random.key(5)
    for init in ("zero", "stored", "burn_in"):
        memory = jax.tree.map(lambda x: jnp.zeros((N, 120) + x.shape, x.dtype),
                              models.make("lru", 16, hidden=8).initial_state())
        stored = storage._replace(memory=memory)

        batching = SegmentBatching(40, 4, init, burn_in=4)

        def segment_loss(obs):
            seg = batching.sample(stored._replace(obs=obs), key)
            return loss(params, params, net, batching, seg, 0.9)

        grad = np.abs(np.asarray(jax.jit(jax.grad(segment_loss))(stored.obs))).sum(-1)  # [N, C]
        seg = segment.sample(stored, key, 40, 4, init, burn_in=4)
        covered = np.zeros_like(grad, bool)
        for o in np.asarray(seg.batch.obs).reshape(-1, 3):
            if o.any() and o[1] % 1 == 0:  # a real observation (not padding, not a final observation)
                n, t = stream_step(o)
                covered[n, int(t) % 120] = True
        assert np.all(grad[~covered] == 0.0), init
        assert grad[covered].max() > 0

    batch = tape.sample(storage, key, 40)
    starts = np.flatnonzero(np.asarray(batch.start))
    a, b = max(zip(starts[:-1], starts[1:]), key=lambda ab: ab[1] - ab[0])  # the tape's longest episode
    assert b - a >= 5

    def last_loss(obs):
        q = net.apply(params, obs, batch.start)[0]
        return per_transition(q, q, batch._replace(obs=obs), 0.9)[b - 2]

    g = np.abs(np.asarray(jax.jit(jax.grad(last_loss))(batch.obs))).sum(-1)
    assert g[a] > 0, "on a tape, the loss of an episode's last steps reaches back to its first observation"
    assert np.all(g[:a] == 0), "... and never into the episode before it"


class PassThrough(MemoroidLayer):
    """A memory that remembers nothing: y_t = x_t."""

    features: int = 4

    def monoid(self):
        return Monoid(lambda: jnp.zeros(()), lambda a, b: a + b)

    def initial_state(self):
        return jnp.zeros(())

    def f(self, x):
        return jnp.zeros(x.shape[0])

    def g(self, h, x):
        return x


def test_with_a_pass_through_memory_the_tape_loss_is_plain_dqn(monkeypatch):
    monkeypatch.setitem(models._REGISTRY, "pass_through", (PassThrough, 1, False))
    transitions, episodes = synthetic_stream(4, 60, truncate_every=2)
    storage = fill(transitions, capacity=60)
    net = QNetwork(4, "pass_through", 8)
    params = net.init(jax.random.key(0), jnp.zeros((2, 3)), jnp.ones(2, bool))
    target = jax.tree.map(lambda x: x + 0.1, params)
    batch = tape.sample(storage, jax.random.key(3), 50)

    # Plain DQN: every transition on its own, its next observation looked up in the reference episodes.
    q = jax.jit(lambda p, o: net.apply(p, o[None], jnp.ones(1, bool))[0][0])
    ends = {(n, b + ln - 1) for n, b, ln, tr in episodes}
    losses = []
    for t in np.flatnonzero(np.asarray(batch.mask)):
        obs = np.asarray(batch.obs[t])
        n, step = stream_step(obs)
        last = (n, step) in ends
        next_obs = obs + [0, 0.5, 0] if last else np.asarray(transitions[int(step) + 1].obs[n])
        a_star = jnp.argmax(q(params, next_obs))
        y = batch.reward[t] + 0.9 * (1.0 - batch.terminated[t]) * q(target, next_obs)[a_star]
        losses.append(float(optax.huber_loss(q(params, obs)[batch.action[t]], y)))
    assert len(losses) > 40
    np.testing.assert_allclose(loss(params, target, net, TapeBatching(50), batch, 0.9), np.mean(losses), rtol=1e-4)


def test_the_target_sees_the_first_observation():
    net = QNetwork(4, "lru", 16, (("hidden", 8),), "serial")
    obs = jax.random.normal(jax.random.key(0), (6, 3))
    start = jnp.array([1, 0, 0, 0, 0, 0], bool)
    params = net.init(jax.random.key(1), obs, start)
    batch = replay.Batch(obs, jnp.zeros(6, jnp.int32), jnp.zeros(6), jnp.zeros(6, bool), start, jnp.ones(6, bool))

    def target_of_step_2(o):
        q = net.apply(params, o, start)[0]
        return per_transition(q, q, batch._replace(obs=o), 0.9)[2]

    assert float(jnp.abs(jax.grad(target_of_step_2)(obs)[0]).sum()) > 0  # o_0 reaches the target of step 2


def test_the_paper_codes_target_never_sees_the_first_observation():
    """Erratum 7, reproduced on purpose (paper_code=True): s'_t built from o_1 … o_{t+1}; ours from o_0 … o_{t+1}."""
    net = QNetwork(4, "lru", 16, (("hidden", 8),), "serial")
    obs = jax.random.normal(jax.random.key(0), (8, 3))
    start = jnp.array([1, 0, 0, 0, 1, 0, 0, 0], bool)  # two episodes of four
    params = net.init(jax.random.key(1), obs, start)
    batch = replay.Batch(obs, jnp.zeros(8, jnp.int32), jnp.zeros(8), jnp.zeros(8, bool), start, jnp.ones(8, bool))

    def next_q_gradient(next_q, row):
        return np.abs(np.asarray(jax.grad(lambda o: next_q(o)[row].sum())(obs))).sum(-1)

    ours = next_q_gradient(lambda o: net.apply(params, o, start)[0][1:], 2)  # s'_2 = o_0 … o_3
    paper = next_q_gradient(lambda o: paper_code_next_q(net, params, batch._replace(obs=o)), 2)
    assert ours[0] > 0 and np.all(ours[1:4] > 0) and np.all(ours[4:] == 0)
    assert paper[0] == 0 and np.all(paper[1:4] > 0) and np.all(paper[4:] == 0)
    second = next_q_gradient(lambda o: paper_code_next_q(net, params, batch._replace(obs=o)), 5)  # s'_5
    assert np.all(second[:5] == 0) and np.all(second[5:7] > 0), "the second episode's memory starts at its o_1"


def test_paper_code_loss_differs_only_in_its_errata(monkeypatch):
    """With a memory that remembers nothing, erratum 7 changes nothing: the paper-code tape loss equals ours, and
    the paper-code segment loss is the Huber of the masked mean |δ| of our TD errors (erratum 8)."""
    monkeypatch.setitem(models._REGISTRY, "pass_through", (PassThrough, 1, False))
    transitions, _ = synthetic_stream(5, 60)
    storage = fill(transitions, capacity=60)
    net = QNetwork(4, "pass_through", 8)
    params = net.init(jax.random.key(0), jnp.zeros((2, 3)), jnp.ones(2, bool))
    target = jax.tree.map(lambda x: x + 0.3, params)
    batch = tape.sample(storage, jax.random.key(3), 50)
    np.testing.assert_allclose(loss(params, target, net, TapeBatching(50), batch, 0.9, paper_code=True),
                               loss(params, target, net, TapeBatching(50), batch, 0.9), rtol=1e-5)

    segments = segment.sample(storage, jax.random.key(4), 50, 10)
    small = segments.batch._replace(obs=segments.batch.obs / 100, reward=segments.batch.reward / 100)
    segments = segments._replace(batch=small)  # |δ| < 1, where the two Huber losses differ

    def ours_abs(window):
        q, q_target = net.apply(params, window.obs, window.start)[0], net.apply(target, window.obs, window.start)[0]
        return jnp.abs(td_errors(q, q[1:], q_target[1:], window, 0.9))

    mask = np.asarray(segments.batch.mask[:, :-1])
    mean_abs = float(np.sum(np.asarray(jax.vmap(ours_abs)(segments.batch)) * mask) / mask.sum())
    windows = SegmentBatching(50, 10)
    paper = float(loss(params, target, net, windows, segments, 0.9, paper_code=True))
    assert paper == pytest.approx(float(optax.huber_loss(mean_abs)), rel=1e-5)
    assert paper != pytest.approx(float(loss(params, target, net, windows, segments, 0.9)), rel=1e-3)


TINY = dict(env="RepeatPrevious", env_kwargs={"num_decks": 1, "k": 3}, model="lru", features=32,
            model_kwargs={"hidden": 16}, gamma=0.5, batch_size=200, num_envs=8, rollout_length=7,
            warmup_steps=1000, buffer_size=8000, eval_episodes=8, learning_rate=1e-3, lr_warmup=20,
            max_grad_norm=1.0, tau=0.05)


def test_same_seed_same_metrics():
    run = make_train(TrainConfig(**TINY, train_steps=56 * 4, eval_interval=2))
    train = jax.jit(functools.partial(trainer.train, run))
    a, b = train(jax.random.PRNGKey(3)), train(jax.random.PRNGKey(3))
    assert jax.tree.all(jax.tree.map(lambda x, y: bool(jnp.all((x == y) | (jnp.isnan(x) & jnp.isnan(y)))), a, b))


@pytest.mark.parametrize("batching", ["tape", "segment"])
def test_training_beats_random(batching):
    """RepeatPrevious with lag 2 (random policy: −0.5) learned in 100 updates, both batchings, 2 seeds."""
    train = functools.partial(trainer.train, make_train(TrainConfig(**TINY, batching=batching, train_steps=56 * 100,
                                                                     eval_interval=20)))
    metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.PRNGKey(0), 2))
    final = np.asarray(metrics.eval_return)[:, -1]
    assert np.all(final > 0.2), final


def naive_greedy_return(env, env_params, network, params, key, max_steps, reset_every):
    """One greedy episode step by step, the memory reset at t = 0 and, if reset_every > 0, whenever t % L == 0;
    the same keys as collect.evaluate with one episode."""
    act, env_step = jax.jit(network.apply), jax.jit(env.step)
    obs, env_state = env.reset(jax.random.split(key, 1)[0], env_params)
    state, total = initial_state(network), 0.0
    for t, step_key in enumerate(jax.random.split(key, max_steps)):
        start = t == 0 or (reset_every > 0 and t % reset_every == 0)
        q, state = act(params, obs[None], jnp.array([start]), state)
        _, _, k_env = jax.random.split(step_key, 3)
        obs, env_state, reward, terminated, truncated, _ = env_step(
            jax.random.split(k_env, 1)[0], env_state, jnp.argmax(q[0]), env_params)
        total += float(reward)
        if terminated or truncated:
            return total
    return total


@pytest.mark.parametrize("model, options", [("lru", {"hidden": 16}), ("linear_attention", {"key_size": 8})])
def test_evaluate_resets_the_memory_every_L_steps(model, options):
    """collect.evaluate(reset_every=L) acts as a per-step loop that restarts the memory at t = 0, L, 2L, ..."""
    train = make_train(TrainConfig(**TINY | dict(model=model, model_kwargs=options, train_steps=560)))
    env, env_params, network = train.env, train.env_params, train.network
    params = network.init(jax.random.PRNGKey(2), jnp.zeros((1, env.observation_space(env_params).shape[0])),
                          jnp.ones(1, bool))
    max_steps, key = int(env_params.max_steps_in_episode), jax.random.PRNGKey(5)
    act = greedy(network, params)
    evaluated = {L: float(collect.evaluate(env, env_params, network, act, key, 1, max_steps, L)) for L in (0, 1, 4)}
    for L, value in evaluated.items():
        assert value == pytest.approx(naive_greedy_return(env, env_params, network, params, key, max_steps, L), abs=1e-5)
    assert evaluated[1] != evaluated[0]  # with these parameters the memory changes the greedy actions
    with pytest.raises(ValueError, match="reset_every must be >= 0"):
        collect.evaluate(env, env_params, network, act, key, 1, max_steps, -1)


EPISODES = dict(TINY, num_envs=1, rollout="episode", warmup_steps=0, train_steps=0, batch_size=100)


@pytest.mark.parametrize("env, env_kwargs", [("MineSweeperEasy", {}), ("RepeatPrevious", {"num_decks": 1, "k": 3})])
def test_an_episode_rollout_collects_exactly_one_whole_episode(env, env_kwargs):
    """rollout="episode" (the paper's epoch): the warm-up stores `warmup_episodes` whole episodes, and each
    iteration adds exactly one more, of any length (MineSweeper's end early), then does its updates; the
    environment steps reported are those stored."""
    config = TrainConfig(**(EPISODES | dict(env=env, env_kwargs=env_kwargs, updates_per_rollout=2)),
                         warmup_episodes=7, train_episodes=6, eval_interval=3)
    train = make_train(config)
    state = jax.jit(train.init)(jax.random.PRNGKey(1))
    storage = state.storage
    assert int(storage.records_written) == 7 and bool(state.collector.start[0])  # at an episode's first step
    assert int(storage.written) == int(storage.record_length[:7].sum())  # nothing but whole episodes
    state, metrics = jax.jit(train.chunk)(state)
    assert int(state.storage.records_written) == 7 + 3 and int(metrics.updates) == 3 * 2
    lengths = np.asarray(state.storage.record_length[7:10])
    assert int(metrics.env_steps) == int(state.storage.written) == int(state.storage.record_length[:10].sum())
    assert np.all(lengths >= 1) and np.all(lengths <= config.max_episode_steps)
    rewards = np.asarray(state.storage.reward[0])
    begins = np.asarray(state.storage.record_begin[7:10])
    episode_returns = [rewards[b:b + n].sum() for b, n in zip(begins, lengths)]
    assert np.isclose(float(metrics.train_return), np.mean(episode_returns), atol=1e-5)  # ε-greedy episodes


def test_episode_budgets_are_checked():
    with pytest.raises(ValueError) as error:
        TrainConfig(**(EPISODES | dict(num_envs=2, warmup_steps=100)), warmup_episodes=0, train_episodes=15)
    message = str(error.value)
    assert "num_envs = 2: must be 1 with rollout='episode'" in message
    assert "warmup_steps = 100: counts steps" in message
    assert "warmup_episodes = 0: must be >= 1" in message
    assert "train_episodes = 15: must be a whole number (>= 1) of evaluations" in message and "10 or 20" in message
    with pytest.raises(ValueError, match="train_episodes = 50: counts episodes, for rollout='episode'"):
        TrainConfig(train_episodes=50)
    with pytest.raises(ValueError, match="rollout = 'epoch': choose 'steps'"):
        TrainConfig(rollout="epoch")
    config = TrainConfig(**EPISODES, warmup_episodes=5, train_episodes=30)
    assert (config.iterations, config.updates, config.episodes) == (30, 30, 35)
    assert config.collected_steps == 35 * config.max_episode_steps and config.collection == "one episode per update"


def test_config_errors():
    with pytest.raises(ValueError, match="model = 'lstm': unknown model"):
        TrainConfig(model="lstm")
    with pytest.raises(ValueError, match="env = 'RepeatLast': unknown task"):
        TrainConfig(env="RepeatLast")
    with pytest.raises(ValueError, match="divisible by segment_length"):
        TrainConfig(batching="segment", segment_length=30)
    with pytest.raises(ValueError, match="segment_length = 0: must be a positive integer"):
        TrainConfig(segment_length=0)
    with pytest.raises(ValueError, match="buffer_size .* too small"):
        TrainConfig(buffer_size=500)
    with pytest.raises(ValueError, match="segment_init = 'warm': choose one of"):
        TrainConfig(segment_init="warm")
    with pytest.raises(ValueError, match="paper_code_loss .* use 'zero'"):
        TrainConfig(batching="segment", segment_init="burn_in", paper_code_loss=True)
    for bad in (dict(lr_warmup=-1), dict(learning_rate=0.0), dict(max_grad_norm=0.0), dict(burn_in=-3)):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} = .*: must be"):
            TrainConfig(**bad)
    with pytest.raises(ValueError, match="burn_in must be >= 0"):
        segment.sample(None, jax.random.key(0), 100, 10, "burn_in", burn_in=-3)
    assert for_task("RepeatPreviousEasy").env_kwargs == {"num_decks": 2, "k": 10}
    assert for_task("RepeatPreviousEasy").gamma == 0.5
    assert for_task("RepeatPreviousMedium").gamma == 0.99  # the paper ran Repeat Previous with 2 decks, k = 10 only
    assert for_task("RepeatPreviousEasy", model="ffm").model_kwargs == {"trace_size": 16, "context_size": 16}
    # The paper's memory sizes (its code's configs), unless model_kwargs are given
    assert for_task("RepeatFirstEasy").model_kwargs == {"hidden": 128}
    assert for_task("CountRecallEasy", model="s5").model_kwargs == {"hidden": 128}
    assert for_task("CountRecallEasy", model="ffm").model_kwargs == {"trace_size": 64, "context_size": 4}
    assert for_task("CountRecallEasy", model="linear_attention").model_kwargs == {"key_size": 16, "mlp_size": 256}
    assert for_task("CountRecallEasy", model="lru", model_kwargs={"hidden": 8}).model_kwargs == {"hidden": 8}


def test_no_learning_rate_warm_up_means_the_full_rate_at_once():
    from memoroids_lite.rl.dqn.loop import make_optimizer

    params = {"w": jnp.zeros(3)}
    grads = {"w": jnp.ones(3)}
    for warmup in (0, 200):
        optimizer = make_optimizer(TrainConfig(lr_warmup=warmup, max_grad_norm=100.0, learning_rate=1e-3))
        updates, _ = optimizer.update(grads, optimizer.init(params), params)
        assert jnp.allclose(updates["w"], 0.0 if warmup else -1e-3), warmup  # the first update (Adam: ±lr)


class Interrupted(tqdm.tqdm):
    """The command line's progress bar, stopping the run at its first step: right after the first evaluation
    was checkpointed (on a finished run, which trains nothing, it never steps)."""

    def update(self, n=1):
        raise KeyboardInterrupt


def test_command_line_writes_results_and_resumes(tmp_path, monkeypatch):
    from memoroids_lite import train as cli

    args = ["--env", "RepeatPrevious", "--env-kwargs", '{"num_decks": 1, "k": 3}', "--model", "gru",
            "--batching", "tape", "--seeds", "2", "--warmup-steps", "1000", "--train-steps", str(104 * 4),
            "--set", "features=16", "batch_size=100", "buffer_size=8000",
            "eval_interval=2", "eval_episodes=4"]
    cli.main(args + ["--out", str(tmp_path / "whole")])
    whole = (tmp_path / "whole" / "metrics.csv").read_text().splitlines()
    assert whole[0] == "seed,env_steps,updates,eval_return,train_return,loss,wall_s" and len(whole) == 1 + 2 * 2
    described = json.loads((tmp_path / "whole" / "config.json").read_text())
    assert described["config"]["features"] == 16 and described["seeds"] == 2 and "jax" in described["machine"]

    monkeypatch.setattr(cli, "tqdm", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli.main(args + ["--out", str(tmp_path / "resumed")])
    bars = []

    class Recorded(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.shown = not self.disable  # (closing a bar disables it)
            bars.append(self)

    monkeypatch.setattr(cli, "tqdm", Recorded)
    cli.main(args + ["--out", str(tmp_path / "resumed")])
    monkeypatch.undo()
    # The resumed run's bar starts after the checkpointed evaluation, so its rate counts this process's work only.
    (bar,) = bars
    assert (bar.initial, bar.n, bar.total, bar.unit, bar.shown) == (1, 2, 2, "eval", True)
    shown = str(bar)  # what the bar last showed: the count, and the last evaluation's return and loss
    assert "2/2" in shown and " eval " in shown and " loss " in shown, shown
    resumed = (tmp_path / "resumed" / "metrics.csv").read_text().splitlines()
    strip = lambda rows: [r.rsplit(",", 1)[0] for r in rows]  # noqa: E731  (wall_s differs)
    assert strip(resumed) == strip(whole)
    # A run written before a TrainConfig field existed matches that field's default, and nothing else.
    stored = described["config"]
    config = TrainConfig(**stored)
    del stored["paper_code_loss"]
    assert cli.config_differences(stored, config) == []
    assert cli.config_differences(stored, config.replace(paper_code_loss=True)) == [
        "paper_code_loss: False there, True now"]
    assert cli.config_differences(stored | {"retired_field": 1}, config) == [
        "retired_field: 1 there, not a field now"]

    # A finished run is not trained again, nor are its config.json (which names the machine that trained it) and its
    # metrics.csv rewritten (an unchanged file keeps its mtime).
    written = [(tmp_path / "whole" / name).stat().st_mtime_ns for name in ("config.json", "metrics.csv")]
    monkeypatch.setattr(cli, "tqdm", Interrupted)
    cli.main(args + ["--out", str(tmp_path / "whole")])
    monkeypatch.undo()
    assert [(tmp_path / "whole" / name).stat().st_mtime_ns for name in ("config.json", "metrics.csv")] == written
    (tmp_path / "whole" / "metrics.csv").write_text("\n".join(whole[:2]) + "\n")  # a stale copy restored
    cli.main(args + ["--out", str(tmp_path / "whole")])
    assert (tmp_path / "whole" / "metrics.csv").read_text().splitlines() == whole
    # Nor is one without its checkpoint (results are committed without them).
    for path in (tmp_path / "whole").glob("checkpoint*"):
        path.unlink()
    monkeypatch.setattr(cli, "tqdm", Interrupted)  # training would step the progress bar
    cli.main(args + ["--out", str(tmp_path / "whole")])
    assert (tmp_path / "whole" / "metrics.csv").read_text().splitlines() == whole
    (tmp_path / "whole" / "metrics.csv").write_text("\n".join(whole[:-1]) + "\n")  # an unfinished one is
    with pytest.raises(KeyboardInterrupt):
        cli.main(args + ["--out", str(tmp_path / "whole")])


def test_a_bar_started_at_the_resumed_position_estimates_the_remaining_time_from_this_process_only():
    # What the resumed run's bar (initial = the evaluations checkpointed before) shows: 60 s for the 30 evaluations
    # since resuming after 270 is 2 s each, so 700 left take 23:20; counting the 270 resumed ones as done in those
    # 60 s would say 02:20.
    assert "300/1000 [01:00<23:20,  2.00s/eval" in tqdm.tqdm.format_meter(300, 1000, 60.0, unit="eval", initial=270)
    assert "270/1000 [00:00<?, ?eval/s" in tqdm.tqdm.format_meter(270, 1000, 0.0, unit="eval", initial=270)


def test_show_progress_false_writes_nothing_to_stderr(tmp_path, capsys):
    from memoroids_lite import train as cli

    config = TrainConfig(**TINY, train_steps=56 * 2, eval_interval=2)  # one evaluation
    for _ in range(2):  # trained, then found finished
        assert len(cli.run(config, 1, str(tmp_path / "quiet"), show_progress=False)) == 1
    assert capsys.readouterr().err == ""


def test_command_line_can_set_every_field_including_the_task(tmp_path):
    import argparse

    from memoroids_lite import train as cli

    flags = dict(algo="dqn", config=None, env_kwargs=None, model=None, batching=None, segment_length=None, segment_init=None,
                 warmup_steps=None, train_steps=None)
    config, problems = cli.build_config(argparse.Namespace(env="RepeatFirstEasy", set=["env=CountRecallEasy"], **flags))
    assert (config.env, problems) == ("CountRecallEasy", [])
    (tmp_path / "config.json").write_text(json.dumps({"env": "CountRecallEasy", "gamma": 0.9}))
    config, problems = cli.build_config(
        argparse.Namespace(env="RepeatFirstEasy", set=None, **flags | {"config": str(tmp_path / "config.json")}))
    assert (config.env, config.gamma, problems) == ("CountRecallEasy", 0.9, [])
