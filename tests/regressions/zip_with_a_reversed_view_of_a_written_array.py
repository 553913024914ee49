"""`for a, b in zip(x, x[::-1]):` with `x[0] = ...` in the body: Python reads `x[::-1]` afresh
each iteration (a view); s2s bound the view to a temporary before the loop, and then refused
it as a stale view. A view of a name the loop does not rebind is now read inside the loop.
Found by the long random-program run.
"""
import math

import numpy as np


def f(x, y):
    x = x * 1.0
    s = 0.0
    for t1, t2 in zip(x, x[::-1]):
        x[0] = x[0] * y + t2
        s = s + t1 * t2
    return s + np.sum(x)


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
