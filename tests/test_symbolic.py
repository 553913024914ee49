"""s2s.verify.symbolic against derivatives written out by hand in sympy, and finite differences.

The expected expressions below are built directly with sympy, never by s2s, so each test
compares the translator against an independent reference.
"""
import inspect
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import s2s
from s2s.verify import SymbolicDerivative, numerical_grad, symbolic

x, y = sp.symbols("x y", real=True)


def equal(actual, expected):
    return sp.simplify(actual - expected) == 0


def agree(actual, expected, points):
    """Equal at each point (for identities sympy cannot prove, such as ones with Abs)."""
    return all(abs(float((actual - expected).subs(x, p))) < 1e-12 for p in points)


def line_of(function, text):
    """The file line number of the first line of ``function`` containing ``text``."""
    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


# --- straight-line code -------------------------------------------------------------------

def d2l(x):
    return np.log(x ** 2) * np.sin(x) + 1 / x


def test_d2l_exercise():
    result = symbolic(d2l)
    assert isinstance(result, SymbolicDerivative)
    assert equal(result.function, sp.log(x ** 2) * sp.sin(x) + 1 / x)
    assert equal(result.derivative, 2 * sp.sin(x) / x + sp.log(x ** 2) * sp.cos(x) - 1 / x ** 2)
    assert result.symbols == {"x": x}
    assert "d2l(x) =" in str(result) and "dd2l/dx =" in str(result)


def math_functions(x):
    return math.exp(math.sin(x)) * math.sqrt(x) + math.log(x) - math.tanh(x) + abs(x) ** 3


def test_math_functions():
    expected = (sp.exp(sp.sin(x)) * sp.sqrt(x) + sp.log(x) - sp.tanh(x) + sp.Abs(x) ** 3)
    result = symbolic(math_functions)
    assert agree(result.derivative, sp.diff(expected, x), [0.3, 1.0, 2.5, 7.0])


def constants(x):
    return np.pi * x + math.e * x ** 2 + 0.5 * x ** 3 + 0.1 * x


def test_constants_are_exact():
    result = symbolic(constants)
    assert equal(result.derivative, sp.pi + 2 * sp.E * x + sp.Rational(3, 2) * x ** 2
                 + sp.Float(0.1))
    assert result.derivative.coeff(x, 0).has(sp.pi)


def assignments(x, y):
    a, b = x * 2, y + 1
    a += b
    a *= x
    c = a
    c -= 1 / y
    return c ** 2


def test_assignments_tuple_unpacking_and_augmented_assignment():
    expected = ((2 * x + y + 1) * x - 1 / y) ** 2
    result = symbolic(assignments, wrt=("x", 1))
    assert isinstance(result.derivative, tuple)
    assert equal(result.derivative[0], sp.diff(expected, x))
    assert equal(result.derivative[1], sp.diff(expected, y))


def absolute(x):
    return abs(x) * x


def test_abs_uses_real_symbols():
    result = symbolic(absolute)
    assert equal(result.derivative, 2 * sp.Abs(x))
    assert result.lambdify()(-2.0) == pytest.approx(4.0)


def test_lambda():
    result = symbolic(lambda x: np.exp(-x * x))
    assert equal(result.derivative, -2 * x * sp.exp(-x ** 2))


def square(u):
    return u * u


def calls_a_helper(x):
    return square(np.sin(x)) + np.maximum(x, 0.0)


def test_python_helpers_are_interpreted():
    result = symbolic(calls_a_helper)
    assert equal(result.derivative, 2 * sp.sin(x) * sp.cos(x) + sp.Heaviside(x))


# --- branches -------------------------------------------------------------------------

def piecewise(x):
    if x > 1:
        y = x ** 2
    elif x > -1:
        y = 3 * x
    else:
        y = -x
    return y + 1


@pytest.mark.parametrize("point, slope", [(2.0, 4.0), (0.5, 3.0), (-3.0, -1.0)])
def test_if_elif_else_gives_a_piecewise(point, slope):
    result = symbolic(piecewise)
    assert result.function.has(sp.Piecewise)
    assert float(result.derivative.subs(x, point)) == pytest.approx(slope)
    assert result.lambdify()(point) == pytest.approx(slope)
    assert float(result.function.subs(x, point)) == pytest.approx(piecewise(point))


