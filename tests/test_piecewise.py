"""``np.piecewise`` in generated code: rewritten to masked writes (s2s/normalize/piecewise.py).

Each form's gradient is checked against float64 finite differences in generated code
(``mode == "source"``, no tape fallback), forward mode against reverse mode, and the
Hessian (forward over reverse) against finite differences of the gradient.  NumPy's rules
are checked on the values: "otherwise" where no condition holds, a later condition winning
where several hold, numbers in the list, extra arguments passed to every function.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient
from s2s.errors import MissingRuleError, UnsupportedError
from s2s.tape import vjp_with_tape

RNG = np.random.default_rng(20261203)
X = np.array([-1.3, -0.4, 0.35, 0.8, 1.45, 2.2])
OFFSET = 0.7


def cube(v):
    return v ** 3 - v


def two_conditions_and_otherwise(x):
    return np.sum(np.piecewise(x, [x < 0, x > 1], [lambda v: np.sin(v) * v, cube,
                                                   lambda v: v ** 2 + 1]) * x)


def numbers_in_the_list(x):
    return np.sum(np.piecewise(x, [x < 0, x >= 1], [-1.5, np.exp, 0.25]) * np.cos(x))


def extra_arguments(x):
    # *args and **kw of np.piecewise go to every function
    y = np.piecewise(x, [x < 0.5], [lambda v, a, scale=1.0: scale * a * v ** 2,
                                    lambda v, a, scale=1.0: np.tanh(a * v) / scale],
                     OFFSET, scale=2.0)
    return np.sum(y ** 2)


def named_functions(x):
    return np.sum(np.piecewise(x, [x < 0], [np.tanh, cube]))


def log_branch(x):
    # np.log and np.sqrt meet only the entries they select: no NaN elsewhere, none in the
    # gradient (NumPy itself warns for neither)
    return np.sum(np.piecewise(x, [x > 0.5, x <= 0], [np.log, lambda v: np.sqrt(-v), 0.0])
                  * x)


def overlapping_conditions(x):
    # where both hold, the later condition (x > 1) wins
    return np.sum(np.piecewise(x, [x > 0, x > 1], [np.sin, lambda v: v ** 3]) * x)


def one_condition(x):
    return np.sum(np.piecewise(x, x < 0.5, [lambda v: v * v, np.exp]))


def matrix_input(x):
    a = np.reshape(x, (2, 3))
    y = np.piecewise(a, [a < 0, a > 1.0], [lambda v: -v ** 3, np.log, lambda v: v * 2.0])
    return np.sum(y @ np.arange(3.0))


def local_functions(x):
    def soft(v):
        return np.log1p(np.exp(v))
    hard = lambda v: v * x[0]          # noqa: E731  (captures x: a parameter of the lambda)
    conditions = [x < 0]               # a condition list held in a variable
    return np.sum(np.piecewise(x, conditions, [soft, hard]))


def nested_in_an_expression(x):
    return np.sum(np.piecewise(x, [x < 0], [np.sin, np.cos])) + np.sum(x) * 0.5


def in_a_loop_and_a_branch(x):
    # the lambda reads the loop's k when it is called (Python's late binding)
    s = 0.0
    for k in range(3):
        y = np.piecewise(x, [x < 0.1 * k], [lambda v: np.sin(v * k), lambda v: v ** 2])
        s = s + np.sum(y * x)
        if s > 0:
            s = s + np.sum(np.piecewise(x, [x > 0.5], [np.log, 1.0]))
    return s


FUNCTIONS = [two_conditions_and_otherwise, numbers_in_the_list, extra_arguments,
             named_functions, log_branch, overlapping_conditions, one_condition, matrix_input,
             local_functions, nested_in_an_expression, in_a_loop_and_a_branch]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_gradient_against_finite_differences(function):
    differentiable = s2s.differentiate(function, fallback="error")
    with np.errstate(all="raise"):              # no branch meets another's entries
        gradient = differentiable.grad(X)
        value = differentiable(X)
    assert differentiable.mode == "source"
    assert np.all(np.isfinite(gradient))
    assert value == pytest.approx(function(X), rel=1e-12)
    assert_close(gradient, numerical_gradient(function, [X], 0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_forward_mode_against_reverse_mode(function):
    tangent = RNG.normal(size=X.shape)
    value, derivative = s2s.jvp(function, (X,), (tangent,))
    assert value == pytest.approx(function(X), rel=1e-12)
    assert derivative == pytest.approx(float(np.dot(s2s.grad(function)(X), tangent)),
                                       rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("function", [two_conditions_and_otherwise, extra_arguments,
                                      log_branch, matrix_input],
                         ids=lambda f: f.__name__)
def test_second_order_against_finite_differences_of_the_gradient(function):
    gradient = s2s.grad(function)
    h = 1e-5
    direction = RNG.normal(size=X.shape)
    expected = (gradient(X + h * direction) - gradient(X - h * direction)) / (2 * h)
    assert_close(s2s.hvp(function, X, direction), expected, rtol=1e-5, atol=1e-7)
    hessian = s2s.hessian(function)(X)
    assert_close(hessian @ direction, expected, rtol=1e-5, atol=1e-7)


def test_gradient_flows_into_a_number_of_the_list_and_an_extra_argument():
    def f(x, c, a):
        return np.sum(np.piecewise(x, [x < 0, x > 1], [c, lambda v, a: a * v, c * c], a))
    args = (X, 0.3, 1.7)
    for position in (0, 1, 2):
        gradient = s2s.differentiate(f, wrt=position, fallback="error").grad(*args)
        assert_close(gradient, numerical_gradient(f, list(args), position), rtol=1e-6)


def test_values_follow_numpy():
    """NumPy's own result for every form, including a later condition overriding."""
    for function in FUNCTIONS:
        assert s2s.differentiate(function, fallback="error").value_and_grad(X)[0] == \
            pytest.approx(function(X), rel=1e-12)
    y = np.piecewise(X, [X > 0, X > 1], [1.0, 2.0])
    assert list(y) == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]


