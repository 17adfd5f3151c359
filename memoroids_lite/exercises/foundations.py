"""Checkers for Part I, Foundations (chapters 1-5): tapes, monoids, scans, resets and returns."""

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.examples import affine_monoid, sum_monoid
from memoroids_lite.exercises.checking import Exercise, Wrong, expect_close, number, random_starts, returned
from memoroids_lite.monoid import check_monoid, scan


def _flags_cases():
    rng = np.random.default_rng(0)
    yield "a random tape", random_starts(rng, 30)
    yield "a tape where every step starts an episode", np.ones(6, bool)
    yield "a tape of one episode", np.eye(1, 7, dtype=bool)[0]
    yield "a tape of one step", np.ones(1, bool)


def test_best_return(best_return):
    rng = np.random.default_rng(6)
    decks = [np.full(4, 0.25), np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.7, 0.1, 0.1, 0.1]),
             np.array([0.5, 0.5]), rng.dirichlet(np.ones(6))]
    for p in decks:
        got = number(best_return(p.copy()), f"best_return(p) for the deck p = {np.round(p, 3).tolist()}")
        if np.isclose(got, p.max(), atol=1e-6):
            continue
        deck = np.round(p, 3).tolist()
        if np.isclose(got, 1 / len(p), atol=1e-6):
            raise Wrong(f"for the deck p = {deck} you give 1/k, the return on a fair deck: which step of the proof "
                        "that memoryless policies are at chance assumed a fair deck?")
        if np.isclose(got, (p**2).sum(), atol=1e-6):
            raise Wrong(f"for the deck p = {deck} you give the return of a policy that names card a with probability "
                        "p_a. Is that the best a memoryless policy can do?")
        raise Wrong(f"best_return({deck}) = {got:.4f} is wrong: write Pr(a_(L-1) = c) for a memoryless policy "
                    "pi(a | o) (what does it see at the last step?) and find its largest value over all policies.")


def test_always_wins(always_wins):
    for w in (1, 2, 3, 5):
        for L in range(1, 9):
            got = always_wins(w, L)
            if got is None or got is Ellipsis:
                raise Wrong("always_wins returned None: fill in its body and return True or False.")
            if bool(got) != (L <= w):
                raise Wrong(f"always_wins({w}, {L}) = {bool(got)} is wrong: list the observations a window of {w} "
                            f"holds at the last step, t = {L - 1} (blanks before the episode began).")


def test_flags(read_flags):
    for name, start in _flags_cases():
        out = read_flags(jnp.asarray(start))
        if out is None or len(out) != 3:
            raise Wrong("return three arrays: (episode of each step, index within its episode, done[:-1]).")
        episode, index, done = (returned(o, "read_flags") for o in out)
        t = np.arange(len(start))
        last_start = np.maximum.accumulate(np.where(start, t, 0))
        expect_close(episode, np.cumsum(start) - 1, f"(a) is wrong on {name}: the first episode is number 0, and "
                     "the number goes up by one at every start.")
        expect_close(index, t - last_start, f"(b) is wrong on {name}: a first step has index 0 in its episode.")
        expect_close(done, start[1:], f"(c) is wrong on {name}: done[t] says whether step t is the last of its "
                     "episode, for t = 0 .. T-2 (T-1 values).")


def _fold(monoid, elems):
    acc = monoid.identity()
    for t in range(jax.tree.leaves(elems)[0].shape[0]):
        acc = monoid.combine(acc, jax.tree.map(lambda x: x[t], elems))
    return acc


def test_argmin(argmin):
    rng = np.random.default_rng(1)
    for trial in range(5):
        x = rng.integers(0, 3, size=12).astype(np.float32)  # values from {0, 1, 2}: many ties
        elems = (jnp.asarray(x), jnp.arange(12))
        want = (x.min(), int(np.argmin(x)))
        for how, (v, i) in (("folding left to right", _fold(argmin, elems)),
                            ("with a parallel scan", jax.tree.map(lambda a: a[-1], scan(argmin, elems)))):
            if float(v) != want[0]:
                raise Wrong(f"{how} over {x.tolist()} (indices 0..11) gives the value {float(v)}, not the minimum.")
            if int(i) != want[1]:
                raise Wrong(f"{how} over {x.tolist()} gives index {int(i)}; the minimum first occurs at "
                            f"{want[1]}. Look at what combine does with ties.")

    def tied(key):
        kv, ki = jax.random.split(key)
        return jax.random.randint(kv, (), 0, 3).astype(jnp.float32), jax.random.randint(ki, (), 0, 100)

    try:
        check_monoid(argmin, tied)
    except AssertionError as error:
        raise Wrong(f"a monoid law fails on pairs with tied values: {error}") from None


