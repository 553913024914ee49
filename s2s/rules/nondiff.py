"""Functions whose derivative is zero wherever it exists: no gradient flows through them.

Rounding (floor, round, ...) and sign are piecewise constant; comparisons, logical
operations, predicates, arg-functions and counts return booleans or integers; the
``*_like`` constructors read only the shape of their argument.  ``np.full_like`` and
``np.full`` are differentiable in their ``fill_value`` and have rules below.  Nothing is declared here
whose derivative is nonzero anywhere for some floating input: ``np.arange(start, stop)``
(its start) and ``np.heaviside(x1, x2)`` (x2, where x1 == 0) are refused in
:mod:`s2s.rules.refused` instead.
"""
import math
import warnings

import numpy as np

from ..runtime import piecewise_masks, sort_order, stop_gradient
from .domains import Fixed, Shaped
from .registry import define, define_nondifferentiable


def _existing(*names, module=np):
    """The functions of ``module`` with these names that this NumPy has (``round_``...)."""
    with warnings.catch_warnings():     # NumPy 1.25+ warns on its deprecated aliases
        warnings.simplefilter("ignore")
        return tuple(getattr(module, name) for name in names if hasattr(module, name))


define_nondifferentiable(
    stop_gradient, np.shape, np.ndim, np.size, len, np.zeros, np.ones, np.empty, range, int,
    bool, any, all,      # the builtins: truth values of the elements
    sort_order,          # the positions sorted(xs) puts xs's elements in (integers)
    piecewise_masks,     # the boolean masks np.piecewise selects with
    # piecewise constant
    np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
    math.floor, math.ceil, math.trunc, *_existing("around", "round_", "fix"),
    # comparisons, logic, predicates
    np.greater, np.less, np.equal, np.not_equal, np.greater_equal, np.less_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isnan, np.isfinite,
    np.isinf, np.isclose, np.allclose, np.array_equal, np.signbit, np.searchsorted,
    np.argpartition,
    # constructors that read only a shape
    np.zeros_like, np.ones_like, np.empty_like,
    # indices and counts
    np.flatnonzero, np.argwhere, np.count_nonzero,
)
# sign(z) is z / |z| for complex z (NumPy 2): a zero derivative on reals only
define_nondifferentiable(np.sign, complex_ok=False)
for _function, _method in ((np.round, "round"), (np.argmax, "argmax"), (np.argmin, "argmin"),
                           (np.all, "all"), (np.any, "any"), (np.argsort, "argsort"),
                           (np.nonzero, "nonzero")):
    define_nondifferentiable(_function, methods=(_method,))

# The rest of NumPy's zeros, from the inventory (s2s/rules/refused.py).
define_nondifferentiable(*_existing(
    # integer-only operations (bits, divisors)
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert", "invert",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift",
    "bitwise_count", "gcd", "lcm", "packbits", "unpackbits",
    # piecewise constant: the spacing of floats at x
    "spacing",
    # predicates and comparisons of whole arrays
    "array_equiv", "iscomplex", "isreal", "isneginf", "isposinf", "isin", "in1d",
    "iscomplexobj", "isrealobj", "isscalar", "isfortran", "iterable", "may_share_memory",
    "shares_memory", "alltrue", "sometrue",
    # functions of dtypes or shapes only
    "can_cast", "promote_types", "result_type", "min_scalar_type", "common_type",
    "mintypecode", "issubdtype", "isdtype", "finfo", "iinfo", "broadcast_shapes",
    "find_common_type", "issubclass_", "issctype", "issubsctype", "obj2sctype", "sctype2char",
    "maximum_sctype", "byte_bounds",
    # constructors that read only a shape (window functions of a length)
    "eye", "identity", "tri", "indices", "bartlett", "blackman", "hamming", "hanning",
    # index results
    "diag_indices", "diag_indices_from", "tril_indices", "tril_indices_from", "triu_indices",
    "triu_indices_from", "mask_indices", "ravel_multi_index", "unravel_index", "digitize",
    "lexsort", "nanargmax", "nanargmin",
))
define_nondifferentiable(*_existing("matrix_rank", module=np.linalg))     # an integer


def full_like_vjp_fill_value(g, ans, a, fill_value, dtype=None, order="K", subok=True,
                             shape=None):
    # a gives only the shape; every element is fill_value, so it collects all of g.
    return g


def full_like_jvp_fill_value(t, ans, a, fill_value, dtype=None, order="K", subok=True,
                             shape=None):
    # a complex fill value in a real array keeps its real part (NumPy casts it)
    if np.iscomplexobj(ans):
        return np.broadcast_to(t, np.shape(ans))
    return np.broadcast_to(np.real(t), np.shape(ans))


define(np.full_like, vjp=(None, full_like_vjp_fill_value), jvp=(None, full_like_jvp_fill_value),
       broadcasting=True, display="FullLike", linear=True, complex_ok=True)


def full_vjp_fill_value(g, ans, shape, fill_value, dtype=None, order="C", device=None,
                        like=None):
    # every element is fill_value: it collects all of g (summed back to its shape)
    return g


def full_jvp_fill_value(t, ans, shape, fill_value, dtype=None, order="C", device=None,
                        like=None):
    return np.full(np.shape(ans), t)


# np.full(shape, v): specialized gradient code spreads a scalar cotangent with it
define(np.full, vjp=(None, full_vjp_fill_value), jvp=(None, full_jvp_fill_value),
       broadcasting=True, display="Full", linear=True, complex_ok=True,
       domains=(Fixed(value=(2, 3)), Shaped(shape=())))
