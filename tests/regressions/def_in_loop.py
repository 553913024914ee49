"""A nested def inside a `for` body: s2s raises UnsupportedError (README: nested defs are supported).

Found by tests/test_random_programs.py (see tests/programs.py).
"""
import math

import numpy as np

# Remove XFAIL once the bug is fixed; tests/test_regressions.py then checks the program.
XFAIL = "known limitation: a nested def is lifted only at the top level of the function; inside an if/for it is refused with UnsupportedError (and falls back to the tape)"


def f(x, y):
    s0 = 0.0
    for i1 in range(2):
        def g2(p3):
            return p3 * y
        s0 = s0 + np.sum(g2(x))
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