def test_variance(answer):
    monoid, input_map, readout = answer

    def variances(x):
        prefixes = scan(monoid, jax.vmap(input_map)(jnp.asarray(x, jnp.float32)))
        return returned(jax.vmap(readout)(prefixes), "readout")

    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    want = np.array([np.var(x[: t + 1]) for t in range(len(x))])
    expect_close(variances(x), want, "the variance read out of the scan's prefixes differs from np.var of the "
                 "numbers so far (standard normal numbers).", rtol=1e-3, atol=1e-4)
    x = 1000.0 + rng.normal(size=200)
    got = variances(x)[-1]
    if not np.isclose(got, np.var(x), rtol=1e-2):
        raise Wrong(f"on 200 numbers around 1000 (variance {np.var(x):.3f}) the readout gives {got:.3f}: in "
                    "float32, your element loses precision when the mean is large. Find an element whose "
                    "parts stay small.")

    def summary(key):  # a random batch of 1..8 numbers, folded with the answer's own monoid
        kn, kx = jax.random.split(key)
        count = jax.random.randint(kn, (), 1, 9)
        elems = jax.vmap(input_map)(3 * jax.random.normal(kx, (8,)))
        keep = jnp.arange(8) < count
        elems = jax.tree.map(lambda e, i: jnp.where(keep.reshape((8,) + (1,) * (e.ndim - 1)), e, i),
                             elems, jax.vmap(lambda _: monoid.identity())(jnp.arange(8)))
        return jax.tree.map(lambda a: a[-1], scan(monoid, elems))

    try:
        check_monoid(monoid, summary, atol=1e-3, rtol=1e-3)
    except AssertionError as error:
        raise Wrong(f"a monoid law fails on summaries of random batches: {error}") from None


def test_exclusive(exclusive_scan):
    rng = np.random.default_rng(3)
    affine = affine_monoid()
    for length in (7, 1, 16):
        elems = tuple(jnp.asarray(rng.normal(size=length), jnp.float32) for _ in range(2))
        out = exclusive_scan(affine, elems)
        if out is None:
            raise Wrong("exclusive_scan returned None: return the scanned elements.")
        got = tuple(returned(o, "exclusive_scan") for o in out)
        acc, want = affine.identity(), []
        for t in range(length):
            want.append(acc)
            acc = affine.combine(acc, (elems[0][t], elems[1][t]))
        want = tuple(np.stack([np.broadcast_to(w[i], ()) for w in want]) for i in range(2))
        if got[0].shape != (length,):
            raise Wrong(f"on {length} affine elements the result has shape {got[0].shape}, expected ({length},): "
                        "one prefix per input, the first being the identity.")
        if not np.allclose(got[0][0], 1.0) or not np.allclose(got[1][0], 0.0):
            raise Wrong("position 0 must hold the identity, the combination of nothing.")
        expect_close(got[0], want[0], "position t must combine x_0 .. x_{t-1} (x_t itself not included), in "
                     "order: the affine monoid is not commutative.")
        expect_close(got[1], want[1], "position t must combine x_0 .. x_{t-1} (x_t itself not included), in "
                     "order: the affine monoid is not commutative.")
    vectors = jnp.asarray(rng.normal(size=(5, 3)), jnp.float32)
    got = returned(exclusive_scan(sum_monoid(shape=(3,)), vectors), "exclusive_scan")
    want = np.concatenate([np.zeros((1, 3)), np.cumsum(vectors, 0)[:-1]])
    expect_close(got, want, "with the sum monoid over vectors of 3 numbers the result must be [0, x_0, x_0 + x_1, "
                 "...], each a vector of 3.")


def test_wasted_combines(wasted_combines):
    for k in (3, 1, 2, 5, 10):  # n = 8 first, the n of the chapter's figure
        n = 2**k
        got = number(wasted_combines(n), f"wasted_combines({n})")
        if np.isclose(got, k):
            continue
        if np.isclose(got, 2 * n - k - 2):
            raise Wrong(f"wasted_combines({n}) = {got:g} counts the combines JAX makes: the question asks for the "
                        "combines our scan makes in vain.")
        if np.isclose(got, n - 1):
            raise Wrong(f"wasted_combines({n}) = {got:g} counts every combine of the down-sweep, but some of them "
                        "join two non-empty stretches.")
        raise Wrong(f"wasted_combines({n}) = {got:g} is wrong. Follow the down-sweep for n = 8 in the figure above: "
                    "which of its combines return an operand unchanged, and in how many rounds?")


def _count_cases():
    rng = np.random.default_rng(4)
    yield "a random tape", random_starts(rng, 40)
    yield "a tape whose every step starts an episode", np.ones(5, bool)
    yield "a tape of one episode", np.eye(1, 9, dtype=bool)[0]


def test_count(count_since_start):
    for name, start in _count_cases():
        got = returned(count_since_start(jnp.asarray(start)), "count_since_start")
        bounds = np.flatnonzero(start).tolist() + [len(start)]
        want = np.concatenate([np.arange(1, b - a + 1) for a, b in zip(bounds, bounds[1:])])
        if got.shape == want.shape and np.all(got[start] == 0):
            raise Wrong(f"on {name} the first step of each episode gets 0; count it as 1.")
        expect_close(got, want, f"wrong on {name}: the count must start again at every episode start, exactly "
                     "at the step whose flag is set.")


