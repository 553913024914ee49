"""A module whose ``logprob`` differs from :mod:`callees_b`'s (tests/test_callees.py)."""
import numpy as np

SCALE = 0.5


def logprob(x):
    return -SCALE * np.sum(x ** 2)


def model(x):
    return logprob(x) + 1.0
