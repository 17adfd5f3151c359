"""The paper's training protocol as data, and every way a run of this package departs from it.

Table H.3 of the paper, with its code's configs where the table is silent: per task, the episodes collected
with random actions before training, the training epochs (one epoch collects ONE episode, then does
`train_ratio` updates), τ, batch, learning rate, gradient clip, γ and ε at the end; the replay buffer is "large
enough that no old observations ever needed to be discarded"; 10 seeds; evaluation every 10 epochs.

    PROTOCOL["RepeatFirst"]          # Protocol(random_episodes=5000, train_epochs=5000, ...)
    paper_config(env, model, **kw)   # the TrainConfig of the paper's run: one episode per epoch, its budgets
    deviations(config, seeds)        # [(aspect, the paper, this run), ...]: only what differs
"""

from __future__ import annotations

from typing import NamedTuple

from memoroids_lite import __version__
from memoroids_lite.rl.dqn.config import PAPER_MEMORY, TrainConfig, for_task, task_of


class Protocol(NamedTuple):
    random_episodes: int
    train_epochs: int
    tau: float  # the target moves by τ per update: "Polyak 0.995" is τ = 1/200
    train_ratio: int  # updates per collected episode
    gamma: float
    epsilon_end: float = 0.01
    batch_size: int = 1000
    learning_rate: float = 1e-4
    max_grad_norm: float = 0.01
    seeds: int = 10


_CARTPOLE = dict(random_episodes=10_000, train_epochs=10_000, tau=1 / 200, train_ratio=1, gamma=0.99)
PROTOCOL = {
    "RepeatFirst": Protocol(5_000, 5_000, 1 / 200, 1, 0.99),
    "RepeatPrevious": Protocol(5_000, 5_000, 1 / 200, 1, 0.5, epsilon_end=0.1),
    "CountRecall": Protocol(10_000, 10_000, 1 / 200, 1, 0.99),
    "PositionOnlyCartPole": Protocol(**_CARTPOLE),
    "VelocityOnlyCartPole": Protocol(**_CARTPOLE),
    "NoisyPositionOnlyCartPole": Protocol(**_CARTPOLE),
    "Autoencode": Protocol(10_000, 10_000, 1 / 200, 4, 0.99),
    # the table prints Polyak 0.995 for the bandit; its code's config updates with 1/400 (erratum 10)
    "MultiarmedBandit": Protocol(10_000, 10_000, 1 / 400, 1, 0.8),
    "MineSweeper": Protocol(10_000, 40_000, 1 / 400, 1, 0.99),
}

def paper_config(env: str, model: str, **overrides) -> TrainConfig:
    """The paper's run of `model` on `env` (Table H.3): `random_episodes` episodes of random actions, then
    `train_epochs` epochs of one episode each followed by `train_ratio` updates, its γ, τ and ε, evaluation
    every 10 epochs, and a buffer that holds every transition of the run (each episode at its longest);
    `overrides` (the batching, for instance) last."""
    paper = PROTOCOL[task_of(env)]
    probe = for_task(env, model=model)
    return for_task(
        env, model=model, rollout="episode", num_envs=1, warmup_steps=0, train_steps=0,
        warmup_episodes=paper.random_episodes, train_episodes=paper.train_epochs,
        updates_per_rollout=paper.train_ratio, gamma=paper.gamma, tau=paper.tau, epsilon_end=paper.epsilon_end,
        batch_size=paper.batch_size, learning_rate=paper.learning_rate, max_grad_norm=paper.max_grad_norm,
        eval_interval=10, buffer_size=(paper.random_episodes + paper.train_epochs) * probe.max_episode_steps,
        **overrides)


# How this package's models and loss differ from the paper's code, whatever the run's settings (the chapters
# of Part II and the appendix's errata say why).
MODEL_DIFFERENCES = {
    "lru": [("LRU input scale γ", "a separate trained parameter, log γ", "recomputed from λ, √(1 − |λ|²)")],
    "ffm": [("FFM readout", "gate before the LayerNorm, linear skip (its code)",
             "MLP(LN(·)) ⊙ σ(·) + (1 − σ(·)) ⊙ o, as the FFM paper writes it, with a 64-wide MLP")],
    "linear_attention": [("linear attention normaliser", "(Σ z)(Σ φ(q)) in its code", "z⊤φ(q), as in its paper"),
                         ("linear attention readout", "LN(MLP(·) + Linear(o)) over values of 16",
                          "MLP(X⊤φ(q) / x⊤φ(q) + o), one hidden layer of 256, as its equation")],
}
# Differences this package has since removed: (the version that removed it, model, (aspect, the paper, runs
# trained before that version)). A run's version is in its config.json ("machine"); runs of 0.1.0 lack it.
FIXED = [("0.2.0", "s5", ("S5 output matrix C at initialisation", "complex, standard deviation about 0.0039",
                          "real, lecun normal over its 2P inputs (0.063 for P = 128)"))]
LOSS_DIFFERENCES = [
    ("segment loss", "Huber loss of the masked mean |TD error|", "the per-transition Huber loss, as for tapes"),
    ("Q-targets", "next observations with their begin flags: never o₀", "one pass over o₀ … o_T and a shift"),
]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def fixed_since(model: str, trained_with: str) -> list[tuple[str, tuple[str, str, str]]]:
    """The differences of `model` from the paper that this package removed after version `trained_with`, as
    (the version that removed it, (aspect, the paper, runs before it))."""
    return [(fixed_in, row) for fixed_in, fixed_model, row in FIXED
            if fixed_model == model and _version(trained_with) < _version(fixed_in)]


def deviations(config: TrainConfig, seeds: int, trained_with: str = __version__) -> list[tuple[str, str, str]]:
    """Every way the run (`config`, `seeds` seeds, trained by memoroids_lite version `trained_with`) departs
    from the paper's protocol for its task: (aspect, the paper, this run) for each aspect that differs."""
    paper = PROTOCOL[task_of(config.env)]
    collected = config.collected_steps
    rows = [
        ("seeds", f"{paper.seeds}", f"{seeds}"),
        ("updates", f"{paper.train_epochs * paper.train_ratio:,}", f"{config.updates:,}"),
        ("collection", "one episode" + (f" per {paper.train_ratio} updates" if paper.train_ratio > 1 else " per update"),
         config.collection),
        ("random warm-up", f"{paper.random_episodes:,} episodes", config.warmup),
        ("replay buffer", "never discards",
         "never discards" if config.buffer_size >= collected else
         f"{config.buffer_size:,} transitions, overwritten (the run collects {collected:,})"),
    ]
    for field in ("gamma", "tau", "epsilon_end", "batch_size", "learning_rate", "max_grad_norm"):
        rows.append((field, f"{getattr(paper, field):g}", f"{getattr(config, field):g}"))
    memory = ({"trace_size": 16, "context_size": 16} if config.env == "RepeatPreviousEasy" and config.model == "ffm"
              else PAPER_MEMORY.get(config.model, {}))
    rows.append((f"{config.model} sizes", str(memory), str(config.model_kwargs)))
    rows += MODEL_DIFFERENCES.get(config.model, [])
    rows += [row for _, row in fixed_since(config.model, trained_with)]
    if not config.paper_code_loss:
        rows += [r for r in LOSS_DIFFERENCES if config.batching == "segment" or r[0] != "segment loss"]
    return [(aspect, theirs, ours) for aspect, theirs, ours in rows if theirs != ours]