def _lambda_return_loop(r, v_next, terminated, done, gamma, lam):
    out, g = np.zeros(len(r)), 0.0
    for t in reversed(range(len(r))):
        if terminated[t]:
            g = r[t]
        elif done[t]:
            g = r[t] + gamma * v_next[t]
        else:
            g = r[t] + gamma * ((1 - lam) * v_next[t] + lam * g)
        out[t] = g
    return out


def test_lambda_return(lambda_return):
    rng = np.random.default_rng(5)
    gamma, lam, length = 0.9, 0.7, 40
    r = rng.normal(size=length)
    v_next = rng.normal(size=length)
    ends = rng.random(length) < 0.2
    ends[-1] = True
    terminated = ends & (rng.random(length) < 0.5)
    terminated[-1] = False  # the tape cut the last episode: truncated
    terminated[np.flatnonzero(ends)[0]] = True  # at least one terminated end
    got = returned(lambda_return(jnp.asarray(r, jnp.float32), jnp.asarray(v_next, jnp.float32),
                                 jnp.asarray(terminated), jnp.asarray(ends), gamma, lam), "lambda_return")
    want = _lambda_return_loop(r, v_next, terminated, ends, gamma, lam)
    if got.shape != want.shape:
        raise Wrong(f"expected one λ-return per step, shape {want.shape}, got {got.shape}.")
    last = np.flatnonzero(ends)
    wrong_ends = ~np.isclose(got[last], want[last], rtol=1e-3, atol=1e-4)
    if wrong_ends[terminated[last]].any():
        raise Wrong("wrong at a terminated last step: the episode is over, so what may be added to r_t there?")
    if wrong_ends[~terminated[last]].any():
        raise Wrong("wrong at a truncated last step: the episode was cut, so the one-step target still "
                    "bootstraps.")
    expect_close(got, want, "right at the ends of episodes, wrong inside them: check the discount of the sum "
                 "and the weight of V(s_{t+1}), and that the sum stops at every done.", rtol=1e-3, atol=1e-4)


EXERCISES = [
    Exercise("ch01-ex-deck", test_best_return, answer="best_return", skeleton='''\
def best_return(p):
    """The best expected return of a memoryless policy; card c has probability p[c]."""
    ...  # your code


passed = check("ch01-ex-deck", best_return)'''),
    Exercise("ch01-ex-window", test_always_wins, answer="always_wins", skeleton='''\
def always_wins(w, L):
    """True iff a window of the last w observations always wins in L steps."""
    ...  # your code


passed = check("ch01-ex-window", always_wins)'''),
    Exercise("ch01-ex-flags", test_flags, answer="read_flags", skeleton='''\
def read_flags(start):
    """(episode of every step, index of every step in its episode, done[:-1])."""
    ...  # your code


passed = check("ch01-ex-flags", read_flags)'''),
    Exercise("ch02-ex-argmin", test_argmin, answer="argmin", skeleton='''\
argmin = ...  # your code: a Monoid over pairs (value, time step)

passed = check("ch02-ex-argmin", argmin)'''),
    Exercise("ch02-ex-variance", test_variance, answer="(variance, variance_input, variance_readout)",
             skeleton='''\
variance = ...  # your code: the Monoid
variance_input = ...  # your code: a function, one number -> one element
variance_readout = ...  # your code: a function, one element -> its variance

passed = check("ch02-ex-variance", (variance, variance_input, variance_readout))'''),
    Exercise("ex-scans-blelloch-count", test_wasted_combines, answer="wasted_combines", skeleton='''\
def wasted_combines(n):
    """How many of blelloch_scan's 2(n - 1) combines are wasted, for n = 2^k."""
    ...  # your code


passed = check("ex-scans-blelloch-count", wasted_combines)'''),
    Exercise("ex-scans-exclusive", test_exclusive, answer="exclusive_scan", skeleton='''\
def exclusive_scan(monoid, elems):
    """e_I, x_0, x_0 • x_1, ..., x_0 • ... • x_{T-2}, for any pytree monoid."""
    ...  # your code


passed = check("ex-scans-exclusive", exclusive_scan)'''),
    Exercise("ex-resets-count", test_count, answer="count_since_start", skeleton='''\
def count_since_start(start):
    """For every step, the number of steps since its episode began (1 at a first step)."""
    ...  # your code


passed = check("ex-resets-count", count_since_start)'''),
    Exercise("ex-returns-lambda", test_lambda_return, answer="lambda_return", skeleton='''\
def lambda_return(rewards, next_values, terminated, done, gamma, lam):
    """The λ-return of every step of a tape, with a scan; done[-1] is True."""
    ...  # your code


passed = check("ex-returns-lambda", lambda_return)'''),
]
