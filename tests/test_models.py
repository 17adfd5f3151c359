"""Every registered memory model passes the harness, agrees with its naive reference, and fails clearly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from memoroids_lite.memoroid import check_memoroid
from memoroids_lite.models import make, names

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
    with pytest.raises(ValueError, match=r"\[T, features=6\]"):
        model.apply(params, jnp.ones((5, FEATURES + 1)), start)
    with pytest.raises(ValueError, match="jax.vmap"):
        model.apply(params, jnp.ones((2, 5, FEATURES)), start)
    with pytest.raises(ValueError, match="start must be a boolean array"):
        model.apply(params, x, jnp.ones(4, bool))
    with pytest.raises(ValueError, match="start must be a boolean array"):
        model.apply(params, x, jnp.ones(5))
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
    with pytest.raises(ValueError, match="positive"):
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
