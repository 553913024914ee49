"""Tests of the runtime tape (s2s.tape): PyTorch's autograd semantics on NumPy.

The first part replays every autograd cell of the five tutorial notebooks in
shared/seeds/ (000: Canziani's autograd tutorial, 001: an introduction to PyTorch,
002: computing gradients with Autograd, 003: d2l's automatic differentiation,
004: "PyTorch, Autograd и все-все-все") with ``s2s.tape.tensor`` in place of
``torch.tensor`` and checks what the notebooks print.  Every gradient is also checked
against an independent reference: an analytic formula or central finite differences
in float64 (:func:`numeric_gradient`).  The second part covers the rest of the tape.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import s2s
import s2s.runtime
from s2s.errors import InputError, MissingRuleError, S2SError, UnsupportedError
from s2s.rules import REGISTRY
from s2s.rules.refused import ndarray_members
from s2s.tape import (
    AccumulateGrad,
    BackwardNode,
    Tensor,
    detach_if_tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    tensor,
    vjp_with_tape,
)

FREED = "Trying to backward through the graph a second time"
NO_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
NOT_FLOAT = "Only Tensors of floating point and complex dtype can require gradients"


def numeric_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of the scalar function ``f`` at ``x``, in float64."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        gradient[index] = (float(f(x + step)) - float(f(x - step))) / (2 * eps)
    return gradient


def assert_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    actual = actual.data if isinstance(actual, Tensor) else actual
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# --- seed 000: Canziani's autograd tutorial -------------------------------------------


def test_seed000_sub_creates_grad_fn_and_accumulate_grad():
    x = tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float32)
    assert repr(x) == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
    y = x - 2
    assert repr(y) == "tensor([[-1.,  0.],\n        [ 1.,  2.]], grad_fn=<SubBackward0>)"
    assert repr(y.grad_fn) == "<SubBackward0>"
    assert y.grad_fn.name() == "SubBackward0"
    assert type(y.grad_fn).__name__ == "SubBackward0"
    assert x.grad_fn is None
    first, second = y.grad_fn.next_functions
    assert isinstance(first[0], AccumulateGrad) and first[1] == 0
    assert repr(first[0]) == "<AccumulateGrad>"
    assert first[0].variable is x
    assert second == (None, 0)


def test_seed000_mean_of_squares_and_its_gradient():
    x = tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float32)
    y = x - 2
    z = y * y * 3
    a = z.mean()
    assert_close(z, [[3.0, 0.0], [3.0, 12.0]])
    assert z.grad_fn.name() == "MulBackward0"
    assert a.shape == () and a.item() == pytest.approx(4.5)
    assert repr(a) == "tensor(4.5, grad_fn=<MeanBackward0>)"
    a.backward()
    assert_close(x.grad, [[-1.5, 0.0], [1.5, 3.0]])          # printed by the notebook
    assert_close(x.grad, 1.5 * (np.array([[1, 2], [3, 4]]) - 2))   # d/dx mean(3(x-2)^2)
    reference = numeric_gradient(lambda v: np.mean((v - 2) * (v - 2) * 3), [[1, 2], [3, 4]])
    assert_close(x.grad, reference, rtol=1e-6)
    assert x.grad.dtype == np.float32 and x.grad.grad_fn is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed000_dynamic_graph_doubling_loop(seed):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(3).astype(np.float32)
    x = tensor(start, requires_grad=True)
    y = x * 2
    i = 0
    while np.linalg.norm(y.data) < 1000:
        y = y * 2
        i += 1
    assert_close(y, 2.0 ** (i + 1) * start)
    gradients = tensor([0.1, 1.0, 0.0001])
    y.backward(gradients)
    assert_close(x.grad, 2.0 ** (i + 1) * np.array([0.1, 1.0, 0.0001]))


def test_seed000_dot_product_gradients():
    n = 3
    x = tensor(np.arange(1.0, n + 1, dtype=np.float32), requires_grad=True)
    w = tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    z = w @ x
    z.backward()
    assert_close(x.grad, [1.0, 1.0, 1.0])
    assert_close(w.grad, [1.0, 2.0, 3.0])
    assert_close(x.grad, numeric_gradient(lambda v: np.ones(n) @ v, x.data))
    assert_close(w.grad, numeric_gradient(lambda v: v @ np.arange(1.0, n + 1), w.data))


def test_seed000_only_w_requires_grad():
    n = 3
    x = tensor(np.arange(1.0, n + 1, dtype=np.float32))
    w = tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    z = w @ x
    z.backward()
    assert x.grad is None
    assert_close(w.grad, [1.0, 2.0, 3.0])
    assert z.grad_fn.next_functions[1] == (None, 0)


def test_seed000_no_grad_then_backward_raises():
    n = 3
    x = tensor(np.arange(1.0, n + 1, dtype=np.float32))
    w = tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    with no_grad():
        z = w @ x
    assert z.grad_fn is None and not z.requires_grad
    with pytest.raises(RuntimeError, match=NO_GRAD):
        z.backward()


# --- seed 001: introduction to PyTorch ------------------------------------------------


def test_seed001_shape_and_float_tensor():
    x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert x.shape == (4, 3)
    x = tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]], requires_grad=True)
    assert x.dtype == np.float32
    assert repr(x).endswith("requires_grad=True)")


def test_seed001_scalar_graph_only_x_requires_grad():
    x = tensor(1., requires_grad=True)
    w = tensor(2.)
    b = tensor(3.)
    assert x.grad is None
    z = w * x
    y = z + b
    y.backward(tensor(1.))
    assert x.grad.item() == pytest.approx(2.0)
    assert w.grad is None and b.grad is None
    assert x.grad.shape == () and x.grad.dtype == np.float32


def test_seed001_scalar_graph_all_require_grad():
    x = tensor(4., requires_grad=True)
    w = tensor(2., requires_grad=True)
    b = tensor(3., requires_grad=True)
    assert (x.grad, w.grad, b.grad) == (None, None, None)
    y = w * x + b
    y.backward(tensor(1.))
    # y = w x + b: dy/dx = w, dy/dw = x, dy/db = 1
    assert (x.grad.item(), w.grad.item(), b.grad.item()) == (2.0, 4.0, 1.0)


def _seed001_data():
    X = [[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]]
    W = [[1., 2.], [4., 5.], [7., 8.]]
    return np.array(X), np.array(W), np.array([4., 5.])


def test_seed001_affine_layer_gradients():
    X0, W0, b0 = _seed001_data()
    X = tensor(X0.tolist(), requires_grad=True)
    W = tensor(W0.tolist(), requires_grad=True)
    b = tensor(b0.tolist(), requires_grad=True)
    z1 = X.matmul(W)
    z2 = z1 + b
    y = z2.sum()
    y.backward(tensor(1.))
    assert_close(X.grad, [[3., 9., 15.]] * 4)
    assert_close(W.grad, [[22., 22.], [26., 26.], [30., 30.]])
    assert_close(b.grad, [4., 4.])
    # references: d sum(XW + b) = ones @ W.T, X.T @ ones, column sums of ones
    ones = np.ones((4, 2))
    assert_close(X.grad, ones @ W0.T)
    assert_close(W.grad, X0.T @ ones)
    assert_close(b.grad, numeric_gradient(lambda v: np.sum(X0 @ W0 + v), b0))
    assert X.grad.shape == (4, 3) and W.grad.shape == (3, 2) and b.grad.shape == (2,)


def test_seed001_chain_rule_case1_equals_case2():
    X0, W0, _ = _seed001_data()
    X = tensor(X0.tolist(), requires_grad=True)
    W = tensor(W0.tolist(), requires_grad=True)
    Z = X.matmul(W)
    y = Z.sum()
    y.backward(tensor(1.))
    case1 = X.grad.numpy().copy()

    X = tensor(X0.tolist(), requires_grad=True)
    W = tensor(W0.tolist(), requires_grad=True)
    Z = X.matmul(W)
    y = Z.sum()
    dy_dZ = tensor(np.ones(Z.shape))
    Z.backward(dy_dZ)
    np.testing.assert_array_equal(case1, X.grad.numpy())
    assert_close(case1, [[3., 9., 15.]] * 4)


# --- seed 002: computing gradients with Autograd --------------------------------------


def test_seed002_add_mul_mean_gradient():
    x = tensor([0.5946, 0.6039, 0.0906], requires_grad=True)     # the notebook's x
    y = x + 2
    assert y.grad_fn.name() == "AddBackward0"
    z = y * y * 2
    assert z.grad_fn.name() == "MulBackward0"
    assert_close(z, [13.4638, 13.5604, 8.7414], rtol=1e-4)
    z = z.mean()
    assert z.grad_fn.name() == "MeanBackward0"
    assert z.item() == pytest.approx(11.9219, rel=1e-4)
    z.backward()
    assert_close(x.grad, [3.4595, 3.4718, 2.7875], rtol=1e-4)   # printed by the notebook
    x0 = x.data.astype(np.float64)
    assert_close(x.grad, 4 * (x0 + 2) / 3)                       # d/dx mean(2(x+2)^2)
    assert_close(x.grad, numeric_gradient(lambda v: np.mean((v + 2) * (v + 2) * 2), x0),
                 rtol=1e-5)


def test_seed002_without_requires_grad_backward_raises():
    rng = np.random.default_rng(2)
    x = tensor(rng.random(5).astype(np.float32))
    y = x + 2
    z = y * y * 2
    c = z.mean()
    assert y.grad_fn is None and z.grad_fn is None and c.grad_fn is None
    assert "grad_fn" not in repr(c)
    with pytest.raises(RuntimeError, match=NO_GRAD):
        c.backward()


def test_seed002_non_scalar_backward_needs_gradient():
    rng = np.random.default_rng(3)
    x = tensor(rng.random(3).astype(np.float32), requires_grad=True)
    y = x + 2
    z = y * y * 2
    with pytest.raises(RuntimeError, match=NOT_SCALAR):
        z.backward()
    v = tensor([0.1, 1.0, 0.01], dtype=np.float32)
    z.backward(v)
    x0 = x.data.astype(np.float64)
    expected = 4 * (x0 + 2) * np.array([0.1, 1.0, 0.01])       # v^T dz/dx, z = 2(x+2)^2
    assert_close(x.grad, expected)
    weights = np.array([0.1, 1.0, 0.01])
    assert_close(x.grad, numeric_gradient(lambda u: weights @ ((u + 2) * (u + 2) * 2), x0))


def test_seed002_three_ways_to_stop_tracking():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (x.detach() + 2).grad_fn is None
    assert x.detach().requires_grad is False
    with no_grad():
        assert (x + 2).grad_fn is None
    assert x.requires_grad_(False) is x
    assert (x + 2).grad_fn is None and not x.requires_grad


def test_seed002_gradients_accumulate_across_backward_calls():
    weights = tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    seen = []
    for _ in range(4):
        model_output = (weights * 3).sum()
        model_output.backward()
        seen.append(weights.grad.numpy().copy())
    for epoch, grad in enumerate(seen, start=1):
        assert_close(grad, [3.0 * epoch] * 4)                    # 3, 6, 9, 12
    assert_close(weights.grad, 4 * numeric_gradient(lambda v: np.sum(v * 3), np.ones(4)))


def test_seed002_zero_grad_resets_accumulation():
    weights = tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    grad_object = None
    for _ in range(4):
        model_output = (weights * 3).sum()
        model_output.backward()
        assert_close(weights.grad, [3.0] * 4)
        if grad_object is None:
            grad_object = weights.grad
        assert weights.grad is grad_object                       # accumulated in place
        assert weights.grad.zero_() is weights.grad
    # optimizer.step() with the zeroed gradient, then zero_grad(): weights unchanged
    with no_grad():
        weights -= 0.01 * weights.grad
    weights.grad.zero_()
    assert_close(weights, [1.0] * 4)
    assert weights.is_leaf and weights.requires_grad


# --- seed 003: d2l, automatic differentiation -------------------------------------------


def test_seed003_gradient_of_two_x_dot_x():
    x = tensor(np.arange(4.0, dtype=np.float32))
    x.requires_grad_(True)
    assert x.grad is None
    y = 2 * np.dot(x, x)
    assert y.item() == 28.0
    assert y.grad_fn.name() == "MulBackward0"
    y.backward()
    assert np.all(x.grad == 4 * x)
    assert_close(x.grad, numeric_gradient(lambda v: 2 * np.dot(v, v), np.arange(4.0)))


def test_seed003_sum_after_zero_grad():
    x = tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    (2 * x.dot(x)).backward()
    x.grad.zero_()
    y = x.sum()
    y.backward()
    assert_close(x.grad, np.ones(4))
    assert_close(x.grad, numeric_gradient(np.sum, np.arange(4.0)))


def test_seed003_non_scalar_with_ones_gradient():
    x = tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    x.grad = tensor(np.full(4, 7.0, dtype=np.float32))
    x.grad.zero_()
    y = x * x
    y.backward(gradient=tensor(np.ones(len(y))))
    assert_close(x.grad, 2 * np.arange(4.0))
    assert_close(x.grad, numeric_gradient(lambda v: np.sum(v * v), np.arange(4.0)))


def test_seed003_detach_cuts_the_graph():
    x = tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    y = x * x
    u = y.detach()
    assert u.grad_fn is None and not u.requires_grad
    z = u * x
    z.sum().backward()
    assert np.all(x.grad == u)
    u0 = np.arange(4.0) ** 2
    assert_close(x.grad, numeric_gradient(lambda v: np.sum(u0 * v), np.arange(4.0)))
    # the graph that produced y is untouched: its gradient is still available
    x.grad.zero_()
    y.sum().backward()
    assert np.all(x.grad == 2 * x)


def _seed003_f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def _seed003_f_numpy(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    return b if b.sum() > 0 else 100 * b


@pytest.mark.parametrize("value", [0.7, -0.3, 1e-3, -2.5])
def test_seed003_gradient_through_python_control_flow(value):
    a = tensor(value, requires_grad=True, dtype=np.float64)
    d = _seed003_f(a)
    d.backward()
    assert a.grad.item() == pytest.approx((d / a).item(), rel=1e-12)
    assert_close(a.grad, numeric_gradient(_seed003_f_numpy, value, eps=1e-9), rtol=1e-6)


def test_seed003_exercise_vector_input():
    rng = np.random.default_rng(4)
    a = tensor(rng.standard_normal(5), requires_grad=True)
    d = _seed003_f(a)
    assert d.shape == (5,)
    with pytest.raises(RuntimeError, match=NOT_SCALAR):
        d.backward()
    d.sum().backward()
    assert_close(a.grad, (d / a).data)


def test_seed003_exercise_backward_twice():
    x = tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    y = 2 * np.dot(x, x)
    y.backward()
    with pytest.raises(RuntimeError, match=FREED) as error:
        y.backward()
    assert "retain_graph=True" in str(error.value)
    assert_close(x.grad, 4 * np.arange(4.0))                     # the failed call added nothing


def test_seed003_exercise_derivative_of_sine():
    grid = np.linspace(-3, 3, 25)
    x = tensor(grid, requires_grad=True)
    np.sin(x).sum().backward()
    assert_close(x.grad, np.cos(grid), rtol=1e-12)


def test_seed003_exercise_log_sine_reciprocal():
    grid = np.linspace(0.5, 4.0, 9)
    x = tensor(grid, requires_grad=True)
    f = np.log(x ** 2) * np.sin(x) + x ** -1
    f.backward(np.ones_like(grid))
    expected = 2 / grid * np.sin(grid) + np.log(grid ** 2) * np.cos(grid) - grid ** -2.0
    assert_close(x.grad, expected, rtol=1e-10)


# --- seed 004: "PyTorch, Autograd и все-все-все" ----------------------------------------


def test_seed004_tensor_from_numpy_then_requires_grad():
    rng = np.random.default_rng(5)
    x = tensor(rng.standard_normal((2, 2)).astype(np.float32), requires_grad=True)
    assert x.requires_grad and x.shape == (2, 2)
    x = tensor(np.array([1., 2., 3.]))
    assert x.requires_grad_(True) is x
    assert repr(x) == "tensor([1., 2., 3.], dtype=float64, requires_grad=True)"
    assert isinstance(x.data, np.ndarray)
    np.testing.assert_array_equal(x.data, [1., 2., 3.])


def test_seed004_mean_of_three_squares():
    x = tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    assert x.grad is None and x.grad_fn is None
    y = x + 2
    assert_close(y, np.full((2, 2), 3.0))
    assert repr(y.grad_fn) == "<AddBackward0>"
    z = y * y * 3
    out = z.mean()
    assert_close(z, np.full((2, 2), 27.0))
    assert out.item() == 27.0 and out.grad_fn.name() == "MeanBackward0"
    assert (y.is_leaf, y.requires_grad) == (False, True)
    assert (z.is_leaf, z.requires_grad) == (False, True)
    assert (x.is_leaf, x.requires_grad) == (True, True)
    out.backward()
    assert_close(x.grad, np.full((2, 2), 4.5))                   # 6 (x + 2) / 4 at x = 1
    assert_close(x.grad, numeric_gradient(lambda v: np.mean((v + 2) * (v + 2) * 3),
                                          np.ones((2, 2))))


def test_seed004_repeated_backward_through_add_accumulates():
    x = tensor(np.ones((2, 2), dtype=np.float32))
    x.requires_grad_(True)
    y = x + 2
    y.backward(tensor(np.ones((2, 2), dtype=np.float32)))
    assert_close(x.grad, np.ones((2, 2)))
    z = y * y
    assert_close(z, np.full((2, 2), 9.0))
    assert z.grad_fn.name() == "MulBackward0"
    gradient = tensor(np.random.default_rng(6).standard_normal((2, 2)).astype(np.float32))
    for i in range(3):
        y.backward(gradient)       # AddBackward0 saves nothing: no retain_graph needed
        assert_close(x.grad, 1.0 + (i + 1) * gradient.data.astype(np.float64))


# --- operators, NumPy functions and broadcasting ----------------------------------------


FUNCTIONS = {
    "sin_exp": lambda x: np.sin(x) * np.exp(x),
    "cos_tan_tanh": lambda x: np.cos(x) + np.tan(x) * np.tanh(x),
    "log_sqrt": lambda x: np.log(x * x + 1) + np.sqrt(x * x + 2),
    "abs": lambda x: np.absolute(x) + abs(x),
    "reflected": lambda x: 2 * x + 1 / (x * x + 1) - 3 - x / 2 + 2 ** x + (-x) + (+x),
    "power": lambda x: (x * x + 1) ** 1.5 + x ** 2,
    "ndarray_times_tensor": lambda x: np.linspace(1, 2, x.size).reshape(x.shape) * x,
    "matmul": lambda x: x @ np.arange(12.0).reshape(3, 4) @ np.ones(4),
    "rmatmul": lambda x: np.arange(8.0).reshape(2, 4) @ x,
    "norm": lambda x: np.linalg.norm(x) * x,
    "sum_axis0": lambda x: np.sum(x * x, axis=0),
    "sum_keepdims": lambda x: x / np.sum(np.exp(x), axis=1, keepdims=True),
    "mean_axis1": lambda x: np.mean(x * x, axis=1),
    "where": lambda x: np.where(x > 0, x * x, 0),
    "maximum": lambda x: np.maximum(x, 0.1) + np.minimum(x, -0.1),
    "dot": lambda x: np.dot(x, np.ones((3, 2))),
    "reshape": lambda x: np.reshape(x * x, (3, 4)) @ np.arange(4.0),
    "transpose": lambda x: np.transpose(x) * np.arange(4.0),
    "methods": lambda x: x.T.reshape(2, 6).sum(axis=1) + x.transpose().mean(),
    "indexing": lambda x: x[0] * x[1:, ::2].sum() + x[x > 0.5].sum() + x[[0, 0, 2], [1, 1, 0]],
    "iteration": lambda x: sum(row * row for row in x),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numpy_functions_match_finite_differences(name):
    function = FUNCTIONS[name]
    rng = np.random.default_rng(7)
    x0 = rng.uniform(0.1, 1.2, size=(4, 3))
    x0[1, 1] = -0.7
    weights = rng.standard_normal(np.shape(function(x0)))
    x = tensor(x0, requires_grad=True)
    out = function(x)
    assert isinstance(out, Tensor) and out.grad_fn is not None
    assert_close(out, function(x0), rtol=1e-12)
    out.backward(weights)
    reference = numeric_gradient(lambda v: np.sum(function(v) * weights), x0)
    assert_close(x.grad, reference, rtol=1e-6, atol=1e-6)


def test_broadcast_bias_is_summed_back():
    rng = np.random.default_rng(8)
    X0, b0 = rng.standard_normal((4, 2)), rng.standard_normal(2)
    X = tensor(X0, requires_grad=True)
    b = tensor(b0, requires_grad=True)
    y = X + b
    assert y.shape == (4, 2)
    weights = rng.standard_normal((4, 2))
    y.backward(weights)
    assert b.grad.shape == (2,)
    assert_close(b.grad, weights.sum(axis=0))
    assert_close(X.grad, weights)


def test_broadcast_column_and_scalar_tensors():
    rng = np.random.default_rng(9)
    a0, c0, s0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 1)), 0.8
    a = tensor(a0, requires_grad=True)
    c = tensor(c0, requires_grad=True)
    s = tensor(s0, requires_grad=True, dtype=np.float64)
    (a * c / s - c ** 2).sum().backward()
    assert_close(c.grad, numeric_gradient(lambda v: np.sum(a0 * v / s0 - v ** 2), c0))
    assert_close(s.grad, numeric_gradient(lambda v: np.sum(a0 * c0 / v - c0 ** 2), s0))
    assert c.grad.shape == (3, 1) and s.grad.shape == ()


def test_indexing_with_repeated_indices_adds_up():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 2]]
    assert y.grad_fn.name() == "IndexBackward0"
    y.sum().backward()
    assert_close(x.grad, [2.0, 0.0, 1.0])


def test_indexing_basic_mask_and_integer():
    x0 = np.arange(12.0).reshape(3, 4)
    x = tensor(x0, requires_grad=True)
    mask = x0 > 6
    (x[0].sum() + 2 * x[1:, ::2].sum() + 3 * x[mask].sum()).backward()
    expected = np.zeros((3, 4))
    expected[0] += 1
    expected[1:, ::2] += 2
    expected[mask] += 3
    assert_close(x.grad, expected)


def test_comparisons_return_plain_boolean_arrays():
    x = tensor([1.0, -2.0, 3.0], requires_grad=True)
    for mask in (x > 0, x < 0, x >= 1, x <= 1, x == 3, x != 3, 0 < x):
        assert type(mask) is np.ndarray and mask.dtype == np.bool_
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert bool(x.sum() > 0) is True


def test_nondifferentiable_rule_gives_no_grad_fn():
    x = tensor([1.5, -2.5], requires_grad=True)
    for result in (np.floor(x), np.sign(x), np.round(x), np.zeros_like(x)):
        assert isinstance(result, Tensor)
        assert result.grad_fn is None and not result.requires_grad
    assert isinstance(np.argmax(x), Tensor) and np.argmax(x).item() == 0
    assert np.shape(x) == (2,) and np.ndim(x) == 1 and len(x) == 2
    y = x * np.floor(x)                              # the floor is a constant factor
    y.sum().backward()
    assert_close(x.grad, [1.0, -3.0])


def test_missing_rule_error_names_the_function():
    assert REGISTRY.lookup(np.copysign) is None
    x = tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(MissingRuleError, match="numpy.copysign") as error:
        np.copysign(x, -1.0)
    message = str(error.value)
    assert "define(np.copysign" in message and "hint" in message
    assert isinstance(error.value, S2SError)
    assert REGISTRY.lookup(np.unwrap) is None
    with pytest.raises(MissingRuleError, match="numpy.unwrap"):
        np.unwrap(x)
    with pytest.raises(MissingRuleError, match="numpy.add.reduce"):
        np.add.reduce(x)
    # without a gradient to carry the same calls simply run
    assert_close(np.copysign(x.detach(), -1.0), [-1.5, -2.5])
    with no_grad():
        assert np.unwrap(x).shape == (2,)
    # functions with a non-floating result need no rule
    assert np.all(np.isclose(x, x)) and np.argsort(x).dtype.kind == "i"


# NumPy functions, several implemented in Python on top of other NumPy functions, and
# several returning named tuples (QRResult, EigResult...): (name, call on a 3x3 matrix).
UNRULED_CALLS = [
    ("numpy.linalg.qr", lambda a: np.linalg.qr(a)[1]),
    ("numpy.linalg.qr", lambda a: np.linalg.qr(a).Q),
    ("numpy.linalg.eig", lambda a: np.linalg.eig(a).eigenvalues),
    ("numpy.linalg.eigvals", lambda a: np.linalg.eigvals(a)),
    ("numpy.linalg.eigvalsh", lambda a: np.linalg.eigvalsh(a)),
    ("numpy.linalg.lstsq", lambda a: np.linalg.lstsq(a, np.ones(3), rcond=None)[0]),
    ("numpy.linalg.matrix_power", lambda a: np.linalg.matrix_power(a, 3)),
    ("numpy.linalg.cond", lambda a: np.linalg.cond(a)),
    ("numpy.linalg.multi_dot", lambda a: np.linalg.multi_dot([a, a, a])),
    ("numpy.linalg.pinv", lambda a: np.linalg.pinv(a)),
    ("numpy.ptp", lambda a: np.ptp(a)),
    ("numpy.median", lambda a: np.median(a)),
    ("numpy.percentile", lambda a: np.percentile(a, 30)),
    ("numpy.quantile", lambda a: np.quantile(a, 0.3)),
    ("numpy.average", lambda a: np.average(a, weights=np.arange(1.0, 4.0), axis=0)),
    ("numpy.diff", lambda a: np.diff(a)),
    ("numpy.sort", lambda a: np.sort(a)),
    ("numpy.cross", lambda a: np.cross(a, a[::-1])),
    ("numpy.kron", lambda a: np.kron(a, a)),
    ("numpy.cov", lambda a: np.cov(a)),
    ("numpy.corrcoef", lambda a: np.corrcoef(a)),
    ("numpy.gradient", lambda a: np.gradient(a)[0]),
    ("numpy.nanmean", lambda a: np.nanmean(a)),
    ("numpy.nansum", lambda a: np.nansum(a)),
    ("numpy.interp", lambda a: np.interp(a, [-3.0, 3.0], [0.0, 1.0])),
    ("numpy.polyval", lambda a: np.polyval([1.0, 2.0], a)),
    ("numpy.unique", lambda a: np.unique(a)),
    ("numpy.unwrap", lambda a: np.unwrap(a)),
    ("numpy.nextafter", lambda a: np.nextafter(a, 0.0)),
]


@pytest.mark.parametrize(("name", "call"), UNRULED_CALLS,
                         ids=[f"{name}-{number}" for number, (name, _) in enumerate(UNRULED_CALLS)])
def test_function_without_a_rule_raises_on_the_tape(name, call):
    """Never a zero gradient: a NumPy function without a rule refuses a tracked tensor."""
    function = eval(name.replace("numpy", "np", 1))       # noqa: S307 - our own names
    if REGISTRY.lookup(function) is not None:
        pytest.skip(f"{name} has a rule now")
    a = np.array([[2.0, 0.5, -1.0], [0.3, 1.5, 0.2], [-0.4, 0.1, 3.0]])
    with pytest.raises(MissingRuleError, match=name.replace(".", r"\.")):
        vjp_with_tape(lambda x: np.sum(np.real(call(x))), (a,), {}, (0,))
    with pytest.raises(MissingRuleError, match=name.replace(".", r"\.")):
        call(tensor(a, requires_grad=True))                # outside the fallback as well
    with no_grad():                                          # nothing to differentiate: runs
        np.testing.assert_allclose(np.asarray(call(tensor(a, requires_grad=True))), call(a))


def test_real_imag_and_conj_of_a_real_tensor():
    x0 = np.array([[0.5, -1.0], [2.0, 0.25]])

    def f(x):
        return np.sum(np.sin(x.real) * x.conj() + x.imag * x + x.conjugate().real ** 2)

    x = tensor(x0, requires_grad=True)
    f(x).backward()
    assert_close(x.grad, numeric_gradient(f, x0), rtol=1e-7)
    assert x.real.grad_fn.name() == "RealBackward0"
    assert x.imag.grad_fn.name() == "ImagBackward0" and not np.any(x.imag.data)
    _, pullback = vjp_with_tape(f, (x0,), {}, (0,))
    assert_close(pullback(1.0)[0], numeric_gradient(f, x0), rtol=1e-7)


# ``data`` is the tape's own attribute: the NumPy array, outside the graph (torch's .data).
NDARRAY_NAMES = [name for name in sorted(sum(ndarray_members(), [])) if name != "data"]


@pytest.mark.parametrize("name", NDARRAY_NAMES)
def test_every_ndarray_attribute_resolves(name):
    """A rule, a declared-zero value, or MissingRuleError: never AttributeError."""
    x = tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    try:
        value = getattr(x, name)
    except MissingRuleError as error:
        assert f".{name}" in str(error) and "hint" in str(error)
        assert not callable(getattr(np.ndarray, name))
        with no_grad():                                      # not recording: the plain value
            getattr(x, name)
        return
    if isinstance(value, Tensor) and value.requires_grad:
        assert value.grad_fn is not None                     # recorded by a rule
    elif not callable(value):
        assert not isinstance(value, (np.ndarray, np.flatiter)) or value.dtype.kind not in "fc"


def test_ndarray_names_without_a_rule():
    x = tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    if "mT" not in REGISTRY.attributes:
        with pytest.raises(MissingRuleError, match=r"\.mT"):
            x.mT
    with pytest.raises(MissingRuleError, match=r"\.flat"):
        x.flat
    with pytest.raises(MissingRuleError, match=r"\.tobytes\(\)"):
        x.tobytes()
    assert x.strides == x.data.strides and x.flags.writeable
    v = tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    assert v.searchsorted(1.5).item() == 2 and v.argsort().data.dtype.kind == "i"  # integers
    # in-place methods are refused while recording, allowed under no_grad
    with pytest.raises(RuntimeError, match="in-place"):
        x.fill(0.0)
    with pytest.raises(RuntimeError, match="in-place"):
        x.sort()
    y = tensor(np.array([3.0, 1.0, 2.0]))
    y.sort()
    assert y.data.tolist() == [1.0, 2.0, 3.0] and y._version == 1
    # names ndarray does not have keep Python's semantics
    assert not hasattr(x, "no_such_attribute") and not hasattr(x, "_private")
    with pytest.raises(AttributeError):
        x.no_such_attribute


def test_unsupported_keyword_of_a_rule_is_reported():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(UnsupportedError, match="numpy.sum"):
        np.sum(x, initial=1.0)
    order = tensor(2.0, requires_grad=True)
    with pytest.raises(UnsupportedError, match="positional"):
        np.linalg.norm(x, ord=order)


# --- backward-pass semantics ------------------------------------------------------------


def test_long_chain_backward_is_iterative():
    n = 100_000
    x = tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(n):
        y = y * 1.00001
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001 ** n, rel=1e-9)
    s = x
    for _ in range(n):
        s = s + 1.0
    s.backward()
    assert x.grad.item() == pytest.approx(1.00001 ** n + 1.0, rel=1e-9)
    del y, s                                         # freeing a long chain is fine too


def test_diamond_graph_runs_each_node_once():
    x = tensor(0.5, requires_grad=True, dtype=np.float64)
    a = np.sin(x)
    b = a * a + np.exp(a)                            # a feeds two consumers
    c = b * a
    c.backward()
    f = lambda v: (np.sin(v) ** 2 + np.exp(np.sin(v))) * np.sin(v)  # noqa: E731
    assert_close(x.grad, numeric_gradient(f, 0.5), rtol=1e-7)


def test_retain_graph_allows_a_second_backward():
    x = tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 2 * 2 * np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()


def test_linear_nodes_survive_freeing():
    x = tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = np.transpose(x[:, 1:]).reshape(4).sum() - x.mean()
    y.backward()
    y.backward()
    expected = np.zeros((2, 3))
    expected[:, 1:] = 1
    assert_close(x.grad, 2 * (expected - 1 / 6))


def test_backward_checks_gradient_shape():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_leaf_accumulates_directly():
    x = tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([0.5, 0.25]))
    x.backward(np.array([0.5, 0.25]))
    assert_close(x.grad, [1.0, 0.5])


def test_grad_can_be_assigned_and_cleared():
    x = tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([1.0, 1.0])
    assert isinstance(x.grad, Tensor) and x.grad.dtype == np.float32
    (x * 2).sum().backward()
    assert_close(x.grad, [3.0, 3.0])
    x.grad = None
    (x * 2).sum().backward()
    assert_close(x.grad, [2.0, 2.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = np.ones(3)


def test_only_leaves_get_grad():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (y * y).sum().backward()
    assert y.grad is None and y.grad_fn is not None
    assert_close(x.grad, 2 * 9 * np.array([1.0, 2.0]))


def test_in_place_change_of_a_saved_value_is_detected():
    x = tensor([1.0, 2.0], requires_grad=True)
    w = tensor([3.0, 4.0])
    y = (x * w).sum()
    w += 1                                            # w does not require grad: allowed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_augmented_assignment_rebinds_while_recording():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y
    y += 1                      # like y = y + 1: a new tensor; z keeps the old one
    assert y is not z and not y.is_leaf
    (y * y).sum().backward()
    assert_close(x.grad, 2 * 2 * (2 * np.array([1.0, 2.0]) + 1))   # d/dx sum((2x+1)^2)
    assert_close(z, [2.0, 4.0])


def test_augmented_assignment_on_a_leaf_that_requires_grad_raises_as_in_pytorch():
    w = tensor([1.0, 1.0], requires_grad=True)
    (w * 3).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
        w -= 0.1 * w.grad       # an optimizer step outside no_grad would lose the leaf
    assert w.is_leaf and w.grad is not None
    with no_grad():
        w -= 0.1 * w.grad
    assert_close(w, [0.7, 0.7])
    assert w.is_leaf


def test_in_place_on_tensors_that_require_grad():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 5.0
    with no_grad():
        x -= 0.5 * tensor([2.0, 2.0])
        x[1] = 7.0
    assert_close(x, [0.0, 7.0])
    assert x.requires_grad and x.is_leaf


# --- dtypes and flags -------------------------------------------------------------------


def test_gradients_keep_the_leaf_dtype():
    x32 = tensor([1.0, 2.0], requires_grad=True)
    assert x32.dtype == np.float32
    y = x32 * np.array([0.5, 0.25], dtype=np.float64)      # promotes to float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32
    assert_close(x32.grad, [0.5, 0.25])
    x64 = tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x64 * np.float32(2.0)).sum().backward()
    assert x64.grad.dtype == np.float64


def test_default_dtypes_follow_torch():
    assert tensor(1.0).dtype == np.float32
    assert tensor([1.0, 2.0]).dtype == np.float32
    assert tensor([1, 2]).dtype == np.int64
    assert tensor(np.array([1.0])).dtype == np.float64
    assert tensor([1, 2], dtype=np.float64).dtype == np.float64
    data = np.array([1.0, 2.0])
    copy = tensor(data)
    data[0] = 9.0
    assert copy.data[0] == 1.0                       # tensor() copies


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match=NOT_FLOAT):
        tensor([1, 2], requires_grad=True)
    x = tensor([1, 2])
    with pytest.raises(RuntimeError, match=NOT_FLOAT):
        x.requires_grad_()
    with pytest.raises(RuntimeError, match=NOT_FLOAT):
        x.requires_grad = True
    assert not x.requires_grad
    assert x.requires_grad_(False) is x


def test_requires_grad_of_non_leaf_cannot_be_switched_off():
    y = tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y


def test_tensor_attributes_and_conversions():
    x = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert (x.shape, x.ndim, x.size, x.dtype) == ((2, 3), 2, 6, np.float32)
    assert x.T.shape == (3, 2) and x.T.grad_fn.name() == "TransposeBackward0"
    assert len(x) == 2 and x.numpy() is x.data
    with pytest.raises(MissingRuleError, match="would drop its gradient"):
        np.asarray(x)                        # implicit: refused, as PyTorch refuses .numpy()
    assert np.array_equal(np.asarray(x.detach()), x.data)
    with s2s.no_grad():
        assert np.asarray(x) is x.data
    assert tensor(2.5).item() == 2.5 and float(tensor(2.5)) == 2.5
    assert f"{tensor(2.5):.2f}" == "2.50"
    assert repr(tensor([1.0, 2.0], requires_grad=True)) == \
        "tensor([1., 2.], requires_grad=True)"
    assert repr(tensor([1, 2])) == "tensor([1, 2])"
    with pytest.raises(TypeError):
        len(tensor(1.0))
    assert x.norm().grad_fn.name() == "NormBackward0"
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert (x @ np.ones(3)).grad_fn.name() == "MmBackward0"
    assert x.dot(np.ones(3)).grad_fn.name() == "DotBackward0"
    assert isinstance((x * 2).grad_fn, BackwardNode)
    assert {x: 1}[x] == 1                            # hashable by identity


def test_ndarray_on_the_left_dispatches_to_the_tensor():
    x = tensor([1.0, 2.0], requires_grad=True)
    for result in (np.ones(2) * x, np.ones(2) + x, np.ones(2) - x, np.ones(2) / x,
                   np.float64(2.0) * x, np.ones((2, 2)) @ x):
        assert isinstance(result, Tensor) and result.grad_fn is not None


# --- grad mode ----------------------------------------------------------------------------


def test_no_grad_nests_and_restores():
    x = tensor([1.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with enable_grad():
            assert (x * 2).grad_fn is not None
        assert (x * 2).grad_fn is None
    assert is_grad_enabled() and (x * 2).grad_fn is not None


def test_no_grad_as_decorator_and_after_exceptions():
    x = tensor([1.0], requires_grad=True)

    @no_grad()
    def double(value):
        return value * 2

    @no_grad
    def triple(value):
        return value * 3

    assert double(x).grad_fn is None and is_grad_enabled()
    assert triple(x).grad_fn is None and triple.__name__ == "triple"
    with pytest.raises(ValueError):
        with no_grad():
            raise ValueError
    assert is_grad_enabled()


def test_no_grad_is_per_thread():
    x = tensor([1.0], requires_grad=True)
    seen = []
    with no_grad():
        worker = threading.Thread(target=lambda: seen.append((x * 2).grad_fn is not None))
        worker.start()
        worker.join()
    assert seen == [True]


# --- vjp_with_tape ----------------------------------------------------------------------


def test_vjp_with_tape_values_and_reusable_pullback():
    def f(x, y, scale=1.0):
        return np.sum(np.sin(x) * y) * scale

    rng = np.random.default_rng(10)
    x0, y0 = rng.standard_normal(3), rng.standard_normal(3)
    value, pullback = vjp_with_tape(f, (x0, y0), {"scale": 2.0}, (0, 1))
    assert value == pytest.approx(f(x0, y0, 2.0))
    assert not isinstance(value, Tensor)
    for _ in range(2):                                 # callable again, no accumulation
        gx, gy = pullback(1.0)
        assert isinstance(gx, np.ndarray) and not isinstance(gx, Tensor)
        assert_close(gx, 2 * np.cos(x0) * y0, rtol=1e-12)
        assert_close(gy, 2 * np.sin(x0), rtol=1e-12)
    gx, gy = pullback(0.5)
    assert_close(gx, np.cos(x0) * y0, rtol=1e-12)


def test_vjp_with_tape_python_floats_and_subsets():
    def f(a, b, n):
        total = a
        for _ in range(n):
            total = total * b
        return total

    value, pullback = vjp_with_tape(f, (1.5, 2.0, 3), {}, (1,))
    assert value == pytest.approx(12.0)
    (gb,) = pullback()
    assert isinstance(gb, float) and gb == pytest.approx(3 * 1.5 * 2.0 ** 2)
    value, pullback = vjp_with_tape(f, (1.5, 2.0, 3), {}, (0, 1))
    ga, gb = pullback(1.0)
    assert isinstance(ga, float) and ga == pytest.approx(8.0)


def test_vjp_with_tape_array_output_and_tuple_output():
    x0 = np.array([0.5, 1.5], dtype=np.float32)
    value, pullback = vjp_with_tape(lambda x: x * x, (x0,), {}, (0,))
    assert isinstance(value, np.ndarray) and value.dtype == np.float32
    (g,) = pullback(np.array([1.0, 2.0]))
    assert g.dtype == np.float32
    assert_close(g, 2 * x0 * np.array([1.0, 2.0]))
    with pytest.raises(InputError):
        pullback()

    value, pullback = vjp_with_tape(lambda x: (np.sum(x), np.sum(x * x)), (x0,), {}, (0,))
    assert isinstance(value, tuple) and len(value) == 2
    (g,) = pullback((1.0, 1.0))
    assert_close(g, 1 + 2 * x0)


def test_vjp_with_tape_unused_and_constant_outputs():
    value, pullback = vjp_with_tape(lambda x, y: np.sum(y), (np.ones(2), np.ones(3)), {}, (0,))
    assert value == 3.0
    (g,) = pullback(1.0)
    np.testing.assert_array_equal(g, np.zeros(2))
    value, pullback = vjp_with_tape(lambda x: 4.0, (2.0,), {}, (0,))
    assert value == 4.0 and pullback(1.0) == (0.0,)


def test_vjp_with_tape_identity_and_lists():
    value, pullback = vjp_with_tape(lambda x: x, (np.array([1.0, 2.0]),), {}, (0,))
    (g,) = pullback(np.array([3.0, 4.0]))
    assert_close(g, [3.0, 4.0])
    value, pullback = vjp_with_tape(lambda p: p[0] * p[1], ([2.0, 5.0],), {}, (0,))
    assert value == 10.0
    (g,) = pullback(1.0)
    assert g == [5.0, 2.0]


def test_vjp_with_tape_errors():
    with pytest.raises(InputError):
        vjp_with_tape(lambda x: x, (1.0,), {}, (3,))
    with pytest.raises(InputError):
        vjp_with_tape(lambda x: x, ("text",), {}, (0,))
    with pytest.raises(MissingRuleError, match="float"):
        vjp_with_tape(lambda x: math.sin(x), (1.0,), {}, (0,))
    with pytest.raises(MissingRuleError, match="numpy.i0"):
        vjp_with_tape(np.i0, (np.ones(2),), {}, (0,))
    with pytest.raises(MissingRuleError, match="NumPy array"):      # would drop the gradient
        vjp_with_tape(lambda x: np.sum(np.array([x[0], x[1]])), (np.ones(2),), {}, (0,))


def test_vjp_with_tape_negative_and_repeated_wrt():
    _, pullback = vjp_with_tape(lambda x, y: np.sum(x * y), (np.ones(2), np.full(2, 3.0)), {},
                                (-1, 0, 1))
    gy, gx, gy_again = pullback(1.0)
    assert_close(gy, [1.0, 1.0])
    assert_close(gx, [3.0, 3.0])
    assert_close(gy_again, gy)


def test_vjp_with_tape_runs_even_inside_no_grad():
    with no_grad():
        _, pullback = vjp_with_tape(lambda x: np.sum(x * x), (np.array([3.0]),), {}, (0,))
    assert_close(pullback(1.0)[0], [6.0])


def test_detach_if_tensor():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    detached = detach_if_tensor(y)
    assert detached.grad_fn is None and detached.data is y.data
    array = np.ones(2)
    assert detach_if_tensor(array) is array and detach_if_tensor(3.0) == 3.0


def test_stop_gradient_on_the_tape():
    x = tensor([1.0, 2.0], requires_grad=True)
    if isinstance(s2s.runtime.stop_gradient(x), Tensor) and \
            s2s.runtime.stop_gradient(x).grad_fn is None and \
            s2s.runtime.stop_gradient(x) is not x:
        def f(v):
            return np.sum(v * s2s.runtime.stop_gradient(v))
        _, pullback = vjp_with_tape(f, (np.array([1.0, 2.0]),), {}, (0,))
        assert_close(pullback(1.0)[0], [1.0, 2.0])
    else:
        pytest.skip("s2s.runtime.stop_gradient does not detach tensors yet")


def test_reshape_method_takes_numpys_order():
    x0 = np.arange(6.0).reshape(2, 3)
    weights = np.arange(6.0).reshape(3, 2) - 2.0
    x = tensor(x0, requires_grad=True)
    assert_close(x.reshape(3, 2, order="F"), np.reshape(x0, (3, 2), order="F"))
    np.sum(x.reshape((3, 2), order="F") ** 2 * weights).backward()
    assert_close(x.grad, numeric_gradient(
        lambda u: np.sum(np.reshape(u, (3, 2), order="F") ** 2 * weights), x0))
