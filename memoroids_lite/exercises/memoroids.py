"""Checkers for Part II, Memoroids (chapters 6-11): memory models as memoroids, and their time scales."""

import jax.numpy as jnp
import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, expect_close, number, parts, returned
from memoroids_lite.memoroid import check_memoroid
from memoroids_lite.models import MemoryModel


def _decaying_sum_loop(gamma):
    def loop(params, x, start):
        x, outputs, h = np.asarray(x, np.float64), [], None
        for t in range(len(x)):
            h = x[t] if start[t] else gamma * h + x[t]
            outputs.append(h)
        return np.stack(outputs)

    return loop


def test_decaying_sum(layer_class):
    for gamma in (0.8, 0.3):
        layer = layer_class(features=4, gamma=gamma)
        model = MemoryModel(cell=layer, features=4, kind="decaying_sum")
        try:
            check_memoroid(model, reference=_decaying_sum_loop(gamma))
        except AssertionError as error:
            raise Wrong(f"with gamma = {gamma}, check_memoroid fails: {str(error).splitlines()[0]}") from None


def test_fraction_longer(fraction_longer):
    for r_min, r_max in ((0.0, 1.0), (0.9, 0.999), (0.5, 0.8)):
        for L in (1, 4, 16, 32, 1000):
            lo, hi = r_min**2, r_max**2
            want = np.clip((hi - np.exp(-2 / L)) / (hi - lo), 0, 1)
            got = returned(fraction_longer(L, r_min, r_max), "fraction_longer")
            if got.shape != ():
                raise Wrong(f"fraction_longer({L}, {r_min}, {r_max}) must be one number, got shape {got.shape}.")
            if not np.isclose(got, want, atol=1e-4):
                raise Wrong(f"fraction_longer({L}, r_min={r_min}, r_max={r_max}) = {float(got):.4f} is wrong. "
                            "Which quantity is uniform, and can a fraction leave [0, 1]?")


def test_float32_modulus(answer):
    nu, tau = parts(answer, 2, "a pair (nu_limit, tau_limit): the nu below which |lambda| is exactly 1 in float32, "
                    "and the time scale it corresponds to")
    nu, tau = number(nu, "nu_limit"), number(tau, "tau_limit")
    edge = 25 * np.log(0.5)  # e^nu = 2^-25, half the spacing of the floats just below 1
    if abs(nu - edge) > 0.2:
        modulus = float(jnp.exp(-jnp.exp(jnp.float32(nu))))
        if modulus < 1:
            raise Wrong(f"at nu = {nu:.2f} float32 still gives |lambda| = {modulus:.8f}, not 1. Which floats lie "
                        "just below 1, and when does 1 - e^nu round to 1 rather than to one of them?")
        raise Wrong(f"at nu = {nu:.2f} |lambda| is 1 in float32, but it already is at larger nu: find the nu where "
                    "the rounding to 1 begins.")
    if not (tau > 0 and abs(np.log(tau) + edge) <= 0.25):
        raise Wrong(f"nu_limit is right, but tau_limit = {tau:.3g} steps is not its time scale: how does the chapter "
                    "define the time scale of a state from nu?")


def test_step_limits(step_limits):
    what = "((Lambda_bar, B_bar) as Delta -> 0, (Lambda_bar, B_bar) as Delta -> infinity)"
    for lam in (-0.5 + 0j, -0.5 + 1j, -2.0 + 5.0j, -0.1 - 3.0j):
        for b in (1.0 + 0j, 0.3 - 0.2j):
            out = parts(step_limits(lam, b), 2, f"step_limits returning {what}")
            small, large = (parts(pair, 2, f"step_limits returning {what}") for pair in out)
            got = [complex(_scalar(v, f"step_limits({lam}, {b})")) for v in small + large]
            want = [1, 0, 0, -b / lam]
            where = f"for lambda = {lam} and B_tilde = {b}"
            if not np.isclose(got[0], want[0], atol=1e-6):
                raise Wrong(f"Lambda_bar as Delta -> 0 is wrong {where}: take the limit of exp(Lambda Delta).")
            if not np.isclose(got[1], want[1], atol=1e-6):
                raise Wrong(f"B_bar as Delta -> 0 is wrong {where}: how does exp(Lambda Delta) - 1 behave for "
                            "small Delta?")
            if not np.isclose(got[2], want[2], atol=1e-6):
                raise Wrong(f"Lambda_bar as Delta -> infinity is wrong {where}: with Re Lambda < 0, what does "
                            "|exp(Lambda Delta)| do?")
            if not np.isclose(got[3], want[3], atol=1e-6):
                raise Wrong(f"B_bar as Delta -> infinity is wrong {where}: what is left of exp(Lambda Delta) - 1, "
                            "and with which sign?")


