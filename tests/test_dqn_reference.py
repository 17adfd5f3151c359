"""DQN's numbers do not change: each ci-scale configuration of tests/dqn_reference.py, trained by the package as it
is now, gives the recorded metrics (every field, every chunk, both seeds) and final parameters: bit for bit on the
machine that recorded them, to float32 rounding on another processor."""

import numpy as np
import pytest

import dqn_reference


@pytest.fixture(scope="module")
def recorded():
    with np.load(dqn_reference.PATH, allow_pickle=False) as arrays:
        arrays = dict(arrays)
    now = {key: str(value) for key, value in dqn_reference.versions().items()}
    then = {key: str(arrays.pop(key)) for key in now}
    if then != now:
        pytest.skip(f"the reference was recorded with {then}, this is {now}: other versions may round differently")
    return arrays


@pytest.mark.parametrize("name", list(dqn_reference.CONFIGS))
def test_same_seed_same_metrics_and_parameters_as_recorded(name, recorded):
    trained = dqn_reference.train(name)
    expected = {key: value for key, value in recorded.items() if key.startswith(f"{name}/")}
    assert sorted(trained) == sorted(expected)
    different = [key for key in expected
                 if not np.allclose(trained[key], expected[key], rtol=1e-5, atol=1e-6, equal_nan=True)]
    assert not different, f"{len(different)} of {len(expected)} arrays differ, e.g. {different[:5]}"
