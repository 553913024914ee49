"""A `while` whose condition holds a conditional expression and whose body breaks:
IndexError: pop from empty list in the pullback.

The forward sweep pushes the condition's branch flag `_t0` only when the condition is
re-evaluated, which `break` skips, but the reverse sweep pops it once per counted
iteration (`for _ in range(_n0): _t0 = _stack.pop()`).
"""
import math

import numpy as np



def f(x, y):
    s0 = y * 2.0
    while (s0 if y > 0.0 else y) > 0.3:
        break
    return y * np.sum(x)


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
