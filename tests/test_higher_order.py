"""Derivatives of derivatives: the generated gradient code differentiated again."""
import numpy as np
import pytest

import s2s
from reference import assert_close


def sine(x):
    return np.sin(x)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def looping(x):
    y = x
    for k in range(3):
        if y > 0:
            y = y * np.cos(y) + x
        else:
            y = y * y
    return y


def sympy_derivative(builder, order, at):
    import sympy as sp
    x = sp.Symbol("x", real=True)
    return float(sp.diff(builder(sp, x), x, order).subs(x, at))


@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_second_and_third_derivatives_of_sin(x):
    second = s2s.grad(s2s.grad(sine))
    third = s2s.grad(second)
    assert second(x) == pytest.approx(-np.sin(x), rel=1e-12)
    assert third(x) == pytest.approx(-np.cos(x), rel=1e-12)


def test_second_derivative_against_sympy():
    def f(x):
        return np.log(x ** 2) * np.sin(x) + 1 / x
    for at in (0.5, 1.7):
        expected = sympy_derivative(lambda sp, x: sp.log(x ** 2) * sp.sin(x) + 1 / x, 2, at)
        assert s2s.grad(s2s.grad(f))(at) == pytest.approx(expected, rel=1e-10)


def test_second_derivative_through_loops_and_branches():
    h = 1e-4
    first = s2s.grad(looping)
    for at in (0.4, 1.1):
        expected = (first(at + h) - first(at - h)) / (2 * h)
        assert s2s.grad(first)(at) == pytest.approx(expected, rel=1e-6)


def test_hessian_of_rosenbrock_against_sympy():
    import sympy as sp
    symbols = sp.symbols("x0:4", real=True)
    expression = sum(100 * (symbols[i + 1] - symbols[i] ** 2) ** 2 + (1 - symbols[i]) ** 2
                     for i in range(3))
    x = np.array([0.5, -0.3, 1.2, 0.8])
    expected = np.array([[float(sp.diff(expression, a, b).subs(dict(zip(symbols, x))))
                          for b in symbols] for a in symbols])
    H = s2s.hessian(rosenbrock)(x)
    assert H.shape == (4, 4)
    assert_close(H, expected, rtol=1e-12, atol=1e-9)
    v = np.array([1.0, -2.0, 0.5, 0.25])
    assert_close(s2s.hvp(rosenbrock, x, v), expected @ v, rtol=1e-12, atol=1e-9)


def test_grad_of_grad_of_an_array_function_points_to_hessian():
    with pytest.raises(s2s.NonScalarOutputError, match="hessian"):
        s2s.grad(s2s.grad(rosenbrock))(np.ones(3))


from zoo import ZOO  # noqa: E402

SCALAR_OUTPUT = [case for case in ZOO if not case.cotangent]


@pytest.mark.parametrize("case", SCALAR_OUTPUT, ids=lambda case: case.name)
def test_hessian_vector_product_over_the_zoo(case):
    """H v by forward-over-reverse against finite differences of the generated gradient."""
    rng = np.random.default_rng(3)
    args = case.make(rng)
    position = case.wrt[0]
    x = args[position]
    v = float(rng.normal()) if isinstance(x, float) else rng.normal(size=np.shape(x))
    f = s2s.differentiate(case.function, wrt=position, fallback="error")

    def gradient_at(point):
        shifted = list(args)
        shifted[position] = point
        return np.asarray(f.grad(*shifted), dtype=np.float64)

    h = 1e-5
    expected = (gradient_at(x + h * v) - gradient_at(x - h * v)) / (2 * h)
    if "stop_gradient" in case.tags:    # stopped at every order, as in JAX: H v = 0 there
        expected = np.zeros_like(expected)
    from s2s.api import _hvp
    values = f._arguments(args, {})
    direction = v if isinstance(x, float) else np.asarray(v, dtype=np.float64)
    try:
        got = _hvp(f, values, direction)
    except s2s.MissingRuleError as error:     # a clear refusal, never a wrong value
        pytest.xfail(f"second derivative needs a rule that is missing: {error.message}")
    assert_close(got, expected, rtol=1e-4, atol=1e-6)


