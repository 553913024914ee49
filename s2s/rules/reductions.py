"""Rules for reductions (``sum``, ``mean``, ``max``, ``var``...) with ``axis`` and ``keepdims``.

The ``if`` tests on ``axis`` and ``keepdims`` are decided when the rule is inlined
(those arguments are constants at the call site), so generated code holds one branch.
Each VJP first gives ``g`` (and ``ans`` where needed) back the reduced axes, with
``np.expand_dims(g, axis)`` unless they were kept, then spreads it over ``x``.

``logsumexp`` needs no rule: written in NumPy as
``m = np.max(x, axis, keepdims=True); m + np.log(np.sum(np.exp(x - m), axis, keepdims=True))``
it is differentiated through ``max`` (whose share cancels out), ``exp``, ``sum`` and ``log``.
"""
import numpy as np

from ..runtime import (
    broadcast_like,
    cumprod_adjoint,
    cumprod_tangent,
    product_of_others,
    split_evenly,
)
from .registry import POSITIVE, Domain, define

AXES = ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)})


def sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    if axis is None or keepdims:
        return broadcast_like(g, x)
    return broadcast_like(np.expand_dims(g, axis), x)


def sum_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return np.sum(t, axis=axis, keepdims=keepdims)


define(np.sum, methods=("sum",), vjp=sum_vjp, jvp=sum_jvp, display="Sum", linear=True,
       examples=({}, {"axis": 0}, {"axis": 1, "keepdims": True}),
       sympy=lambda sp, x: x, complex_ok=True)


def mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    if axis is None:
        return broadcast_like(g / np.size(x), x)
    if keepdims:
        return broadcast_like(g / (np.size(x) / np.size(ans)), x)
    return broadcast_like(np.expand_dims(g / (np.size(x) / np.size(ans)), axis), x)


def mean_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return np.mean(t, axis=axis, keepdims=keepdims)


define(np.mean, methods=("mean",), vjp=mean_vjp, jvp=mean_jvp, display="Mean", linear=True,
       examples=({}, {"axis": 0}, {"axis": 1, "keepdims": True}),
       sympy=lambda sp, x: x, complex_ok=True)


def prod_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    # Products of the other elements, not ans / x: exact where x holds zeros.
    if axis is None or keepdims:
        return g * product_of_others(x, axis)
    return np.expand_dims(g, axis) * product_of_others(x, axis)


def prod_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return np.sum(t * product_of_others(x, axis), axis=axis, keepdims=keepdims)


define(np.prod, methods=("prod",), vjp=prod_vjp, jvp=prod_jvp, display="Prod",
       domains=Domain(0.5, 1.5), examples=AXES, sympy=lambda sp, x: x, complex_ok=True)


def max_vjp(g, ans, x, axis=None, out=None, keepdims=False):
    # Ties split the cotangent evenly among the tied maxima.
    if axis is None or keepdims:
        return g * split_evenly(x == ans, x, axis)
    return np.expand_dims(g, axis) * split_evenly(x == np.expand_dims(ans, axis), x, axis)


def max_jvp(t, ans, x, axis=None, out=None, keepdims=False):
    if axis is None or keepdims:
        return np.sum(t * split_evenly(x == ans, x, axis), axis=axis, keepdims=keepdims)
    weights = split_evenly(x == np.expand_dims(ans, axis), x, axis)
    return np.sum(t * weights, axis=axis, keepdims=keepdims)


define(np.max, name="max", aliases=(np.amax,), methods=("max",), vjp=max_vjp,
       jvp=max_jvp, display="Max", examples=AXES, sympy=lambda sp, x: x, complex_ok=True)


def min_vjp(g, ans, x, axis=None, out=None, keepdims=False):
    # Ties split the cotangent evenly among the tied minima.
    if axis is None or keepdims:
        return g * split_evenly(x == ans, x, axis)
    return np.expand_dims(g, axis) * split_evenly(x == np.expand_dims(ans, axis), x, axis)


def min_jvp(t, ans, x, axis=None, out=None, keepdims=False):
    if axis is None or keepdims:
        return np.sum(t * split_evenly(x == ans, x, axis), axis=axis, keepdims=keepdims)
    weights = split_evenly(x == np.expand_dims(ans, axis), x, axis)
    return np.sum(t * weights, axis=axis, keepdims=keepdims)


