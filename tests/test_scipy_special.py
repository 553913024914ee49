"""scipy.special beyond the registry's generic checks (tests/test_rules.py): ``logsumexp``'s
and ``softmax``'s parameters in generated code and forward mode, a statistical model written
with these functions, second order, refusals and error names, and s2s without SciPy.

References: central finite differences in float64 (tests/reference.py), closed forms, and
the tape (which runs the rules' VJP functions, not generated code).
"""

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient
from scripts import run_script

special = pytest.importorskip("scipy.special")

RNG = np.random.default_rng(15)
A = RNG.normal(size=(3, 4))
B = np.array([0.5, -1.0, 2.0, 1.5])          # weights of both signs


def numerical_jvp(function, x, v, h=1e-6):
    return (np.asarray(function(x + h * v)) - np.asarray(function(x - h * v))) / (2 * h)


# --- logsumexp: axis, b=, keepdims, return_sign -----------------------------------------------


def lse_all(a):
    return special.logsumexp(a) * 2.0


def lse_rows_weighted(a):
    return np.sum(special.logsumexp(a, axis=1, b=np.abs(B)) ** 2)


def lse_columns_kept(a):
    return np.sum(special.logsumexp(a, axis=0, keepdims=True) * np.arange(4.0))


def lse_signed(a):
    value, sign = special.logsumexp(a, axis=1, b=B, return_sign=True)
    return np.sum(value * sign)


@pytest.mark.parametrize("function", [lse_all, lse_rows_weighted, lse_columns_kept, lse_signed])
def test_logsumexp_parameters_in_generated_code(function):
    differentiable = s2s.differentiate(function, fallback="error")
    assert differentiable.mode == "source"
    assert_close(differentiable.grad(A), numerical_gradient(function, [A], 0), rtol=1e-6)


def test_logsumexp_gradient_is_the_weighted_softmax():
    weights = np.abs(B) * np.exp(A)
    expected = weights / weights.sum(axis=1, keepdims=True)
    gradient = s2s.grad(lambda a: np.sum(special.logsumexp(a, axis=1, b=np.abs(B))))(A)
    assert_close(gradient, expected, rtol=1e-12, atol=0)


def lse_value(a):
    return special.logsumexp(a)


def lse_signed_pair(a):
    return special.logsumexp(a, axis=1, b=B, return_sign=True)


def lse_kept(a):
    return special.logsumexp(a, axis=0, keepdims=True)


@pytest.mark.parametrize("function", [lse_value, lse_signed_pair, lse_kept])
def test_logsumexp_forward_mode(function):
    v = RNG.normal(size=A.shape)
    _, tangent = s2s.jvp(function, (A,), (v,))
    if function is lse_signed_pair:
        assert_close(tangent[1], np.zeros(3), rtol=0, atol=0)          # the sign's
        expected = numerical_jvp(lambda a: function(a)[0], A, v)
        tangent = tangent[0]
    else:
        expected = numerical_jvp(function, A, v)
    assert_close(tangent, expected, rtol=1e-6)


def test_logsumexp_of_a_differentiated_b_is_refused():
    def f(a):
        return special.logsumexp(a, b=a * a)
    with pytest.raises(s2s.MissingRuleError, match="'b' argument of scipy.special.logsumexp"):
        s2s.differentiate(f, fallback="error").grad(B)


# --- softmax and log_softmax over axes ------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("primal", [special.softmax, special.log_softmax], ids=lambda f: f.__name__)
def test_softmax_axes_in_generated_code(primal, axis):
    weights = RNG.normal(size=A.shape)

    def f(a):
        return np.sum(primal(a, axis=axis) * weights)

    differentiable = s2s.differentiate(f, fallback="error")
    assert differentiable.mode == "source"
    assert_close(differentiable.grad(A), numerical_gradient(f, [A], 0), rtol=1e-6, atol=1e-9)


# --- a statistical model: Bayesian logistic regression ---------------------------------------------

FEATURES = RNG.normal(size=(20, 3))
LABELS = (RNG.random(20) < special.expit(FEATURES @ np.array([1.0, -2.0, 0.5]))).astype(float)