# --- reverse over reverse: the generated gradient code, with its stack, differentiated again
# in reverse mode (a pop's transpose is a push onto the list's adjoint).

@pytest.mark.parametrize("function, points", [(sine, (0.3, -1.2)), (looping, (0.4, 1.1, -0.7))])
def test_reverse_over_reverse_matches_forward_over_reverse(function, points):
    gradient_code = s2s.differentiate(function).gradient_function()   # grad_f(x, seed)
    second_by_reverse = s2s.differentiate(gradient_code, wrt="x", fallback="error")
    assert second_by_reverse.mode == "source"
    assert ".append(" in second_by_reverse.source and ".pop()" in second_by_reverse.source \
        or function is sine
    second_by_forward = s2s.grad(s2s.grad(function))
    h = 1e-5
    first = s2s.grad(function)
    for at in points:
        expected = (first(at + h) - first(at - h)) / (2 * h)
        assert second_by_reverse.grad(at, 1.0) == pytest.approx(expected, rel=1e-6)
        assert second_by_reverse.grad(at, 1.0) == pytest.approx(second_by_forward(at),
                                                                rel=1e-12)


def test_reverse_over_reverse_hessian_of_rosenbrock_rows():
    """Row i of the Hessian: the gradient of x -> <grad f(x), e_i>, all in reverse mode."""
    gradient_code = s2s.differentiate(rosenbrock).gradient_function()
    x = np.array([0.5, -0.3, 1.2, 0.8])
    expected = s2s.hessian(rosenbrock)(x)
    for i in range(4):
        seeded = s2s.differentiate(gradient_code, wrt="x", fallback="error")
        row = seeded.vjp(x, 1.0)[1](np.eye(4)[i])
        assert_close(row, expected[i], rtol=1e-12, atol=1e-9)


def test_numpy_functions_without_source_differentiate_as_in_jax():
    assert s2s.grad(np.sin)(0.3) == pytest.approx(np.cos(0.3), rel=1e-15)
    assert s2s.grad(s2s.grad(np.tanh))(0.3) == pytest.approx(
        -2 * np.tanh(0.3) / np.cosh(0.3) ** 2, rel=1e-12)
    assert s2s.grad(np.arctan2, wrt=1)(1.0, 2.0) == pytest.approx(-1.0 / 5.0, rel=1e-15)
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert_close(s2s.grad(np.linalg.det)(a), np.linalg.det(a) * np.linalg.inv(a).T,
                 rtol=1e-12, atol=1e-12)
    assert s2s.differentiate(np.exp).mode == "source"


def test_hessian_through_list_building_and_np_array():
    def f(x):
        values = []
        for k in range(3):
            values.append(x[k] * x[(k + 1) % 3])
        return np.sum(np.array(values) ** 2)
    x = np.array([0.5, -1.0, 2.0])
    import sympy as sp
    symbols = sp.symbols("x0:3", real=True)
    expression = sum((symbols[k] * symbols[(k + 1) % 3]) ** 2 for k in range(3))
    expected = np.array([[float(sp.diff(expression, a, b).subs(dict(zip(symbols, x))))
                          for b in symbols] for a in symbols])
    assert_close(s2s.hessian(f)(x), expected, rtol=1e-12, atol=1e-12)


def test_show_prints_the_code_of_a_second_derivative(capsys):
    s2s.show(s2s.grad(s2s.grad(sine)))
    code = capsys.readouterr().out
    assert code.startswith("# Generated by s2s: forward mode of grad_sine (generated from "
                           "test_higher_order.py:")
    assert "def jvp_grad_sine(x, _return_b, x_d):" in code and "np.sin(x)" in code
    s2s.show(s2s.grad(sine))
    assert "def vjp_sine(x):" in capsys.readouterr().out
