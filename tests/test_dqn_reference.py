"""DQN's numbers do not change: each ci-scale configuration of tests/dqn_reference.py, trained by the package as it
is now, gives the recorded metrics (every field, every chunk, both seeds) and final parameters, bit for bit."""

import numpy as np
import pytest

import dqn_reference


@pytest.fixture(scope="module")
def recorded():
    with np.load(dqn_reference.PATH, allow_pickle=False) as arrays:
        return dict(arrays)


@pytest.mark.parametrize("name", list(dqn_reference.CONFIGS))
def test_same_seed_same_metrics_and_parameters_as_recorded(name, recorded):
    trained = dqn_reference.train(name)
    expected = {key: value for key, value in recorded.items() if key.startswith(f"{name}/")}
    assert sorted(trained) == sorted(expected)
    different = [key for key in expected if not np.array_equal(trained[key], expected[key], equal_nan=True)]
    assert not different, f"{len(different)} of {len(expected)} arrays differ, e.g. {different[:5]}"
