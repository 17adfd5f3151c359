"""Linear attention (Katharopoulos et al., 2020) as a memoroid (paper, Appendix G.1).

Causal softmax-free attention keeps two running sums, of outer products of keys and values and of keys:

    X_t = X_{t−1} + φ(k_t) v_tᵀ,    x_t = x_{t−1} + φ(k_t),    k_t = W_k o_t, v_t = W_v o_t, q_t = W_q o_t
    s_t = MLP( X_tᵀ φ(q_t) / (x_tᵀ φ(q_t)) + o_t ),            φ(z) = 1 + ELU(z) > 0

The memoroid: the monoid is plain addition of the pair (X, x), e_I = (0, 0); f(o) = (φ(k) vᵀ, φ(k));
g((X, x), o) = MLP(Xᵀφ(q) / xᵀφ(q) + o).

Two errata are fixed here (erratum 3 of the book's appendix *How memoroids_lite is built*, and chapter 7):
the numerator needs Xᵀ (X is [key, value]), and the normaliser is the dot product xᵀφ(q) with the RUNNING SUM
of keys x. The paper's code divided by (Σ x)(Σ φ(q)), and the memax library kept only the current key, not the
sum; both still pass an associativity test, which is why every model here is also checked against a naive
step-by-step reference.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from memoroids_lite.models.base import MemoroidLayer
from memoroids_lite.monoid import Monoid


def phi(z):
    """The positive feature map φ(z) = 1 + ELU(z)."""
    return 1 + nn.elu(z)


class LinearAttention(MemoroidLayer):
    """One linear-attention layer on o [T, features]; keys and queries of size
    `key_size`."""

    features: int = 64
    key_size: int = 16
    mlp_size: int = 64

    def setup(self):
        self.key = nn.Dense(self.key_size, use_bias=False)
        self.query = nn.Dense(self.key_size, use_bias=False)
        self.value = nn.Dense(self.features)
        self.mlp_hidden = nn.Dense(self.mlp_size)
        self.mlp_out = nn.Dense(self.features)

    def monoid(self):
        return Monoid(
            identity=self.initial_state,
            combine=lambda a, b: jax.tree.map(jnp.add, a, b),
        )

    def initial_state(self):
        return jnp.zeros((self.key_size, self.features)), jnp.zeros((self.key_size,))

    def f(self, o):
        k = phi(self.key(o))  # [T, key]
        v = self.value(o)  # [T, features]
        return k[:, :, None] * v[:, None, :], k

    def g(self, state, o):
        X, x = state  # [T, key, features], [T, key]
        q = phi(self.query(o))
        attention = (
            jnp.einsum("tkf,tk->tf", X, q) / jnp.einsum("tk,tk->t", x, q)[:, None]
        )
        return self.mlp_out(nn.leaky_relu(self.mlp_hidden(attention + o)))
