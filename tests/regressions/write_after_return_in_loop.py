"""An early return in a loop before the array written in the loop exists: NameError in the
pullback (cannot access free variable 'z1'); same cause as write_in_untaken_branch.py.
"""
import math

import numpy as np



def f(x, y):
    for i0 in range(2):
        if y > 0.3:
            return y * 2.0
        z1 = x * 1.0
        z1[0] = y
    return np.sum(z1)


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
