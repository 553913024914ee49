"""Rules for reductions (``sum``, ``mean``) with ``axis`` and ``keepdims``.

The ``if`` tests on ``axis`` and ``keepdims`` are decided when the rule is inlined
(those arguments are constants at the call site), so generated code holds one branch.
"""
import numpy as np

from ..runtime import broadcast_like
from .registry import define


def sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    if axis is None or keepdims:
        return broadcast_like(g, x)
    return broadcast_like(np.expand_dims(g, axis), x)


def sum_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return np.sum(t, axis=axis, keepdims=keepdims)


define(np.sum, methods=("sum",), vjp=sum_vjp, jvp=sum_jvp, display="Sum", linear=True,
       examples=({"axis": 0}, {"axis": 1, "keepdims": True}),
       sympy=lambda sp, x: x)


def mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    if axis is None:
        return broadcast_like(g / np.size(x), x)
    if keepdims:
        return broadcast_like(g / (np.size(x) / np.size(ans)), x)
    return broadcast_like(np.expand_dims(g / (np.size(x) / np.size(ans)), axis), x)


def mean_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return np.mean(t, axis=axis, keepdims=keepdims)


define(np.mean, methods=("mean",), vjp=mean_vjp, jvp=mean_jvp, display="Mean", linear=True,
       examples=({"axis": 0}, {"axis": 1, "keepdims": True}),
       sympy=lambda sp, x: x)
