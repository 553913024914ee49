"""An array created and written only in the branch not taken: TypeError in the pullback.

The pullback snapshots and restores every array written by subscript
(`_z_final = np.copy(z)` ... `z[...] = _z_final`) even when z was never created on the
executed path (z is None): 'NoneType' object does not support item assignment.
"""
import math

import numpy as np



def f(x, y):
    if y > 0.3:
        s0 = y * 2.0
    else:
        z1 = x * 1.0
        z1[0] = y
        s0 = np.sum(z1)
    return s0


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
