"""The user's own derivative rules: one declaration for generated code, forward mode, tape.

References: finite differences in float64 and closed forms; rules are registered inside
the tests (the registry is global) on SciPy functions that have no Python source.
"""
import numpy as np
import pytest

import s2s
from reference import assert_close

special = pytest.importorskip("scipy.special")


def erf_derivative(x):
    return 2 / np.sqrt(np.pi) * np.exp(-x ** 2)


def central_differences(f, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        gradient[index] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient


@pytest.fixture(scope="module", autouse=True)
def rules():
    from s2s.rules import REGISTRY
    built_in = [REGISTRY.lookup(function) for function in (special.erf, special.xlogy)]
    s2s.defvjp(special.erf, lambda g, ans, x: g * erf_derivative(x),
               jvps=(lambda t, ans, x: t * erf_derivative(x),))

    @s2s.vjp_rule(special.xlogy, argnum=0, broadcasting=True)
    def xlogy_x(g, ans, x, y):
        return g * np.log(y)

    @s2s.vjp_rule(special.xlogy, argnum=1, broadcasting=True)
    def xlogy_y(g, ans, x, y):
        return g * x / y

    @s2s.jvp_rule(special.xlogy, argnum=0)       # keeps broadcasting=True from above
    def xlogy_x_tangent(t, ans, x, y):
        return t * np.log(y)

    @s2s.jvp_rule(special.xlogy, argnum=1)
    def xlogy_y_tangent(t, ans, x, y):
        return t * x / y

    yield
    for rule in built_in:          # s2s's own scipy.special rules, for the other tests
        if rule is not None:
            REGISTRY.add(rule)


def loss(x, y):
    return np.sum(special.erf(x) * special.xlogy(x, y[0]))


X = np.array([0.3, -0.5, 1.2])
Y = np.array([1.7])


def test_generated_code_calls_the_rule_and_matches_finite_differences():
    f = s2s.differentiate(loss, wrt=(0, 1), fallback="error")
    assert f.mode == "source"
    assert "erf_vjp0(" in f.source and "xlogy_vjp1(" in f.source
    assert "from s2s.runtime import" in f.source and "erf_vjp0" in f.source.splitlines()[2]
    dx, dy = f.grad(X, Y)
    assert_close(dx, central_differences(lambda x: loss(x, Y), X), rtol=1e-7, atol=1e-9)
    assert_close(dy, central_differences(lambda y: loss(X, y), Y), rtol=1e-7, atol=1e-9)


def test_the_tape_uses_the_same_rules():
    x = s2s.tensor(X, requires_grad=True)
    loss(x, Y).backward()
    assert_close(x.grad, s2s.grad(loss)(X, Y), rtol=1e-12, atol=0)


def test_forward_mode_uses_the_registered_jvps():
    v = np.array([1.0, -2.0, 0.5])
    _, tangent = s2s.jvp(lambda x: loss(x, Y), (X,), (v,))
    assert tangent == pytest.approx(float(s2s.grad(loss)(X, Y) @ v), rel=1e-12)
    _, tangent = s2s.jvp(special.erf, (X,), (np.ones(3),))
    assert_close(tangent, erf_derivative(X), rtol=1e-12, atol=0)


def test_later_registrations_keep_the_broadcasting_flag_and_other_arguments():
    from s2s.rules import REGISTRY
    rule = REGISTRY.lookup(special.xlogy)
    assert rule.broadcasting and all(rule.vjps) and all(rule.jvps)
    g = s2s.grad(lambda y: np.sum(special.xlogy(X, y)))(np.array([1.7]))   # y broadcast
    assert_close(g, np.array([np.sum(X) / 1.7]), rtol=1e-12, atol=0)


def test_rules_on_functions_without_source_make_them_differentiable_directly():
    assert s2s.grad(special.erf)(0.4) == pytest.approx(erf_derivative(0.4), rel=1e-12)


def test_registering_again_replaces_the_rule_for_that_argument():
    def cube_root(x):
        return np.cbrt(x) * 1.0

    special_function = special.cbrt            # a ufunc s2s has no rule for
    with pytest.raises(s2s.MissingRuleError, match=r"s2s\.defvjp\(special\.cbrt"):
        s2s.differentiate(lambda x: special.cbrt(x), fallback="error").grad(8.0)
    s2s.defvjp(special_function, lambda g, ans, x: g * 0.0)               # wrong on purpose
    s2s.defvjp(special_function, lambda g, ans, x: g / (3 * ans ** 2))    # then fixed
    assert s2s.grad(lambda x: special.cbrt(x))(8.0) == pytest.approx(1 / 12, rel=1e-12)
    assert s2s.grad(cube_root)(8.0) == pytest.approx(1 / 12, rel=1e-12)


def test_nondifferentiable_functions_become_constants():
    s2s.nondifferentiable(special.round)

    def f(x):
        return np.sum(x * special.round(x))
    g = s2s.differentiate(f, fallback="error").grad(np.array([0.4, 1.6]))
    assert_close(g, np.array([0.0, 2.0]), rtol=0, atol=0)


def test_unknown_functions_point_to_the_custom_rule_api():
    def f(x):
        return special.sindg(x) * 2.0         # a SciPy ufunc s2s has no rule for
    with pytest.raises(s2s.MissingRuleError) as caught:
        s2s.differentiate(f, fallback="error").grad(1.5)
    message = str(caught.value)
    assert "special.sindg" in message and "s2s.defvjp" in message
    assert "s2s.nondifferentiable" in message and "test_custom_rules.py" in message


def test_generated_code_with_user_rules_is_deterministic():
    first = s2s.differentiate(loss, wrt=(0, 1)).source
    from s2s.api import _DERIVATIONS
    _DERIVATIONS.clear()
    assert s2s.differentiate(loss, wrt=(0, 1)).source == first
