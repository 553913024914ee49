"""Rules for differences, sums over samples, products of vectors, signals, polynomials and
interpolation: ``diff``, ``ediff1d``, ``gradient``, ``trapezoid`` (``trapz`` before NumPy
2), ``cross``, ``convolve``, ``correlate``, ``interp``, ``polyval``, ``polyfit``.

The linear ones are differentiated through their transposes, written with rules: the
transpose of the n-th difference is ``(-1)**n`` times the n-th difference of the cotangent
padded with n zeros on both sides; that of a full convolution with ``v`` is the valid
correlation with ``v``, the other modes being the full one cut (so their cotangents are
padded back to the full length first).  ``np.gradient``'s stencils (central differences
inside, one-sided ones of ``edge_order`` at the ends, uniform or coordinate spacing) are
read off NumPy itself (:func:`s2s.runtime.gradient_stencil`) and transposed by
:func:`s2s.runtime.gradient_adjoint`, which has a rule of its own.

Not differentiated (a differentiated value there is refused): ``np.gradient``'s spacings,
``np.interp``'s knots ``xp`` (and ``left``, ``right``, ``period``), ``np.polyfit``'s
weights ``w``.  ``np.interp`` is piecewise linear: at a knot its derivative in ``x`` is the
slope of the segment to the knot's right (the one NumPy evaluates), at the last knot that
of the last segment, and 0 outside the knots.  ``np.polyfit`` is differentiated for a
design matrix of full column rank (the least-squares solution's derivative, Golub and
Pereyra 1973), with ``full=False`` and ``cov=False``.  ``np.cross`` takes vectors of 3 or
2 components (a 2-vector has a zero third component).
"""
import warnings

import numpy as np

from ..runtime import (
    along_axis_shape,
    arange_like,
    axis_pad_width,
    axis_slice,
    concatenated_length,
    convolution_padding,
    cross_adjoint,
    gradient_adjoint,
    gradient_of,
    gradient_stencil,
    interp_segments,
    polyfit_weights,
    powers_of,
    replace_axis,
    take_adjoint,
    unbroadcast,
    zeros_like,
    zeros_or_absent,
    zeros_or_none,
)
from .domains import NotDifferentiated, Shaped
from .registry import REAL, Domain, define, define_nondifferentiable

INTEGER = Domain(integer=True)
SPACING = NotDifferentiated(0.5, 1.5)
KNOTS = np.array([0.0, 0.4, 1.3, 1.9, 3.0])                # np.interp's xp in the examples

define_nondifferentiable(axis_pad_width, axis_slice, concatenated_length, convolution_padding,
                         gradient_stencil, interp_segments, polyfit_weights, replace_axis,
                         zeros_or_absent, zeros_or_none)

# --- differences --------------------------------------------------------------------------------