def early_return(x):
    if x < 0:
        return -x * 2
    z = x ** 3
    if z > 8:
        return 8 * x
    return z


@pytest.mark.parametrize("point, slope", [(-1.0, -2.0), (1.5, 6.75), (3.0, 8.0)])
def test_returns_inside_branches(point, slope):
    result = symbolic(early_return)
    assert float(result.derivative.subs(x, point)) == pytest.approx(slope)
    assert float(result.function.subs(x, point)) == pytest.approx(early_return(point))


def conditional_expression(x, y):
    return x * y if x > y else np.sin(x) + y


def test_conditional_expression():
    result = symbolic(conditional_expression, wrt=(0, 1))
    dx, dy = result.derivative
    assert float(dx.subs({x: 2.0, y: 1.0})) == pytest.approx(1.0)
    assert float(dy.subs({x: 2.0, y: 1.0})) == pytest.approx(2.0)
    assert float(dx.subs({x: 0.5, y: 1.0})) == pytest.approx(math.cos(0.5))
    assert float(dy.subs({x: 0.5, y: 1.0})) == pytest.approx(1.0)


def relu_mask(x):
    return (x > 0) * x + np.where(x < 0, 0.1 * x, 0.0)


@pytest.mark.parametrize("point, slope", [(1.5, 1.0), (-2.0, 0.1)])
def test_conditions_used_as_numbers_and_np_where(point, slope):
    assert symbolic(relu_mask).lambdify()(point) == pytest.approx(slope)


# --- loops ----------------------------------------------------------------------------

COEFFICIENTS = (3.0, -2.0, 0.5, 4.0)


def horner(x):
    result = 0.0
    for c in COEFFICIENTS:
        result = result * x + c
    return result


def horner_by_index(x):
    result = 0.0
    for i in range(len(COEFFICIENTS)):
        result = result * x + COEFFICIENTS[i]
    return result


@pytest.mark.parametrize("function", [horner, horner_by_index])
def test_horner_gives_the_polynomial_derivative(function):
    polynomial = 3 * x ** 3 - 2 * x ** 2 + sp.Rational(1, 2) * x + 4
    result = symbolic(function)
    assert equal(result.function, polynomial)
    assert equal(result.derivative, 9 * x ** 2 - 4 * x + sp.Rational(1, 2))


def constant_while(x):
    k = 0
    y = 1.0
    while k < 3:
        y = y * x
        k += 1
    return y


def test_while_with_a_constant_condition_is_unrolled():
    assert equal(symbolic(constant_while).derivative, 3 * x ** 2)


def power_by_loop(x, n):
    y = 1.0
    for _ in range(n):
        y = y * x
    return y


def test_constants_bind_parameters():
    result = symbolic(power_by_loop, constants={"n": 4})
    assert equal(result.derivative, 4 * x ** 3)
    assert result.lambdify()(2.0) == pytest.approx(32.0)
    with pytest.raises(s2s.UnsupportedError, match="range"):
        symbolic(power_by_loop)


def skip_and_stop(x):
    total = 0.0
    for i in range(4):
        if x[i] > 1:
            break
        if x[i] < -1:
            continue
        total += x[i] ** 2
    return total


@pytest.mark.parametrize("point, gradient", [
    ([0.5, -2.0, 0.3, 1.5], [1.0, 0.0, 0.6, 0.0]),
    ([2.0, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]),
    ([-0.5, 0.25, -3.0, 0.75], [-1.0, 0.5, 0.0, 1.5]),
])
def test_break_and_continue_under_input_dependent_conditions(point, gradient):
    derivative = symbolic(skip_and_stop, shapes={"x": 4}).lambdify()
    np.testing.assert_allclose(derivative(np.array(point)), gradient, atol=1e-12)


def return_from_loop(x):
    for i in range(3):
        if x[i] > 0:
            return x[i] * np.sum(x)
    return -np.sum(x ** 2)


