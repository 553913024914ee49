"""A nested function whose result is not differentiated (it only decides a branch) is copied
verbatim into the generated module, which does not provide the globals it reads:
NameError: name 'math' is not defined (calling a module-level helper there gives
NameError: name 'h0' is not defined the same way). Fixed: the globals such a copied
function reads are gathered like the differentiated code's.
"""
import math

import numpy as np

def f(x, y):
    def g0(p1):
        return math.cos(p1[2])
    if g0(x) > 0.3:
        return np.sum(x) * y
    return y


INPUT = (np.array([0.3, 0.1, 0.5]), 0.5)
