"""The public API's contract: wrt, dtypes, pass-through arguments, clear errors."""
import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient


def loss(x, w, scale=2.0):
    return np.sum(np.sin(x * w)) * scale


X = np.array([0.3, -1.2, 0.8])
W = np.array([1.5, 0.5, -0.7])


def test_wrt_by_position_and_name_agree():
    by_position = s2s.grad(loss, wrt=(0, 1))(X, W)
    by_name = s2s.grad(loss, wrt=("x", "w"))(X, W)
    for a, b, p in zip(by_position, by_name, (0, 1)):
        np.testing.assert_array_equal(a, b)
        assert_close(a, numerical_gradient(loss, [X, W], p))
    np.testing.assert_array_equal(s2s.grad(loss, wrt="w")(X, W), by_name[1])
    np.testing.assert_array_equal(s2s.grad(loss, wrt=-2)(X, W), by_name[1])   # -2 is w


def test_keyword_arguments_pass_through():
    gradient = s2s.grad(loss)(X, W, scale=3.0)
    assert_close(gradient, numerical_gradient(lambda x: loss(x, W, scale=3.0), [X], 0))
    assert_close(s2s.grad(loss)(x=X, w=W), numerical_gradient(lambda x: loss(x, W), [X], 0))


def test_value_and_grad_and_call():
    f = s2s.differentiate(loss)
    value, gradient = f.value_and_grad(X, W)
    assert value == pytest.approx(loss(X, W))
    assert f(X, W) == loss(X, W)
    np.testing.assert_array_equal(gradient, f.grad(X, W))
    value2, gradient2 = s2s.value_and_grad(loss)(X, W)
    assert value2 == value
    np.testing.assert_array_equal(gradient2, gradient)
    assert f.mode == "source"
    assert f.__name__ == "loss"


def test_python_int_is_promoted_and_float_stays_float():
    def cube(x):
        return x * x * x

    gradient = s2s.grad(cube)(2)
    assert gradient == 12.0 and isinstance(gradient, float)


def test_integer_array_is_rejected_with_a_hint():
    with pytest.raises(s2s.InputError, match=r"astype\(float\)"):
        s2s.grad(loss)(np.array([1, 2, 3]), W)


def test_bool_and_strings_are_rejected():
    with pytest.raises(s2s.InputError):
        s2s.grad(loss)(True, W)
    with pytest.raises(s2s.InputError):
        s2s.grad(loss)("x", W)


def test_unknown_wrt_names_the_parameters():
    with pytest.raises(s2s.WrtError, match=r"'z' is not a parameter.*\('x', 'w', 'scale'\)"):
        s2s.grad(loss, wrt="z")
    with pytest.raises(s2s.WrtError, match="out of range"):
        s2s.grad(loss, wrt=5)
    with pytest.raises(s2s.WrtError, match="twice"):
        s2s.grad(loss, wrt=("x", 0))


def test_non_scalar_output_points_to_vjp():
    def double(x):
        return 2 * x

    with pytest.raises(s2s.NonScalarOutputError, match=r"shape \(3,\).*f\.vjp"):
        s2s.grad(double)(X)
    value, pullback = s2s.vjp(double, X)
    np.testing.assert_array_equal(pullback(np.array([0.1, 1.0, 0.0001])), [0.2, 2.0, 0.0002])
    with pytest.raises(s2s.InputError, match="cotangent has shape"):
        pullback(np.ones(4))


def test_pullback_can_be_called_twice():
    _, pullback = s2s.vjp(lambda_free_square, X)
    first = pullback(np.ones(3))
    second = pullback(np.ones(3))
    np.testing.assert_array_equal(first, second)


def lambda_free_square(x):
    return x * x


def test_gradient_of_unused_input_is_zero_of_its_shape():
    def ignores_w(x, w):
        return np.sum(x ** 2)

    x_grad, w_grad = s2s.grad(ignores_w, wrt=(0, 1))(X, W.astype(np.float32))
    assert_close(x_grad, 2 * X)
    assert w_grad.dtype == np.float32 and not w_grad.any() and w_grad.shape == (3,)


def test_gradient_is_a_fresh_writable_array():
    def total(x):
        return np.sum(x)

    gradient = s2s.grad(total)(X)
    gradient += 1      # must not fail on a read-only broadcast view
    np.testing.assert_array_equal(gradient, [2, 2, 2])


def test_source_is_available_before_any_call_and_cached():
    f = s2s.differentiate(loss)
    assert "def vjp_loss(x, w, scale):" in f.source
    assert f.derivation is f.derivation


def test_show_prints_the_source(capsys):
    f = s2s.differentiate(loss)
    s2s.show(f)
    assert capsys.readouterr().out == f.source
    s2s.show(loss, wrt="w")
    assert "w_b" in capsys.readouterr().out
