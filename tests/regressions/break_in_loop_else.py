"""`break` (for the outer loop) in the `else:` clause of an inner loop: s2s crashes in
normalize.py with AttributeError: 'NoneType' object has no attribute 'break_flag'
(`continue` there gives the same with 'continue_flag').
"""
import math

import numpy as np



def f(x, y):
    s0 = y
    for i1 in range(2):
        for i2 in range(2):
            s0 = s0 * x[i2]
        else:
            break
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
