"""The POPGym tasks: specs per task and level, oracles, random baselines, auto-reset flags, and cross-tests
against the `popgym` package itself (same spaces under the same wrappers, same rewards step by step)."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from memoroids_lite.envs import TASKS, deal, make, names

popgym = pytest.importorskip("popgym")
from popgym.wrappers import Antialias, DiscreteAction, Flatten, PreviousAction  # noqa: E402

LEVEL_IDS = [task + level for task, (_, _, levels, _) in TASKS.items() for level in levels]


def rollout(env, params, key, steps, policy=None):
    """Step one environment `steps` times (auto-reset on); policy(state, key) -> action, default uniform."""
    obs, state = env.reset(key, params)

    def body(carry, key):
        obs, state = carry
        k_act, k_step = jax.random.split(key)
        action = jax.random.randint(k_act, (), 0, env.num_actions) if policy is None else policy(state, k_act)
        obs, state, reward, terminated, truncated, info = env.step(k_step, state, action, params)
        return (obs, state), (obs, action, reward, terminated, truncated, info["final_observation"])

    return jax.jit(lambda key: jax.lax.scan(body, (obs, state), jax.random.split(key, steps))[1])(key)


def episodes(reward, terminated, truncated):
    """(returns, lengths, ended by terminated) of the complete episodes in a rollout."""
    ends = np.flatnonzero(np.asarray(terminated | truncated))
    begins = np.concatenate([[0], ends[:-1] + 1])
    returns = np.array([np.asarray(reward)[b : e + 1].sum() for b, e in zip(begins, ends)])
    return returns, ends - begins + 1, np.asarray(terminated)[ends]


# ---------------------------------------------------------------------------------------------------------
# Specs, written from the source of the popgym package 1.0.7 (the version requirements.txt installs): each task's
# difficulty table, spaces, episode lengths and how episodes end
# ---------------------------------------------------------------------------------------------------------

CARDS = {"Easy": 1, "Medium": 8, "Hard": 16}


def expected_length(env_id):
    """(shortest, longest) episode length, and whether episodes end by termination only."""
    env = make(env_id)[0]._env
    if env_id.startswith(("RepeatFirst", "RepeatPrevious", "CountRecall")):
        return (env.num_cards - 1, env.num_cards - 1), "terminated"
    if env_id.startswith("Autoencode"):
        return (2 * env.num_cards - 1, 2 * env.num_cards - 1), "terminated"
    if env_id.startswith("MultiarmedBandit"):
        return (env.episode_length, env.episode_length), "truncated"
    if env_id.startswith("MineSweeper"):
        return (1, env.length), "either"
    return (1, env.max_episode_length), "either"


@pytest.mark.parametrize("env_id", LEVEL_IDS)
def test_spec(env_id):
    env, params = make(env_id)
    (shortest, longest), how = expected_length(env_id)
    steps = 3 * longest + 10
    obs, actions, reward, terminated, truncated, final = rollout(env, params, jax.random.key(0), steps)
    assert obs.shape == (steps, env.obs_size) and obs.dtype == jnp.float32
    assert env.observation_space(params).contains(obs[0])
    returns, lengths, by_termination = episodes(reward, terminated, truncated)
    assert len(lengths) >= 2
    assert lengths.min() >= shortest and lengths.max() <= longest, (lengths.min(), lengths.max())
    if how == "terminated":
        assert by_termination.all() and not np.asarray(truncated).any()
    if how == "truncated":
        assert not np.asarray(terminated).any()
    assert np.all(returns >= -1 - 1e-5) and np.all(returns <= 1 + 1e-5)


def test_spec_numbers_match_popgym_tables():
    """A few numbers straight from the difficulty tables, so the spec test cannot drift with the code."""
    assert make("RepeatFirstHard")[0]._env.num_cards - 1 == 831
    assert make("RepeatPreviousMedium")[0]._env.k == 32
    assert make("CountRecallHard")[0].num_actions == 17
    assert make("AutoencodeMedium")[0]._env.max_steps == 208
    assert make("MineSweeperHard")[0].obs_size == 10 + 8 + 8 + 2
    assert make("MultiarmedBanditMedium")[0].obs_size == 2 + 20 + 2
    assert make("NoisyPositionOnlyCartPoleHard")[0]._env.max_episode_length == 200


# ---------------------------------------------------------------------------------------------------------
# Oracles and baselines
# ---------------------------------------------------------------------------------------------------------


def oracle(env_id, env):
    inner = env._env
    if env_id.startswith("RepeatFirst"):
        return lambda s, k: s.first
    if env_id.startswith("RepeatPrevious"):
        return lambda s, k: s.recent[s.dealt % inner.k]
    if env_id.startswith("CountRecall"):
        return lambda s, k: s.counts[s.query]
    return lambda s, k: s.cards[jnp.maximum(s.dealt - s.played - 1, 0)]


@pytest.mark.parametrize("env_id", [t + "Easy" for t in ("RepeatFirst", "RepeatPrevious", "CountRecall", "Autoencode")]
                         + ["CountRecallHard", "AutoencodeHard"])
def test_oracles_reach_one(env_id):
    env, params = make(env_id)
    (_, length), _ = expected_length(env_id)
    *_, reward, terminated, truncated, _ = rollout(env, params, jax.random.key(1), 2 * length, oracle(env_id, env))
    returns, _, _ = episodes(reward, terminated, truncated)
    np.testing.assert_allclose(returns, 1.0, atol=1e-4)


def test_paper_repeat_previous_oracle():
    env, params = make("RepeatPreviousEasy", num_decks=2, k=10)
    *_, reward, terminated, truncated, _ = rollout(env, params, jax.random.key(2), 206, oracle("RepeatPrevious", env))
    returns, lengths, _ = episodes(reward, terminated, truncated)
    assert list(lengths) == [103, 103]
    np.testing.assert_allclose(returns, 1.0, atol=1e-4)


# The mean return of a uniformly random policy on the popgym package's own environments, 200-300 episodes each
# (`env = popgym.envs.<id>()`, `env.step(env.action_space.sample())` until terminated or truncated), measured with
# popgym 1.0.4, the version the paper ran; popgym 1.0.7 (requirements.txt), 300 episodes each, agrees within 0.02.
# Ours must match within 4 standard errors of our own mean, plus 0.01.
RANDOM_BASELINES = {
    "RepeatFirstEasy": -0.49,
    "RepeatPreviousEasy": -0.51,
    "CountRecallEasy": -0.927,
    "AutoencodeEasy": -0.506,
    "PositionOnlyCartPoleEasy": 0.113,
    "NoisyPositionOnlyCartPoleMedium": 0.113,
    "VelocityOnlyCartPoleEasy": 0.113,
    "MultiarmedBanditEasy": 0.00,
}


@pytest.mark.parametrize("env_id", RANDOM_BASELINES)
def test_random_returns_match_popgym_baselines(env_id):
    env, params = make(env_id)
    (_, longest), _ = expected_length(env_id)
    batch = 64
    run = jax.vmap(lambda k: rollout(env, params, k, 6 * longest)[2:5])
    reward, terminated, truncated = run(jax.random.split(jax.random.key(3), batch))
    returns = np.concatenate([episodes(*(np.asarray(x[i]) for x in (reward, terminated, truncated)))[0] for i in range(batch)])
    error = 4 * returns.std() / np.sqrt(len(returns)) + 0.01
    assert abs(returns.mean() - RANDOM_BASELINES[env_id]) < error, (returns.mean(), len(returns))


def test_mul_high_is_the_high_word_of_the_64_bit_product():
    from memoroids_lite.envs.base import mul_high

    rng = np.random.default_rng(0)
    edges = np.array([0, 1, 2, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF], np.uint64)
    a = np.concatenate([rng.integers(0, 2**32, 10_000, dtype=np.uint64), np.repeat(edges, len(edges))])
    b = np.concatenate([rng.integers(0, 2**32, 10_000, dtype=np.uint64), np.tile(edges, len(edges))])
    ours = np.asarray(jax.jit(mul_high)(jnp.asarray(a, jnp.uint32), jnp.asarray(b, jnp.uint32)))
    np.testing.assert_array_equal(ours.astype(np.uint64), (a * b) >> np.uint64(32))


def test_dealing_is_a_uniform_shuffle_of_the_multiset():
    """Dealing a deck of kinds [2, 1, 1] to the end: each of the 12 distinct orders has probability 1/12."""

    def deal_all(key):
        remaining, order = jnp.array([2, 1, 1]), []
        for k in jax.random.split(key, 4):
            kind, remaining = deal(k, remaining)
            order.append(kind)
        return jnp.stack(order)

    orders = np.asarray(jax.jit(jax.vmap(deal_all))(jax.random.split(jax.random.key(4), 24_000)))
    counts = collections.Counter(map(tuple, orders))
    assert len(counts) == 12 and all(sorted(o).count(0) == 2 for o in counts)
    frequencies = np.array(list(counts.values())) / len(orders)
    assert np.all(np.abs(frequencies - 1 / 12) < 4 * np.sqrt(1 / 12 * 11 / 12 / len(orders)))


# ---------------------------------------------------------------------------------------------------------
# The pipeline, auto-reset, jit/vmap, determinism, errors
# ---------------------------------------------------------------------------------------------------------


def test_first_step_flag_and_null_action_after_auto_reset():
    env, params = make("MultiarmedBandit", episode_length=3)
    policy = lambda s, k: jnp.int32(7)  # noqa: E731
    obs, actions, reward, terminated, truncated, final = rollout(env, params, jax.random.key(5), 7, policy)
    obs, final, done = np.asarray(obs), np.asarray(final), np.asarray(terminated | truncated)
    assert list(done) == [False, False, True, False, False, True, False]
    action_block = slice(2, 12)
    for t in range(7):
        if done[t]:  # the returned observation is the next episode's first: null action, is_t0 = [0, 1]
            assert obs[t, action_block].argmax() == 0 and list(obs[t, -2:]) == [0, 1]
            assert final[t, action_block].argmax() == 7 and list(final[t, -2:]) == [1, 0]
        else:
            assert obs[t, action_block].argmax() == 7 and list(obs[t, -2:]) == [1, 0]
            np.testing.assert_array_equal(final[t], obs[t])
    reset_obs, _ = env.reset(jax.random.key(0), params)
    assert list(np.asarray(reset_obs)[-2:]) == [0, 1] and np.asarray(reset_obs)[action_block].argmax() == 0


def test_minesweeper_previous_action_is_row_and_column():
    env, params = make("MineSweeperEasy")
    obs, _, _, _, _, final = rollout(env, params, jax.random.key(6), 1, lambda s, k: jnp.int32(6))  # row 1, col 2
    block = np.asarray(final[0, 3:11])
    assert list(block) == [0, 1, 0, 0, 0, 0, 1, 0]


def test_jit_vmap_1024_and_determinism():
    env, params = make("RepeatPreviousEasy", num_decks=2, k=10)

    @jax.jit
    def run(key):
        keys = jax.random.split(key, 1024)
        obs, states = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
        actions = jax.random.randint(key, (1024,), 0, 4)
        return jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, states, actions, params)[:3]

    first, again, other = run(jax.random.key(7)), run(jax.random.key(7)), run(jax.random.key(8))
    assert first[0].shape == (1024, 6)
    assert all(bool(jnp.all(a == b)) for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(again)))
    assert not bool(jnp.all(first[0] == other[0]))


def test_gymnax_ids_pass_through():
    env, params = make("MemoryChain-bsuite")
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == (3,)
    wrapped, _ = make("MemoryChain-bsuite", prev_action=True)
    assert wrapped.reset(jax.random.key(0), params)[0].shape == (3 + 2 + 2,)


def test_clear_errors():
    with pytest.raises(ValueError, match="RepeatFirstEasy.*MemoryChain-bsuite"):
        make("RepeatFist")
    with pytest.raises(TypeError, match="fixes its settings.*make\\('RepeatFirst', ...\\)"):
        make("RepeatFirstEasy", num_decks=2)
    with pytest.raises(TypeError, match="make\\('MineSweeper', ...\\)"):
        make("MineSweeperEasy", difficulty="hard")
    with pytest.raises(TypeError, match="options are"):
        make("RepeatPreviousEasy", decks=2)
    with pytest.raises(ValueError, match="k must be"):
        make("RepeatPrevious", num_decks=1, k=60)
    with pytest.raises(ValueError, match="deck_type"):
        make("CountRecall", deck_type="jokers")
    assert len(names()) == 27 + 9


# ---------------------------------------------------------------------------------------------------------
# Cross-tests against popgym
# ---------------------------------------------------------------------------------------------------------


def popgym_env(env_id, **kwargs):
    """The popgym task under the paper's wrapper stack (its code's `utils.load_popgym_env`): PreviousAction where
    the paper used it, then Antialias and Flatten, and DiscreteAction over MineSweeper's (row, column) action."""
    task = next(t for t in TASKS if env_id.startswith(t))
    cls = getattr(popgym.envs, env_id)
    env = cls(**kwargs)
    if TASKS[task][1]:
        env = PreviousAction(env)
    env = Flatten(Antialias(env))
    return DiscreteAction(env) if task == "MineSweeper" else env