def log_posterior(w, log_nu):
    """Bernoulli likelihood through expit (xlogy/xlog1py, so 0 log 0 = 0) plus log_expit,
    and a Student-t prior on the weights whose degrees of freedom nu are inferred too."""
    z = FEATURES @ w
    p = special.expit(z)
    likelihood = np.sum(special.xlogy(LABELS, p) + special.xlog1py(1 - LABELS, -p))
    margin = np.sum(special.log_expit(z * (2 * LABELS - 1)))     # the same, computed stably
    nu = np.exp(log_nu)
    prior = np.sum(special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)
                   - 0.5 * np.log(nu * np.pi) - (nu + 1) / 2 * np.log1p(w * w / nu))
    return 0.5 * (likelihood + margin) + prior


W = np.array([0.3, -0.8, 0.1])
LOG_NU = 0.7


def test_log_posterior_likelihood_terms_agree():
    z = FEATURES @ W
    direct = np.sum(LABELS * np.log(special.expit(z)) + (1 - LABELS) * np.log(special.expit(-z)))
    p = special.expit(z)
    assert np.sum(special.xlogy(LABELS, p) + special.xlog1py(1 - LABELS, -p)) == \
        pytest.approx(direct, rel=1e-12)


def test_log_posterior_in_generated_code_against_finite_differences_and_the_tape():
    differentiable = s2s.differentiate(log_posterior, wrt=(0, 1), fallback="error")
    assert differentiable.mode == "source"
    source = differentiable.source
    assert "from scipy import special" in source and "special.digamma(" in source
    dw, dnu = differentiable.grad(W, LOG_NU)
    assert_close(dw, numerical_gradient(log_posterior, [W, LOG_NU], 0), rtol=1e-6)
    assert dnu == pytest.approx(numerical_gradient(log_posterior, [W, LOG_NU], 1), rel=1e-6)
    w = s2s.tensor(W, requires_grad=True)
    log_nu = s2s.tensor(np.float64(LOG_NU), requires_grad=True)     # not float32
    log_posterior(w, log_nu).backward()
    assert_close(w.grad.data, dw, rtol=1e-12, atol=1e-14)
    assert float(log_nu.grad.data) == pytest.approx(dnu, rel=1e-12)


def test_log_posterior_hessian_against_finite_differences_of_the_gradient():
    def f(w):
        return log_posterior(w, LOG_NU)
    gradient = s2s.grad(f)
    expected = np.stack([numerical_jvp(gradient, W, e, h=1e-5) for e in np.eye(3)], axis=1)
    assert_close(s2s.hessian(f)(W), expected, rtol=1e-6, atol=1e-8)


def test_generated_code_is_deterministic():
    from s2s.api import _DERIVATIONS
    first = s2s.differentiate(log_posterior, wrt=(0, 1)).source
    _DERIVATIONS.clear()
    assert s2s.differentiate(log_posterior, wrt=(0, 1)).source == first


# --- second order ---------------------------------------------------------------------------------


def expit_model(x):
    return np.sum(special.expit(x) * x)


def gammaln_model(x):
    return np.sum(special.gammaln(x * x + 0.5))


def logsumexp_model(x):
    return special.logsumexp(x * x, b=np.abs(B))


def erf_model(x):
    return np.sum(special.erf(x) * np.sin(x))


def xlogy_model(x):
    return np.sum(special.xlogy(x, x * x + 1.0))


X = np.array([0.4, -1.1, 0.9, 1.7])


@pytest.mark.parametrize("function", [expit_model, gammaln_model, logsumexp_model, erf_model,
                                      xlogy_model], ids=lambda f: f.__name__)
def test_hessian_against_finite_differences_of_the_gradient(function):
    gradient = s2s.differentiate(function, fallback="error").grad
    expected = np.stack([numerical_jvp(gradient, X, e, h=1e-5) for e in np.eye(4)], axis=1)
    assert_close(s2s.hessian(function)(X), expected, rtol=1e-6, atol=1e-8)
    v = np.array([1.0, -0.5, 0.25, 2.0])
    assert_close(s2s.hvp(function, X, v), expected @ v, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("primal", "second"), [
    (special.gammaln, lambda x: special.polygamma(1, x)),
    (special.digamma, lambda x: special.polygamma(2, x)),
    (special.i0, lambda x: (special.i0(x) + special.iv(2, x)) / 2),
    (special.j0, lambda x: -(special.j0(x) - special.jv(2, x)) / 2),
])
def test_second_derivatives_of_scalar_functions(primal, second):
    def f(x):
        return primal(x)
    for at in (0.7, 2.3):
        assert s2s.grad(s2s.grad(f))(at) == pytest.approx(float(second(at)), rel=1e-9)


