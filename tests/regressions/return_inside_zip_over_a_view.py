"""Return inside `for ... in zip(x, x[::-1])` while x is written in place: refused as a stale
view before views of iterated arrays were read afresh each iteration. Long random run."""
import math

import numpy as np


def f(x, y):
    for t0 in (x * 1.0 if 0.5 > 0.3 else x * 1.0):
        x = x * 1.0
        for t1, t2 in zip(x, x[::-1]):
            if y > 0.3:
                return t2
            x[0] = y
            s3 = y
            v4 = x * 1.0
        s5 = y
    return y


INPUT = (np.array([0.019374725804511404, -0.03654627203970331, 0.038683976010746364]), 1.4654844406016685)
