"""A loop over ``zip(..., v0[np.s_[::-1]])`` whose body writes ``v0`` in place was refused
('v0_1[_t78]' is a view of 'v0', read after 'v0' was written in place): the loop rewriting
re-reads a view written with a literal slice afresh each iteration, as Python sees it, but
did not recognise the same slice written through ``np.s_[...]``.
"""
import math

import numpy as np


def f(x, y):
    v0 = x[[0, 0, 2]] * y
    for t5, t6 in zip(v0 - x[np.s_[::-1]], v0[np.s_[::-1]]):
        v0[1:] = np.tanh(np.sqrt(1.0 + v0[1:3] * v0[1:3])) * t6
    return np.sum(v0)


INPUT = (np.array([0.3, -0.5, 0.7]), 0.8)
