"""A lambda defined inside an `if` body: lifted like a top-level one (it used to be refused).

Found by tests/test_random_programs.py (see tests/programs.py).
"""
import math

import numpy as np


def f(x, y):
    if y > 0.3:
        g0 = lambda p1: p1 * y
        return np.sum(g0(x))
    return y


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
