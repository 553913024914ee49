"""A local function copied as written (called for a value that is not differentiated)
calls another local function: the generated module did not define the second one
(NameError: name 'g2' is not defined). Lifted callees are now copied transitively.
Found by the random programs.
"""
import math

import numpy as np


def f(x, y):
    if y > 0.3:
        v0 = (x + x)
    v1 = (y / (1.0 + x * x))
    def g2(p3):
        z4 = x * 1.0
        z4[0] = (0.5 if y > 0.3 and 0.5 > 0.3 else y)
        s5 = 0.5
        return np.sum(x)
    v1[0:2] += np.tanh(x[0])
    for i7, t6 in enumerate(x):
        s8, v9 = np.tanh(np.sum(v1[1:])), np.minimum(v1[::-1], (v1[[0, 2, 2]] if 0.7 > 1.7 else v1 * 1.0))
    def g10(p11):
        s12 = g2(x)
        z13 = x * 1.0
        z13[2] = -1.2
        return np.where(v1 > -0.6, np.where(v1 > -0.6, z13, y), p11)
    if y > 0.9:
        for i14 in range(1):
            v1 += np.tanh(v1)
            if -0.3 < 1.7:
                continue
            break
    else:
        for i16, t15 in enumerate(np.maximum(x, v1[[1, 1, 1]])):
            v17, v18 = np.tanh((v1 - g10(x[::-1]))), v1[[0, 2, 2]]
            s19 = math.sin(((v17[::-1] * 1.0 if np.sum(x[0:2]) > -0.2 else x[::-1] * 1.0)).mean())
    v1 += np.where(v1 > -0.2, v1, x)
    return np.sum(v1) + np.sum(x) + np.abs((v1[2] * y))


INPUT = (np.array([0.26237473, -0.24254627, 0.64768398]), -0.2495155593983314)