def _scalar(value, what: str) -> np.complex128:
    """One (complex) number that an answer returned; `Wrong` otherwise."""
    if value is None or value is Ellipsis:
        raise Wrong(f"{what} holds None: fill in every part and return it.")
    array = np.asarray(value, np.complex128)
    if array.shape != ():
        raise Wrong(f"{what} must hold numbers, got an array of shape {array.shape}.")
    return array[()]


_FORMATS = (("float64", jnp.float64), ("float32", jnp.float32), ("bfloat16", jnp.bfloat16),
            ("float16", jnp.float16))


def test_overflow_step(overflow_step):
    for abs_alpha in (0.5, 0.3, 2.0):
        for name, dtype in _FORMATS:
            got = number(overflow_step(abs_alpha, dtype), f"overflow_step({abs_alpha}, jnp.{name})")
            largest = float(jnp.finfo(dtype).max)
            want = int(np.ceil(np.log(largest) / abs_alpha))
            if got == want:
                continue
            if name == "bfloat16" and got == np.ceil(np.log(float(jnp.finfo(jnp.float16).max)) / abs_alpha):
                raise Wrong("for bfloat16 you give float16's step: how many exponent bits does bfloat16 have, and "
                            "what is its largest finite number?")
            if got == np.ceil(np.log10(largest) / abs_alpha):
                raise Wrong(f"overflow_step({abs_alpha}, jnp.{name}) = {got:g} uses the base-10 logarithm of the "
                            "largest finite number, but exp(t |alpha|) is a power of e.")
            raise Wrong(f"overflow_step({abs_alpha}, jnp.{name}) = {got:g} is wrong: at that step exp(t |alpha|) must "
                        f"exceed the largest finite {name}, and one step earlier it must not.")


def _trace_loop(s, first, blank, gamma):
    trace = first
    for _ in range(s):
        trace = gamma * trace + blank
    return trace


def test_blank_trace(answer):
    blank_trace, blank_growth = parts(answer, 2, "a pair (blank_trace, blank_growth): the closed form as a "
                                      "function blank_trace(s, first, blank, gamma), and the growth as a number")
    first, blank = 0.7 - 0.2j, -1.3 + 0.4j
    for gamma in (np.exp(-1e-3), np.exp(-0.1 + 0.3j), 0.5):
        for s in (0, 1, 2, 31, 500):
            got = _scalar(blank_trace(s, first, blank, gamma), "blank_trace")
            if not np.isclose(got, _trace_loop(s, first, blank, gamma), rtol=1e-6, atol=1e-9):
                raise Wrong(f"blank_trace is wrong at age s = {s} (gamma = {gamma:.4g}): it differs from running "
                            "the row's recurrence for s steps after the first token.")
    growth = number(blank_growth, "blank_growth")
    gamma = np.exp(-1e-3)
    want = (1 - gamma**500) / (1 - gamma**31)
    if np.isclose(growth, want, rtol=0.02):
        return
    if np.isclose(growth, 500 / 31, rtol=0.02):
        raise Wrong(f"blank_growth = {growth:.2f} is the growth of a sum that never forgets: the blanks decay too.")
    raise Wrong(f"blank_growth = {growth:.2f} is wrong: evaluate the blank part of your closed form at ages 500 and "
                "31, with |alpha_j| = 1e-3 and omega_k = 0, and compare the two.")