def a_list_in_a_variable(x):
    functions = [np.sin, lambda v: v ** 3, 0.5]       # a local literal, read only here
    return np.sum(np.piecewise(x, [x < 0, x > 1], functions) * x) \
        + np.sum(np.piecewise(x ** 2, [x > 0.5, x < -1], functions))


def test_a_list_of_functions_in_a_local_variable():
    differentiable = s2s.differentiate(a_list_in_a_variable, fallback="error")
    assert_close(differentiable.grad(X), numerical_gradient(a_list_in_a_variable, [X], 0),
                 rtol=1e-6, atol=1e-8)
    assert differentiable.mode == "source"


def _built(x):
    functions = [np.sin] + [np.cos]
    return np.sum(np.piecewise(x, [x < 0], functions))


def _read_elsewhere(x):
    functions = [np.sin, np.cos]
    return np.sum(np.piecewise(x, [x < 0], functions)) + len(functions)


def _a_parameter(x, functions=(np.sin, np.cos)):
    return np.sum(np.piecewise(x, [x < 0], functions))


@pytest.mark.parametrize("function", [_built, _read_elsewhere, _a_parameter],
                         ids=lambda f: f.__name__)
def test_any_other_list_of_functions_is_refused_with_the_line(function):
    with pytest.raises(UnsupportedError, match="list of functions") as raised:
        s2s.differentiate(function, fallback="error").grad(X)
    assert "np.piecewise" in raised.value.location.source_line


def test_wrong_number_of_functions_is_numpys_error():
    def f(x):
        return np.sum(np.piecewise(x, [x < 0], [np.sin, np.cos, np.tan]))
    with pytest.raises((ValueError, s2s.S2SError)):
        s2s.differentiate(f, fallback="error").grad(X)


def test_the_tape_refuses_piecewise():
    with pytest.raises(MissingRuleError, match="piecewise"):
        vjp_with_tape(named_functions, (X,), {}, (0,))[1](1.0)
