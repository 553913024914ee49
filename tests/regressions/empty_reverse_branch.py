"""An `if` branch whose reverse sweep is empty (a loop with nothing to differentiate) next to
an `elif` whose reverse restores a value: the generated code does not compile
(IndentationError: `if _t0:` followed by only a comment).
"""
import math

import numpy as np



def f(x, y):
    if y > 0.3:
        for i0 in range(2):
            pass
    elif y > 0.1:
        v1 = x * 2.0
    return y * np.sum(x)


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