@pytest.mark.parametrize("point, gradient", [
    ([-1.0, 2.0, 3.0], [2.0, 6.0, 2.0]),       # returns at i = 1: x1 * sum(x)
    ([-1.0, -2.0, -3.0], [2.0, 4.0, 6.0]),     # falls through: -sum(x ** 2)
])
def test_return_inside_a_loop(point, gradient):
    derivative = symbolic(return_from_loop, shapes={"x": 3}).lambdify()
    np.testing.assert_allclose(derivative(np.array(point)), gradient, atol=1e-12)


def assigned_in_one_branch(x):
    if x > 0:
        y = x * 2
    return y


def test_a_variable_assigned_on_one_path_only_is_refused():
    with pytest.raises(s2s.UnsupportedError, match="only some paths") as error:
        symbolic(assigned_in_one_branch)
    assert f":{line_of(assigned_in_one_branch, 'return y')}:" in str(error.value)


def halve(x):
    while x > 1:
        x = x / 2
    return x


def test_data_dependent_while_is_refused_with_its_location():
    with pytest.raises(s2s.UnsupportedError) as error:
        symbolic(halve)
    message = str(error.value)
    assert f"{__file__}:{line_of(halve, 'while')}:" in message
    assert "while" in message and "depends on the inputs" in message
    assert "constant trip counts" in message


def with_statement(x):
    try:
        y = x * 2
    finally:
        pass
    return y


def test_other_constructs_are_refused_with_their_location():
    with pytest.raises(s2s.UnsupportedError) as error:
        symbolic(with_statement)
    assert f"{__file__}:{line_of(with_statement, 'try')}:" in str(error.value)
    assert "'try' statements" in str(error.value)


def runaway(x):
    for _ in range(60):
        x = x + np.sin(x)
    return x


def test_expression_blow_up_is_refused():
    with pytest.raises(s2s.UnsupportedError, match="too large"):
        symbolic(runaway)


# --- arrays, element by element -------------------------------------------------------

def elementwise(x):
    return np.sum(np.sin(x) * x) + x[0] * x[2]


def test_array_parameter_with_shapes():
    result = symbolic(elementwise, shapes={"x": (3,)})
    x0, x1, x2 = sp.symbols("x_0 x_1 x_2", real=True)
    expected = [sp.cos(x0) * x0 + sp.sin(x0) + x2, sp.cos(x1) * x1 + sp.sin(x1),
                sp.cos(x2) * x2 + sp.sin(x2) + x0]
    assert result.derivative.shape == (3,)
    for actual, wanted in zip(result.derivative, expected):
        assert equal(actual, wanted)
    assert list(result.symbols["x"]) == [x0, x1, x2]


A = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, -1.0, 1.0]])


def quadratic_form(x):
    return x @ A @ x + np.linalg.norm(x)


def test_quadratic_form_gives_a_plus_a_transpose_times_x():
    result = symbolic(quadratic_form, shapes={"x": 3})
    point = np.array([0.3, -0.7, 1.1])
    expected = (A + A.T) @ point + point / np.linalg.norm(point)
    np.testing.assert_allclose(result.lambdify()(point), expected, rtol=1e-12)


def loop_over_elements(w, b):
    total = 0.0
    for i in range(3):
        total += np.tanh(w[i] * b + i)
    return total


def test_loops_index_array_symbols():
    result = symbolic(loop_over_elements, wrt=(0, 1), shapes={"w": (3,)})
    w = sp.symbols("w_0:3", real=True)
    b = sp.Symbol("b", real=True)
    expected = sum(sp.tanh(w[i] * b + i) for i in range(3))
    for i in range(3):
        assert equal(result.derivative[0][i], sp.diff(expected, w[i]))
    assert equal(result.derivative[1], sp.diff(expected, b))


def vector_output(x):
    out = np.zeros(2)
    out[0] = x[0] * x[1]
    out[1] = np.exp(x[1])
    return out


def test_array_output_gives_the_jacobian_output_axes_first():
    result = symbolic(vector_output, shapes={"x": 2})
    x0, x1 = sp.symbols("x_0 x_1", real=True)
    assert result.derivative.shape == (2, 2)
    expected = [[x1, x0], [0, sp.exp(x1)]]
    for i in range(2):
        for j in range(2):
            assert equal(result.derivative[i, j], expected[i][j])


