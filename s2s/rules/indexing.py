"""Rules for reading elements: ``x[i]``, ``x[a:b]``, ``x[mask]``, ``np.take``, ``np.sort``...

Repeated indices add up in the cotangent (``np.add.at``).  Index arguments get no
gradient; where NumPy puts them after the array they are parameters of the rule.
"""
import operator

import numpy as np

from ..runtime import index_adjoint, take_adjoint, take_along_axis_adjoint
from .registry import define


def getitem_vjp(g, ans, x, index):
    return index_adjoint(g, x, index)


def getitem_jvp(t, ans, x, index):
    return t[index]


define(operator.getitem, name="getitem", vjp=(getitem_vjp, None), jvp=(getitem_jvp, None),
       display="Index", linear=True, examples=({"index": 0}, {"index": (slice(None), 1)}),
       complex_ok=True)


def take_vjp(g, ans, x, indices, axis=None, out=None, mode="raise"):
    return take_adjoint(g, x, indices, axis, mode)


def take_jvp(t, ans, x, indices, axis=None, out=None, mode="raise"):
    return np.take(t, indices, axis=axis, mode=mode)


define(np.take, methods=("take",), vjp=take_vjp, jvp=take_jvp, display="Take", linear=True,
       examples=({"indices": [0, 5, 5, -1]}, {"indices": [[2, 0], [2, 2]], "axis": 1},
                 {"indices": [3, -4], "axis": 0, "mode": "wrap"}), complex_ok=True)


def take_along_axis_vjp(g, ans, x, indices, axis=-1):
    return take_along_axis_adjoint(g, x, indices, axis)


def take_along_axis_jvp(t, ans, x, indices, axis=-1):
    return np.take_along_axis(t, indices, axis)


define(np.take_along_axis, vjp=take_along_axis_vjp, jvp=take_along_axis_jvp, display="Gather",
       linear=True,
       examples=({"indices": np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]]), "axis": 1},
                 {"indices": np.array([[2, 0, 1, 1]]), "axis": 0}), complex_ok=True)


def sort_vjp(g, ans, x, axis=-1, kind=None, order=None):
    # Each element gets the cotangent of the place it was sorted to (ties: one of them).
    if axis is None:
        return np.reshape(take_along_axis_adjoint(g, np.ravel(x), np.argsort(x, None), 0),
                          np.shape(x))
    return take_along_axis_adjoint(g, x, np.argsort(x, axis), axis)


def sort_jvp(t, ans, x, axis=-1, kind=None, order=None):
    if axis is None:
        return np.take_along_axis(np.ravel(t), np.argsort(x, None), 0)
    return np.take_along_axis(t, np.argsort(x, axis), axis)


define(np.sort, vjp=sort_vjp, jvp=sort_jvp, display="Sort",
       examples=({}, {"axis": 0}, {"axis": None}), complex_ok=True)
