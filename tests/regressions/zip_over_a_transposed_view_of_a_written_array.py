"""`for a, b in zip(x, out.T):` with `out[1:] = b * 2.0` in the body: the loop reads `out`
through a view while writing it, so each iteration sees the previous one's write (the
value is 17 x[0]); the generated gradient gives d/dx[0] = 1, silently. Found by a long
random-program run (S2S_RANDOM_PROGRAMS_SEED=23) on the complex-numbers branch, shrunk by
hand; main (f157144) gives the same wrong gradient, so it is older than complex numbers.
s2s bound `out.T` to a temporary before the loop; a loop over `x.T` of a name the loop does
not rebind now reads it afresh each iteration (as `x[::-1]`), and every other view of an
array written in place that is read after the write is refused (tests/view_cases.py).
"""
import math

import numpy as np



def f(x, y):
    out = np.zeros(3)
    out[0] = x[0] * 1.0
    for a, b in zip(x, out.T):
        out[1:] = b * 2.0
    return np.sum(out) + y


INPUT = (np.array([-0.62762527, -0.14454627, -1.32731602]), 0.2)