# --- lambdify against finite differences ----------------------------------------------

@pytest.mark.parametrize("function, args, options", [
    (d2l, (1.3,), {}),
    (math_functions, (0.8,), {}),
    (piecewise, (0.3,), {}),
    (early_return, (1.7,), {}),
    (assignments, (0.6, 1.4), {"wrt": (0, 1)}),
    (elementwise, (np.array([0.2, -0.4, 1.1]),), {"shapes": {"x": 3}}),
    (loop_over_elements, (np.array([0.5, -1.0, 2.0]), 0.3),
     {"wrt": (0, 1), "shapes": {"w": 3}}),
])
def test_lambdify_matches_finite_differences(function, args, options):
    derivative = symbolic(function, **options).lambdify()
    expected = numerical_grad(function, args, wrt=options.get("wrt", 0))
    actual = derivative(*args)
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-8)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


def test_lambdify_broadcasts_scalar_parameters_and_computes_the_function():
    result = symbolic(d2l)
    points = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(result.lambdify()(points),
                               [numerical_grad(d2l, float(p)) for p in points], rtol=1e-6)
    np.testing.assert_allclose(result.lambdify("function")(points), d2l(points))


def test_simplify_false_keeps_an_equal_derivative():
    result = symbolic(d2l, simplify=False)
    assert equal(result.derivative, 2 * sp.sin(x) / x + sp.log(x ** 2) * sp.cos(x) - 1 / x ** 2)


# --- the result as the sympy expression it prints -----------------------------------------

def test_the_result_is_usable_as_its_derivative():
    result = s2s.symbolic(d2l)
    expected = 2 * sp.sin(x) / x + sp.log(x ** 2) * sp.cos(x) - 1 / x ** 2
    assert result.free_symbols == {x}
    assert sp.simplify(s2s.symbolic(d2l) - expected) == 0
    assert sp.simplify(expected - result) == 0
    assert abs(float(result.subs(x, 1.5)) - float(expected.subs(x, 1.5))) < 1e-12
    assert sp.simplify(result.diff(x) - sp.diff(expected, x)) == 0
    assert sp.sympify(result) is result.derivative
    assert result == result.derivative and result.derivative == result
    assert result != expected + 1
    assert sp.simplify(2 * result / 2 + 1 - 1 - result.derivative) == 0
    assert sp.simplify(-result + result ** 1) == 0
    assert result.lambdify()(1.5) == pytest.approx(float(expected.subs(x, 1.5)), rel=1e-12)
    assert str(result).startswith("d2l(x) =")          # still prints function and derivative
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        result.no_such_thing


def test_a_tuple_wrt_is_a_sympy_tuple_and_an_array_parameter_an_array():
    def scaled(x, y):
        return x * y ** 2

    both = s2s.symbolic(scaled, wrt=(0, 1))
    assert both.free_symbols == {x, y}
    assert sp.sympify(both) == sp.Tuple(y ** 2, 2 * x * y)
    assert sp.simplify(both[1] - 2 * x * y) == 0

    def squares(v):
        return np.sum(v ** 2)

    gradient = s2s.symbolic(squares, shapes={"v": (2,)})
    v0, v1 = sp.symbols("v_0 v_1", real=True)
    assert gradient.free_symbols == {v0, v1}
    assert gradient.subs({v0: 3, v1: -1}) == sp.Array([6, -2])
    assert gradient[1] == 2 * v1


# --- arguments and imports -------------------------------------------------------------

def test_bad_arguments():
    with pytest.raises(s2s.WrtError):
        symbolic(d2l, wrt="y")
    with pytest.raises(s2s.WrtError):
        symbolic(d2l, wrt=2)
    with pytest.raises(s2s.InputError):
        symbolic(d2l, shapes={"z": 3})


def test_importing_s2s_verify_does_not_import_sympy():
    code = "import sys, s2s, s2s.verify; print('sympy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert output == "False"
