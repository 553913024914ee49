"""`np.real(np.exp(1j * x) * y)`: the generic pullback returns complex gradients for the
real inputs x and y (d/dy = 2.17 + 0.54j); the code specialized to the shapes casts them to
float with a ComplexWarning. The real parts happen to be right here (exp and multiply both
lack the conjugate, see complex_product_missing_conjugate.py, and the two errors cancel),
but a real input's gradient must be the real part of its complex cotangent, in every
consumer. Found by the wider grammar.
"""
import math

import numpy as np


def f(x, y):
    return np.sum(np.real(np.exp(1j * x) * y))


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
