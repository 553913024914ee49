"""A helper returning a tuple whose first element the caller never uses: TypeError
(unsupported operand type(s) for *: 'NoneType' and 'float') in the helper's pullback.

The caller's adjoint of the tuple is index_adjoint(v_b, _t0, 1), whose element 0 is None;
the helper's pullback then computes `_t0_b * (1 - _t0 * _t0)` with _t0_b = None.
"""
import math

import numpy as np



def h0(a, b):
    return np.tanh(b), a * 2.0


def f(x, y):
    s1, v2 = h0(x, y)
    return v2[0]


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
