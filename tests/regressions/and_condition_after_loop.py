"""`if a and b:` with a true and b false, after a loop that saved a value: wrong gradient.

The forward sweep pushes the `and` chain's first operand on `_saved`; the reverse sweep pops
it back only `if _t1:`, testing the chain's *final* value (False), so the True stays on the
stack and the loop's restore `x = _stack.pop()` gets True instead of x.
Expected d/dx = 2 * x = [0.6, 0.2, 1.0]; s2s gives [2, 2, 2].
"""
import math

import numpy as np



def f(x, y):
    for i0 in range(1):
        x = x * x
    if x[0] > 0.0 and x[2] > 5.0:
        x = x * 0.5
    return np.sum(x)


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
