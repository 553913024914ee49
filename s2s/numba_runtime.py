"""The runtime helpers that numba-compiled derivative code imports (``backend="numba"``).

The lowering (:mod:`s2s.lower_numba`) spells most of :mod:`s2s.runtime` out where the
shapes are known; what remains is here, as numba overloads chosen by the argument's
type at compile time (:mod:`s2s.runtime` decides with ``isinstance`` at run time, which
numba cannot compile).  Importing this module imports numba: only the lowered modules do.
"""
from __future__ import annotations

import functools

import numba
import numpy as np
from numba import types
from numba.extending import overload as numba_overload
from numba.np.numpy_support import as_dtype

__all__ = ["unbroadcast", "broadcast_like", "expand_dims", "full", "multiply_outer", "zeros_like",
           "stack_like", "add_into", "subtract_into", "multiply_into", "broadcast_length",
           "reuse"]


def overload(function, **options):
    """numba's ``overload``, the implementation chosen by each argument's type with an
    ``Optional`` one taken as the type it holds.  A loop's placeholder (``_t1 = None`` before
    the loop, an array in it) makes a name ``Optional(array)``; chosen by the ``Optional``
    type itself, an array helper would take it for a number (``broadcast_like(g, _t1)``
    gave ``g`` unspread: a wrong gradient).  numba tests the value when running (``None``
    raises, as it would in Python); a ``None`` not yet unified with the loop's arrays has
    no implementation until it is."""
    def register(choose):
        @functools.wraps(choose)               # numba reads the parameters' names
        def chosen(*argument_types):
            if any(isinstance(t, types.NoneType) for t in argument_types):
                return None                    # not yet an Optional: decided once it is
            return choose(*[t.type if isinstance(t, types.Optional) else t
                            for t in argument_types])
        return numba_overload(function, **options)(chosen)
    return register


def zeros_like(x):
    """A zero cotangent for ``x`` (as :func:`s2s.runtime.zeros_like`): ``0.0`` for a
    number, zeros of the array's float dtype for an array."""
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, np.float32))
    return 0.0


@overload(zeros_like)
def _zeros_like(x):
    if isinstance(x, types.Array):
        dtype = x.dtype if isinstance(x.dtype, types.Float) else types.float64
        return lambda x: np.zeros(x.shape, dtype=dtype)
    if isinstance(x, types.Float):
        zero = as_dtype(x).type(0.0)
        return lambda x: zero
    if isinstance(x, (types.Integer, types.Boolean)):
        return lambda x: 0.0
    return None


def full(shape, value):
    """``np.full(shape, value)``, where ``value`` may be an array broadcast into ``shape``
    (numba's ``np.full`` takes a number only)."""
    return np.full(shape, value)


@overload(full)
def _full(shape, value):
    if isinstance(value, types.Array):
        return lambda shape, value: np.broadcast_to(value, shape).copy()
    return lambda shape, value: np.full(shape, value)


def multiply_outer(a, b):
    """``np.multiply.outer(a, b)``: shape ``a.shape + b.shape``."""
    return np.multiply.outer(a, b)


@overload(multiply_outer)
def _multiply_outer(a, b):
    rank_a = a.ndim if isinstance(a, types.Array) else 0
    rank_b = b.ndim if isinstance(b, types.Array) else 0
    if rank_a == 0 or rank_b == 0:
        return lambda a, b: a * b
    if rank_a == 1 and rank_b == 1:
        return lambda a, b: np.outer(a, b)
    if rank_a == 2 and rank_b == 1:
        return lambda a, b: np.ascontiguousarray(a).reshape((a.shape[0], a.shape[1], 1)) * b
    if rank_a == 1 and rank_b == 2:
        return lambda a, b: np.ascontiguousarray(a).reshape((a.shape[0], 1, 1)) * b
    return None


def broadcast_like(g, like):
    """The cotangent ``g`` of a reduction spread over the shape of ``like`` (as
    :func:`s2s.runtime.broadcast_like`; a copy, where NumPy's would be a view)."""
    return np.broadcast_to(g, np.shape(like))


@overload(broadcast_like)
def _broadcast_like(g, like):
    if not isinstance(like, types.Array):
        return lambda g, like: g
    if isinstance(g, types.Array):
        return lambda g, like: np.broadcast_to(g, like.shape).copy()
    return lambda g, like: np.full(like.shape, g)


def expand_dims(value, axis):
    """``np.expand_dims``, also of a number (the sum of every axis of a vector):
    ``np.full((1,), value)``."""
    return np.expand_dims(value, axis)


@overload(expand_dims)
def _expand_dims(value, axis):
    if isinstance(value, types.Array):
        return lambda value, axis: np.expand_dims(value, axis)
    return lambda value, axis: np.full((1,), value)


def unbroadcast(g, like):
    """The cotangent ``g`` summed down to the shape of ``like`` (undoing broadcasting; as
    :func:`s2s.runtime.unbroadcast`, as a loop over ``g``'s elements)."""
    shape = np.shape(like)
    extra = np.ndim(g) - len(shape)
    if extra < 0:
        return np.broadcast_to(g, shape).copy()
    g = np.sum(g, axis=tuple(range(extra))) if extra else g
    axes = tuple(a for a, size in enumerate(shape) if size == 1 and np.shape(g)[a] != 1)
    return np.sum(g, axis=axes, keepdims=True) if axes else g


