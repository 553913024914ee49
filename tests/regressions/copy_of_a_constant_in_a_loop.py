"""A constant copied into an active temporary inside a loop: internal error.

`x[0] if x[1] < -0.2 else s11` normalises to `_t3 = x[0]` / `_t3 = s11`; the reverse sweep
sent `_t3`'s adjoint to `s11` although `s11` (a constant) is not active, and the loop
check reported "adjoints ['s11'] escape a loop iteration". Found by the random programs.
"""
import math

import numpy as np


def f(x, y):
    s11 = math.sin(2.0)
    for i18 in range(2):
        s19 = np.tanh(x[0] if x[1] < -0.2 else s11)
        if s19 < -0.2:
            return s19 + y
    return np.sum(x) * s19


INPUT = (np.array([1.3, -0.8, -0.14]), 0.47)
