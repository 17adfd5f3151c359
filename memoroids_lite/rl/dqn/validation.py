"""What makes a DQN TrainConfig valid: every problem of a configuration found at once, each naming its field.

    problems(config)   -> [Problem(field, value, allowed), ...]   (empty: valid)

Checked, in order: each field's type, the task and its options, the model and its options (both shared with
PPO: rl/validation.py), the choices (batching, rollout, segment_init), sizes and ranges, the replay buffer
against two episodes, and the budgets. Budgets are never rounded: with rollout="steps", `train_steps` must be
a whole number of evaluations (num_envs × rollout_length × eval_interval environment steps each) and
`warmup_steps` a whole number of steps of every environment; with rollout="episode", `train_episodes` a whole
number of evaluations (eval_interval episodes each). Otherwise the error names the nearest budgets that are.

    padding_note(config) -> str | None   what a valid but wasteful choice costs (segments longer than episodes)
"""

from __future__ import annotations

from memoroids_lite.rl.batching import NAMES as BATCHINGS
from memoroids_lite.rl.segment import INITS
from memoroids_lite.rl.validation import Checks, Problem, check_task_and_model, nearest_multiples

ROLLOUTS = ("steps", "episode")


def problems(config) -> list[Problem]:
    """Everything wrong with `config` (a TrainConfig), in field order; [] when it is valid."""
    checks = Checks(config)
    check, good, found = checks.check, checks.good, checks.found
    check_task_and_model(checks)

    # choices, sizes and ranges
    check("batching", lambda b: b in BATCHINGS, f"choose {' or '.join(map(repr, BATCHINGS))}.")
    check("rollout", lambda r: r in ROLLOUTS,
          "choose 'steps' (num_envs × rollout_length steps between updates) or 'episode' (one whole episode, "
          "the paper's epoch).")
    check("segment_init", lambda init: init in INITS, f"choose one of {INITS}.")
    for name in ("segment_length", "batch_size", "num_envs", "rollout_length", "updates_per_rollout",
                 "eval_interval", "eval_episodes", "buffer_size"):
        check(name, lambda n: n >= 1, "must be a positive integer.")
    for name in ("warmup_steps", "train_steps", "warmup_episodes", "train_episodes", "burn_in", "lr_warmup"):
        check(name, lambda n: n >= 0, "must be an integer >= 0.")
    check("learning_rate", lambda x: x > 0, "must be a number > 0.")
    check("max_grad_norm", lambda x: x > 0, "must be a number > 0 (the global-norm clip).")
    check("gamma", lambda x: 0 <= x <= 1, "the discount must be a number in [0, 1].")
    check("tau", lambda x: 0 < x <= 1, "the target update rate must be a number in (0, 1].")
    check("epsilon_start", lambda x: 0 <= x <= 1, "a probability: a number in [0, 1].")
    check("epsilon_end", lambda x: 0 <= x <= 1, "a probability: a number in [0, 1].")
    if good("paper_code_loss", "batching", "segment_init") and config.paper_code_loss:
        check("segment_init", lambda init: config.batching == "tape" or init == "zero",
              "paper_code_loss reproduces the paper's code, whose segments start from zero memory: use 'zero'.")
    if good("batching", "batch_size", "segment_length") and config.batching == "segment":
        check("batch_size", lambda n: n % config.segment_length == 0,
              f"must be divisible by segment_length ({config.segment_length}): a segment batch is "
              "batch_size / L windows of L transitions.")
    if not good("env", "env_kwargs"):
        return found

    # against the task's longest episode
    longest = config.max_episode_steps
    if good("buffer_size", "num_envs", "rollout_length", "rollout"):
        rollout = longest if config.by_episode else config.rollout_length
        need = config.num_envs * (2 * longest + rollout)
        check("buffer_size", lambda n: n >= need,
              f"too small: each of the {config.num_envs} environments' streams needs room for two whole "
              f"episodes ({longest} steps each) plus a rollout; use >= {need}.")
    if not good("rollout"):
        return found
    if config.by_episode:
        _episode_budgets(config, check, good)
    else:
        _step_budgets(config, check, good, longest)
    return found


def _episode_budgets(config, check, good) -> None:
    """rollout="episode": one environment, budgets in episodes, the step budgets off."""
    check("num_envs", lambda n: n == 1, "must be 1 with rollout='episode': a rollout is one episode of one "
          "environment (the paper's epoch).")
    for name in ("warmup_steps", "train_steps"):
        check(name, lambda n: n == 0, "counts steps, for rollout='steps'; with rollout='episode' the budgets "
              "are warmup_episodes and train_episodes: set it to 0.")
    check("warmup_episodes", lambda n: n >= 1, "must be >= 1: the buffer needs one episode before the first update.")
    if good("train_episodes", "eval_interval"):
        check("train_episodes", lambda n: n >= config.eval_interval and n % config.eval_interval == 0,
              f"must be a whole number (>= 1) of evaluations of eval_interval = {config.eval_interval} episodes; "
              f"use {nearest_multiples(config.train_episodes, config.eval_interval)}.")


def _step_budgets(config, check, good, longest: int) -> None:
    """rollout="steps": budgets in environment steps, the episode budgets off."""
    for name in ("warmup_episodes", "train_episodes"):
        check(name, lambda n: n == 0, "counts episodes, for rollout='episode'; with rollout='steps' the budgets "
              "are warmup_steps and train_steps: set it to 0.")
    if good("warmup_steps", "num_envs"):
        need = config.num_envs * (longest + 1)
        if config.warmup_steps < need:
            check("warmup_steps", lambda _: False,
                  f"too short to finish one episode in every environment; use >= {need}.")
        else:
            check("warmup_steps", lambda n: n % config.num_envs == 0,
                  f"must be a whole number of steps of each of the {config.num_envs} environments; use "
                  f"{nearest_multiples(config.warmup_steps, config.num_envs)}.")
    if good("train_steps", "num_envs", "rollout_length", "eval_interval"):
        chunk = config.steps_per_iteration * config.eval_interval
        check("train_steps", lambda n: n >= chunk and n % chunk == 0,
              f"must be a whole number (>= 1) of evaluations of num_envs × rollout_length × eval_interval = "
              f"{config.num_envs} × {config.rollout_length} × {config.eval_interval} = {chunk} environment "
              f"steps; use {nearest_multiples(config.train_steps, chunk)}.")


def padding_note(config) -> str | None:
    """What a valid but wasteful choice costs: segments longer than the task's longest episode are allowed (the
    paper's grid runs L = 50 and 100 on MineSweeper, whose episodes last at most 14 steps) but are mostly
    padding; the note says how much at least. None otherwise."""
    if config.batching != "segment" or config.segment_length <= config.max_episode_steps:
        return None
    longest = config.max_episode_steps
    return (f"segment_length {config.segment_length} is longer than the longest episode of {config.env} "
            f"({longest} steps): at least {1 - longest / config.segment_length:.0%} of every segment batch is "
            "padding.")
