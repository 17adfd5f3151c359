"""Checkers for Part II, Memoroids (chapters 6-11): memory models as memoroids, and their time scales."""

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, expect_close, returned
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
    Exercise("ch09-ex-bilinear", test_bilinear, answer="bilinear", skeleton='''\
def bilinear(lam, delta):
    """(Lambda_bar, B_bar) of the bilinear discretisation, with B_tilde = 1."""
    ...  # your code


passed = check("ch09-ex-bilinear", bilinear)'''),
    Exercise("ch09-ex-variance", test_stationary_variance, answer="stationary_variance", skeleton='''\
def stationary_variance(lam, delta):
    """The stationary variance of an S5 state (B_tilde = 1, unit white-noise input)."""
    ...  # your code


passed = check("ch09-ex-variance", stationary_variance)'''),
]
