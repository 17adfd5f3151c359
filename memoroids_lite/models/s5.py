"""The simplified state space model S5 (Smith et al., 2023) as a memoroid (paper, Appendix G.2).

A continuous-time linear system dx/dt = Λx + B̃u, y = C̃x + Du with diagonal complex Λ, discretised by a
zero-order hold with a learned step Δ:

    Λ̄ = exp(ΛΔ),   B̄ = Λ^{-1}(Λ̄ − 1) B̃,   x_t = Λ̄ x_{t−1} + B̄ u_t,   y_t = 2 Re(C̃ x_t) + D ⊙ u_t

It is the same affine monoid as the LRU — (a, b) • (a', b') = (a' a, a' b + b'), e_I = (1, 0) — with
f(u_t) = (Λ̄, B̄ u_t); only the parameterisation differs. Λ starts from the HiPPO-LegS matrix (its normal
part, diagonalised), which gives the memory a spread of time scales. Conjugate symmetry keeps P = N/2
complex states and doubles the real part in the readout.

Deviation, for stability: Re Λ is reparameterised as −exp(ρ), so it stays negative and |Λ̄| < 1 for any
parameters. (S5's own `clip_eigs` option instead clips Re Λ at −1e-4; the paper's code used neither and let
Re Λ drift positive.)
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.examples import affine_monoid
from memoroids_lite.models.base import MemoroidLayer


def hippo_legs_eigen(n: int):
    """Eigenvalues and eigenvectors of the normal part of the HiPPO-LegS matrix of
    size n.

    HiPPO-LegS: A_nk = −sqrt(2n+1) sqrt(2k+1) for n > k, −(n+1) for n = k, 0 for n < k.
    Adding the low-rank P Pᵀ with P_n = sqrt(n + 1/2) leaves S = −I/2 + (a
    skew-symmetric matrix), which is normal: its eigenvalues are −1/2 + iω with ω from
    the Hermitian matrix −i·skew. Returns (Λ [n], V [n, n]).
    """
    q = np.sqrt(2 * np.arange(n) + 1.0)
    A = np.tril(-np.outer(q, q), -1) - np.diag(np.arange(n) + 1.0)
    p = np.sqrt(np.arange(n) + 0.5)
    S = A + np.outer(p, p)
    skew = (S - S.T) / 2
    omega, V = np.linalg.eigh(-1j * skew)
    return np.diag(S).mean() + 1j * omega, V


class S5(MemoroidLayer):
    """One S5 layer on inputs u [T, features] with `hidden` = P complex states (N = 2P
    for HiPPO)."""

    features: int = 64
    hidden: int = 64
    dt_min: float = 1e-3
    dt_max: float = 1e-1

    def setup(self):
        p, d = self.hidden, self.features
        lam, V = hippo_legs_eigen(2 * p)
        lam, V = lam[:p], V[:, :p]  # conjugate symmetry: keep one of each pair
        Vinv = V.conj().T

        def b_init(key, shape):
            """B̃ = V⁻¹B with B [N, d] real, lecun normal, as in S5's code."""
            B = Vinv @ nn.initializers.lecun_normal()(key, shape)
            return jnp.stack([np.real(B), np.imag(B)])

        def c_init(key, shape):
            """C̃ = CV with C [d, N] complex, each part lecun normal over a fan-in of
            N·d, as in S5's code (standard deviation 1/256 ≈ 0.0039 for N = d = 256):
            the SSM's share of y starts small beside Du."""
            parts = nn.initializers.lecun_normal()(key, shape + (2,))  # [d, N, 2]
            C = (parts[..., 0] + 1j * parts[..., 1]) @ V
            return jnp.stack([C.real, C.imag])

        self.log_neg_re = self.param(
            "log_neg_re", lambda k, s: jnp.log(-lam.real).astype(jnp.float32), (p,)
        )
        self.im = self.param(
            "im", lambda k, s: jnp.asarray(lam.imag, jnp.float32), (p,)
        )
        # B and C are drawn in the HiPPO basis of size N = 2P, then projected on the
        # kept eigenvectors; each is stored as a stack (real part, imaginary part):
        # B [2, P, d], C [2, d, P].
        self.B = self.param("B", b_init, (2 * p, d))
        self.C = self.param("C", c_init, (d, 2 * p))
        self.D = self.param("D", nn.initializers.normal(1.0), (d,))
        self.log_step = self.param(
            "log_step",
            lambda k, s: jax.random.uniform(
                k, s, minval=np.log(self.dt_min), maxval=np.log(self.dt_max)
            ),
            (p,),
        )

    def discretise(self):
        """Zero-order hold: Λ̄ = exp(ΛΔ), B̄ = Λ⁻¹(Λ̄ − 1) B̃."""
        lam = -jnp.exp(self.log_neg_re) + 1j * self.im
        lam_bar = jnp.exp(lam * jnp.exp(self.log_step))
        B = self.B[0] + 1j * self.B[1]
        return lam_bar, ((lam_bar - 1) / lam)[:, None] * B

    def monoid(self):
        return affine_monoid((self.hidden,), jnp.complex64)

    def initial_state(self):
        return affine_monoid((self.hidden,), jnp.complex64).identity()

    def f(self, u):
        lam_bar, B_bar = self.discretise()
        # B̄ u for real u: two real matrix products (promoting u to complex would make
        # it four).
        Bu = jax.lax.complex(u @ B_bar.real.T, u @ B_bar.imag.T)
        return jnp.broadcast_to(lam_bar, (u.shape[0], self.hidden)), Bu

    def g(self, state, u):
        _, x = state
        # 2 Re(C̃ x) = 2 (Re C̃ Re x − Im C̃ Im x): two real products, not the four
        # of C̃ x.
        return 2 * (x.real @ self.C[0].T - x.imag @ self.C[1].T) + self.D * u
