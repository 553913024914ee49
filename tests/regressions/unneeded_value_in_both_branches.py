"""A program found by tests/test_random_programs.py (see tests/programs.py)."""
import math

import numpy as np


def f(x, y):
    z0 = x * 1.0
    z0[0] = y
    if y > 0.3:
        for i1 in range(1):
            z2 = x * 1.0
            z2[0] = y
            s3 = y
            s4 = y
            if y > 0.3:
                return s4 + (y + (y + y))
        if 0.5 < 0.3:
            s5 = y
            s6 = (y + s5)
    else:
        for i7 in range(1):
            s8 = y
            if x[i7] > 0.3:
                break
    return y


INPUT = (np.array([0.019374725804511404, -0.03654627203970331, 0.038683976010746364]), 0.031484440601668634)
