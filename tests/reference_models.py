"""Naive per-step references for every memory model, written from the paper's equations in float64 NumPy.

Each takes the model's params, one tape x [T, d] and start flags, and loops over time one step at a time,
resetting the memory where an episode starts. They share nothing with the package but the parameter names.
"""

import numpy as np


def _np(tree):
    return {k: _np(v) if isinstance(v, dict) else np.asarray(v, np.float64) for k, v in tree.items()}


def dense(p, x):
    return x @ p["kernel"] + p.get("bias", 0.0)


def layer_norm(p, x, eps=1e-6):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * p["scale"] + p["bias"]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gelu(x):  # the tanh approximation, flax's default
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def leaky_relu(x):
    return np.where(x > 0, x, 0.01 * x)


def phi(x):  # 1 + ELU
    return 1 + np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def gated_residual(p, x, start, cell):
    y = gelu(cell(p["layer"], layer_norm(p["norm"], x), start))
    return x + dense(p["out1"], y) * sigmoid(dense(p["out2"], y))


def stack(params, x, start, layer):
    x = np.asarray(x, np.float64)
    start = np.asarray(start)
    layers = _np(params["params"])
    for i in range(len(layers)):
        x = layer(layers[f"layers_{i}"], x, start)
    return x


def linear_attention(params, x, start):
    """X_t = X_{t−1} + φ(W_k o)(W_v o)ᵀ, x_t = x_{t−1} + φ(W_k o), s = MLP(X_tᵀφ(q) / x_tᵀφ(q) + o)."""

    def layer(p, o, start):
        out = []
        for t in range(len(o)):
            if start[t]:
                X = np.zeros((p["key"]["kernel"].shape[1], o.shape[1]))
                z = np.zeros(p["key"]["kernel"].shape[1])
            k, v, q = phi(dense(p["key"], o[t])), dense(p["value"], o[t]), phi(dense(p["query"], o[t]))
            X, z = X + np.outer(k, v), z + k
            attention = X.T @ q / (z @ q)
            out.append(dense(p["mlp_out"], leaky_relu(dense(p["mlp_hidden"], attention + o[t]))))
        return np.stack(out)

    return stack(params, x, start, layer)


def _diagonal_recurrence(lam, B, C, D, u, start, readout_scale):
    out = []
    for t in range(len(u)):
        if start[t]:
            h = np.zeros(len(lam), complex)
        h = lam * h + B @ u[t]
        out.append(readout_scale * (C @ h).real + D * u[t])
    return np.stack(out)


def lru(params, x, start):
    """h_t = λ ⊙ h_{t−1} + γ ⊙ B u_t, y_t = Re(C h_t) + D ⊙ u_t, λ = exp(−e^ν + i e^θ), γ = sqrt(1 − |λ|²)."""

    def cell(p, u, start):
        lam = np.exp(-np.exp(p["nu_log"]) + 1j * np.exp(p["theta_log"]))
        B = (p["B_re"] + 1j * p["B_im"]) * np.sqrt(1 - np.abs(lam) ** 2)[:, None]
        return _diagonal_recurrence(lam, B, p["C_re"] + 1j * p["C_im"], p["D"], u, start, 1.0)

    return stack(params, x, start, lambda p, x, s: gated_residual(p, x, s, cell))


def s5(params, x, start):
    """x_t = Λ̄ x_{t−1} + B̄ u_t, y_t = 2 Re(C̃ x_t) + D ⊙ u_t, Λ̄ = exp(ΛΔ), B̄ = Λ⁻¹(Λ̄ − 1)B̃."""

    def cell(p, u, start):
        lam = -np.exp(p["log_neg_re"]) + 1j * p["im"]
        lam_bar = np.exp(lam * np.exp(p["log_step"]))
        B_bar = ((lam_bar - 1) / lam)[:, None] * (p["B"][0] + 1j * p["B"][1])
        return _diagonal_recurrence(lam_bar, B_bar, p["C"][0] + 1j * p["C"][1], p["D"], u, start, 2.0)

    return stack(params, x, start, lambda p, x, s: gated_residual(p, x, s, cell))


def ffm(params, x, start):
    """The aggregator as an explicit sum over the episode so far (no monoid, no recurrence):

    S_t = Σ_{j = t₀..t} x̃_j exp((t − j)(−|α| ⊕ iω)),  x̃ = (W_1 o + b_1) ⊙ σ(W_2 o + b_2)
    y_t = MLP(LN(W_3 [Re S_t ‖ Im S_t] + b_3)) ⊙ σ(W_4 o + b_4) + (1 − σ(W_4 o + b_4)) ⊙ o
    (Morad et al. write the rotation as exp(−iω t); the sign of the learned ω is a convention.)
    """

    def layer(p, o, start):
        rate = -np.abs(p["alpha"])[:, None] + 1j * p["omega"][None, :]
        x_tilde = dense(p["pre"], o) * sigmoid(dense(p["pre_gate"], o))
        out = []
        for t in range(len(o)):
            t0 = max(j for j in range(t + 1) if start[j])
            S = sum(x_tilde[j][:, None] * np.exp((t - j) * rate) for j in range(t0, t + 1))
            flat = np.concatenate([S.real, S.imag], -1).reshape(-1)
            z = dense(p["mlp_out"], leaky_relu(dense(p["mlp_hidden"], layer_norm(p["norm"], dense(p["mix"], flat)))))
            gate = sigmoid(dense(p["out_gate"], o[t]))
            out.append(z * gate + (1 - gate) * o[t])
        return np.stack(out)

    return stack(params, x, start, layer)


def gru(params, x, start):
    """r, z = σ(W x + U h + b), n = tanh(W_n x + r ⊙ (U_n h + b_hn)), h = (1 − z) n + z h."""

    def layer(p, x, start):
        d = p["U"].shape[0]
        out = []
        for t in range(len(x)):
            if start[t]:
                h = np.zeros(d)
            xr, xz, xn = np.split(dense(p["input_proj"], x[t]), 3)
            hr, hz, hn = np.split(h @ p["U"], 3)
            r, z = sigmoid(xr + hr), sigmoid(xz + hz)
            h = (1 - z) * np.tanh(xn + r * (hn + p["b_hn"])) + z * h
            out.append(h)
        return np.stack(out)

    return stack(params, x, start, layer)


REFERENCES = {"linear_attention": linear_attention, "lru": lru, "s5": s5, "ffm": ffm, "gru": gru}
