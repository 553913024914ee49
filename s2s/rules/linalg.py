"""Rules for products and norms (``dot``, ``matmul``, ``linalg.norm``)."""
import numpy as np

from ..runtime import matmul_adjoint_x, matmul_adjoint_y, norm_adjoint
from .registry import define


def matmul_vjp_x(g, ans, x, y):
    return matmul_adjoint_x(g, x, y)


def matmul_vjp_y(g, ans, x, y):
    return matmul_adjoint_y(g, x, y)


def matmul_jvp_x(t, ans, x, y):
    return t @ y


def matmul_jvp_y(t, ans, x, y):
    return x @ t


define(np.matmul, vjp=(matmul_vjp_x, matmul_vjp_y), jvp=(matmul_jvp_x, matmul_jvp_y),
       display="Mm")


def dot_vjp_x(g, ans, x, y):
    return matmul_adjoint_x(g, x, y)


def dot_vjp_y(g, ans, x, y):
    return matmul_adjoint_y(g, x, y)


def dot_jvp_x(t, ans, x, y):
    return np.dot(t, y)


def dot_jvp_y(t, ans, x, y):
    return np.dot(x, t)


define(np.dot, methods=("dot",), vjp=(dot_vjp_x, dot_vjp_y), jvp=(dot_jvp_x, dot_jvp_y),
       display="Dot")


def norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    # 2-norms (vector, Frobenius), over all axes or one; subgradient 0 at x == 0 (README).
    if ord is None and axis is None:
        return g * x / np.where(ans == 0, 1.0, ans)
    return norm_adjoint(g, ans, x, ord, axis, keepdims)


def norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    if ord is None and axis is None:
        return np.sum(t * x) / np.where(ans == 0, 1.0, ans)
    return np.sum(norm_adjoint(1.0, ans, x, ord, axis, True) * t, axis=axis,
                  keepdims=keepdims)


define(np.linalg.norm, name="norm", vjp=norm_vjp, jvp=norm_jvp, display="Norm")
