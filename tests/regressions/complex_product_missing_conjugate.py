"""`np.abs(x + 1j * y)`: a complex intermediate gives a silently wrong d/dy (and wrong
forward-mode tangents).

Under the registry's convention (the cotangent of a complex z is dL/dRe z + i dL/dIm z,
elementwise.py) a holomorphic rule's VJP is `g * conj(f'(z))`; multiply's is `g * y` with
no conjugate, so the cotangent of `1j * y` sends `g * 1j` instead of `g * -1j` to y:
d/dy = -sum(y / |z|) = -2.277 instead of 2.277. absolute's
JVP `t * np.sign(z)` is complex for complex z (it should be `Re(conj(z) * t) / |z|`).
The tape shares the rules and agrees with the wrong values. Found by the wider grammar.
"""
import math

import numpy as np


def f(x, y):
    return np.sum(np.abs(x + 1j * y))


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
