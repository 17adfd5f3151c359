"""Fast and Forgetful Memory (Morad et al., 2023) as a memoroid (paper, Appendix G.4).

FFM keeps a complex trace S ∈ C^{m×c}: m input features, each decaying at its own rate α_j and rotating at
c frequencies ω_k, i.e. a bank of damped oscillators driven by the input. The paper's numerically stable
memoroid form uses only DECAYING exponentials (the original summed exp(+t) terms, which overflow):

    (X, t) • (X', t') = (X ⊙ exp(t' (−|α| ⊕ iω)) + X',  t + t'),      e_I = (0, 0)
    f(o) = ( [(W_1 o + b_1) ⊙ σ(W_2 o + b_2)] repeated over the c columns,  1 )
    g((X, t), o) = MLP(LN(W_3 [Re X ‖ Im X] + b_3)) ⊙ σ(W_4 o + b_4) + (1 − σ(W_4 o + b_4)) ⊙ o

where (−|α| ⊕ iω)_{jk} = −|α_j| + iω_k is an outer sum. t counts the steps an element spans: the earlier
part X is decayed by the time t' that passes after it. Because t travels inside the state, a call of length 1
(acting) decays the memory exactly as a call of length T (training) does — the step-mode bug of a
relative-time implementation cannot happen.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from memoroids_lite.models.base import MemoroidLayer
from memoroids_lite.monoid import Monoid


class FFM(MemoroidLayer):
    """One FFM layer on o [T, features]: `trace_size` m decay rates × `context_size` c
    frequencies."""

    features: int = 64
    trace_size: int = 32
    context_size: int = 4
    mlp_size: int = 64
    min_period: float = 1.0  # the initial rotation periods 2π/ω, in steps, spread
    max_period: float = 1000.0  # evenly from min_period to max_period (FFM's own)

    def setup(self):
        m, c = self.trace_size, self.context_size
        # Deterministic initial time scales: decays spread over [1e-6, 0.5], periods
        # min_period .. max_period steps.
        periods = jnp.linspace(self.min_period, self.max_period, c)
        self.alpha = self.param("alpha", lambda k, s: jnp.linspace(1e-6, 0.5, m), (m,))
        self.omega = self.param("omega", lambda k, s: 2 * jnp.pi / periods, (c,))
        self.pre = nn.Dense(m)
        self.pre_gate = nn.Dense(m)
        self.mix = nn.Dense(self.features)
        self.norm = nn.LayerNorm()
        self.mlp_hidden = nn.Dense(self.mlp_size)
        self.mlp_out = nn.Dense(self.features)
        self.out_gate = nn.Dense(self.features)

    def decay(self):
        """The per-step factor exp(−|α| ⊕ iω) ∈ C^{m×c}; t steps multiply by its t-th
        power."""
        return -jnp.abs(self.alpha)[:, None] + 1j * self.omega[None, :]

    def monoid(self):
        rate = self.decay()

        def combine(earlier, later):
            (X, t), (X2, t2) = earlier, later
            return X * jnp.exp(t2[..., None, None] * rate) + X2, t + t2

        return Monoid(identity=self.initial_state, combine=combine)

    def initial_state(self):
        trace = jnp.zeros((self.trace_size, self.context_size), jnp.complex64)
        return trace, jnp.zeros((), jnp.float32)

    def f(self, o):
        x = self.pre(o) * nn.sigmoid(self.pre_gate(o))  # [T, m]
        X = jnp.broadcast_to(x[:, :, None], x.shape + (self.context_size,))
        X = X.astype(jnp.complex64)
        return X, jnp.ones(o.shape[0], jnp.float32)

    def g(self, state, o):
        X, _ = state
        flat = jnp.concatenate([X.real, X.imag], axis=-1)
        flat = flat.reshape(X.shape[0], -1)  # [T, 2mc]
        z = self.mlp_out(nn.leaky_relu(self.mlp_hidden(self.norm(self.mix(flat)))))
        gate = nn.sigmoid(self.out_gate(o))
        return z * gate + (1 - gate) * o
