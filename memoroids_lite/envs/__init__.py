"""POPGym memory tasks in JAX, on the gymnax 1.0 API, with the paper's observation pipeline.

    env, params = make("RepeatPreviousEasy", num_decks=2, k=10)   # the paper's Repeat Previous
    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

`make` also passes any gymnax id through (`make("MemoryChain-bsuite")`). `names()` lists the tasks.
"""

from __future__ import annotations

import inspect

import gymnax

from memoroids_lite.envs.bandit import MultiarmedBandit
from memoroids_lite.envs.base import EnvParams, POPGymTask, deal
from memoroids_lite.envs.cards import Autoencode, CountRecall, RepeatFirst, RepeatPrevious
from memoroids_lite.envs.cartpole import NoisyPositionOnlyCartPole, PositionOnlyCartPole, VelocityOnlyCartPole
from memoroids_lite.envs.minesweeper import MineSweeper
from memoroids_lite.envs.pipeline import PaperObservation

# task -> (class, the paper's previous-action setting, {level: POPGym's settings}, levels that take options)
# As in POPGym, the Easy classes declared as `pass` accept constructor options; the others fix theirs.
TASKS = {
    "RepeatFirst": (RepeatFirst, False, {"Easy": dict(num_decks=1), "Medium": dict(num_decks=8),
                                         "Hard": dict(num_decks=16)}, ()),
    "RepeatPrevious": (RepeatPrevious, False, {"Easy": dict(num_decks=1, k=4), "Medium": dict(num_decks=2, k=32),
                                               "Hard": dict(num_decks=3, k=64)}, ("Easy",)),
    "CountRecall": (CountRecall, True, {"Easy": dict(num_decks=1, deck_type="colors"),
                                        "Medium": dict(num_decks=2, deck_type="suits"),
                                        "Hard": dict(num_decks=4, deck_type="ranks")}, ("Easy",)),
    "Autoencode": (Autoencode, True, {"Easy": dict(num_decks=1), "Medium": dict(num_decks=2),
                                      "Hard": dict(num_decks=3)}, ("Easy",)),
    "PositionOnlyCartPole": (PositionOnlyCartPole, True, {"Easy": dict(max_episode_length=200),
                                                          "Medium": dict(max_episode_length=400),
                                                          "Hard": dict(max_episode_length=600)}, ("Easy",)),
    "NoisyPositionOnlyCartPole": (NoisyPositionOnlyCartPole, True, {"Easy": dict(noise_sigma=0.1),
                                                                    "Medium": dict(noise_sigma=0.2),
                                                                    "Hard": dict(noise_sigma=0.3)}, ()),
    "VelocityOnlyCartPole": (VelocityOnlyCartPole, True, {"Easy": dict(max_episode_length=200),
                                                          "Medium": dict(max_episode_length=400),
                                                          "Hard": dict(max_episode_length=600)}, ("Easy",)),
    "MineSweeper": (MineSweeper, True, {"Easy": dict(difficulty="easy"), "Medium": dict(difficulty="medium"),
                                        "Hard": dict(difficulty="hard")}, ()),
    "MultiarmedBandit": (MultiarmedBandit, True, {"Easy": dict(num_bandits=10, episode_length=200),
                                                  "Medium": dict(num_bandits=20, episode_length=400),
                                                  "Hard": dict(num_bandits=30, episode_length=600)}, ()),
}


def names() -> tuple[str, ...]:
    """Every task id: the nine tasks at Easy, Medium and Hard, plus each task's base name (takes options)."""
    return tuple(f"{task}{level}" for task, (_, _, levels, _) in TASKS.items() for level in levels) + tuple(TASKS)


def _task(env_id):
    for task, (cls, prev_action, levels, open_levels) in TASKS.items():
        if env_id == task:
            return cls, prev_action, {}, True
        for level, settings in levels.items():
            if env_id == task + level:
                return cls, prev_action, settings, level in open_levels
    return None


def make(env_id: str, *, prev_action: bool | None = None, **env_kwargs):
    """(env, params) for a POPGym task with the paper's observation pipeline, or for any gymnax id.

    prev_action: append the previous action to the observation; None = the paper's choice for the task
    (off for Repeat First and Repeat Previous, on for the others). The first-step flag is always appended.
    For a gymnax id the environment is returned as gymnax makes it, unless prev_action=True.
    """
    found = _task(env_id)
    if found is None:
        if env_id in gymnax.registered_envs:
            env, params = gymnax.make(env_id, **env_kwargs)
            return (PaperObservation(env, True), params) if prev_action else (env, params)
        raise ValueError(
            f"unknown environment {env_id!r}. POPGym tasks: {', '.join(names())}. "
            f"gymnax ids: {', '.join(gymnax.registered_envs)}."
        )
    cls, paper_prev_action, settings, takes_options = found
    if env_kwargs and not takes_options:
        raise TypeError(
            f"{env_id} fixes its settings {settings} (as in POPGym); to change them use the base task, "
            f"e.g. make({next(task for task, entry in TASKS.items() if entry[0] is cls)!r}, ...)."
        )
    options = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = set(env_kwargs) - options
    if unknown:
        raise TypeError(f"{env_id} has no option(s) {sorted(unknown)}; its options are {sorted(options)}.")
    env = cls(**{**settings, **env_kwargs})
    env = PaperObservation(env, paper_prev_action if prev_action is None else prev_action)
    return env, env.default_params


__all__ = [
    "Autoencode", "CountRecall", "EnvParams", "MineSweeper", "MultiarmedBandit", "NoisyPositionOnlyCartPole",
    "POPGymTask", "PaperObservation", "PositionOnlyCartPole", "RepeatFirst", "RepeatPrevious", "TASKS",
    "VelocityOnlyCartPole", "deal", "make", "names",
]
