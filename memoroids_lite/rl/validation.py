"""What makes a configuration valid, the part every algorithm shares: every problem found at once, each
naming its field.

    checks = Checks(config)            # each field's type checked (a bool is not an int; an int is a float)
    check_task_and_model(checks)       # the task and its options, the model and its options, scan_mode
    checks.check(field, test, allowed) # an algorithm's own checks (rl/dqn/validation.py, rl/ppo/config.py)
    checks.found                       # [Problem(field, value, allowed), ...]  (empty: valid)
    ConfigError                        raised by a config with all of them; the command line prints one per line

"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, NamedTuple

import gymnax

from memoroids_lite import models
from memoroids_lite.envs import TASKS
from memoroids_lite.envs import make as make_env
from memoroids_lite.envs import names as env_names

SCAN_MODES = ("auto", "associative", "serial")


class Problem(NamedTuple):
    field: str  # the configuration's field
    value: Any  # what was given
    allowed: str  # what is allowed, and why

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.allowed}"


class ConfigError(ValueError):
    """An invalid configuration (a TrainConfig, a PPOConfig); `.problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem], name: str = "TrainConfig"):
        self.problems = problems
        lines = "".join(f"\n  {p}" for p in problems)
        super().__init__(f"{name} has {len(problems)} problem(s):{lines}")


def _type_ok(value, kind) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               dict: "a dict (a JSON object) of options"}


def nearest_multiples(value: int, step: int) -> str:
    """'2080 or 3120': the positive multiples of `step` on either side of `value`."""
    below = value // step * step
    return f"{below} or {below + step}" if below >= step else f"{step}"


class Checks:
    """The problems of one configuration, gathered as each check runs. Every field's type is checked first;
    a field of the wrong type is not tested further."""

    def __init__(self, config):
        self.config = config
        self.found: list[Problem] = []
        self.bad_type: set[str] = set()
        kinds = typing.get_type_hints(type(config))
        for field in dataclasses.fields(config):
            value = getattr(config, field.name)
            if not _type_ok(value, kinds[field.name]):
                self.found.append(Problem(field.name, value, f"must be {_TYPE_NAMES[kinds[field.name]]}."))
                self.bad_type.add(field.name)

    def check(self, field: str, test: Callable[[Any], bool], allowed: str) -> None:
        """A problem with `field` unless test(its value) holds; not tested if its type is wrong already."""
        value = getattr(self.config, field)
        if field not in self.bad_type and not test(value):
            self.found.append(Problem(field, value, allowed))

    def good(self, *fields: str) -> bool:
        """None of `fields` has a problem so far."""
        return not self.bad_type.intersection(fields) and not {p.field for p in self.found}.intersection(fields)


def check_task_and_model(checks: Checks) -> None:
    """The fields every algorithm shares: env, env_kwargs, model, model_kwargs, features, scan_mode."""
    config, check, good = checks.config, checks.check, checks.good
    # the task and its options
    if good("env", "env_kwargs"):
        known = config.env in env_names() or config.env in gymnax.registered_envs
        check("env", lambda _: known, f"unknown task; the POPGym tasks are {', '.join(TASKS)}, each with Easy, "
              "Medium or Hard appended (or bare, taking options); or give any gymnax id.")
        if known:
            try:
                make_env(config.env, **config.env_kwargs)
            except (ValueError, TypeError) as error:
                check("env_kwargs", lambda _: False, str(error))

    # the model and its options
    check("model", lambda model: model in models.names(), f"unknown model; choose one of {', '.join(models.names())}.")
    check("scan_mode", lambda mode: mode in SCAN_MODES and (config.model not in models.names()
                                                             or mode in models.modes(config.model)),
          f"choose one of {SCAN_MODES} ('associative' is not available for gru, which is not a memoroid).")
    check("features", lambda n: n >= 1, "must be a positive integer (the width of the network).")
    if good("model", "model_kwargs", "features"):
        try:
            models.make(config.model, config.features, **config.model_kwargs)
        except (ValueError, TypeError) as error:
            check("model_kwargs", lambda _: False, str(error))
