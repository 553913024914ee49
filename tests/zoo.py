"""A zoo of functions, tagged by feature, each with how to sample its inputs.

Each entry gives: the function, ``wrt`` positions, an input maker ``make(rng)`` and tags.
Scalar functions also give a sympy twin, written by hand (an independent reference).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import s2s


@dataclass
class Case:
    name: str
    function: Callable[..., Any]
    make: Callable[[np.random.Generator], tuple]
    wrt: tuple[int, ...] = (0,)
    tags: tuple[str, ...] = ()
    sympy: Callable[..., Any] | None = None     # sympy twin, for scalar inputs
    cotangent: bool = False                     # non-scalar output: test through vjp
    analytic: Callable[..., Any] | None = None  # gradients by hand, where FD cannot see


ZOO: list[Case] = []


def case(make, wrt=(0,), tags=(), sympy=None, cotangent=False, analytic=None):
    def register(function):
        ZOO.append(Case(function.__name__, function, make, wrt, tags, sympy, cotangent,
                        analytic))
        return function
    return register


def scalars(n, low=-2.0, high=2.0):
    return lambda rng: tuple(float(v) for v in rng.uniform(low, high, n))


def arrays(*shapes, low=-2.0, high=2.0):
    return lambda rng: tuple(rng.uniform(low, high, shape) for shape in shapes)


# --- scalar functions, with sympy twins -------------------------------------------------

@case(scalars(1, 0.3, 2.0), tags=("scalar", "elementwise"),
      sympy=lambda sp, x: sp.log(x ** 2) * sp.sin(x) + 1 / x)
def d2l_exercise(x):
    return np.log(x ** 2) * np.sin(x) + 1 / x


@case(scalars(3), wrt=(0, 1, 2), tags=("scalar", "seed"), sympy=lambda sp, x, w, b: w * x + b)
def affine(x, w, b):
    z = w * x
    y = z + b
    return y


@case(scalars(2), wrt=(0, 1), tags=("scalar", "reassign"),
      sympy=lambda sp, x, y: sp.tanh(sp.sin(x * y) * x) * 3 - y)
def reassigned(x, y):
    z = x * y
    z = np.sin(z) * x
    z = np.tanh(z)
    z *= 3
    z -= y
    return z


@case(scalars(2, 0.5, 2.0), wrt=(0, 1), tags=("scalar", "power"),
      sympy=lambda sp, x, y: x ** y + y ** 3 - sp.sqrt(x) / y)
def powers(x, y):
    return x ** y + y ** 3 - np.sqrt(x) / y


@case(scalars(2), wrt=(0, 1), tags=("scalar", "unpack"),
      sympy=lambda sp, x, y: (x + y) * sp.cos(x - y))
def tuple_unpacking(x, y):
    a, b = x + y, x - y
    return a * np.cos(b)


@case(scalars(1, 0.2, 1.5), tags=("scalar", "math"),
      sympy=lambda sp, x: sp.exp(x) * sp.tan(x) - sp.Abs(x) + sp.cos(x) ** 2)
def exp_tan_abs(x):
    return np.exp(x) * np.tan(x) - abs(x) + np.cos(x) ** 2


@case(scalars(2), wrt=(0, 1), tags=("scalar", "unary"),
      sympy=lambda sp, x, y: -x * (+y) - (-x) ** 2)
def unary_operators(x, y):
    return -x * +y - (-x) ** 2


@case(scalars(1), tags=("scalar", "keyword"), sympy=lambda sp, x: 2 * x * 3.5)
def keyword_argument(x, scale=3.5):
    return 2 * x * scale


# --- array functions --------------------------------------------------------------------

@case(arrays((2, 2)), tags=("seed", "broadcast", "reduction"))
def seed_mean(x):
    y = x - 2
    z = y * y * 3
    return z.mean()


@case(arrays((4, 3), (3, 2), (2,)), wrt=(0, 1, 2), tags=("seed", "matmul", "broadcast"))
def seed_linear(X, W, b):
    return np.sum(X @ W + b)


@case(arrays((3,), (3,)), wrt=(0, 1), tags=("seed", "matmul"))
def seed_dot(x, w):
    return w @ x


@case(arrays((3,)), tags=("seed", "vjp"), cotangent=True)
def seed_square(x):
    return x * x


@case(arrays((5, 3), (3,), (5, 1)), wrt=(0, 1, 2), tags=("broadcast",))
def broadcasting(a, b, c):
    return np.sum(np.tanh(a * b + c) / (1 + c ** 2))


@case(arrays((3, 4)), tags=("reduction", "axis"))
def reductions_with_axes(x):
    column = np.sum(x, axis=0)
    row = x.mean(axis=1, keepdims=True)
    return np.sum(column ** 2) + np.sum(np.sin(x - row))


@case(arrays((3, 4), (4,)), wrt=(0, 1), tags=("methods", "transpose", "reshape"))
def methods(x, v):
    y = x.T.dot(x).reshape(16)
    z = np.reshape(x, (2, 6)).transpose().sum(axis=1)
    return y.sum() + z.dot(z) + x.dot(v).mean() + np.transpose(x).sum()


@case(arrays((4,), (4,)), wrt=(0, 1), tags=("maximum", "where", "norm"))
def maximum_where_norm(x, y):
    m = np.maximum(x, y) + np.minimum(x, 0.5 * y)
    w = np.where(x > 0, x * y, -y)
    return np.linalg.norm(m) + np.sum(w * np.abs(x))


@case(arrays((3, 4), (4, 2), (2,)), wrt=(0, 1, 2), tags=("mlp",))
def two_layer(x, w, b):
    hidden = np.tanh(x @ w + b)
    return np.mean(hidden ** 2) + np.dot(b, b)


# Finite differences see through stop_gradient; the reference is torch's detach result.
@case(arrays((3,)), tags=("stop_gradient",), analytic=lambda x: (x * x,))
def detached(x):
    y = x * x
    u = s2s.stop_gradient(y)
    return np.sum(u * x)


@case(arrays((3,), (3,)), wrt=(0, 1), tags=("vjp", "elementwise"), cotangent=True)
def vector_output(x, y):
    return np.exp(x) * y + np.sin(y)


@case(arrays((2, 3)), tags=("indexing",))
def element_reads(x):
    return x[0, 1] * x[1, 2] + np.sum(x[1]) + np.sum(x[:, 1:] ** 2)


@case(arrays((5,)), tags=("indexing", "mask", "repeated-index"))
def masked_and_repeated(x):
    return np.sum(x[x > 0] ** 2) + np.sum(x[np.array([0, 0, 2])] * x[-1]) + x[1:4:2].sum()


import zoo_control  # noqa: E402,F401  (registers the control-flow cases)
import zoo_calls  # noqa: E402,F401  (registers the cases with calls)
