"""The few helpers that generated code and rule bodies call at run time.

Everything here is small, allocation-free on its fast path, and independent of the rest
of s2s, so that an exported derivative module can inline it and import NumPy only.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "SequenceAdjoint",
    "broadcast_like",
    "index_adjoint",
    "matmul_adjoint_x",
    "matmul_adjoint_y",
    "norm_adjoint",
    "stop_gradient",
    "unbroadcast",
    "zeros_like",
]


def stop_gradient(x):
    """Return ``x`` unchanged; no gradient flows back through the result (torch's detach).

    On a tape tensor this is ``x.detach()``; in generated code it is the identity, and the
    code generator treats it as having no derivative.
    """
    detach = getattr(x, "detach", None)
    return detach() if detach is not None else x


def unbroadcast(g, like):
    """Sum the cotangent ``g`` down to the shape of ``like`` (undoing NumPy broadcasting)."""
    shape = np.shape(like)
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    if len(g_shape) < len(shape) or not shape and not g_shape:
        return np.broadcast_to(g, shape)
    extra = len(g_shape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(axis for axis, size in enumerate(shape) if size == 1 and g.shape[axis] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if not shape:
        return g[()] if isinstance(g, np.ndarray) else g
    return g


def broadcast_like(g, like):
    """Spread the cotangent ``g`` of a reduction back over the shape of ``like``."""
    shape = np.shape(like)
    if np.shape(g) == shape:
        return g
    return np.broadcast_to(g, shape)


def zeros_like(x):
    """A zero cotangent for ``x``: ``0.0`` for Python scalars, an array of zeros otherwise."""
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, np.float32))
    if isinstance(x, (list, tuple)):
        return SequenceAdjoint(zeros_like(item) for item in x)
    return 0.0


def matmul_adjoint_x(g, x, y):
    """Cotangent of ``x`` in ``x @ y`` (NumPy's 1-D promotion rules included)."""
    x_ndim, y_ndim = np.ndim(x), np.ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * y, x)
    if y_ndim == 1:
        if x_ndim == 1:
            return g * y
        return unbroadcast(np.multiply.outer(g, y) if x_ndim == 2 else g[..., None] * y, x)
    if x_ndim == 1:
        return unbroadcast(np.matmul(y, g[..., None])[..., 0], x) if y_ndim > 2 else y @ g
    return unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x)


def matmul_adjoint_y(g, x, y):
    """Cotangent of ``y`` in ``x @ y`` (NumPy's 1-D promotion rules included)."""
    x_ndim, y_ndim = np.ndim(x), np.ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * x, y)
    if x_ndim == 1:
        if y_ndim == 1:
            return g * x
        return unbroadcast(np.multiply.outer(x, g) if y_ndim == 2 else x[:, None] * g[..., None, :], y)
    if y_ndim == 1:
        return unbroadcast(np.sum(x * g[..., None], axis=tuple(range(x_ndim - 1))), y) \
            if x_ndim > 2 else x.T @ g
    return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))
               for item in items)


class SequenceAdjoint(list):
    """The cotangent of a tuple or list of values: one entry per element.

    ``+`` adds entry by entry (``None`` stands for a zero entry), so generated code
    accumulates tuple cotangents with the same ``a_b = a_b + c`` as array cotangents.
    """

    def __add__(self, other):
        if not isinstance(other, (list, tuple)):
            return NotImplemented
        return SequenceAdjoint(b if a is None else a if b is None else a + b
                               for a, b in zip(self, other))

    __radd__ = __add__


def index_adjoint(g, like, index):
    """Cotangent of ``like`` in ``like[index]``: zeros, with ``g`` added at ``index``.

    Repeated integer indices add up (``np.add.at``); basic indices write directly.  For a
    tuple or list ``like``, a :class:`SequenceAdjoint` with ``g`` at ``index``.
    """
    if isinstance(like, (list, tuple)):
        result = SequenceAdjoint(None for _ in like)
        result[index] = g
        return result
    result = np.zeros(np.shape(like), dtype=np.result_type(g, like, np.float32))
    if _is_basic_index(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    """Cotangent of ``x`` in ``np.linalg.norm(x, ord, axis, keepdims)`` (2-norms).

    Supports the vector 2-norm and the Frobenius norm (``ord`` None, 2 on vectors,
    ``'fro'``), over all axes or one axis.  At ``x == 0`` the subgradient 0 is used.
    """
    if ord not in (None, "fro") and not (ord == 2 and (np.ndim(x) == 1 or np.ndim(axis) == 0
                                                       and axis is not None)):
        raise NotImplementedError(f"s2s: the derivative of np.linalg.norm with ord={ord!r} "
                                  "is not implemented yet; use ord=None (2-norm / Frobenius)")
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
        ans = np.expand_dims(ans, axis)
    safe = np.where(ans == 0, 1.0, ans)
    return g * x / safe


def sequence_copy(values):
    """``list(values)``: a new list with the same entries (tangents of a copied list)."""
    return list(values)


def list_adjoint(g, like):
    """Cotangent of ``like`` in ``list(like)``: rows stacked back for an array."""
    if isinstance(like, np.ndarray):
        return np.stack([np.zeros(like.shape[1:]) if item is None else item for item in g]) \
            if len(g) else np.zeros_like(like)
    return SequenceAdjoint(g)