def test_bilinear(bilinear):
    lam = np.array([-0.5 + 0.0j, -0.5 + 1.0j, -0.5 + 5.0j, -0.5 + 20.0j, -3.0 + 0.5j])
    for delta in (0.1, 0.5, 2.0):
        out = bilinear(lam, delta)
        if out is None or len(out) != 2:
            raise Wrong("return a pair (Lambda_bar, B_bar), both arrays like lam.")
        lam_bar, b_bar = (np.asarray(o, np.complex128) for o in out)
        z = lam * delta / 2
        expect_close(lam_bar, (1 + z) / (1 - z), f"Lambda_bar is wrong at Delta = {delta}.")
        expect_close(b_bar, delta / (1 - z), f"B_bar (for B_tilde = 1) is wrong at Delta = {delta}.")


def test_stationary_variance(stationary_variance):
    for omega in (0.0, 0.5, 20.0):
        lam = -0.5 + 1j * omega
        for delta in (1e-3, 1e-1, 1.0):
            lam_bar = np.exp(lam * delta)
            want = abs((lam_bar - 1) / lam) ** 2 / (1 - abs(lam_bar) ** 2)
            got = returned(stationary_variance(lam, delta), "stationary_variance")
            if not np.isclose(got, want, rtol=1e-3):
                raise Wrong(f"for lambda = {lam} and Delta = {delta} you give {float(got):.3e}. Is the input gain "
                            "the ZOH b_bar, and is every modulus squared?")


EXERCISES = [
    Exercise("ch06-ex-ema", test_decaying_sum, answer="DecayingSum", skeleton='''\
class DecayingSum(MemoroidLayer):
    """h_t = gamma h_{t-1} + x_t, h = 0 at each episode start, y_t = h_t."""

    features: int = 4
    gamma: float = 0.8

    ...  # your code: monoid, initial_state, f, g


passed = check("ch06-ex-ema", DecayingSum)'''),
    Exercise("ch08-ex-timescales", test_fraction_longer, answer="fraction_longer", skeleton='''\
def fraction_longer(L, r_min, r_max):
    """The fraction of states whose time scale exceeds L steps, under the ring initialisation."""
    ...  # your code


passed = check("ch08-ex-timescales", fraction_longer)'''),
    Exercise("ch08-ex-float32", test_float32_modulus, answer="(nu_limit, tau_limit)", skeleton='''\
nu_limit = ...  # your code: the nu below which |lambda| rounds to exactly 1 in float32
tau_limit = ...  # your code: the time scale of that nu, in steps

passed = check("ch08-ex-float32", (nu_limit, tau_limit))'''),
    Exercise("ch09-ex-bilinear", test_bilinear, answer="bilinear", skeleton='''\
def bilinear(lam, delta):
    """(Lambda_bar, B_bar) of the bilinear discretisation, with B_tilde = 1."""
    ...  # your code


passed = check("ch09-ex-bilinear", bilinear)'''),
    Exercise("ch09-ex-limits", test_step_limits, answer="step_limits", skeleton='''\
def step_limits(lam, b_tilde):
    """((Lambda_bar, B_bar) as Delta -> 0, (Lambda_bar, B_bar) as Delta -> infinity)."""
    ...  # your code


passed = check("ch09-ex-limits", step_limits)'''),
    Exercise("ch09-ex-variance", test_stationary_variance, answer="stationary_variance", skeleton='''\
def stationary_variance(lam, delta):
    """The stationary variance of an S5 state (B_tilde = 1, unit white-noise input)."""
    ...  # your code


passed = check("ch09-ex-variance", stationary_variance)'''),
    Exercise("ex-ffm-precision", test_overflow_step, answer="overflow_step", skeleton='''\
def overflow_step(abs_alpha, dtype):
    """The first step t at which exp(t |alpha|) overflows in dtype."""
    ...  # your code


passed = check("ex-ffm-precision", overflow_step)'''),
    Exercise("ex-ffm-blank", test_blank_trace, answer="(blank_trace, blank_growth)", skeleton='''\
def blank_trace(s, first, blank, gamma):
    """Row j of the trace at age s, with gamma = Gamma(1)_jk."""
    ...  # your code


blank_growth = ...  # your code: the blank part at age 500 over that at age 31

passed = check("ex-ffm-blank", (blank_trace, blank_growth))'''),
]
