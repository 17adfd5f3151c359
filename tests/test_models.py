"""Every registered memory model passes the harness, agrees with its naive reference, and fails clearly."""

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from memoroids_lite import models
from memoroids_lite.memoroid import check_memoroid
from memoroids_lite.models import LRU, LinearAttention, MemoryModel, make, names

from reference_models import REFERENCES

FEATURES = 6
SMALL = {"linear_attention": {}, "lru": {"hidden": 8}, "s5": {"hidden": 8}, "ffm": {"trace_size": 8}, "gru": {}}


def test_every_model_has_a_reference():
    assert set(names()) == set(REFERENCES)


@pytest.mark.parametrize("name", names())
def test_harness_and_reference(name):
    model = make(name, features=FEATURES, **SMALL[name])
    errors = check_memoroid(model, reference=REFERENCES[name])
    assert errors["reference"] < 1e-4
    assert errors["gradient across a boundary"] == 0.0
    if name != "gru":
        assert {"associativity (with resets)", "associative == serial"} <= set(errors)


def test_the_harness_catches_a_wrong_normaliser():
    """The paper code's normaliser (Σ x)(Σ φ(q)) is still a monoid: only the reference can catch it."""
    from memoroids_lite.models.linear_attention import LinearAttention, phi

    class WrongNormaliser(LinearAttention):
        def g(self, state, o):
            X, x = state
            q = phi(self.query(o))
            attention = jnp.einsum("tkf,tk->tf", X, q) / (x.sum(-1) * q.sum(-1))[:, None]
            return self.mlp_out(jax.nn.leaky_relu(self.mlp_hidden(attention + o)))

    model = make("linear_attention", features=FEATURES)
    wrong = model.clone(cell=WrongNormaliser(features=FEATURES))
    check_memoroid(wrong)  # every algebraic check passes ...
    with pytest.raises(AssertionError, match="reference"):
        check_memoroid(wrong, reference=REFERENCES["linear_attention"])  # ... the reference does not


def test_the_harness_catches_a_leak_across_episodes():
    from memoroids_lite.models.gru import GRU

    class LeakyGRU(GRU):  # forgets to reset: memory flows from one episode into the next
        def __call__(self, x, start, state=None, mode="auto"):
            return super().__call__(x, jnp.zeros_like(start), state, mode)

    model = make("gru", features=FEATURES)
    with pytest.raises(AssertionError, match="separate episodes"):
        check_memoroid(model.clone(cell=LeakyGRU(features=FEATURES)))


def test_auto_mode_on_an_accelerator(monkeypatch):
    """On a GPU "auto" means the associative scan; the GRU, which has none, must fall back to its serial loop."""
    x, start = jnp.ones((5, FEATURES)), jnp.array([True, False, True, False, False])
    expected = {}
    for name in names():
        model = make(name, features=FEATURES, **SMALL[name])
        params = model.init(jax.random.key(0), x, start)
        expected[name] = (model, params, model.apply(params, x, start, mode="serial"))
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    for name, (model, params, serial) in expected.items():
        y, _ = model.apply(params, x, start)  # mode "auto"
        assert jnp.allclose(y, serial[0], atol=1e-5), name


def test_the_harness_catches_a_wrong_initial_state():
    from memoroids_lite.models.lru import LRU

    class WrongStart(LRU):  # reports a state that is not the identity its scan starts from
        def initial_state(self):
            a, b = super().initial_state()  # the identity of h ← a h + b: a = 1, b = 0
            return a + 5.0, b + 3.0

    model = make("lru", features=FEATURES, **SMALL["lru"])
    with pytest.raises(AssertionError, match="initial_state"):
        check_memoroid(model.clone(cell=WrongStart(features=FEATURES, **SMALL["lru"])))