@pytest.mark.parametrize("env_id", LEVEL_IDS)
def test_same_spaces_as_popgym(env_id):
    ours, params = make(env_id)
    theirs = popgym_env(env_id)
    assert ours.observation_space(params).shape == theirs.observation_space.shape
    assert ours.num_actions == theirs.action_space.n


class ScriptedRNG:
    """Stands in for popgym's np_random and hands it the randomness OUR episode used."""

    def __init__(self, shuffles=(), choices=(), uniforms=(), normals=(), randoms=()):
        self.queues = {name: list(q) for name, q in dict(shuffle=shuffles, choice=choices, uniform=uniforms,
                                                           normal=normals, random=randoms).items()}

    def _next(self, name):
        return self.queues[name].pop(0)

    def shuffle(self, x):
        x[:] = self._next("shuffle")

    def choice(self, *args, **kwargs):
        return self._next("choice")

    def uniform(self, *args, **kwargs):
        return self._next("uniform")

    def normal(self, *args, **kwargs):
        return np.float32(self._next("normal"))

    def random(self, *args, **kwargs):
        return self._next("random")


def deck_order(kinds, num_cards, kind_of):
    """A popgym deck index array that deals cards of the given kinds in order (popgym deals from the end)."""
    pool = collections.defaultdict(list)
    for card in range(num_cards):
        pool[kind_of(card)].append(card)
    dealt = [pool[int(k)].pop() for k in kinds]
    rest = [card for cards in pool.values() for card in cards]
    return np.array(rest + dealt[::-1])


