"""`return` in the `else:` clause of a loop is ignored by the generated code: it runs on to
the final `return s0`. Value 0.45 instead of 0.225, d/dx [0.5, 0.5, 0.5] instead of
[0.25, 0.25, 0.25] (the same for `for ... else: return`).
"""
import math

import numpy as np



def f(x, y):
    s0 = np.sum(x) * y
    while s0 > 5.0:
        s0 = s0 * 0.5
    else:
        return s0 * y
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
