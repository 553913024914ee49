"""`for t1 in x:` whose body rebinds x: Python iterates over the array x named when the loop
started, but the generated code reads `t1 = x[_i0]` from the *rebound* x on each iteration.
Value 3.0 instead of 1.4; d/dx [1, 2, 4] instead of [1, 1, 1] (the tape agrees with FD).
"""
import math

import numpy as np



def f(x, y):
    s0 = y
    for t1 in x:
        s0 = s0 + t1
        x = x * 2.0
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