def play_both(env_id, rng_for, steps, policy=None, key=1, **kwargs):
    """Run one episode of ours, script popgym with its randomness, step both with the same actions."""
    ours, params = make(env_id, **kwargs)
    obs, actions, reward, terminated, truncated, final = (np.asarray(x) for x in
                                                          rollout(ours, params, jax.random.key(key), steps, policy))
    first_obs = np.asarray(ours.reset(jax.random.key(key), params)[0])
    end = np.flatnonzero(terminated | truncated)[0]
    theirs = popgym_env(env_id, **kwargs)
    theirs.unwrapped.np_random = rng_for(ours, first_obs, final[: end + 1], actions[: end + 1])
    their_obs, _ = theirs.reset()
    np.testing.assert_allclose(their_obs, first_obs, atol=1e-6)
    for t in range(end + 1):
        o, r, te, tr, _ = theirs.step(actions[t])
        np.testing.assert_allclose(o, final[t], atol=1e-5, err_msg=f"observation at step {t}")
        assert np.isclose(r, reward[t], atol=1e-6), (t, r, reward[t])
        assert (te, tr) == (terminated[t], truncated[t]), t
    return end + 1


def suits_dealt(first_obs, finals, columns=slice(0, 4)):
    return [first_obs[columns].argmax()] + [f[columns].argmax() for f in finals]


