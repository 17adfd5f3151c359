"""Naive references written straight from the definitions: Python loops over NumPy arrays."""

import numpy as np


def prefix_loop(combine, identity, elems, start, initial=None):
    """out[t] = (initial or e) • x_0 • … • x_t, restarting from e at every start; one step at a time."""
    out, h = [], identity if initial is None else initial
    for t, x in enumerate(elems):
        if start[t]:
            h = identity
        h = combine(h, x)
        out.append(h)
    return np.stack(out)


def suffix_loop(combine, identity, elems, start, initial=None):
    """out[t] = x_t • … • x_e (• initial for the last episode), e the last step of t's episode."""
    out, h = [None] * len(elems), identity if initial is None else initial
    for t in reversed(range(len(elems))):
        if t + 1 < len(elems) and start[t + 1]:
            h = identity
        h = combine(elems[t], h)
        out[t] = h
    return np.stack(out)


def returns_to_go_loop(rewards, done, gamma):
    g, out = 0.0, np.zeros(len(rewards))
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * (0.0 if done[t] else g)
        out[t] = g
    return out


def prefix_return_loop(rewards, start, gamma):
    out, total, discount = np.zeros(len(rewards)), 0.0, 1.0
    for t, r in enumerate(rewards):
        if start[t]:
            total, discount = 0.0, 1.0
        total += discount * r
        discount *= gamma
        out[t] = total
    return out


def gae_loop(rewards, values, next_values, terminated, done, gamma, lam):
    a, out = 0.0, np.zeros(len(rewards))
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * (0.0 if terminated[t] else next_values[t]) - values[t]
        a = delta + gamma * lam * (0.0 if done[t] else a)
        out[t] = a
    return out
