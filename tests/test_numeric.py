"""Finite differences (s2s.verify.numerical_*) against derivatives worked out by hand."""
import math

import numpy as np
import pytest

import s2s
from s2s.verify import numerical_grad, numerical_jvp, numerical_vjp

RNG = np.random.default_rng(1234)
A = RNG.normal(size=(4, 4))          # not symmetric, so (A + A^T) x differs from 2 A x
X = RNG.normal(size=4)


def close(actual, expected, rtol=1e-7, atol=1e-7):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --- numerical_grad -------------------------------------------------------------------

@pytest.mark.parametrize("x", [-2.3, -0.1, 0.0, 0.7, 3.0])
def test_sin_gives_cos(x):
    gradient = numerical_grad(np.sin, x)
    assert isinstance(gradient, float)
    close(gradient, math.cos(x))


def test_math_functions_on_python_floats():
    close(numerical_grad(lambda x: math.exp(x) * math.log(x), 1.7),
          math.exp(1.7) * (math.log(1.7) + 1 / 1.7))


def test_quadratic_form_gives_a_plus_a_transpose_times_x():
    gradient = numerical_grad(lambda x: x @ A @ x, (X,))
    assert gradient.shape == X.shape and gradient.dtype == np.float64
    close(gradient, (A + A.T) @ X)


def test_matrix_argument_keeps_its_shape():
    W = RNG.normal(size=(3, 4))
    v = RNG.normal(size=3)
    gradient = numerical_grad(lambda W: v @ np.tanh(W @ X), (W,))
    assert gradient.shape == (3, 4)
    close(gradient, np.outer(v * (1 - np.tanh(W @ X) ** 2), X))


def test_tuple_wrt_and_names():
    def f(x, w, b):
        return np.sum(w * x ** 2) + b * 3.0

    w = RNG.normal(size=4)
    gx, gw, gb = numerical_grad(f, (X, w, 0.5), wrt=(0, "w", -1))
    close(gx, 2 * w * X)
    close(gw, X ** 2)
    close(gb, 3.0)
    assert isinstance(gb, float)
    close(numerical_grad(f, (X, w, 0.5), wrt="x"), 2 * w * X)


def test_large_inputs_use_a_relative_step():
    close(numerical_grad(np.log, 1e4), 1e-4, rtol=1e-7, atol=0)
    close(numerical_grad(np.sqrt, 1e8), 0.5e-4, rtol=1e-7, atol=0)


def test_integer_and_float32_inputs_are_differentiated_in_float64():
    gradient = numerical_grad(lambda x: x ** 3, 2)
    assert isinstance(gradient, float)
    close(gradient, 12.0)
    x32 = X.astype(np.float32)
    gradient = numerical_grad(lambda x: np.sum(x ** 2), (x32,))
    assert gradient.dtype == np.float64
    close(gradient, 2 * x32.astype(np.float64))


def test_zero_dimensional_array_stays_an_array():
    gradient = numerical_grad(lambda x: x * x, (np.array(1.5),))
    assert isinstance(gradient, np.ndarray) and gradient.shape == ()
    close(gradient, 3.0)


def test_keyword_arguments_pass_through():
    close(numerical_grad(lambda x, scale=1.0: scale * x ** 2, 1.5, kwargs={"scale": 4.0}),
          12.0)


def test_non_scalar_output_is_refused():
    with pytest.raises(s2s.NonScalarOutputError, match="numerical_vjp"):
        numerical_grad(lambda x: x * 2, (X,))


def test_bad_wrt():
    with pytest.raises(s2s.WrtError):
        numerical_grad(lambda x: x, 1.0, wrt=3)
    with pytest.raises(s2s.WrtError):
        numerical_grad(lambda x: x, 1.0, wrt="y")
    with pytest.raises(s2s.InputError):
        numerical_grad(lambda x: x, 1.0, wrt=1.5)


# --- numerical_vjp --------------------------------------------------------------------

def test_vjp_of_a_linear_map_is_the_transpose():
    c = RNG.normal(size=4)
    close(numerical_vjp(lambda x: A @ x, (X,), c), A.T @ c)


def test_vjp_of_an_elementwise_function():
    c = RNG.normal(size=4)
    close(numerical_vjp(np.tanh, (X,), c), c * (1 - np.tanh(X) ** 2))


def test_vjp_with_respect_to_two_arguments():
    B = RNG.normal(size=(4, 3))
    c = RNG.normal(size=(4, 3))
    ga, gb = numerical_vjp(lambda a, b: a @ b, (A, B), c, wrt=(0, 1))
    close(ga, c @ B.T)
    close(gb, A.T @ c)


def test_vjp_checks_the_cotangent_shape():
    with pytest.raises(ValueError, match="cotangent"):
        numerical_vjp(lambda x: A @ x, (X,), np.ones(3))


# --- numerical_jvp --------------------------------------------------------------------

def test_jvp_of_a_linear_map():
    t = RNG.normal(size=4)
    result = numerical_jvp(lambda x: A @ x, (X,), t)
    assert result.shape == (4,)
    close(result, A @ t)


def test_jvp_of_a_scalar_function_is_a_directional_derivative():
    t = RNG.normal(size=4)
    result = numerical_jvp(lambda x: x @ A @ x, (X,), t)
    assert isinstance(result, float)
    close(result, t @ (A + A.T) @ X)


def test_jvp_moves_several_arguments_together():
    def f(x, y):
        return np.exp(x) * y

    tx, ty = 0.3, -1.2
    x, y = 0.4, 2.0
    close(numerical_jvp(f, (x, y), (tx, ty), wrt=(0, 1)),
          tx * math.exp(x) * y + ty * math.exp(x))


def test_jvp_with_a_zero_tangent_is_zero():
    close(numerical_jvp(lambda x: A @ x, (X,), np.zeros(4)), np.zeros(4), atol=0)


def test_jvp_and_vjp_match_the_jacobian():
    def f(x):
        return np.sin(A @ x) * x

    jacobian = np.diag(np.sin(A @ X)) + (X * np.cos(A @ X))[:, None] * A
    c, t = RNG.normal(size=4), RNG.normal(size=4)
    close(numerical_jvp(f, (X,), t), jacobian @ t)
    close(numerical_vjp(f, (X,), c), c @ jacobian)
