"""An `else:` whose reverse sweep holds only a comment (its loop had nothing to undo once
pruned): the generated code was `else:` followed by a comment only, an IndentationError.
Found by the long random-program run.
"""
import math

import numpy as np


def f(x, y):
    if y > 0.3:
        n3 = 0
        while y > 0.3:
            n3 += 1
            if n3 > 1:
                break
            s4 = y
    else:
        for i5 in range(1):
            s6 = y
    return y


INPUT = (np.array([0.019374725804511404, -0.03654627203970331, 0.038683976010746364]), 0.031484440601668634)
