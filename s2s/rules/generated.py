"""Rules for the helpers that generated code calls, so generated code can be differentiated.

Reverse-mode code calls ``unbroadcast``, ``broadcast_like``, ``index_adjoint``,
``matmul_adjoint_x/y`` and ``zeros_like`` from :mod:`s2s.runtime`, and copies lists of
saved values with ``list``.  Each of these is linear in the cotangent it moves (or, for
the matmul adjoints, bilinear), so its derivatives are again such helpers.  With these
rules the gradient code can be differentiated like user code: forward-over-reverse gives
Hessian-vector products and second derivatives.
"""
from ..runtime import (broadcast_like, index_adjoint, list_adjoint, matmul_adjoint_x,
                       matmul_adjoint_y, sequence_copy, unbroadcast, zeros_like)
from .registry import define, define_nondifferentiable

define_nondifferentiable(zeros_like)


def unbroadcast_vjp(g, ans, x, like):
    return broadcast_like(g, x)


def unbroadcast_jvp(t, ans, x, like):
    return unbroadcast(t, like)


define(unbroadcast, vjp=(unbroadcast_vjp, None), jvp=(unbroadcast_jvp, None), linear=True,
       display="Unbroadcast")


def broadcast_like_vjp(g, ans, x, like):
    return unbroadcast(g, x)


def broadcast_like_jvp(t, ans, x, like):
    return broadcast_like(t, like)


define(broadcast_like, vjp=(broadcast_like_vjp, None), jvp=(broadcast_like_jvp, None),
       linear=True, display="BroadcastLike")


def index_adjoint_vjp(g, ans, x, like, index):
    return g[index]


def index_adjoint_jvp(t, ans, x, like, index):
    return index_adjoint(t, like, index)


define(index_adjoint, vjp=(index_adjoint_vjp, None, None),
       jvp=(index_adjoint_jvp, None, None), linear=True, display="IndexAdjoint")


def matmul_adjoint_x_jvp_g(t, ans, h, x, y):
    return matmul_adjoint_x(t, x, y)


def matmul_adjoint_x_jvp_y(t, ans, h, x, y):
    return matmul_adjoint_x(h, x, t)


define(matmul_adjoint_x, vjp=(None, None, None),
       jvp=(matmul_adjoint_x_jvp_g, None, matmul_adjoint_x_jvp_y), display="MatmulAdjointX")


def matmul_adjoint_y_jvp_g(t, ans, h, x, y):
    return matmul_adjoint_y(t, x, y)


def matmul_adjoint_y_jvp_x(t, ans, h, x, y):
    return matmul_adjoint_y(h, t, y)


define(matmul_adjoint_y, vjp=(None, None, None),
       jvp=(matmul_adjoint_y_jvp_g, matmul_adjoint_y_jvp_x, None), display="MatmulAdjointY")


def list_vjp(g, ans, x):
    return list_adjoint(g, x)


def list_jvp(t, ans, x):
    return sequence_copy(t)


# list(saved) in generated code copies a list; list(array) splits an array into rows
define(list, vjp=list_vjp, jvp=list_jvp, linear=True, display="List")
