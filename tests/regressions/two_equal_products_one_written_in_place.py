"""Two equal products became one array: the normal form merged ``x * 1.0`` and ``x * 1.0``
(pass 10, common reads), so ``v1[0] = y`` also wrote ``v0``.  The stale-view check then
refused the program ('v0' and 'v1' may be views of one array) where NumPy has two arrays.
Operators make new arrays: they are no longer merged when either is written in place.
"""
import math

import numpy as np


def f(x, y):
    v0, v1 = x * 1.0, x * 1.0
    v1[0] = y
    return np.sum(v0 * v1)


INPUT = (np.array([0.019374725804511404, -0.03654627203970331, 0.038683976010746364]), 0.031484440601668634)
