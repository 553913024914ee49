"""An element write after a loop that may return: the pullback restored the array's final
contents into the name as the reverse sweep left it (None, its value before the write), so
`restore` failed with "'NoneType' object does not support item assignment".

The snapshot now keeps the array object itself. Found by the random programs.
"""
import math

import numpy as np


def h0(a, b, c=0.5):
    n0 = 0
    while b > 0.3:
        n0 += 1
        if n0 > 1:
            break
        return c
    z1 = a * 1.0
    z1[0] = b
    return np.sum(z1)


def f(x, y):
    s2 = h0(x, y)
    return s2


INPUT = (np.array([0.01937473, -0.03654627, 0.03868398]), 0.031484440601668634)
