"""`np.imag(z * z)` with `z = np.exp(1j * x) * (y + 0.5j)`: every gradient has the wrong
sign (d/dy -1.03 instead of 1.03), in reverse mode and on the tape (forward mode is right).
Same cause as complex_product_missing_conjugate.py: multiply's VJP `g * y` lacks
`np.conj(y)`. Found by the wider grammar.
"""
import math

import numpy as np


def f(x, y):
    z = np.exp(1j * x) * (y + 0.5j)
    return np.sum(np.imag(z * z))


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
