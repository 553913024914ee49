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


def complex_numerical_gradient(function, args, position, epsilon=1e-6):
    """``dL/dRe + i dL/dIm`` of the real scalar ``L = function(*args)`` per element of
    ``args[position]``, each part moved on its own by central differences (complex128); a
    real argument gets ``dL/dx`` (float64).  The convention s2s follows for complex inputs."""
    point = np.asarray(args[position])
    is_complex = np.iscomplexobj(point)
    point = point.astype(np.complex128 if is_complex else np.float64)
    units = (1.0, 1j) if is_complex else (1.0,)
    gradient = np.zeros(point.shape, dtype=point.dtype)

    def at(value):
        shifted = list(args)
        shifted[position] = value if np.ndim(args[position]) else value[()]
        result = function(*shifted)
        assert abs(np.imag(result)) < 1e-12, "a real-valued function"
        return float(np.real(result))
    for index in np.ndindex(point.shape):
        for unit in units:
            step = np.zeros_like(point)
            step[index] = epsilon * unit
            gradient[index] += unit * (at(point + step) - at(point - step)) / (2 * epsilon)
    return gradient if np.ndim(args[position]) else gradient[()]


def complex_numerical_jvp(function, args, position, tangent, epsilon=1e-6):
    """The derivative of ``function`` (real or complex valued) along ``tangent`` (complex
    for a complex argument), by central differences."""
    def at(step):
        shifted = list(args)
        shifted[position] = np.asarray(args[position]) + step * np.asarray(tangent)
        return np.asarray(function(*shifted), dtype=np.complex128)
    derivative = (at(epsilon) - at(-epsilon)) / (2 * epsilon)
    return derivative if np.iscomplexobj(function(*args)) else derivative.real


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