@pytest.mark.parametrize("name", names())
def test_long_tapes_stay_finite(name):
    model = make(name, features=4, **SMALL[name])
    x = jax.random.normal(jax.random.key(0), (10**5, 4))
    start = jnp.zeros(10**5, bool).at[0].set(True)
    params = model.init(jax.random.key(1), x[:2], start[:2])
    y, state = jax.jit(model.apply)(params, x, start)
    assert bool(jnp.all(jnp.isfinite(y)))
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(state))


@pytest.mark.parametrize("name", names())
def test_jit_vmap_over_a_batch_and_deterministic_init(name):
    model = make(name, features=FEATURES, **SMALL[name])
    x = jax.random.normal(jax.random.key(0), (3, 10, FEATURES))
    start = jax.random.bernoulli(jax.random.key(1), 0.2, (3, 10)).at[:, 0].set(True)
    params = model.init(jax.random.key(2), x[0], start[0])
    again = model.init(jax.random.key(2), x[0], start[0])
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), params, again))
    batched, _ = jax.jit(jax.vmap(model.apply, in_axes=(None, 0, 0)))(params, x, start)
    for i in range(3):
        np.testing.assert_allclose(batched[i], model.apply(params, x[i], start[i])[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", names())
def test_clear_errors(name):
    model = make(name, features=FEATURES, **SMALL[name])
    x, start = jnp.ones((5, FEATURES)), jnp.ones(5, bool)
    params = model.init(jax.random.key(0), x, start)
    with pytest.raises(ValueError, match=rf"^{name} expects one tape x of shape \[T, features=6\], got \(5, 7\)\."):
        model.apply(params, jnp.ones((5, FEATURES + 1)), start)
    with pytest.raises(ValueError, match="jax.vmap"):
        model.apply(params, jnp.ones((2, 5, FEATURES)), start)
    expected_start = r"^start must be a boolean array of shape \[T\] = \(5,\) like x, got "
    with pytest.raises(ValueError, match=expected_start + r"bool\[4\]"):
        model.apply(params, x, jnp.ones(4, bool))
    with pytest.raises(ValueError, match=expected_start + r"float32\[5\]"):
        model.apply(params, x, jnp.ones(5))
    with pytest.raises(ValueError, match=expected_start + r"bool\[6\]"):
        jax.jit(model.apply)(params, x, jnp.ones(6, bool))  # checked on shapes: the same error under jit
    other = "gru" if name != "gru" else "lru"
    foreign = make(other, features=FEATURES).initial_state()
    with pytest.raises(ValueError, match="does not belong"):
        model.apply(params, x, start, foreign)


def test_make_rejects_bad_configs():
    with pytest.raises(ValueError, match="registered models: linear_attention, lru, s5, ffm, gru"):
        make("transformer", features=4)
    with pytest.raises(TypeError, match="options are"):
        make("lru", features=4, hiden=8)
    with pytest.raises(ValueError, match="not available for gru"):
        make("gru", features=4, mode="associative")
    with pytest.raises(ValueError, match=r"^ffm option features must be a positive integer, got 0\.$"):
        make("ffm", features=0)
    with pytest.raises(ValueError, match="unknown scan mode"):
        model = make("lru", features=4)
        model.init(jax.random.key(0), jnp.ones((2, 4)), jnp.ones(2, bool), mode="parallel")


@pytest.mark.parametrize("mode", ["associative", "serial"])
def test_modes_per_model_and_per_call_agree(mode):
    x = jax.random.normal(jax.random.key(0), (12, FEATURES))
    start = jnp.zeros(12, bool).at[0].set(True).at[5].set(True)
    model = make("s5", features=FEATURES, mode=mode, hidden=8)
    params = model.init(jax.random.key(1), x, start)
    default = model.apply(params, x, start)[0]
    other = model.apply(params, x, start, mode="serial" if mode == "associative" else "associative")[0]
    np.testing.assert_allclose(default, other, rtol=1e-5, atol=1e-5)


def int_options(name):
    """Every integer (size) option of a registered model, read from its layer class."""
    cls = type(make(name, features=4).cell)
    return [f.name for f in dataclasses.fields(cls) if f.type in ("int", int) and f.name != "features"]


def test_every_size_option_is_found():
    found = {name: int_options(name) for name in names()}
    assert found == {"linear_attention": ["key_size", "mlp_size"], "lru": ["hidden"], "s5": ["hidden"],
                     "ffm": ["trace_size", "context_size", "mlp_size"], "gru": []}


BAD_SIZES = [-3, 0, 2.0, True, "8", None]
SIZE_CASES = [(name, option, value) for name in names() for option in int_options(name) + ["features", "num_layers"]
              for value in BAD_SIZES if (option, value) != ("num_layers", None)]  # num_layers=None: the default


@pytest.mark.parametrize("name, option, value", SIZE_CASES)
def test_make_rejects_a_size_that_is_not_a_positive_integer(name, option, value):
    """hidden=-3 used to fail inside XLA and hidden=0 trained a model with no state; a bool is not an int."""
    arguments = {"features": FEATURES, option: value}
    with pytest.raises(ValueError, match=rf"^{name} option {option} must be a positive integer, got "
                                         rf"{re.escape(repr(value))}\.$"):
        make(name, **arguments)


def test_make_accepts_numpy_integers_and_the_same_model():
    model = make("lru", features=np.int64(FEATURES), hidden=np.int64(8), num_layers=np.int64(1))
    x, start = jnp.ones((3, FEATURES)), jnp.ones(3, bool)
    plain = make("lru", features=FEATURES, hidden=8, num_layers=1)
    params = plain.init(jax.random.key(0), x, start)
    np.testing.assert_array_equal(model.apply(params, x, start)[0], plain.apply(params, x, start)[0])


BAD_FLOATS = {  # (model, options, the message)
    "r_min above r_max": ("lru", {"r_min": 0.5, "r_max": 0.2},
                          ("lru options r_min, r_max must satisfy 0 <= r_min <= r_max <= 1 with r_min < 1 and "
                           "r_max > 0 (the radii |λ| of the eigenvalues), got r_min=0.5, r_max=0.2.")),
    "r_max above 1": ("lru", {"r_max": 1.5}, ("lru options r_min, r_max must satisfy 0 <= r_min <= r_max <= 1 with "
                      "r_min < 1 and r_max > 0 (the radii |λ| of the eigenvalues), got r_min=0.0, r_max=1.5.")),
    "r_min negative": ("lru", {"r_min": -0.1}, "got r_min=-0.1, r_max=1.0."),
    "r_min = r_max = 1": ("lru", {"r_min": 1.0}, "got r_min=1.0, r_max=1.0."),
    "r_max = 0": ("lru", {"r_max": 0.0}, "got r_min=0.0, r_max=0.0."),
    "max_phase 0": ("lru", {"max_phase": 0}, ("lru option max_phase must satisfy max_phase > 0 (the largest initial "
                    "phase of λ), got max_phase=0.")),
    "r_min NaN": ("lru", {"r_min": float("nan")}, "lru option r_min must be a finite number, got nan."),
    "r_max a string": ("lru", {"r_max": "0.9"}, "lru option r_max must be a finite number, got '0.9'."),
    "r_max a bool": ("lru", {"r_max": True}, "lru option r_max must be a finite number, got True."),
    "dt_min 0": ("s5", {"dt_min": 0.0}, ("s5 options dt_min, dt_max must satisfy 0 < dt_min <= dt_max (the initial "
                 "time steps Δ), got dt_min=0.0, dt_max=0.1.")),
    "dt_min above dt_max": ("s5", {"dt_min": 0.5, "dt_max": 0.1}, "got dt_min=0.5, dt_max=0.1."),
    "dt_max infinite": ("s5", {"dt_max": float("inf")}, "s5 option dt_max must be a finite number, got inf."),
    "min_period above max_period": ("ffm", {"min_period": 30.0, "max_period": 20.0},
                                    ("ffm options min_period, max_period must satisfy 0 < min_period <= max_period "
                                     "(the initial rotation periods, in steps), got min_period=30.0, max_period=20.0.")),
    "min_period 0": ("ffm", {"min_period": 0.0}, "got min_period=0.0, max_period=1000.0."),
}


@pytest.mark.parametrize("case", BAD_FLOATS)
def test_make_checks_float_options(case):
    name, options, message = BAD_FLOATS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        make(name, features=FEATURES, **options)


def test_make_accepts_the_edges_of_the_ranges():
    make("lru", features=FEATURES, r_min=0.9, r_max=0.999)
    make("lru", features=FEATURES, r_min=0, r_max=1)  # ints are numbers
    make("lru", features=FEATURES, r_min=0.5, r_max=0.5)
    make("s5", features=FEATURES, dt_min=0.01, dt_max=0.01)


def test_a_model_built_directly_checks_its_cell():
    """The book builds MemoryModel(cell=LinearAttention(...)) itself: the package's options are checked there
    too, while the fields a user's own layer adds are left to that layer."""
    with pytest.raises(ValueError, match=r"^retention option key_size must be a positive integer, got 0\.$"):
        MemoryModel(cell=LinearAttention(features=8, key_size=0), features=8, kind="retention")
    with pytest.raises(ValueError, match=r"^lru option num_layers must be a positive integer, got 0\.$"):
        MemoryModel(cell=LRU(features=8), features=8, num_layers=0, kind="lru")
    with pytest.raises(ValueError, match=r"^lru: the cell has features=8 but the model has features=16"):
        MemoryModel(cell=LRU(features=8), features=16, kind="lru")

    class Offset(LinearAttention):
        offset: int = 0  # the user's own field: not a size the package knows about

    MemoryModel(cell=Offset(features=8), features=8)


def test_s5_output_matrix_starts_as_in_the_s5_code():
    """C̃ = CV with C complex [d, N], each part lecun normal over a fan-in of N·d (S5's `init_CV` on a
    [d, N, 2] array): both parts of C̃ have standard deviation 1/sqrt(N·d), 1/256 for N = d = 256."""
    features, hidden = 256, 128
    model = make("s5", features=features, hidden=hidden)
    params = model.init(jax.random.key(0), jnp.zeros((3, features)), jnp.zeros(3, bool))
    C = params["params"]["layers_0"]["layer"]["C"]  # [2, d, P]: real part, imaginary part
    expected = 1 / np.sqrt(2 * hidden * features)
    np.testing.assert_allclose(np.std(C, axis=(1, 2)), [expected, expected], rtol=0.05)


def test_ffm_periods_set_the_initial_rotations():
    """ω_k = 2π / period_k with the periods spread evenly from min_period to max_period (FFM's own: 1 .. 1000)."""
    x = jnp.zeros((3, FEATURES))
    for lo, hi in ((1.0, 1000.0), (2.0, 20.0)):
        params = make("ffm", features=FEATURES, context_size=4, min_period=lo, max_period=hi).init(
            jax.random.key(0), x, jnp.zeros(3, bool))
        omega = params["params"]["layers_0"]["omega"]  # FFM is not wrapped in a gated block
        np.testing.assert_allclose(2 * np.pi / np.asarray(omega), np.linspace(lo, hi, 4), rtol=1e-5)


def test_a_sequential_model_declares_itself():
    """Every model goes through one interface: its layer says whether it is sequential, and that alone decides its
    scan modes ("auto" runs a sequential layer serially) and whether it has memoroids for the harness."""
    assert models.GRU.sequential and not models.MemoroidLayer.sequential
    for name in names():
        model = make(name, features=4)
        expected = ("auto", "serial") if name == "gru" else ("auto", "associative", "serial")
        assert models.modes(name) == model.modes == expected, name
        params = model.init(jax.random.key(0), jnp.ones((3, 4)), jnp.ones(3, bool))
        assert (model.bind(params).memoroids() == []) == (name == "gru"), name
