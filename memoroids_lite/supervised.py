"""Small supervised memory tasks, and a training loop, for trying memory models before RL.

A task samples one tape: inputs x [T, num_inputs] (one-hot), start flags bool[T], integer targets [T] and a
mask bool[T] of the steps that count. Episodes of random length are packed into the tape, so the model must
reset its memory at every start — exactly what the RL chapters need later.

    task = recall_first(num_tokens=4, length=64, episode_lengths=(8, 32))
    result = fit(make("lru", features=32), task, steps=500, key=jax.random.key(0))
    result.loss, result.accuracy      # [steps] learning curves
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax


class Task(NamedTuple):
    name: str
    num_inputs: int
    num_classes: int
    sample: Callable  # key -> (x [T, num_inputs], start bool[T], target int[T], mask bool[T])


def _episode_starts(key, length, episode_lengths):
    """start flags for episodes with lengths uniform in [low, high], packed into a tape of `length` steps."""
    low, high = episode_lengths
    if not 1 <= low <= high:
        raise ValueError(f"episode_lengths must be (low, high) with 1 <= low <= high, got {episode_lengths}.")
    if low == high:  # fixed length: no randomness (and nothing for XLA to constant-fold at length)
        return jnp.arange(length) % low == 0
    lengths = jax.random.randint(key, (length,), low, high + 1)
    ends = jnp.cumsum(lengths)
    begins = jnp.concatenate([jnp.zeros(1, ends.dtype), ends[:-1]])
    return jnp.zeros(length, bool).at[begins].set(True, mode="drop")


def _steps_since_start(start):
    """t − t₀ for each step, t₀ the first step of its episode."""
    index = jnp.arange(start.shape[0])
    return index - jax.lax.cummax(jnp.where(start, index, 0))


def recall_first(num_tokens: int = 4, length: int = 64, episode_lengths=(8, 32)) -> Task:
    """Name the token shown at the first step of the episode; every later observation is blank.

    The answer is due at every step, so step t of an episode tests recall over t steps. Inputs are one-hot
    over num_tokens + 1 symbols (the last one is the blank).
    """

    def sample(key):
        k_start, k_tokens = jax.random.split(key)
        start = _episode_starts(k_start, length, episode_lengths)
        tokens = jax.random.randint(k_tokens, (length,), 0, num_tokens)
        first = tokens[jax.lax.cummax(jnp.where(start, jnp.arange(length), 0))]  # the token of the episode
        shown = jnp.where(start, tokens, num_tokens)
        return jax.nn.one_hot(shown, num_tokens + 1), start, first, jnp.ones(length, bool)

    return Task("recall_first", num_tokens + 1, num_tokens, sample)


def copy_with_lag(num_tokens: int = 8, length: int = 64, lag: int = 4, episode_lengths=None) -> Task:
    """A random token every step; the target at step t is the token of step t − lag of the same episode.

    Steps with fewer than `lag` predecessors in their episode are masked out. One episode per tape unless
    episode_lengths is given.
    """
    episode_lengths = (length, length) if episode_lengths is None else episode_lengths
    if not 0 <= lag < min(length, episode_lengths[1]):
        raise ValueError(f"lag must be in [0, {min(length, episode_lengths[1])}): with lag {lag} no step of a "
                         f"{length}-step tape of episodes of at most {episode_lengths[1]} steps has a target.")

    def sample(key):
        k_start, k_tokens = jax.random.split(key)
        start = _episode_starts(k_start, length, episode_lengths)
        tokens = jax.random.randint(k_tokens, (length,), 0, num_tokens)
        target = jnp.roll(tokens, lag)
        mask = _steps_since_start(start) >= lag
        return jax.nn.one_hot(tokens, num_tokens), start, target, mask

    return Task(f"copy_with_lag_{lag}", num_tokens, num_tokens, sample)


class SequenceClassifier(nn.Module):
    """Dense encoder -> memory model -> Dense logits, over one tape."""

    memory: nn.Module
    num_classes: int

    @nn.compact
    def __call__(self, x, start, mode=None):
        h = nn.Dense(self.memory.features)(x)
        y, _ = self.memory(h, start, None, mode)
        return nn.Dense(self.num_classes)(y)


class FitResult(NamedTuple):
    params: dict
    loss: jax.Array  # [steps] masked cross-entropy of each update's batch
    accuracy: jax.Array  # [steps] masked accuracy of each update's batch


def fit(memory, task: Task, *, steps: int, key, batch_size: int = 32, learning_rate: float = 3e-3) -> FitResult:
    """Train memory + readout with Adam on batches of task tapes; the whole loop is one jitted lax.scan."""
    classifier = SequenceClassifier(memory, task.num_classes)
    k_init, k_data = jax.random.split(key)
    x, start, _, _ = task.sample(k_init)
    params = jax.jit(classifier.init)(k_init, x, start)
    optimizer = optax.adam(learning_rate)

    def loss_fn(params, batch):
        x, start, target, mask = batch
        logits = jax.vmap(classifier.apply, in_axes=(None, 0, 0))(params, x, start)
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, target)
        correct = jnp.argmax(logits, -1) == target
        return jnp.sum(losses * mask) / jnp.sum(mask), jnp.sum(correct * mask) / jnp.sum(mask)

    def update(carry, key):
        params, opt_state = carry
        batch = jax.vmap(task.sample)(jax.random.split(key, batch_size))
        (loss, accuracy), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, accuracy)

    @jax.jit
    def train(params, key):
        (params, _), (loss, accuracy) = jax.lax.scan(update, (params, optimizer.init(params)), jax.random.split(key, steps))
        return params, loss, accuracy

    return FitResult(*train(params, k_data))


def accuracy_by_age(memory, task: Task, params, key, *, batches: int = 8, batch_size: int = 64):
    """Accuracy of a fitted classifier as a function of t − t₀ (steps since the episode began)."""
    classifier = SequenceClassifier(memory, task.num_classes)

    @jax.jit
    def one(params, key):
        x, start, target, mask = jax.vmap(task.sample)(jax.random.split(key, batch_size))
        logits = jax.vmap(classifier.apply, in_axes=(None, 0, 0))(params, x, start)
        correct = (jnp.argmax(logits, -1) == target) & mask
        age = jax.vmap(_steps_since_start)(start)
        size = x.shape[1]
        hits = jnp.zeros(size).at[age.ravel()].add(correct.ravel())
        counts = jnp.zeros(size).at[age.ravel()].add(mask.ravel())
        return hits, counts

    hits, counts = jax.vmap(one, in_axes=(None, 0))(params, jax.random.split(key, batches))
    return hits.sum(0) / jnp.maximum(counts.sum(0), 1)
