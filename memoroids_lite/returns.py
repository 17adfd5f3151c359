"""Discounted returns and advantages as memoroid scans (paper Theorems D.1 and E.1; erratum 5 of the book's
appendix *How memoroids_lite is built*).

Both rest on the discounting monoid over pairs (a, r), a running discount and a discounted sum:

    (a, r) • (a', r') = (a a',  r + a r'),      e_I = (1, 0),      f(r_t) = (γ, r_t).

Scanned FORWARD (the paper's form) it gives per-episode prefix sums Σ_{i≤t} γ^{i−t₀} r_i, which equal the
episode's return only at its last step. The returns-to-go G_t = Σ_k γ^k r_{t+k} that TD and Monte-Carlo
targets need are SUFFIX sums: the same monoid scanned in REVERSE, with the mirrored reset keyed on the last
step of each episode (`scan(..., reverse=True)`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from memoroids_lite.monoid import Monoid, _broadcasts, resolve_mode, scan, serial_scan


def discount_monoid() -> Monoid:
    """The discounting monoid (a, r) • (a', r') = (a a', r + a r') with e_I = (1, 0)."""

    def combine(earlier, later):
        (a, r), (a2, r2) = earlier, later
        return a * a2, r + a * r2

    return Monoid(identity=lambda: (jnp.ones(()), jnp.zeros(())), combine=combine)


def _check_rewards(rewards) -> jax.Array:
    """rewards [T, ...] as an array of floats (integer rewards become float32)."""
    rewards = jnp.asarray(rewards, jnp.result_type(rewards, jnp.float32))
    if rewards.ndim == 0:
        raise ValueError("rewards must have a leading time axis T, got a scalar.")
    return rewards


def _check_like(name: str, array, rewards: jax.Array, *, flags: bool = False) -> jax.Array:
    """The argument `name`, which must have shape [T] like rewards [T, ...] (and be boolean if `flags`)."""
    array = jnp.asarray(array)
    if flags and array.dtype != jnp.bool_:
        raise TypeError(
            f"{name} must be a boolean array of shape [T] = {rewards.shape[:1]} like rewards, "
            f"got dtype {array.dtype}; convert with {name}.astype(bool)."
        )
    if array.shape != rewards.shape[:1]:
        raise ValueError(
            f"{name} must have shape [T] = {rewards.shape[:1]} like rewards, got {array.shape}."
        )
    return array


def _check_discount(name: str, discount, rewards: jax.Array) -> None:
    """A discount is a number, or an array that broadcasts to rewards [T, ...] (one per step)."""
    if not _broadcasts(jnp.shape(discount), rewards.shape):
        raise ValueError(
            f"{name} must be a number or broadcast to the shape {rewards.shape} of "
            f"rewards, got shape {jnp.shape(discount)}."
        )


def _discounted_scan(values, flags, discount, *, reverse, mode):
    """Discounted sums of values [T, ...] (float) with episode flags bool[T], both
    checked by the caller: forward prefix sums, or suffix sums if reverse=True."""
    elems = (
        jnp.broadcast_to(jnp.asarray(discount, values.dtype), values.shape),
        values,
    )
    # In reverse, scan() resets on the step before each start, which is exactly "done".
    scan_fn = scan if resolve_mode(mode) == "associative" else serial_scan
    _, sums = scan_fn(discount_monoid(), elems, start=flags, reverse=reverse)
    return sums


def _done_to_start(done):
    """The episode starts implied by `done` flags bool[T]: start[0] = True and
    start[t + 1] = done[t]."""
    return jnp.concatenate([jnp.ones((1,), bool), done[:-1]])


def discounted_return(rewards, start, gamma, *, mode="auto"):
    """The paper's forward form (Theorem D.1): out[t] = Σ_{i = t₀..t} γ^{i − t₀} r_i, t₀ the episode's first step.

    At the last step of an episode this is the episode's discounted return G_0; elsewhere it is a prefix sum,
    NOT the return-to-go (use `returns_to_go` for that). rewards: [T, ...]; start: bool[T].
    mode: "associative", "serial" or "auto" (serial on a CPU, associative on a GPU/TPU); the same result.
    """
    rewards = _check_rewards(rewards)
    start = _check_like("start", start, rewards, flags=True)
    _check_discount("gamma", gamma, rewards)
    return _discounted_scan(rewards, start, gamma, reverse=False, mode=mode)


def returns_to_go(rewards, done, gamma, *, mode="auto"):
    """G_t = r_t + γ (1 − done_t) G_{t+1}, every t in parallel: a reverse scan with the
    mirrored reset.

    done[t] is True iff step t is the last of its episode (terminated or truncated). The
    tape's last step has nothing after it, so G_{T−1} = r_{T−1}. rewards: [T, ...];
    done: bool[T].
    """
    rewards = _check_rewards(rewards)
    done = _check_like("done", done, rewards, flags=True)
    _check_discount("gamma", gamma, rewards)
    return _discounted_scan(
        rewards, _done_to_start(done), gamma, reverse=True, mode=mode
    )


def gae(rewards, values, next_values, terminated, done, gamma, lam, *, mode="auto"):
    """Generalised advantage estimation (Theorem E.1) as a reverse scan.

        δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)
        A_t = δ_t + γ λ (1 − done_t) A_{t+1}

    `terminated` stops bootstrapping (the episode truly ended); `done` = terminated OR
    truncated stops the sum of future δ (the next step belongs to another episode). A
    truncated step still bootstraps from next_values, the value of the observation the
    episode was cut at. All arrays [T]; flags bool[T].
    """
    rewards = _check_rewards(rewards)
    if rewards.ndim != 1:
        raise ValueError(f"rewards must have shape [T], one tape, got {rewards.shape}.")
    values = _check_like("values", values, rewards)
    next_values = _check_like("next_values", next_values, rewards)
    terminated = _check_like("terminated", terminated, rewards, flags=True)
    done = _check_like("done", done, rewards, flags=True)
    _check_discount("gamma", gamma, rewards)
    _check_discount("lam", lam, rewards)
    deltas = rewards + gamma * jnp.where(terminated, 0.0, next_values) - values
    return _discounted_scan(
        deltas, _done_to_start(done), gamma * lam, reverse=True, mode=mode
    )
