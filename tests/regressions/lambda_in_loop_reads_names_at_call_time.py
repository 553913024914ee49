"""A lambda defined in a loop body reads the loop variable and a name rebound after it:
Python's late binding, so each call sees the values of the moment it is made.

Written with tests/test_random_programs.py's "closure in block" feature (see tests/programs.py).
"""
import math

import numpy as np


def f(x, y):
    s0 = 0.0
    for i1 in range(3):
        g2 = lambda p3: p3 ** 2 * i1 + y
        y = y * 1.5
        if i1 > 0:
            def g4(p5):
                return np.sin(p5) * y + g2(p5)
            s0 = s0 + np.sum(g4(x))
        s0 = s0 + np.sum(g2(x)) * y
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