@overload(unbroadcast)
def _unbroadcast(g, like):
    if not isinstance(like, types.Array):
        if isinstance(g, types.Array):
            return lambda g, like: np.sum(g)
        return lambda g, like: g
    if not isinstance(g, types.Array):
        return lambda g, like: np.full(like.shape, g)
    if g.ndim < like.ndim:
        return lambda g, like: np.broadcast_to(g, like.shape).copy()
    lead = g.ndim - like.ndim
    dtype = g.dtype

    def impl(g, like):
        if g.shape[lead:] == like.shape:
            if lead == 0:
                return g
        out = np.zeros(like.shape, dtype)
        flat = out.reshape(out.size)
        for index in np.ndindex(g.shape):
            offset = 0
            for axis in range(like.ndim):
                offset = offset * like.shape[axis]
                if like.shape[axis] != 1:
                    offset += index[lead + axis]
            flat[offset] += g[index]
        return out
    return impl


# --- stacks of saved values, preallocated ------------------------------------------------------

def stack_like(value, count):
    """Room for ``count`` saved values like ``value``: an array of ``count`` rows of its shape
    and dtype (a loop of known trip count saves into it instead of a list of arrays)."""
    return np.empty((count,) + np.shape(value), np.asarray(value).dtype)


@overload(stack_like)
def _stack_like(value, count):
    if isinstance(value, types.Array):
        dtype = value.dtype
        return lambda value, count: np.empty((count,) + value.shape, dtype)
    if isinstance(value, (types.Float, types.Integer, types.Boolean)):
        dtype = as_dtype(value)
        return lambda value, count: np.empty(count, dtype)
    return None


# --- accumulation in place --------------------------------------------------------------------
# ``total = total + term`` where the lowering proved no other name holds ``total``'s array:
# the same values, written into ``total`` when ``term`` broadcasts to its shape and the sum
# keeps its dtype (decided from the types when compiling, and from the shapes when running);
# a new array otherwise, exactly as the expression.

def add_into(total, term):
    """``total + term``, into ``total`` where that is the same (see above)."""
    return total + term


def subtract_into(total, term):
    """``total - term``, into ``total`` where that is the same (see above)."""
    return total - term


def multiply_into(total, term):
    """``total * term``, into ``total`` where that is the same (see above)."""
    return total * term


def _fits(shape, term_shape):
    """Whether an array of ``term_shape`` broadcasts to ``shape`` (of at least its rank)."""
    lead = len(shape) - len(term_shape)
    for axis in range(len(term_shape)):
        if term_shape[axis] != 1 and term_shape[axis] != shape[lead + axis]:
            return False
    return True


_fits_compiled = numba.njit(inline="always")(_fits)


def _writable_into(total, term):
    """Whether ``total op term`` may be written into ``total``: by the types alone (the
    shapes are tested when running)."""
    if not isinstance(total, types.Array) or not total.mutable:
        return False
    if isinstance(term, types.Array):
        if term.ndim > total.ndim or not isinstance(term.dtype, (types.Float, types.Integer)):
            return False
        term_dtype = term.dtype
    elif isinstance(term, (types.Float, types.Integer)):
        term_dtype = term
    else:
        return False
    if not isinstance(total.dtype, types.Float):
        return False
    return np.result_type(as_dtype(total.dtype), as_dtype(term_dtype)) == as_dtype(total.dtype)


def _into(operation, inplace):
    def chosen(total, term):
        if not _writable_into(total, term):
            return lambda total, term: operation(total, term)
        if not isinstance(term, types.Array):
            return lambda total, term: inplace(total, term)

        def impl(total, term):
            if _fits_compiled(total.shape, term.shape):
                return inplace(total, term)
            return operation(total, term)
        return impl
    return chosen


@numba.njit(inline="always")
def _add(total, term):
    return total + term


@numba.njit(inline="always")
def _add_in_place(total, term):
    total += term
    return total


@numba.njit(inline="always")
def _subtract(total, term):
    return total - term


@numba.njit(inline="always")
def _subtract_in_place(total, term):
    total -= term
    return total


@numba.njit(inline="always")
def _multiply(total, term):
    return total * term


@numba.njit(inline="always")
def _multiply_in_place(total, term):
    total *= term
    return total


overload(add_into, inline="always")(_into(_add, _add_in_place))
overload(subtract_into, inline="always")(_into(_subtract, _subtract_in_place))
overload(multiply_into, inline="always")(_into(_multiply, _multiply_in_place))


# --- vector arithmetic as loops over the elements (s2s.numba_elementwise) ---------------------

@numba.njit(inline="always")
def broadcast_length(m, n):
    """The length of an elementwise result of vectors of lengths ``m`` and ``n``, by NumPy's
    rule (equal, or one of them 1); NumPy's error otherwise."""
    if m == n or n == 1:
        return m
    if m == 1:
        return n
    raise ValueError("operands could not be broadcast together")


def reuse(vector, length):
    """``vector``'s array for a float64 result of ``length`` elements where it is a
    writeable float64 vector of that length, else a new one (the lowering proved that no
    other name holds ``vector``'s array)."""
    return np.empty(length, np.float64)


@overload(reuse, inline="always")
def _reuse(vector, length):
    if isinstance(vector, types.Array) and vector.ndim == 1 and vector.mutable \
            and vector.dtype == types.float64:
        def impl(vector, length):
            if vector.shape[0] == length:
                return vector
            return np.empty(length, np.float64)
        return impl
    return lambda vector, length: np.empty(length, np.float64)


NUMBA_VERSION = numba.__version__
