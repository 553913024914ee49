"""The tutorials' control-flow programs, with their own analytic references."""
import numpy as np

import s2s
from zoo_control import d2l_f, doubling_while


def test_d2l_gradient_of_while_and_if_is_f_over_a():
    # f is piecewise linear in a, so df/da = f(a) / a elementwise (d2l's check)
    for seed in range(5):
        a = np.random.default_rng(seed).normal(size=())
        value, gradient = s2s.value_and_grad(lambda_free_scalar_f)(float(a))
        np.testing.assert_allclose(gradient, value / a, rtol=1e-12)


def lambda_free_scalar_f(a):
    b = a * 2
    while abs(b) < 1000:
        b = b * 2
    if b > 0:
        c = b
    else:
        c = 100 * b
    return c


def test_d2l_vector_input_with_cotangent():
    a = np.random.default_rng(3).normal(size=3)
    value, pullback = s2s.vjp(d2l_f, a)
    v = np.array([0.1, 1.0, 0.0001])
    np.testing.assert_allclose(pullback(v), v * value / a, rtol=1e-12)


def test_doubling_while_with_cotangent_vector_matches_the_notebook():
    # seed 000: y = x * 2 doubled until ||y|| >= 1000; x.grad = 2 ** (i + 1) * v
    x = np.random.default_rng(0).normal(size=3)
    value, pullback = s2s.vjp(doubling_while, x)
    doublings = round(np.log2(value[0] / x[0]))
    v = np.array([0.1, 1.0, 0.0001])
    np.testing.assert_allclose(pullback(v), 2.0 ** doublings * v, rtol=1e-12)


def test_generated_adjoint_of_a_loop_is_a_loop():
    source = s2s.differentiate(doubling_while).source
    code = [line.strip() for line in source.splitlines() if not line.strip().startswith("#")]
    assert sum(line.startswith("while ") for line in code) == 1   # the forward keeps the while
    assert "for _ in range(_n0):" in source     # the reverse sweep replays it by trip count
    assert "_saved" not in source               # doubling pushes nothing per iteration


def test_accumulating_loop_saves_nothing_per_iteration():
    def dot(x, w):
        s = 0.0
        for i in range(len(x)):
            s = s + x[i] * w[i]
        return s

    source = s2s.differentiate(dot, wrt=(0, 1)).source
    x, w = np.arange(3.0), np.array([2.0, -1.0, 0.5])
    gx, gw = s2s.grad(dot, wrt=(0, 1))(x, w)
    np.testing.assert_allclose(gx, w)
    np.testing.assert_allclose(gw, x)
    forward = source.split("def pullback")[0]
    assert forward.count("_saved.append") <= 3, forward


def _constant_tests(x):
    y = np.sin(x) if False else x ** 2
    if 0:
        y = y * 3
    z = x if True else 2 * x
    return np.sum(y * z)


def test_a_constant_condition_is_differentiated_in_both_modes():
    """`a if False else b` once crashed the reverse sweep (a test that is not a name)."""
    from reference import numerical_gradient
    x = np.array([0.5, -1.5, 2.0])
    function = s2s.differentiate(_constant_tests, fallback="error")
    expected = numerical_gradient(_constant_tests, [x], 0)
    np.testing.assert_allclose(function.grad(x), expected, rtol=1e-6)
    assert function.mode == "source"
    _, tangent = s2s.jvp(_constant_tests, (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent, expected.sum(), rtol=1e-6)
