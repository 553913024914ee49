"""`q, r = divmod(x + 2.0 * y, 0.5 + y * y)`, d/dy alone (forward mode): 6.0 instead of 1.2.

The JVP code adds the per-argument contributions of a rule with two outputs as tuples:
`_t0_d = (zeros, t_x) + (zeros, -t_d * np.floor(a / d) + zeros)` is tuple concatenation (four
entries), so `r_d = _t0_d[1]` keeps the numerator's tangent only and the divisor's is lost
(when only one argument is differentiated the code is right). Reverse mode and finite
differences agree on 1.2 (= 3 * 2 - 2 * y * sum(floor(a / d))).
Found by the wider grammar (random programs drawing divmod).
"""
import math

import numpy as np



def f(x, y):
    q, r = divmod(x + 2.0 * y, 0.5 + y * y)
    return np.sum(r)


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
