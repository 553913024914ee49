"""A nested def inside a `for` body: lifted like a top-level one (it used to be refused).

Found by tests/test_random_programs.py (see tests/programs.py).
"""
import math

import numpy as np


def f(x, y):
    s0 = 0.0
    for i1 in range(2):
        def g2(p3):
            return p3 * y
        s0 = s0 + np.sum(g2(x))
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