@pytest.mark.parametrize("env_id,kwargs", [("RepeatFirstEasy", {}), ("RepeatPreviousEasy", dict(num_decks=2, k=10)),
                                           ("RepeatFirstMedium", {})])
def test_card_games_match_popgym_step_by_step(env_id, kwargs):
    def rng(ours, first, finals, actions):
        return ScriptedRNG(shuffles=[deck_order(suits_dealt(first, finals), ours.num_cards, lambda c: c % 4)])

    length = play_both(env_id, rng, 2 * 52 * 8, key=9, **kwargs)
    assert length == make(env_id, **kwargs)[0].num_cards - 1


@pytest.mark.parametrize("env_id", ["CountRecallEasy", "CountRecallMedium", "CountRecallHard"])
def test_count_recall_matches_popgym(env_id):
    kind_of = {"colors": lambda c: c % 2, "suits": lambda c: c % 4, "ranks": lambda c: (c % 52) // 4}

    def rng(ours, first, finals, actions):
        d = ours.kinds
        values = suits_dealt(first, finals, slice(0, d))
        queries = suits_dealt(first, finals, slice(d, 2 * d))
        kind = kind_of[ours.deck_type]
        return ScriptedRNG(shuffles=[deck_order(values, ours.num_cards, kind), deck_order(queries, ours.num_cards, kind)])

    # A policy that is right about half the time, so both reward signs are compared.
    policy = lambda s, k: jnp.where(jax.random.bernoulli(k), s.counts[s.query], 0)  # noqa: E731
    play_both(env_id, rng, 420, policy)


def test_autoencode_matches_popgym():
    def rng(ours, first, finals, actions):
        watched = suits_dealt(first, finals[: ours.num_cards - 1], slice(2, 6))
        return ScriptedRNG(shuffles=[deck_order(watched, ours.num_cards, lambda c: c % 4)])

    policy = lambda s, k: jnp.where(jax.random.bernoulli(k), s.cards[jnp.maximum(s.dealt - s.played - 1, 0)], 1)  # noqa
    assert play_both("AutoencodeEasy", rng, 120, policy) == 103


@pytest.mark.parametrize("env_id", ["PositionOnlyCartPoleEasy", "VelocityOnlyCartPoleEasy", "PositionOnlyCartPoleHard"])
def test_cartpoles_match_popgym(env_id):
    """Same start, then each step from the same physics state (copied in: float32 vs float64 would drift)."""
    env, params = make(env_id)
    obs, state = env.reset(jax.random.key(11), params)
    theirs = popgym_env(env_id)
    theirs.unwrapped.np_random = ScriptedRNG(uniforms=[np.asarray(state.physics, np.float64)])
    np.testing.assert_allclose(theirs.reset()[0], obs, atol=1e-7)
    step = jax.jit(env.step)
    for t in range(1000):
        action = int(state.physics[2] + 0.3 * state.physics[3] > 0) if t % 7 else t % 2  # balance, mostly
        theirs.unwrapped.state = np.asarray(state.physics, np.float64)
        obs, state, reward, terminated, truncated, info = step(jax.random.key(t), state, action, params)
        o, r, te, tr, _ = theirs.step(action)
        np.testing.assert_allclose(o, info["final_observation"], rtol=1e-4, atol=1e-6, err_msg=f"step {t}")
        assert np.isclose(r, reward) and (te, tr) == (bool(terminated), bool(truncated)), t
        if terminated or truncated:
            break
    assert t + 1 == env._env.max_episode_length or bool(terminated)
    assert t > 50


def test_noisy_cartpole_matches_popgym():
    env, params = make("NoisyPositionOnlyCartPoleEasy")
    noise = []

    def rng(ours, first, finals, actions):
        # Recover the noise our episode drew from (observation − true [x, θ]); clipping never hit here.
        _, state = env.reset(jax.random.key(12), params)
        physics, truths = state.physics, [np.asarray(state.physics)[[0, 2]]]
        for a in actions:
            physics, _ = cartpole_dynamics(physics, a)
            truths.append(np.asarray(physics)[[0, 2]])
        observed = [first[:2]] + [f[:2] for f in finals]
        noise.extend(o - t for o, t in zip(observed, truths))
        return ScriptedRNG(uniforms=[np.asarray(state.physics, np.float64)], normals=noise)

    from memoroids_lite.envs.cartpole import cartpole_dynamics

    play_both("NoisyPositionOnlyCartPoleEasy", rng, 300, key=12)
    assert np.std(np.concatenate(noise)) == pytest.approx(0.1, rel=0.5)


def test_minesweeper_matches_popgym():
    env, params = make("MineSweeperEasy")
    _, state = env.reset(jax.random.key(13), params)
    mines = np.flatnonzero(np.asarray(state.grid) == 1)

    def rng(ours, first, finals, actions):
        return ScriptedRNG(choices=[mines])

    safe = [c for c in range(16) if c not in mines]
    # Click safe cells, one twice (a repeat), then a mine.
    script = jnp.array(safe[:5] + [safe[0]] + [int(mines[0])] + [0] * 40)
    policy = lambda s, k: script[s.time]  # noqa: E731
    assert play_both("MineSweeperEasy", rng, 40, policy, key=13) == 7


def test_bandit_matches_popgym():
    env, params = make("MultiarmedBanditEasy")
    _, state = env.reset(jax.random.key(14), params)

    def rng(ours, first, finals, actions):
        paid = [f[:2].argmax() == 1 for f in finals]
        return ScriptedRNG(randoms=[np.asarray(state.payout)] + [0.0 if p else 1.0 for p in paid])

    assert play_both("MultiarmedBanditEasy", rng, 250, key=14) == 200
