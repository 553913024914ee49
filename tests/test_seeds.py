"""The seed notebooks' cells that need no control flow, through @s2s.differentiate.

Expected values are the ones the notebooks print; each is also an analytic result.
"""
import numpy as np

import s2s
from reference import assert_close


def test_canziani_mean_of_three_squares():
    @s2s.differentiate
    def f(x):
        y = x - 2
        z = y * y * 3
        return z.mean()

    x = np.array([[1, 2], [3, 4]], dtype=np.float32)
    value, gradient = f.value_and_grad(x)
    assert value == 4.5
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, [[-1.5, 0.0], [1.5, 3.0]])


def test_canziani_w_at_x():
    def f(x, w):
        return w @ x

    x, w = np.arange(1.0, 4.0), np.ones(3)
    x_grad, w_grad = s2s.grad(f, wrt=(0, 1))(x, w)
    np.testing.assert_array_equal(x_grad, [1, 1, 1])
    np.testing.assert_array_equal(w_grad, [1, 2, 3])
    # only w "requires grad": differentiate with respect to w alone
    np.testing.assert_array_equal(s2s.grad(f, wrt="w")(x, w), [1, 2, 3])


def test_scalar_affine_gradients_are_2_4_1():
    @s2s.differentiate(wrt=("x", "w", "b"))
    def y(x, w, b):
        z = w * x
        return z + b

    assert y.grad(4.0, 2.0, 3.0) == (2.0, 4.0, 1.0)
    assert s2s.grad(y, wrt="x")(1.0, 2.0, 3.0) == 2.0


def test_matmul_plus_bias_sum():
    @s2s.differentiate(wrt=("X", "W", "b"))
    def y(X, W, b):
        z1 = X @ W
        z2 = z1 + b
        return z2.sum()

    X = np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]])
    W = np.array([[1., 2.], [4., 5.], [7., 8.]])
    b = np.array([4., 5.])
    X_grad, W_grad, b_grad = y.grad(X, W, b)
    np.testing.assert_array_equal(X_grad, np.tile([3., 9., 15.], (4, 1)))
    np.testing.assert_array_equal(W_grad, [[22., 22.], [26., 26.], [30., 30.]])
    np.testing.assert_array_equal(b_grad, [4., 4.])
    # chain rule by hand (the notebook's CAS 2): dy/dZ = ones, then pull back Z = X @ W
    _, pullback = s2s.vjp(lambda X, W: X @ W, X, W)
    np.testing.assert_array_equal(pullback(np.ones((4, 2))), X_grad)


def test_x_times_x_with_ones_cotangent_is_2x():
    @s2s.differentiate
    def square(x):
        return x * x

    x = np.arange(4.0)
    value, pullback = square.vjp(x)
    np.testing.assert_array_equal(value, x * x)
    np.testing.assert_array_equal(pullback(np.ones(4)), 2 * x)


def test_d2l_two_x_dot_x_gives_4x_and_sum_gives_ones():
    x = np.arange(4.0)
    np.testing.assert_array_equal(s2s.grad(lambda_free_two_dot)(x), 4 * x)
    np.testing.assert_array_equal(s2s.grad(total)(x), np.ones(4))


def lambda_free_two_dot(x):
    return 2 * np.dot(x, x)


def total(x):
    return x.sum()


def test_detach_is_stop_gradient():
    @s2s.differentiate
    def z(x):
        y = x * x
        u = s2s.stop_gradient(y)
        return (u * x).sum()

    x = np.arange(4.0)
    np.testing.assert_array_equal(z.grad(x), x * x)       # torch: x.grad == u


def test_seed_cotangent_on_plus_two():
    # seed 004: y = x + 2; y.backward(torch.ones(2, 2)) gives ones
    _, pullback = s2s.vjp(lambda_free_plus_two, np.ones((2, 2)))
    np.testing.assert_array_equal(pullback(np.ones((2, 2))), np.ones((2, 2)))
    # seed 004: out = mean(3 * (x + 2)^2) at ones gives 4.5 everywhere
    assert_close(s2s.grad(mean_of_squares)(np.ones((2, 2))), np.full((2, 2), 4.5))


def lambda_free_plus_two(x):
    return x + 2


def mean_of_squares(x):
    y = x + 2
    z = y * y * 3
    return z.mean()


def test_seed_002_mean_of_2_y_squared():
    x = np.array([0.5946, 0.6039, 0.0906])

    def z(x):
        y = x + 2
        return (y * y * 2).mean()

    assert_close(s2s.grad(z)(x), 4 * (x + 2) / 3)
