"""A lambda defined inside an `if` body: s2s raises UnsupportedError (README: lambdas are supported).

Found by tests/test_random_programs.py (see tests/programs.py).
"""
import math

import numpy as np

# Remove XFAIL once the bug is fixed; tests/test_regressions.py then checks the program.
XFAIL = "known limitation: a lambda is lifted only when assigned at the top level of the function; elsewhere it is refused with UnsupportedError (and falls back to the tape)"


def f(x, y):
    if y > 0.3:
        g0 = lambda p1: p1 * y
        return np.sum(g0(x))
    return y


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
