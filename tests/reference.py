"""Independent references for gradient tests: central finite differences and sympy.

Nothing here uses s2s, so a test comparing s2s against these can fail.
"""
from __future__ import annotations

import numpy as np


def numerical_gradient(function, args, position, epsilon=1e-6):
    """Central finite differences of a scalar ``function(*args)`` w.r.t. ``args[position]``, float64."""
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args]
    point = args[position]
    if not isinstance(point, np.ndarray):
        def at(value):
            shifted = list(args)
            shifted[position] = value
            return float(function(*shifted))
        return (at(point + epsilon) - at(point - epsilon)) / (2 * epsilon)
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        step = np.zeros_like(point)
        step[index] = epsilon
        plus, minus = list(args), list(args)
        plus[position] = point + step
        minus[position] = point - step
        gradient[index] = (float(np.sum(function(*plus))) - float(np.sum(function(*minus)))) / (2 * epsilon)
    return gradient


def numerical_vjp(function, args, position, cotangent, epsilon=1e-6):
    """Finite-difference ``cotangent . J`` for a non-scalar ``function``."""
    return numerical_gradient(lambda *a: np.sum(np.asarray(function(*a)) * cotangent),
                              args, position, epsilon)


def sympy_gradient(expression_builder, values):
    """Evaluate the sympy derivative of ``expression_builder(sp, *symbols)`` at ``values``."""
    import sympy as sp

    symbols = sp.symbols(f"a0:{len(values)}", real=True)
    expression = expression_builder(sp, *symbols)
    substitution = dict(zip(symbols, values))
    return [float(sp.diff(expression, symbol).subs(substitution).evalf()) for symbol in symbols]


def assert_close(actual, expected, rtol=1e-5, atol=1e-7):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)
