"""What is in memory (paper §5, Figure 3): how much each past observation moves the last Q-value.

For a trained Q-network and one greedy episode o_0 … o_n, the sensitivity of the terminal Q-value to the
observation of age i − n is

    S_i = Σ_features | ∂Q(s_n, a_n) / ∂o_i |                                               (paper eq. 15)

normalised to sum to one. The reward memory length (RML) of Repeat Previous with k = 10 is 10 steps: an ideal
Q-function would put all its sensitivity on the last 10 observations. The share of S older than the RML is
what segment-based training with L = 10 cannot shape, since its gradient stops at the segment start.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from memoroids_lite.envs import make as make_env
from memoroids_lite.rl.dqn.loop import make_network


@functools.lru_cache(maxsize=None)
def _compiled(network):
    """The network's step (acting) and the gradient of the last Q-value, compiled once per network."""

    def last_q(params, obs, start, action):
        q, _ = network.apply(params, obs, start)
        return q[-1, action]

    return jax.jit(network.apply), jax.jit(jax.grad(last_q, argnums=1))


def greedy_episode(config, params, key):
    """Observations, start flags and actions of one greedy episode (the network acts step by step)."""
    env, env_params = make_env(config.env, **config.env_kwargs)
    network = make_network(config, env.num_actions)
    act = _compiled(network)[0]
    step = jax.jit(env.step)
    obs, env_state = env.reset(key, env_params)
    observations, actions, state, start = [], [], None, jnp.ones((), bool)
    for t in range(int(env_params.max_steps_in_episode)):
        q, state = act(params, obs[None], start[None], state)
        action = jnp.argmax(q[0])
        observations.append(obs)
        actions.append(action)
        obs, env_state, _, terminated, truncated, _ = step(jax.random.fold_in(key, t), env_state, action, env_params)
        start = jnp.zeros((), bool)
        if bool(terminated | truncated):
            break
    return jnp.stack(observations), jnp.stack(actions), network


def sensitivity(config, params, key) -> np.ndarray:
    """S_i for i = 0 … n of one greedy episode, normalised to sum to 1 (index −1 is the
    last observation)."""
    obs, actions, network = greedy_episode(config, params, key)
    start = jnp.zeros(obs.shape[0], bool).at[0].set(True)
    gradient = _compiled(network)[1](params, obs, start, actions[-1])  # ∂Q(s_n, a_n)/∂o
    s = np.abs(np.asarray(gradient)).sum(-1)
    return s / max(s.sum(), 1e-30)


def share_older_than(s: np.ndarray, steps: int) -> float:
    """The share of sensitivity outside the last `steps` observations: on ages −steps and older.

    With steps = RML (10 on Repeat Previous, k = 10) this is the share on observations the reward never needs.
    """
    return float(s[: max(len(s) - steps, 0)].sum())


def load(path: str, env: str = "RepeatPreviousEasy", updates: int | None = None) -> dict[tuple[str, str], np.ndarray]:
    """sensitivity.csv -> {(model, batching): S [seeds, episodes, ages]} of the runs on `env` at the snapshot
    after `updates` updates (None: the last), ages aligned at the last step.

    Index j of the age axis is the age j − (width − 1), so the last is age 0; an episode shorter than the
    widest is padded with zeros on the old side (it has no observations that old). A file written before
    snapshots and tasks were recorded holds the final parameters on Repeat Previous only.
    """
    rows = [r for r in _rows(path) if r["env"] == env]
    if updates is None:
        last = {}
        for r in rows:
            last[r["run"]] = max(last.get(r["run"], 0), r["updates"])
        rows = [r for r in rows if r["updates"] == last[r["run"]]]
    else:
        rows = [r for r in rows if r["updates"] == updates]
    table: dict[tuple[str, str], dict[tuple[int, int], dict[int, float]]] = {}
    for row in rows:
        episodes = table.setdefault((row["model"], row["batching"]), {})
        episodes.setdefault((row["seed"], row["episode"]), {})[row["age"]] = row["sensitivity"]
    out = {}
    for key, episodes in table.items():
        seeds = sorted({seed for seed, _ in episodes})
        numbers = sorted({episode for _, episode in episodes})
        ages = np.arange(min(min(by_age) for by_age in episodes.values()), 1)
        out[key] = np.array([[[episodes[seed, e].get(int(a), 0.0) for a in ages] for e in numbers] for seed in seeds])
    return out


def snapshot_updates(path: str, env: str) -> list[int]:
    """The updates after which the runs on `env` in sensitivity.csv were measured, in order."""
    return sorted({r["updates"] for r in _rows(path) if r["env"] == env})


def _rows(path: str) -> list[dict]:
    import csv

    with open(path) as f:
        table = list(csv.DictReader(f))
    return [{"run": r["run"], "env": r.get("env", "RepeatPreviousEasy"), "model": r["model"],
             "batching": r["batching"], "seed": int(r["seed"]), "updates": int(r.get("updates", 0)),
             "episode": int(r["episode"]), "age": int(r["age"]), "sensitivity": float(r["sensitivity"])}
            for r in table]


def value_memory_length(s: np.ndarray, tolerance: float = 0.05) -> int:
    """The fewest most-recent observations that carry all but `tolerance` of S: the
    smallest k with share_older_than(s, k) <= tolerance.

    An empirical value memory length (Ni et al., 2023), comparable with the reward
    memory length: how many of the latest observations the Q-value depends on. With
    tolerance 0 it counts back to the oldest observation with any sensitivity at all.
    """
    return next(k for k in range(len(s) + 1) if share_older_than(s, k) <= tolerance)
