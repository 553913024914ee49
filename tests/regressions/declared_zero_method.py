"""`x.round()` (and `x.argmax()`): a method whose function is declared non-differentiable
(nondiff.py: np.round with methods=("round",)) makes s2s fail with a bare
S2SError("rule 'round' has no derivative function") from Rule.signature (analysis._bind
asks a declared zero for its signature), with no file, line or hint; `np.round(x)` works.
The derivative is a declared zero: d/dx = x.round() = [0, -1, 1], d/dy = 1.
Found by the wider grammar.
"""
import math

import numpy as np



def f(x, y):
    return np.sum(x.round() * x) + y


INPUT = (np.array([0.3, -0.7, 1.1]), 0.8)
