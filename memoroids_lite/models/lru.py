"""The Linear Recurrent Unit (Orvieto et al., 2023) as a memoroid (paper, Appendix G.3).

Recurrence, with a complex diagonal Λ = diag(λ) and γ-normalised input matrix:

    h_t = λ ⊙ h_{t−1} + γ ⊙ (B u_t),     y_t = Re(C h_t) + D ⊙ u_t
    λ = exp(−exp(ν) + i exp(θ)),         γ = sqrt(1 − |λ|²)

As a memoroid it is the monoid of elementwise affine maps h ↦ a h + b (the paper's operator, with its
typo fixed: eq. 70 prints (X'x, X'x + x'), the composition is (X'X, X'x + x')):

    (a, b) • (a', b') = (a' a,  a' b + b'),     e_I = (1, 0)
    f(u_t) = (λ, γ ⊙ B u_t),                    g(h_t, u_t) = Re(C h_t) + D ⊙ u_t

The stable exponential parameterisation keeps |λ| < 1 for any ν, so the memory can never blow up.

Deviation: γ is recomputed from λ at every call, γ = sqrt(1 − |λ|²), so the normalisation follows the
eigenvalues as they train. Orvieto et al., minimal-LRU and the paper's code instead train log γ as a free
parameter initialised to that value.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from memoroids_lite.examples import affine_monoid
from memoroids_lite.models.base import MemoroidLayer


def _init_nu_log(r_min, r_max):
    """|λ|² uniform on [r_min², r_max²] (Orvieto et al., Lemma 3.2), stored as
    ν = log(−log|λ|)."""

    def init(key, shape):
        u = jax.random.uniform(key, shape, minval=1e-4, maxval=1.0 - 1e-4)
        return jnp.log(-0.5 * jnp.log(u * (r_max**2 - r_min**2) + r_min**2))

    return init


def _init_theta_log(max_phase):
    def init(key, shape):
        return jnp.log(max_phase * jax.random.uniform(key, shape, minval=1e-4))

    return init


def _scaled_normal(scale):
    def init(key, shape):
        return jax.random.normal(key, shape) * scale

    return init


class LRU(MemoroidLayer):
    """One LRU layer on inputs u [T, features] with `hidden` complex states."""

    features: int = 64
    hidden: int = 64
    r_min: float = 0.0
    r_max: float = 1.0
    max_phase: float = 6.28

    def setup(self):
        n, d = self.hidden, self.features
        self.nu_log = self.param("nu_log", _init_nu_log(self.r_min, self.r_max), (n,))
        self.theta_log = self.param("theta_log", _init_theta_log(self.max_phase), (n,))
        self.B_re = self.param("B_re", _scaled_normal(1 / jnp.sqrt(2 * d)), (n, d))
        self.B_im = self.param("B_im", _scaled_normal(1 / jnp.sqrt(2 * d)), (n, d))
        self.C_re = self.param("C_re", _scaled_normal(1 / jnp.sqrt(n)), (d, n))
        self.C_im = self.param("C_im", _scaled_normal(1 / jnp.sqrt(n)), (d, n))
        self.D = self.param("D", nn.initializers.normal(1.0), (d,))

    def eigenvalues(self):
        """λ = exp(−exp(ν) + i exp(θ)), always inside the unit circle."""
        return jnp.exp(-jnp.exp(self.nu_log) + 1j * jnp.exp(self.theta_log))

    def monoid(self):
        return affine_monoid((self.hidden,), jnp.complex64)

    def initial_state(self):
        return affine_monoid((self.hidden,), jnp.complex64).identity()

    def f(self, u):
        lam = self.eigenvalues()
        # the normalisation: unit-variance states at init
        gamma = jnp.sqrt(1 - jnp.abs(lam) ** 2)[:, None]
        # γ ⊙ B u for real u: two real matrix products (promoting u to complex would
        # make it four).
        Bu = jax.lax.complex(u @ (gamma * self.B_re).T, u @ (gamma * self.B_im).T)
        return jnp.broadcast_to(lam, (u.shape[0], self.hidden)), Bu

    def g(self, state, u):
        _, h = state
        # Re(C h) = Re(C) Re(h) − Im(C) Im(h): the two real products the readout needs,
        # not the four of C h.
        return h.real @ self.C_re.T - h.imag @ self.C_im.T + self.D * u
