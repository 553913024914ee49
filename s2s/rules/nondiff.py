"""Functions whose derivative is zero wherever it exists: no gradient flows through them.

Rounding (floor, round, ...) and sign are piecewise constant; comparisons, logical
operations, predicates, arg-functions and counts return booleans or integers; the
``*_like`` constructors read only the shape of their argument.  ``np.full_like`` is
differentiable in its ``fill_value`` and has a rule below.
"""
import math

import numpy as np

from ..runtime import stop_gradient
from .registry import define, define_nondifferentiable


def _existing(*names):
    """The NumPy functions with these names that this NumPy has (``round_``, ``fix``...)."""
    return tuple(getattr(np, name) for name in names if hasattr(np, name))


define_nondifferentiable(
    stop_gradient, np.shape, np.ndim, np.size, len, np.zeros, np.ones, np.empty, np.arange,
    range, int, bool,
    # piecewise constant
    np.floor, np.ceil, np.trunc, np.rint, np.sign, np.floor_divide, np.heaviside,
    math.floor, math.ceil, math.trunc, *_existing("around", "round_", "fix"),
    # comparisons, logic, predicates
    np.greater, np.less, np.equal, np.not_equal, np.greater_equal, np.less_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isnan, np.isfinite,
    np.isinf, np.isclose, np.allclose, np.array_equal, np.signbit, np.searchsorted,
    # constructors that read only a shape
    np.zeros_like, np.ones_like, np.empty_like,
    # indices and counts
    np.flatnonzero, np.argwhere, np.count_nonzero,
)
for _function, _method in ((np.round, "round"), (np.argmax, "argmax"), (np.argmin, "argmin"),
                           (np.all, "all"), (np.any, "any"), (np.argsort, "argsort"),
                           (np.nonzero, "nonzero")):
    define_nondifferentiable(_function, methods=(_method,))


def full_like_vjp_fill_value(g, ans, a, fill_value, dtype=None, order="K", subok=True,
                             shape=None):
    # a gives only the shape; every element is fill_value, so it collects all of g.
    return g


def full_like_jvp_fill_value(t, ans, a, fill_value, dtype=None, order="K", subok=True,
                             shape=None):
    return np.broadcast_to(t, np.shape(ans))


define(np.full_like, vjp=(None, full_like_vjp_fill_value), jvp=(None, full_like_jvp_fill_value),
       broadcasting=True, display="FullLike", linear=True)
