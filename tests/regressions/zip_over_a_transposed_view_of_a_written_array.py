"""`for a, b in zip(x, out.T):` with `out[1:] = b * 2.0` in the body: the loop reads `out`
through a view while writing it, so each iteration sees the previous one's write (the
value is 17 x[0]); the generated gradient gives d/dx[0] = 1, silently. Found by a long
random-program run (S2S_RANDOM_PROGRAMS_SEED=23) on the complex-numbers branch, shrunk by
hand; main (f157144) gives the same wrong gradient, so it is older than complex numbers.
"""
import math

import numpy as np

# Remove XFAIL once the bug is fixed; tests/test_regressions.py then checks the program.
XFAIL = "a loop over a view of an array written in the loop: the writes are not seen"


def f(x, y):
    out = np.zeros(3)
    out[0] = x[0] * 1.0
    for a, b in zip(x, out.T):
        out[1:] = b * 2.0
    return np.sum(out) + y


INPUT = (np.array([-0.62762527, -0.14454627, -1.32731602]), 0.2)