def diff_vjp_a(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    # The transpose of the n-th difference: (-1)**n times the n-th difference of g padded
    # with n zeros at both ends; prepend's and append's parts are cut off.  (n = 0: a.)
    if n == 0:
        return g
    full = (-1) ** n * np.diff(np.pad(g, axis_pad_width(np.ndim(g), axis, n, n)), n, axis)
    start = concatenated_length(prepend, axis)
    return np.take(full, np.arange(start, start + np.shape(a)[axis]), axis)


def diff_vjp_prepend(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    # A scalar prepend is broadcast along the axis: its cotangent is summed.
    if n == 0:
        return zeros_like(prepend)
    full = (-1) ** n * np.diff(np.pad(g, axis_pad_width(np.ndim(g), axis, n, n)), n, axis)
    return unbroadcast(np.take(full, np.arange(concatenated_length(prepend, axis)), axis),
                       prepend)


def diff_vjp_append(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    if n == 0:
        return zeros_like(append)
    full = (-1) ** n * np.diff(np.pad(g, axis_pad_width(np.ndim(g), axis, n, n)), n, axis)
    end = np.shape(full)[axis]
    return unbroadcast(np.take(full, np.arange(end - concatenated_length(append, axis), end),
                               axis), append)


def diff_jvp_a(t, ans, a, n=1, axis=-1, prepend=None, append=None):
    if n == 0:
        return t
    if prepend is None:
        if append is None:
            return np.diff(t, n, axis)
    return np.diff(t, n, axis, zeros_or_absent(prepend), zeros_or_absent(append))


def diff_jvp_prepend(t, ans, a, n=1, axis=-1, prepend=None, append=None):
    if n == 0:
        return np.zeros_like(ans)
    return np.diff(np.zeros_like(a), n, axis, t, zeros_or_absent(append))


def diff_jvp_append(t, ans, a, n=1, axis=-1, prepend=None, append=None):
    if n == 0:
        return np.zeros_like(ans)
    return np.diff(np.zeros_like(a), n, axis, zeros_or_absent(prepend), t)


define(np.diff, vjp=(diff_vjp_a, None, None, diff_vjp_prepend, diff_vjp_append),
       jvp=(diff_jvp_a, None, None, diff_jvp_prepend, diff_jvp_append), display="Diff",
       linear=True, domains=(REAL, INTEGER, INTEGER, Shaped(shape=(3, 2)), Shaped(shape=(3, 1))),
       examples=({"n": 1, "axis": -1}, {"n": 2, "axis": 1}, {"n": 3, "axis": -1},
                 {"n": 0, "axis": 1}), complex_ok=True)


def ediff1d_vjp_ary(g, ans, ary, to_end=None, to_begin=None):
    # The differences of the flattened ary sit between to_begin and to_end.
    start = 0 if to_begin is None else np.size(to_begin)
    middle = g[start:start + np.size(ary) - 1]
    return np.reshape(-np.diff(np.pad(middle, 1)), np.shape(ary))


def ediff1d_vjp_to_end(g, ans, ary, to_end=None, to_begin=None):
    return np.reshape(g[np.size(g) - np.size(to_end):], np.shape(to_end))


def ediff1d_vjp_to_begin(g, ans, ary, to_end=None, to_begin=None):
    return np.reshape(g[:np.size(to_begin)], np.shape(to_begin))


def ediff1d_jvp_ary(t, ans, ary, to_end=None, to_begin=None):
    return np.ediff1d(t, zeros_or_none(to_end), zeros_or_none(to_begin))


def ediff1d_jvp_to_end(t, ans, ary, to_end=None, to_begin=None):
    return np.ediff1d(np.zeros_like(ary), t, zeros_or_none(to_begin))


def ediff1d_jvp_to_begin(t, ans, ary, to_end=None, to_begin=None):
    return np.ediff1d(np.zeros_like(ary), zeros_or_none(to_end), t)


define(np.ediff1d, vjp=(ediff1d_vjp_ary, ediff1d_vjp_to_end, ediff1d_vjp_to_begin),
       jvp=(ediff1d_jvp_ary, ediff1d_jvp_to_end, ediff1d_jvp_to_begin), display="Diff",
       linear=True, domains=(REAL, Shaped(shape=(2,)), Shaped(shape=())), complex_ok=True)


# np.gradient(f, *spacings): one rule position per positional argument, as for np.einsum;
# only f (position 0) is differentiated, the spacings are refused if differentiated.
def gradient_vjp(g, ans, *arguments, axis=None, edge_order=1):
    # g: one cotangent per axis (a tuple, None: zero) or one array.
    return gradient_adjoint(g, arguments, axis, edge_order)


def gradient_jvp(t, ans, *arguments, axis=None, edge_order=1):
    return gradient_of(t, arguments, axis, edge_order)


define(np.gradient, vjp=(gradient_vjp, None, None, None), jvp=(gradient_jvp, None, None, None),
       display="Gradient", linear=True, domains=(REAL, SPACING, SPACING, SPACING),
       examples=({"arguments": ((5,),)}, {"arguments": ((3, 4),)},
                 {"arguments": ((4, 5), 0.5), "edge_order": 2},
                 {"arguments": ((4, 5), 0.5, np.array([0.0, 0.3, 1.1, 1.5, 2.6]))},
                 {"arguments": ((4, 5),), "axis": 1},
                 {"arguments": ((4, 5), np.array([0.0, 1.0, 1.5, 3.0])), "axis": 0,
                  "edge_order": 2},
                 {"arguments": ((2, 3, 4), 2.0), "axis": (2, 0)},
                 {"arguments": ((2, 5),), "axis": -1}))


def gradient_adjoint_vjp_g(g, ans, h, arguments, axis=None, edge_order=1):
    # The transpose of the transpose: np.gradient itself.
    return gradient_of(g, arguments, axis, edge_order)


def gradient_adjoint_jvp_g(t, ans, h, arguments, axis=None, edge_order=1):
    return gradient_adjoint(t, arguments, axis, edge_order)


define(gradient_adjoint, vjp=(gradient_adjoint_vjp_g, None),
       jvp=(gradient_adjoint_jvp_g, None), display="GradientAdjoint", linear=True,
       domains=(Shaped(shape=(6,)), Shaped(shape=(6,))),
       examples=({"arguments": (np.zeros(6), 0.5)}, {"arguments": (np.zeros(6),),
                                                     "edge_order": 2}))


def gradient_of_vjp_t(g, ans, h, arguments, axis=None, edge_order=1):
    return gradient_adjoint(g, arguments, axis, edge_order)


def gradient_of_jvp_t(t, ans, h, arguments, axis=None, edge_order=1):
    return gradient_of(t, arguments, axis, edge_order)


define(gradient_of, vjp=(gradient_of_vjp_t, None), jvp=(gradient_of_jvp_t, None),
       display="Gradient", linear=True, domains=(Shaped(shape=(6,)), Shaped(shape=(6,))),
       examples=({"arguments": (np.zeros(6), 0.5)},
                 {"arguments": (np.zeros(6), np.linspace(0.0, 2.0, 6) ** 2),
                  "edge_order": 2}))

# --- integration by the trapezoidal rule -------------------------------------------------------

_TRAPEZOID = getattr(np, "trapezoid", None) or getattr(np, "trapz")      # NumPy < 2: trapz


def _existing(*names):
    """The NumPy functions with these names that this NumPy has (``trapz`` before 2.4)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(getattr(np, name) for name in names if hasattr(np, name)
                     and getattr(np, name) is not _TRAPEZOID)


def trapezoid_vjp_y(g, ans, y, x=None, dx=1.0, axis=-1):
    # sum_i d_i (y_i + y_{i+1}) / 2 with d = dx or np.diff(x): each y_i gets half of the
    # spacings on its two sides.
    if x is None:
        spacing = dx
    elif np.ndim(x) == 1:
        spacing = np.reshape(np.diff(x), along_axis_shape(np.ndim(y), axis, np.size(x) - 1))
    else:
        spacing = np.diff(x, axis=axis)
    shape = replace_axis(np.shape(y), axis, np.shape(y)[axis] - 1)
    share = np.broadcast_to(np.expand_dims(g, axis) * spacing, shape) / 2
    return np.pad(share, axis_pad_width(np.ndim(y), axis, 1, 0)) \
        + np.pad(share, axis_pad_width(np.ndim(y), axis, 0, 1))


def trapezoid_vjp_x(g, ans, y, x=None, dx=1.0, axis=-1):
    # Linear in x through d = np.diff(x): the transpose of diff on the mean heights.
    heights = (y[axis_slice(np.ndim(y), axis, 1, None)]
               + y[axis_slice(np.ndim(y), axis, None, -1)]) / 2
    spacing_b = np.expand_dims(g, axis) * heights
    full = np.pad(spacing_b, axis_pad_width(np.ndim(y), axis, 1, 0)) \
        - np.pad(spacing_b, axis_pad_width(np.ndim(y), axis, 0, 1))
    if np.ndim(x) == 1:
        along = np.reshape(x, along_axis_shape(np.ndim(y), axis, np.size(x)))
        return np.reshape(unbroadcast(full, along), np.shape(x))
    return unbroadcast(full, x)


def trapezoid_vjp_dx(g, ans, y, x=None, dx=1.0, axis=-1):
    # dx is used only without x.
    if x is None:
        heights = (y[axis_slice(np.ndim(y), axis, 1, None)]
                   + y[axis_slice(np.ndim(y), axis, None, -1)]) / 2
        return unbroadcast(np.expand_dims(g, axis) * heights, dx)
    return zeros_like(dx)


def trapezoid_jvp_y(t, ans, y, x=None, dx=1.0, axis=-1):
    if x is None:
        spacing = dx
    elif np.ndim(x) == 1:
        spacing = np.reshape(np.diff(x), along_axis_shape(np.ndim(y), axis, np.size(x) - 1))
    else:
        spacing = np.diff(x, axis=axis)
    heights = (t[axis_slice(np.ndim(y), axis, 1, None)]
               + t[axis_slice(np.ndim(y), axis, None, -1)]) / 2
    return np.sum(spacing * heights, axis=axis)


def trapezoid_jvp_x(t, ans, y, x=None, dx=1.0, axis=-1):
    if np.ndim(x) == 1:
        spacing = np.reshape(np.diff(t), along_axis_shape(np.ndim(y), axis, np.size(x) - 1))
    else:
        spacing = np.diff(t, axis=axis)
    heights = (y[axis_slice(np.ndim(y), axis, 1, None)]
               + y[axis_slice(np.ndim(y), axis, None, -1)]) / 2
    return np.sum(spacing * heights, axis=axis)


def trapezoid_jvp_dx(t, ans, y, x=None, dx=1.0, axis=-1):
    if x is None:
        heights = (y[axis_slice(np.ndim(y), axis, 1, None)]
                   + y[axis_slice(np.ndim(y), axis, None, -1)]) / 2
        return np.sum(t * heights, axis=axis)
    return np.zeros_like(ans)


define(_TRAPEZOID, name="trapezoid", aliases=_existing("trapz"),
       vjp=(trapezoid_vjp_y, trapezoid_vjp_x, trapezoid_vjp_dx),
       jvp=(trapezoid_jvp_y, trapezoid_jvp_x, trapezoid_jvp_dx), display="Trapezoid",
       domains=(REAL, REAL, Shaped(shape=())),
       examples=({"axis": -1}, {"axis": 0}, {"x": None, "axis": 1}, {"x": None, "dx": 0.25}),
       complex_ok=True)

# --- products of vectors ------------------------------------------------------------------------


def cross_vjp_a(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    # <g, a x b> = <a, b x g>.
    return cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 0)


def cross_vjp_b(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    # <g, a x b> = <b, g x a>.
    return cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 1)


def cross_jvp_a(t, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return np.cross(t, b, axisa, axisb, axisc, axis)


def cross_jvp_b(t, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return np.cross(a, t, axisa, axisb, axisc, axis)


define(np.cross, vjp=(cross_vjp_a, cross_vjp_b), jvp=(cross_jvp_a, cross_jvp_b),
       display="LinalgCross", domains=(Shaped(shape=(4, 3)), Shaped(shape=(4, 3))),
       examples=({}, {"axisc": 0}), complex_ok=True)


def cross_adjoint_vjp_g(g, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    # which=0 computes b x h in a's layout, which=1 h x a in b's: both are cross products
    # again when transposed.
    if which == 0:
        return np.cross(g, b, axisa, axisb, axisc, axis)
    return np.cross(a, g, axisa, axisb, axisc, axis)


def cross_adjoint_vjp_a(g, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    # which=0 reads only a's shape.
    if which == 0:
        return zeros_like(a)
    return cross_adjoint(h, a, g, axisa, axisb, axisc, axis, 0)


def cross_adjoint_vjp_b(g, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    if which == 0:
        return cross_adjoint(h, g, b, axisa, axisb, axisc, axis, 1)
    return zeros_like(b)


def cross_adjoint_jvp_g(t, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    return cross_adjoint(t, a, b, axisa, axisb, axisc, axis, which)


def cross_adjoint_jvp_a(t, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    if which == 0:
        return np.zeros_like(ans)
    return cross_adjoint(h, t, b, axisa, axisb, axisc, axis, 1)


def cross_adjoint_jvp_b(t, ans, h, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    if which == 0:
        return cross_adjoint(h, a, t, axisa, axisb, axisc, axis, 0)
    return np.zeros_like(ans)


define(cross_adjoint, vjp=(cross_adjoint_vjp_g, cross_adjoint_vjp_a, cross_adjoint_vjp_b),
       jvp=(cross_adjoint_jvp_g, cross_adjoint_jvp_a, cross_adjoint_jvp_b),
       display="CrossAdjoint", domains=(Shaped(shape=(4, 3)),) * 3,
       examples=({"which": 0}, {"which": 1}), complex_ok=True)

# --- convolution and correlation ---------------------------------------------------------------


def convolve_vjp_a(g, ans, a, v, mode="full"):
    # a[m] adds a[m] v into the full result at offset m: a's cotangent is the valid
    # correlation of the full-length cotangent (g padded back to 'full') with v.
    full = np.pad(g, convolution_padding(np.size(a), np.size(v), mode))
    return np.correlate(full, v, "valid")


def convolve_vjp_v(g, ans, a, v, mode="full"):
    full = np.pad(g, convolution_padding(np.size(a), np.size(v), mode))
    return np.correlate(full, a, "valid")


def convolve_jvp_a(t, ans, a, v, mode="full"):
    return np.convolve(t, v, mode)


def convolve_jvp_v(t, ans, a, v, mode="full"):
    return np.convolve(a, t, mode)


define(np.convolve, vjp=(convolve_vjp_a, convolve_vjp_v), jvp=(convolve_jvp_a, convolve_jvp_v),
       display="Conv1d", domains=(Shaped(shape=(6,)), Shaped(shape=(3,))),
       examples=({}, {"mode": "same"}, {"mode": "valid"}))


def correlate_vjp_a(g, ans, a, v, mode="valid"):
    # The full correlation is the full convolution with v reversed.
    full = np.pad(g, convolution_padding(np.size(a), np.size(v), mode, True))
    return np.correlate(full, np.flip(v), "valid")


def correlate_vjp_v(g, ans, a, v, mode="valid"):
    full = np.pad(g, convolution_padding(np.size(a), np.size(v), mode, True))
    return np.flip(np.correlate(full, a, "valid"))


def correlate_jvp_a(t, ans, a, v, mode="valid"):
    return np.correlate(t, v, mode)


def correlate_jvp_v(t, ans, a, v, mode="valid"):
    return np.correlate(a, t, mode)


define(np.correlate, vjp=(correlate_vjp_a, correlate_vjp_v),
       jvp=(correlate_jvp_a, correlate_jvp_v), display="Correlate",
       domains=(Shaped(shape=(6,)), Shaped(shape=(3,))),
       examples=({}, {"mode": "same"}, {"mode": "full"}))

# --- interpolation and polynomials ---------------------------------------------------------------


def interp_vjp_x(g, ans, x, xp, fp, left=None, right=None, period=None):
    # Piecewise linear: the slope of the segment x falls on; 0 outside the knots.
    lower, upper, x0, x1, inside, below, above = interp_segments(x, xp, left, right, period)
    slope = (np.take(fp, upper) - np.take(fp, lower)) / np.where(x1 > x0, x1 - x0, 1.0)
    return g * np.where(inside, slope, 0.0)


def interp_vjp_fp(g, ans, x, xp, fp, left=None, right=None, period=None):
    # Each value is (1 - s) fp[lower] + s fp[upper], s the position on the segment; left of
    # the knots fp[0] (without left=), right of them fp[-1] (without right=).
    lower, upper, x0, x1, inside, below, above = interp_segments(x, xp, left, right, period)
    if period is None:
        share = (x - x0) / np.where(x1 > x0, x1 - x0, 1.0)
    else:
        share = (np.remainder(x, np.abs(period)) - x0) / np.where(x1 > x0, x1 - x0, 1.0)
    lower_weight = np.where(inside, 1 - share, below)
    upper_weight = np.where(inside, share, above)
    return take_adjoint(g * lower_weight, fp, lower) + take_adjoint(g * upper_weight, fp, upper)


def interp_jvp_x(t, ans, x, xp, fp, left=None, right=None, period=None):
    lower, upper, x0, x1, inside, below, above = interp_segments(x, xp, left, right, period)
    slope = (np.take(fp, upper) - np.take(fp, lower)) / np.where(x1 > x0, x1 - x0, 1.0)
    return t * np.where(inside, slope, 0.0)


def interp_jvp_fp(t, ans, x, xp, fp, left=None, right=None, period=None):
    lower, upper, x0, x1, inside, below, above = interp_segments(x, xp, left, right, period)
    if period is None:
        share = (x - x0) / np.where(x1 > x0, x1 - x0, 1.0)
    else:
        share = (np.remainder(x, np.abs(period)) - x0) / np.where(x1 > x0, x1 - x0, 1.0)
    return np.take(t, lower) * np.where(inside, 1 - share, below) \
        + np.take(t, upper) * np.where(inside, share, above)


define(np.interp, vjp=(interp_vjp_x, None, interp_vjp_fp), jvp=(interp_jvp_x, None, interp_jvp_fp),
       display="Interp", domains=(Domain(-0.5, 3.5), NotDifferentiated(), Shaped(shape=(5,))),
       examples=({"xp": KNOTS}, {"xp": KNOTS, "left": -1.0, "right": 2.0},
                 {"xp": KNOTS, "period": 2.5}))


def polyval_vjp_p(g, ans, p, x):
    # y = sum_i p_i x ** (n - 1 - i): the cotangent times the powers of x, summed over x.
    return np.reshape(g, (-1,)) @ np.reshape(powers_of(x, np.size(p)), (-1, np.size(p)))


def polyval_vjp_x(g, ans, p, x):
    # The derivative polynomial, with coefficients p_i (n - 1 - i).
    coefficients = np.asarray(p)
    return g * np.polyval(coefficients[:-1] * arange_like(np.size(p) - 1, 0, -1, coefficients),
                          x)


def polyval_jvp_p(t, ans, p, x):
    return np.polyval(t, x)


def polyval_jvp_x(t, ans, p, x):
    coefficients = np.asarray(p)
    return t * np.polyval(coefficients[:-1] * arange_like(np.size(p) - 1, 0, -1, coefficients),
                          x)


def powers_of_vjp(g, ans, x, count):
    # Entry k holds x ** e_k (e_k = count - 1 - k); its derivative e_k x ** (e_k - 1) is e_k
    # times the next entry.
    exponents = arange_like(count - 1, 0, -1, ans)
    return np.sum(g[..., :-1] * ans[..., 1:] * exponents, axis=-1)


def powers_of_jvp(t, ans, x, count):
    exponents = arange_like(count - 1, 0, -1, ans)
    return np.pad(ans[..., 1:] * exponents, [(0, 0)] * np.ndim(x) + [(0, 1)]) \
        * np.expand_dims(t, -1)


define(powers_of, vjp=powers_of_vjp, jvp=powers_of_jvp, display="Powers",
       examples=({"count": 4}, {"count": 1}), complex_ok=True)


define(np.polyval, vjp=(polyval_vjp_p, polyval_vjp_x), jvp=(polyval_jvp_p, polyval_jvp_x),
       display="Polyval", domains=(Shaped(shape=(4,)), REAL), complex_ok=True)


def polyfit_vjp_x(g, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    # p minimizes |W (V p - y)| with V = np.vander(x, deg + 1), W = diag(w).  With A = W V,
    # P = pinv(A) and the weighted residual r = W y - A p, the cotangent of A is
    # r (P P^T g)^T - (P^T g) p^T (Golub and Pereyra 1973); then through the powers of x.
    weights = polyfit_weights(x, w, full, cov)
    powers = np.vander(x, deg + 1)
    design = powers * np.expand_dims(weights, 1)
    pseudo = np.linalg.pinv(design)
    coefficients = np.reshape(ans, (deg + 1, -1))
    back = pseudo.T @ np.reshape(g, (deg + 1, -1))
    residual = np.reshape(y, (np.size(x), -1)) * np.expand_dims(weights, 1) \
        - design @ coefficients
    powers_b = (residual @ (pseudo @ back).T - back @ coefficients.T) * np.expand_dims(weights, 1)
    return np.sum(powers_b[:, :-1] * powers[:, 1:] * arange_like(deg, 0, -1, powers), axis=1)


def polyfit_vjp_y(g, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    # Linear in y: p = P W y.
    weights = polyfit_weights(x, w, full, cov)
    design = np.vander(x, deg + 1) * np.expand_dims(weights, 1)
    back = np.linalg.pinv(design).T @ np.reshape(g, (deg + 1, -1))
    return np.reshape(back * np.expand_dims(weights, 1), np.shape(y))


def polyfit_jvp_x(t, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    weights = polyfit_weights(x, w, full, cov)
    powers = np.vander(x, deg + 1)
    design = powers * np.expand_dims(weights, 1)
    pseudo = np.linalg.pinv(design)
    coefficients = np.reshape(ans, (deg + 1, -1))
    residual = np.reshape(y, (np.size(x), -1)) * np.expand_dims(weights, 1) \
        - design @ coefficients
    slopes = np.pad(powers[:, 1:] * arange_like(deg, 0, -1, powers), ((0, 0), (0, 1)))
    design_d = slopes * np.expand_dims(t * weights, 1)
    tangent = pseudo @ (pseudo.T @ (design_d.T @ residual)) - pseudo @ (design_d @ coefficients)
    return np.reshape(tangent, np.shape(ans))


def polyfit_jvp_y(t, ans, x, y, deg, rcond=None, full=False, w=None, cov=False):
    weights = polyfit_weights(x, w, full, cov)
    design = np.vander(x, deg + 1) * np.expand_dims(weights, 1)
    tangent = np.linalg.pinv(design) @ (np.reshape(t, (np.size(x), -1))
                                        * np.expand_dims(weights, 1))
    return np.reshape(tangent, np.shape(ans))


define(np.polyfit, vjp=(polyfit_vjp_x, polyfit_vjp_y), jvp=(polyfit_jvp_x, polyfit_jvp_y),
       display="Polyfit", domains=(Shaped(-1.0, 1.0, shape=(6,)), Shaped(shape=(6,))),
       examples=({"deg": 2}, {"deg": 1, "w": np.array([1.0, 0.5, 2.0, 1.5, 1.0, 0.7])},
                 {"deg": 3}))
