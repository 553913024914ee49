"""Issue 13: every operation on a differentiated value meets a rule, a declared zero, or an
error.  Each function is differentiated as generated code (no tape) and compared with
central finite differences, or must raise ``MissingRuleError``."""
import numpy as np
import pytest

import s2s
from s2s.errors import MissingRuleError, UnsupportedError

from reference import numerical_gradient
import soundness_cases as cases

X = np.array([0.3, 1.1, 2.5])
Y = 0.7

DIFFERENTIABLE = [cases.remainder_operator, cases.remainder_of_a_constant,
                  cases.floor_divide_operator, cases.divmod_builtin, cases.divmod_ufunc,
                  cases.not_operator, cases.comparison_chain, cases.transpose_attribute,
                  cases.shape_attribute, cases.global_array_indexed]


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("position", [0, 1])
def test_generated_gradient_matches_finite_differences(function, position):
    derivative = s2s.differentiate(function, wrt=position, fallback="error")
    gradient = derivative.grad(X, Y)
    expected = numerical_gradient(function, [X, Y], position)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=lambda f: f.__name__)
def test_forward_mode_matches_reverse_mode(function):
    tangent = np.array([0.5, -1.0, 2.0])
    _, forward = s2s.jvp(function, (X, Y), (tangent, 0.0))
    gradient = s2s.grad(function)(X, Y)
    np.testing.assert_allclose(forward, np.dot(gradient, tangent), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("function, construct", [
    (cases.concatenation_trick, "np.r_"), (cases.column_trick, "np.c_"),
    (cases.norm_order_from_the_inputs, "'ord' argument of norm"), (cases.bitwise_on_floats, "x ^ x")],
    ids=lambda value: getattr(value, "__name__", value))
def test_operations_without_a_rule_are_refused(function, construct):
    with pytest.raises((MissingRuleError, UnsupportedError)) as raised:
        s2s.differentiate(function, wrt=(0, 1), fallback="error").grad(X, Y)
    message = str(raised.value)
    assert "soundness_cases.py:" in message and construct in message
