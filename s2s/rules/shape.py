"""Rules for operations that move elements without changing them (reshape, transpose)."""
import numpy as np

from .registry import define


def reshape_vjp(g, ans, x, shape):
    return np.reshape(g, np.shape(x))


def reshape_jvp(t, ans, x, shape):
    return np.reshape(t, np.shape(ans))


define(np.reshape, methods=("reshape",), vjp=reshape_vjp, jvp=reshape_jvp, display="Reshape",
       linear=True, examples=({"shape": (-1,)},))


def transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes))


def transpose_jvp(t, ans, x, axes=None):
    return np.transpose(t, axes)


define(np.transpose, methods=("transpose",), vjp=transpose_vjp, jvp=transpose_jvp,
       display="Transpose", linear=True)


def array_vjp(g, ans, x, dtype=None):
    return g


def array_jvp(t, ans, x, dtype=None):
    # a copy, like the primal: a tangent aliasing a view would change with later writes
    return np.copy(t)


define(np.array, aliases=(np.asarray, np.copy), vjp=array_vjp, jvp=array_jvp, display="Copy",
       linear=True, elementwise=True)
