"""s2s.check: every method, one report, and a loud failure when they disagree."""
import functools

import numpy as np
import pytest

import s2s
from s2s.rules import REGISTRY
from zoo import ZOO


def d2l(x):
    return np.log(x ** 2) * np.sin(x) + 1 / x


def test_check_reports_every_method_on_a_scalar_function():
    report = s2s.check(d2l, 1.3, order=2)
    assert report.ok
    for method in ("finite differences", "source", "tape", "forward (u.Jv)", "sympy",
                   "hvp (fwd-over-rev)"):
        assert method in report.values, method
    text = str(report)
    assert "s2s.check of d2l" in text and "ok" in text and "MISMATCH" not in text


@pytest.mark.parametrize("case", [c for c in ZOO if "stop_gradient" not in c.tags],
                         ids=lambda case: case.name)
def test_check_passes_on_the_zoo(case):
    args = case.make(np.random.default_rng(4))
    wrt = case.wrt if len(case.wrt) > 1 else case.wrt[0]
    report = s2s.check(case.function, *args, wrt=wrt)
    assert report.ok and "source" in report.values


def test_a_wrong_rule_is_caught():
    """Break the sin rule on purpose: check must raise GradientMismatch naming the methods."""
    rule = REGISTRY.lookup(np.sin)
    import s2s.rules.elementwise as elementwise

    def wrong_sin_vjp(g, ans, x):
        return g * np.sin(x)

    object.__setattr__(rule, "vjps", (wrong_sin_vjp,))      # rules are frozen dataclasses
    try:
        def f(x):
            return np.sum(np.sin(x) * 2.0)
        with pytest.raises(s2s.GradientMismatch) as info:
            s2s.check(f, np.array([0.3, 1.2]), modes=("tape",))
        assert "MISMATCH" in str(info.value)
    finally:
        object.__setattr__(rule, "vjps", (elementwise.sin_vjp,))


def test_decorator_check_mode_runs_the_comparison():
    @s2s.differentiate(check=True)
    def f(x):
        return np.sum(np.tanh(x) * x)

    gradient = f.grad(np.array([0.1, -0.4]))
    assert gradient.shape == (2,)


def test_symbolic_is_exported():
    import sympy as sp
    result = s2s.symbolic(d2l)
    x = result.symbols["x"]
    expected = 2 * sp.sin(x) / x + sp.log(x ** 2) * sp.cos(x) - 1 / x ** 2
    assert sp.simplify(result.derivative - expected) == 0


def keyword_only_weight(x, *, w=2.0):
    return np.sum(np.sin(x) * w)


def weighted_sine(x, w):
    return np.sum(np.sin(x) * w)


@pytest.mark.parametrize("function", [keyword_only_weight,
                                      functools.partial(weighted_sine, w=3.0)],
                         ids=["keyword-only", "partial"])
def test_check_calls_functions_with_keyword_parameters(function):
    report = s2s.check(function, np.array([0.1, 0.2]), wrt=0)
    assert {"source", "tape"} <= set(report.errors)
    assert max(report.errors.values()) < 1e-8


def mlp_of_pairs(params, x):
    hidden = x
    for W, b in params[:-1]:
        hidden = np.tanh(hidden @ W + b)
    W, b = params[-1]
    return np.sum((hidden @ W + b) ** 2)


def dict_with_integer_leaves(p, x):
    return np.sum(np.sin(x @ p["w"]) * p["scale"]) * p["repeats"] + len(p["name"])


def test_check_compares_pytree_arguments_leaf_by_leaf():
    rng = np.random.default_rng(6)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 2)), rng.normal(size=2))]
    x = rng.normal(size=(5, 3))
    report = s2s.check(mlp_of_pairs, params, x)
    assert report.ok and report.values["source"].size == 3 * 4 + 4 + 4 * 2 + 2
    for method in ("source", "tape", "forward (u.Jv)"):
        assert method in report.errors, method
    p = {"w": rng.normal(size=(3, 2)), "scale": 1.5, "repeats": 3, "name": "layer"}
    report = s2s.check(dict_with_integer_leaves, p, x, order=2)
    assert report.ok and report.values["tape"].size == 3 * 2 + 1     # the float leaves
    assert "hessian-vector" in report.skipped


def test_a_wrong_rule_inside_a_pytree_function_is_caught():
    rule = REGISTRY.lookup(np.sin)
    import s2s.rules.elementwise as elementwise

    def wrong_sin_vjp(g, ans, x):
        return g * np.sin(x)

    object.__setattr__(rule, "vjps", (wrong_sin_vjp,))
    try:
        p = {"w": np.array([[0.3, -0.2], [0.5, 1.1]]), "scale": 1.5, "repeats": 2, "name": "a"}
        with pytest.raises(s2s.GradientMismatch):
            s2s.check(dict_with_integer_leaves, p, np.array([[0.4, -0.7]]), modes=("tape",))
    finally:
        object.__setattr__(rule, "vjps", (elementwise.sin_vjp,))
