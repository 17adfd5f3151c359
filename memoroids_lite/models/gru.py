"""A GRU (Cho et al., 2014): the sequential baseline every memoroid is compared against.

    r_t = σ(W_r x_t + U_r h_{t−1} + b_r),   z_t = σ(W_z x_t + U_z h_{t−1} + b_z)
    n_t = tanh(W_n x_t + r_t ⊙ (U_n h_{t−1} + b_hn)),   h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}

h_t depends on h_{t−1} through a nonlinearity, so there is no monoid and no parallel scan: it can only run
step by step (jax.lax.scan): it declares itself `sequential`, so a MemoryModel scans it serially and offers no
associative mode. Resets zero the state where start[t] is True. It has the same call signature as the memoroid
layers, so every experiment can swap it in; y_t = h_t.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class GRU(nn.Module):
    """One GRU layer on x [T, features] with `features` hidden units."""

    features: int = 64
    sequential = True  # h_t = GRU(h_{t−1}, x_t) is no monoid: serial scan only

    def setup(self):
        self.input_proj = nn.Dense(3 * self.features)  # W_r, W_z, W_n and their biases, for all t at once
        self.U = self.param("U", nn.initializers.orthogonal(), (self.features, 3 * self.features))
        self.b_hn = self.param("b_hn", nn.initializers.zeros, (self.features,))

    def initial_state(self):
        return jnp.zeros((self.features,))

    def __call__(self, x, start, state=None, mode="auto"):
        if mode == "associative":
            raise ValueError("a GRU is not a memoroid: it has no associative scan. Use mode='serial' or 'auto'.")
        U, b_hn = self.U, self.b_hn  # plain arrays: the step below is a pure function of them
        h0 = self.initial_state() if state is None else state

        def step(h, inputs):
            x_proj, is_start = inputs
            h = jnp.where(is_start, 0.0, h)
            xr, xz, xn = jnp.split(x_proj, 3)
            hr, hz, hn = jnp.split(h @ U, 3)
            r, z = nn.sigmoid(xr + hr), nn.sigmoid(xz + hz)
            n = jnp.tanh(xn + r * (hn + b_hn))
            h = (1 - z) * n + z * h
            return h, h

        h, ys = jax.lax.scan(step, h0, (self.input_proj(x), start))
        return ys, h
