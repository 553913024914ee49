"""Specialized code dropped the save and restore of an element write whose array has an
alias read by the reverse sweep: a silently wrong gradient (x[2]'s entry was 0.99701529,
finite differences 0.99701380; the generic code was right).

Tuple unpacking binds ``v0 = _t0``; ``v0[2] = np.tanh(v0[2])`` also writes ``_t0``, which
tanh's adjoint reads (``1 - _t0 * _t0``).  The liveness pass that decides which restored
values are read looked only at the views *of* v0, not at the arrays v0 is an alias of.
"""
import math

import numpy as np


def f(x, y):
    v0, v1 = np.tanh(x), x * 1.0
    v0[2] = np.tanh(v0[2])
    return np.sum(v0)


INPUT = (np.array([0.019374725804511404, -0.03654627203970331, 0.038683976010746364]), 0.031484440601668634)
