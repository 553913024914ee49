"""A module whose ``logprob`` differs from :mod:`callees_a`'s (tests/test_callees.py)."""
import numpy as np

SCALE = 3.0


def logprob(x):
    return SCALE * np.sum(np.sin(x))


def model(x):
    return 2.0 * logprob(x)
