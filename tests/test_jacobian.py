"""Jacobians by stacked VJPs and JVPs, and value_and_grad(has_aux=True)."""
import numpy as np
import pytest

import s2s
from reference import assert_close


def numerical_jacobian(function, x, epsilon=1e-6):
    out = np.asarray(function(x))
    block = np.zeros(out.shape + x.shape)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = epsilon
        block[(Ellipsis,) + index] = (np.asarray(function(x + step))
                                      - np.asarray(function(x - step))) / (2 * epsilon)
    return block


def tall(x):                       # R^2 -> R^6
    return (np.sin(x)[:, None] * np.arange(1.0, 4.0)).reshape(6)


def wide(x):                       # R^6 -> R^2
    return np.array([1.0, -1.0]) * np.sum(np.tanh(x) * x)


def matrix_valued(x):              # R^3 -> R^(2x3)
    return np.array([[1.0], [2.0]]) * np.exp(x)


@pytest.mark.parametrize("function,size", [(tall, 2), (wide, 6), (matrix_valued, 3)])
@pytest.mark.parametrize("mode", ["reverse", "forward", "auto"])
def test_jacobian_matches_finite_differences(function, size, mode):
    x = np.random.default_rng(0).normal(size=size)
    jac = s2s.jacobian(function, mode=mode)(x)
    expected = numerical_jacobian(function, x)
    assert jac.shape == expected.shape
    assert_close(jac, expected, rtol=1e-6, atol=1e-8)


def test_jacobian_with_respect_to_two_inputs():
    def f(x, w):
        return np.tanh(x * w)

    x, w = np.array([0.2, -0.4]), np.array([1.5, 0.5])
    jx, jw = s2s.jacobian(f, wrt=(0, 1))(x, w)
    assert_close(jx, numerical_jacobian(lambda v: f(v, w), x))
    assert_close(jw, numerical_jacobian(lambda v: f(x, v), w))


def test_value_and_grad_with_aux_passes_aux_through():
    def loss_with_aux(w, x):
        prediction = np.tanh(x @ w)
        return np.mean(prediction ** 2), prediction

    w, x = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [0.5, -0.3], [2.0, 0.1]])
    (loss, aux), gradient = s2s.value_and_grad(loss_with_aux, has_aux=True)(w, x)
    np.testing.assert_array_equal(aux, np.tanh(x @ w))
    expected = s2s.grad(lambda_free_loss)(w, x)
    assert_close(gradient, expected)
    assert loss == pytest.approx(np.mean(np.tanh(x @ w) ** 2))


def lambda_free_loss(w, x):
    return np.mean(np.tanh(x @ w) ** 2)