define(np.min, name="min", aliases=(np.amin,), methods=("min",), vjp=min_vjp,
       jvp=min_jvp, display="Min", examples=AXES, sympy=lambda sp, x: x, complex_ok=True)


def var_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # var = mean(|x - mean(x)|**2): for complex x, Re(g) and the conjugate (not holomorphic).
    centred = np.conj(x - np.mean(x, axis=axis, keepdims=True))
    count = np.size(x) / np.size(ans) - ddof
    if axis is None or keepdims:
        return 2 * np.real(g) * centred / count
    return 2 * np.expand_dims(np.real(g), axis) * centred / count


def var_jvp(t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = np.conj(x - np.mean(x, axis=axis, keepdims=True))
    count = np.size(x) / np.size(ans) - ddof
    return 2 * np.real(np.sum(t * centred, axis=axis, keepdims=keepdims)) / count


define(np.var, methods=("var",), vjp=var_vjp, jvp=var_jvp, display="Var",
       examples=({}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "ddof": 1, "keepdims": True}),
       complex_ok=True)


def std_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # Subgradient 0 where the standard deviation is 0 (all values equal).  Complex x: as var.
    centred = np.conj(x - np.mean(x, axis=axis, keepdims=True))
    count = np.size(x) / np.size(ans) - ddof
    if axis is None or keepdims:
        return np.real(g) * centred / (count * np.where(ans == 0, 1.0, ans))
    kept = np.expand_dims(ans, axis)
    return np.expand_dims(np.real(g), axis) * centred / (count * np.where(kept == 0, 1.0, kept))


def std_jvp(t, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = np.conj(x - np.mean(x, axis=axis, keepdims=True))
    count = np.size(x) / np.size(ans) - ddof
    spread = np.real(np.sum(t * centred, axis=axis, keepdims=keepdims))
    return spread / (count * np.where(ans == 0, 1.0, ans))


define(np.std, methods=("std",), vjp=std_vjp, jvp=std_jvp, display="Std",
       examples=({}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "ddof": 1, "keepdims": True}),
       complex_ok=True)


def cumsum_vjp(g, ans, x, axis=None, dtype=None, out=None):
    # Reversed cumulative sums; without an axis, x was flattened.
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def cumsum_jvp(t, ans, x, axis=None, dtype=None, out=None):
    return np.cumsum(t, axis=axis)


define(np.cumsum, methods=("cumsum",), vjp=cumsum_vjp, jvp=cumsum_jvp, display="Cumsum",
       linear=True, examples=({}, {"axis": 0}, {"axis": -1}), complex_ok=True)


def cumprod_vjp(g, ans, x, axis=None, dtype=None, out=None):
    # A backward recurrence, not division by x: exact where x holds zeros.
    return cumprod_adjoint(g, x, axis)


def cumprod_jvp(t, ans, x, axis=None, dtype=None, out=None):
    return cumprod_tangent(t, x, axis)


define(np.cumprod, methods=("cumprod",), vjp=cumprod_vjp, jvp=cumprod_jvp, display="Cumprod",
       domains=Domain(0.5, 1.5), examples=({}, {"axis": 0}, {"axis": -1}), complex_ok=True)


def nansum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries count as zeros: they get no gradient.
    if axis is None or keepdims:
        return g * ~np.isnan(x)
    return np.expand_dims(g, axis) * ~np.isnan(x)


def nansum_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    # np.where, not t * mask: a NaN entry's tangent may be NaN itself
    return np.sum(np.where(np.isnan(x), 0.0, t), axis=axis, keepdims=keepdims)


define(np.nansum, vjp=nansum_vjp, jvp=nansum_jvp, display="Nansum", examples=AXES, complex_ok=True)


def nanmean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    # The mean of the entries that are not NaN; NaN entries get no gradient.
    if axis is None or keepdims:
        return g * split_evenly(~np.isnan(x), x, axis)
    return np.expand_dims(g, axis) * split_evenly(~np.isnan(x), x, axis)


def nanmean_jvp(t, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    finite = np.where(np.isnan(x), 0.0, t)       # a NaN entry's tangent may be NaN itself
    return np.sum(finite * split_evenly(~np.isnan(x), x, axis), axis=axis, keepdims=keepdims)


define(np.nanmean, vjp=nanmean_vjp, jvp=nanmean_jvp, display="Nanmean", domains=POSITIVE,
       examples=AXES, complex_ok=True)
