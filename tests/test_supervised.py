"""The supervised memory tasks give the targets their docstrings promise, and `fit` learns."""

import jax
import numpy as np
import pytest

from memoroids_lite.models import make
from memoroids_lite.supervised import accuracy_by_age, copy_with_lag, fit, recall_first


def episodes(start):
    begins = list(np.flatnonzero(start)) + [len(start)]
    return list(zip(begins[:-1], begins[1:]))


def test_recall_first_asks_for_the_first_token_of_each_episode():
    task = recall_first(num_tokens=4, length=64, episode_lengths=(3, 9))
    x, start, target, mask = map(np.asarray, task.sample(jax.random.key(0)))
    assert x.shape == (64, 5) and start[0] and mask.all()
    assert len(episodes(start)) > 5  # several episodes packed into the tape
    for b, e in episodes(start):
        assert x[b].argmax() < 4 and (x[b + 1 : e].argmax(-1) == 4).all()  # a token, then blanks
        assert (target[b:e] == x[b].argmax()).all()


@pytest.mark.parametrize("lag", [0, 3])
def test_copy_with_lag_asks_for_the_token_lag_steps_back_in_the_same_episode(lag):
    task = copy_with_lag(num_tokens=8, length=64, lag=lag, episode_lengths=(5, 12))
    x, start, target, mask = map(np.asarray, task.sample(jax.random.key(1)))
    tokens = x.argmax(-1)
    for b, e in episodes(start):
        for t in range(b, e):
            assert mask[t] == (t - b >= lag)
            if mask[t]:
                assert target[t] == tokens[t - lag]


def test_clear_errors():
    with pytest.raises(ValueError, match="lag must be in"):
        copy_with_lag(length=64, lag=10, episode_lengths=(5, 10))
    with pytest.raises(ValueError, match="lag must be in"):
        copy_with_lag(lag=-1)
    with pytest.raises(ValueError, match="episode_lengths"):
        recall_first(episode_lengths=(9, 3)).sample(jax.random.key(0))


def test_fit_learns_and_accuracy_by_age_reports_it():
    task = copy_with_lag(num_tokens=4, length=32, lag=1, episode_lengths=(4, 8))
    memory = make("lru", features=16, hidden=16)
    result = fit(memory, task, steps=150, key=jax.random.key(0), learning_rate=1e-2)
    assert result.loss.shape == (150,) and float(result.loss[-10:].mean()) < 0.5 * float(result.loss[:10].mean())
    assert float(result.accuracy[-10:].mean()) > 0.9
    by_age = accuracy_by_age(memory, task, result.params, jax.random.key(1), batches=2, batch_size=16)
    assert by_age.shape == (32,) and float(by_age[0]) == 0.0 and float(by_age[1:4].min()) > 0.9  # age 0: masked
