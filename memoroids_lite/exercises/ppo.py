"""Checkers for Part V, Beyond the paper (chapter 18, PPO with memoroids): what a tape's earlier steps cost, and
how old a chunk's stored memory is when it is trained on."""

import numpy as np

from memoroids_lite.exercises.checking import Exercise, Wrong, number


def _close(a, b) -> bool:
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-12))


def test_outside_share(outside_share):
    for t, longest in ((128, 52), (128, 200), (16, 52), (64, 1), (100, 101)):
        got = number(outside_share(t, longest), f"outside_share({t}, {longest})")
        p = longest - 1
        if _close(got, p / (t + p)):
            continue
        if _close(got, longest / (t + longest)):
            raise Wrong(f"outside_share({t}, {longest}) = {got:.4f} counts {longest} earlier steps: how many steps "
                        "before the rollout can the episode that is running at its first step have begun?")
        if _close(got, p / t):
            raise Wrong(f"outside_share({t}, {longest}) = {got:.4f} divides by the rollout's {t} steps; the share "
                        "asked for is of every slot of the tape.")
        if _close(got, t / (t + p)):
            raise Wrong(f"outside_share({t}, {longest}) = {got:.4f} is the share of slots inside the loss.")
        raise Wrong(f"outside_share({t}, {longest}) = {got:.4f} is wrong: how many slots does a tape have, and "
                    "how many of them are masked out of the loss?")


def test_staleness(staleness):
    for epochs, minibatches in ((3, 5), (4, 4), (1, 1), (10, 1), (1, 8)):
        got = number(staleness(epochs, minibatches), f"staleness({epochs}, {minibatches})")
        want = epochs * minibatches - 1
        if got == want:
            continue
        if got == epochs * minibatches:
            raise Wrong(f"staleness({epochs}, {minibatches}) = {got:g} is one too many: which parameters does the "
                        "first update of an iteration start from?")
        if got in (epochs - 1, epochs) and epochs != minibatches:
            raise Wrong(f"staleness({epochs}, {minibatches}) = {got:g} counts epochs, but every minibatch is a "
                        "gradient update.")
        if got in (minibatches - 1, minibatches) and epochs != minibatches:
            raise Wrong(f"staleness({epochs}, {minibatches}) = {got:g} counts the updates of one epoch only: are "
                        "the stored memories computed again between epochs?")
        raise Wrong(f"staleness({epochs}, {minibatches}) = {got:g} is wrong: count the gradient updates of one "
                    "iteration, and the parameters each one starts from.")


EXERCISES = [
    Exercise("ex-ch18-prefix", test_outside_share, answer="outside_share", skeleton='''\
def outside_share(rollout_length, longest_episode):
    """The share of a tape's slots that lie outside the loss."""
    ...  # your code


passed = check("ex-ch18-prefix", outside_share)'''),
    Exercise("ex-ch18-stale", test_staleness, answer="staleness", skeleton='''\
def staleness(update_epochs, num_minibatches):
    """Updates since collection of the parameters that train the last minibatch."""
    ...  # your code


passed = check("ex-ch18-stale", staleness)'''),
]
