"""`while a and b:` that exits because b turned false: wrong gradient (same cause as
and_condition_after_loop.py: the saved first operand is never popped back).
Expected d/dx = 2 * x / 2 = [0.3, 0.1, 0.5] (one halving); s2s gives [1, 1, 1].
"""
import math

import numpy as np



def f(x, y):
    for i0 in range(1):
        x = x * x
    while x[1] > 0.0 and x[2] > 0.2:
        x = x * 0.5
    return np.sum(x)


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