# --- orders that are not differentiated, and names in errors -----------------------------------


def bessel_in_order(v, x):
    return np.sum(special.jv(v, x))


def test_a_differentiated_order_is_refused_in_reverse_and_forward_mode_and_on_the_tape():
    x = np.array([0.5, 1.5])
    with pytest.raises(s2s.MissingRuleError, match="argument 1 of scipy.special.jv"):
        s2s.differentiate(bessel_in_order, wrt=0, fallback="error").grad(1.5, x)
    with pytest.raises(s2s.MissingRuleError, match="argument 1 of scipy.special.jv"):
        s2s.jvp(bessel_in_order, (1.5, x), (1.0, np.zeros(2)))
    with pytest.raises(s2s.MissingRuleError, match="argument 1 of scipy.special.jv"):
        special.jv(s2s.tensor(1.5, requires_grad=True), x)
    # with respect to x only: the recurrence
    gradient = s2s.differentiate(bessel_in_order, wrt=1, fallback="error").grad(1.5, x)
    assert_close(gradient, (special.jv(0.5, x) - special.jv(2.5, x)) / 2, rtol=1e-12, atol=0)


def test_scipy_functions_without_a_rule_name_themselves():
    x = s2s.tensor(np.array([0.5, 1.5]), requires_grad=True)
    with pytest.raises(s2s.MissingRuleError, match=r"scipy\.special\.sindg") as caught:
        special.sindg(x)
    assert "numpy.sindg" not in str(caught.value)

    def f(x):
        return np.sum(special.sindg(x))
    with pytest.raises(s2s.MissingRuleError, match=r"special\.sindg"):
        s2s.differentiate(f, fallback="error").grad(np.array([0.5, 1.5]))


def test_scipy_rules_load_when_scipy_is_first_used(tmp_path):
    """import s2s does not import SciPy (about a second); a function calling SciPy is
    differentiated all the same, and a user's rule still overrides a built-in one."""
    script = ("""
        import sys
        import numpy as np
        import s2s
        assert not [m for m in sys.modules if m.split(".")[0] == "scipy"]
        SCALE = 2.0
        def plain(x, c):                  # globals that are not s2s.runtime's helpers
            y = 0.0
            for a in c:
                y = y * x + a * SCALE
            return np.sum(np.sin(y))
        assert s2s.differentiate(plain, fallback="error").grad(0.5, np.ones(3)) != 0
        assert not [m for m in sys.modules if m.split(".")[0] == "scipy"]
        from scipy import special
        s2s.defvjp(special.erf, lambda g, ans, x: g * 0 + 7.0)
        import scipy.stats as st
        def f(x):
            return np.sum(special.erf(x)) + np.sum(st.norm.logpdf(x))
        x = np.array([0.1, 0.2])
        g = s2s.differentiate(f, fallback="error").grad(x)
        assert np.allclose(g, 7.0 - x), g
        from s2s.runtime import scipy_linalg      # a rule module's helper, loaded for it
        print("ok")
    """)
    assert run_script(tmp_path, "scipy_on_demand.py", script) == "ok"


def test_s2s_works_without_scipy(tmp_path):
    script = ("""
        import importlib.util, sys
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *rest: (
            None if name.split(".")[0] == "scipy" else real(name, *rest))
        sys.modules["scipy"] = None                  # any import of SciPy now fails
        import numpy as np
        import s2s
        from s2s.rules import REGISTRY
        assert not [rule for rule in REGISTRY if rule.name.startswith("scipy.")]
        def loss(x):
            return np.sum(np.tanh(x) ** 2)
        f = s2s.differentiate(loss, fallback="error")
        g = f.grad(np.array([0.5, 1.0]))
        assert np.allclose(g, 2 * np.tanh([0.5, 1.0]) / np.cosh([0.5, 1.0]) ** 2)
        assert "from scipy" not in f.source and "special" not in f.source
        print("ok")
    """)
    assert run_script(tmp_path, "without_scipy.py", script) == "ok"
