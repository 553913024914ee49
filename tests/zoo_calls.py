"""Functions calling other functions: module-level helpers, closures, lambdas, tuples."""
import numpy as np

import s2s
from zoo import arrays, case, scalars


def squared_norm(v, scale=2.0):
    return np.sum(v * v) * scale


def polar(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


def clipped_step(y, rate):
    if np.sum(y) > 1.0:
        return y - rate * y ** 2
    return y + rate * np.tanh(y)


@s2s.differentiate
def decorated_helper(u):
    return np.exp(-u * u)


@case(arrays((3,)), tags=("call", "default-argument"))
def calls_module_helper(x):
    return squared_norm(np.sin(x)) + squared_norm(x, scale=0.5)


@case(scalars(2, 0.2, 2.0), wrt=(0, 1), tags=("scalar", "call", "tuple-return"),
      sympy=lambda sp, r, t: r * sp.cos(t) * (r * sp.sin(t)) ** 2)
def tuple_return(r, theta):
    x, y = polar(r, theta)
    return x * y ** 2


@case(arrays((3,), (1,)), wrt=(0, 1), tags=("call", "closure", "nested-def"))
def closure_over_active_value(x, k):
    w = np.sum(x * k)

    def weigh(v):
        return v * w + k

    return np.sum(weigh(x) ** 2)


@case(arrays((4,)), tags=("call", "lambda"))
def lambda_helper(x):
    soft = lambda v: np.log(1 + np.exp(v))  # noqa: E731
    return np.sum(soft(x) * soft(2 * x))


@case(arrays((3,), (1,)), wrt=(0, 1), tags=("call", "loop", "branch-in-callee"))
def helper_in_loop(x, rate):
    y = x
    for k in range(5):
        y = clipped_step(y, rate)
    return np.sum(y)


@case(arrays((3,)), tags=("call", "decorated"))
def calls_decorated_helper(x):
    return np.sum(decorated_helper(x) * x)


@case(arrays((3,)), tags=("call", "nested-helpers"))
def helpers_calling_helpers(x):
    c = np.sum(x)

    def inner(v):
        return v * c

    def outer(v):
        return inner(v) + inner(v * v)

    return np.sum(outer(x))
