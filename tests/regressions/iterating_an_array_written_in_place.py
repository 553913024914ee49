"""`for t in x:` while the loop body writes `x[0:2] -= ...` (and `x += ...`): Python reads each
element from the array as it is then; s2s read them through a separate name bound before
the loop, whose adjoint skipped the writes — a silently wrong d/dx. An array written in place
(or updated with `+=`) is now read by index from its own name. Found by the long
random-program run.
"""
import math

import numpy as np


def f(x, y):
    x = x * 1.0
    s5 = 0.0
    for t9, t10 in zip(x, x):
        x[0:2] -= np.tanh(x[0:2])
        s5 -= np.tanh(0.7 + t9)
    v2 = x * 1.0
    for t14 in v2:
        v2[0] = y
        v2 += np.tanh(t14)
    return np.sum(x) + s5 + np.sum(v2)


INPUT = (np.array([0.21, 0.52, -1.45]), 0.34)
