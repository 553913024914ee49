"""scipy.stats distributions beyond the registry's generic checks (tests/test_rules.py, which
checks every rule's VJP and JVP functions against finite differences, the transpose
identity, float32 and the sympy twins): how calls resolve to the rules (``st.norm.logpdf``,
``from scipy.stats import norm``, keywords, frozen distributions), every method as generated
code and in forward mode, second order, the conventions (support, multivariate_normal's
covariance, dirichlet's simplex), and refusals.

References: central finite differences in float64 (tests/reference.py), closed forms
(``-inv(cov)`` for the Hessian in the mean...), and autograd's symmetric covariance gradient
written out here.
"""
import ast
import functools
import inspect
import linecache
import textwrap

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient

st = pytest.importorskip("scipy.stats")
special = pytest.importorskip("scipy.special")
import scipy  # noqa: E402  (after the importorskip)
from scipy.stats import norm  # noqa: E402

from s2s.rules import REGISTRY  # noqa: E402
from s2s.rules.domains import NotDifferentiated  # noqa: E402

scipy_stats = pytest.importorskip("s2s.rules.scipy_stats")

RULES = [rule for rule in REGISTRY if rule.name.startswith("scipy.stats.")]
RNG = np.random.default_rng(2024)
X = np.array([0.3, -1.2, 0.8, 2.1])
MU, SIGMA = 0.4, 1.3


def numerical_jvp(function, point, direction, h=1e-6):
    """Central differences of ``function`` along ``direction`` (tuples of arrays)."""
    plus = function(*[p + h * d for p, d in zip(point, direction)])
    minus = function(*[p - h * d for p, d in zip(point, direction)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


# --- how calls resolve ----------------------------------------------------------------------------


def test_one_rule_for_every_read_of_a_method():
    """Each attribute read makes a new bound method; all of them find the one rule."""
    assert st.norm.logpdf is not st.norm.logpdf
    rule = REGISTRY.lookup(st.norm.logpdf)
    assert rule is not None and rule.name == "scipy.stats.norm.logpdf"
    assert REGISTRY.lookup(norm.logpdf) is rule
    assert REGISTRY.lookup(st.norm.pdf) is not rule
    assert REGISTRY.lookup(st.t.logpdf).name == "scipy.stats.t.logpdf"   # another instance
    assert REGISTRY.lookup(st.norm(0, 1).logpdf) is None                  # frozen: see below


def positional(x, mu, sigma):
    return np.sum(st.norm.logpdf(x, mu, sigma))


def keywords(x, mu, sigma):
    return np.sum(norm.logpdf(x, loc=mu, scale=sigma))


def full_path(x, mu, sigma):
    return np.sum(scipy.stats.norm.logpdf(x, scale=sigma, loc=mu))


def shape_by_keyword(x, mu, sigma):
    return np.sum(st.t.logpdf(x, df=sigma + 2.0, loc=mu))


def defaults(x, mu, sigma):
    return np.sum(st.norm.cdf(x) * mu + st.logistic.logpdf(x, mu) * sigma)


@pytest.mark.parametrize("function", [positional, keywords, full_path, shape_by_keyword,
                                      defaults], ids=lambda f: f.__name__)
def test_calling_forms_in_generated_code(function):
    differentiable = s2s.differentiate(function, wrt=(0, 1, 2), fallback="error")
    assert differentiable.mode == "source"
    gradients = differentiable.grad(X, MU, SIGMA)
    for position, gradient in enumerate(gradients):
        assert_close(gradient, numerical_gradient(function, [X, MU, SIGMA], position),
                     rtol=1e-6, atol=1e-8)


def test_generated_code_calls_scipy_as_written_and_inlines_the_rule():
    source = s2s.differentiate(keywords, wrt=(0, 1, 2)).source
    assert "norm.logpdf(x, loc=mu, scale=sigma)" in source
    assert "(x - mu) / sigma" in source                # the rule's body, inlined


def test_generated_code_is_deterministic():
    from s2s.api import _DERIVATIONS
    first = s2s.differentiate(shape_by_keyword, wrt=(0, 1, 2)).source
    _DERIVATIONS.clear()
    assert s2s.differentiate(shape_by_keyword, wrt=(0, 1, 2)).source == first


# --- every method as generated code and in forward mode -------------------------------------------


def sample(domain, rng):
    return domain.sample(rng, ())


def model_for(rule):
    """``def model(a0, a1, ...): return np.sum(WEIGHTS * st.<dist>.<method>(a0, a1, ...))``,
    a function with source (for s2s) calling the method by its public path."""
    arity = rule.arity
    names = ", ".join(f"a{index}" for index in range(arity))
    path = rule.name.replace("scipy.stats.", "st.")
    source = f"def model({names}):\n    return np.sum(WEIGHTS * {path}({names}))\n"
    filename = f"<test: {rule.name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    rng = np.random.default_rng(len(rule.name))
    args = [sample(domain, rng) for domain in rule.domains]
    value = rule.primal(*args)
    namespace = {"np": np, "st": st, "WEIGHTS": rng.normal(size=np.shape(value))}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["model"], args


def differentiated_positions(rule):
    return tuple(position for position, vjp in enumerate(rule.vjps) if vjp is not None)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_method_in_generated_code_against_finite_differences(rule):
    model, args = model_for(rule)
    wrt = differentiated_positions(rule)
    differentiable = s2s.differentiate(model, wrt=wrt, fallback="error")
    assert differentiable.mode == "source"
    gradients = differentiable.grad(*args)          # a tuple, as wrt is
    for position, gradient in zip(wrt, gradients):
        assert_close(gradient, numerical_gradient(model, args, position), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_method_in_forward_mode_against_finite_differences(rule):
    model, args = model_for(rule)
    wrt = differentiated_positions(rule)
    rng = np.random.default_rng(7)
    tangents = [rng.normal(size=np.shape(arg)) if position in wrt else None
                for position, arg in enumerate(args)]      # None: not differentiated
    if rule.name.startswith("scipy.stats.multivariate_normal"):
        cov = tangents[2]
        tangents[2] = cov + cov.T                     # SciPy reads cov as symmetric
    value, tangent = s2s.jvp(model, tuple(args), tuple(tangents))
    assert value == pytest.approx(model(*args), rel=1e-12)
    direction = [np.zeros(np.shape(a)) if t is None else t
                 for position, (a, t) in enumerate(zip(args, tangents))]
    assert float(tangent) == pytest.approx(float(numerical_jvp(model, args, direction)),
                                           rel=1e-5, abs=1e-8)


def test_float32_arguments_give_float32_gradients():
    def f(x, mu, sigma):
        return np.sum(st.norm.logpdf(x, mu, sigma) + st.gamma.logcdf(x * x + 0.5, 2.0,
                                                                       scale=sigma))
    x32 = X.astype(np.float32)
    mu32, sigma32 = np.float32(MU), np.float32(SIGMA)
    gradients = s2s.differentiate(f, wrt=(0, 1, 2), fallback="error").grad(x32, mu32, sigma32)
    expected = s2s.differentiate(f, wrt=(0, 1, 2)).grad(X, MU, SIGMA)
    for gradient, reference in zip(gradients, expected):
        assert np.result_type(gradient) == np.float32
        assert_close(gradient, reference, rtol=1e-4, atol=1e-5)


# --- second order ---------------------------------------------------------------------------------


def gaussian_in_log_scale(theta):
    return np.sum(st.norm.logpdf(X, theta[0], np.exp(theta[1])))


def student_t_in_df(theta):
    return np.sum(st.t.logpdf(X, np.exp(theta[0]) + 1.0, theta[1], np.exp(theta[2])))


def gamma_in_shape(theta):
    return np.sum(st.gamma.logpdf(X * X + 0.1, np.exp(theta[0]), scale=np.exp(theta[1])))


def normal_logcdf(theta):
    return np.sum(st.norm.logcdf(X, theta[0], np.exp(theta[1]))
                  + st.logistic.logsf(X, theta[1], np.exp(theta[0])))


def poisson_and_binomial(theta):
    counts = np.array([0.0, 2.0, 3.0, 1.0])
    return np.sum(st.poisson.logpmf(counts, np.exp(theta[0]))
                  + st.binom.cdf(counts, 5.0, special.expit(theta[1])))


def lognormal_cdf_in_shape(theta):
    return np.sum(st.lognorm.cdf(X * X + 0.2, np.exp(theta[0]), scale=np.exp(theta[1])))


@pytest.mark.parametrize("function", [gaussian_in_log_scale, student_t_in_df, gamma_in_shape,
                                      normal_logcdf, poisson_and_binomial,
                                      lognormal_cdf_in_shape], ids=lambda f: f.__name__)
def test_hessian_against_finite_differences_of_the_gradient(function):
    size = {student_t_in_df: 3}.get(function, 2)
    theta = np.linspace(0.2, 0.6, size)
    gradient = s2s.differentiate(function, fallback="error").grad
    expected = np.stack([numerical_jvp(gradient, (theta,), (e,), h=1e-5) for e in np.eye(size)],
                        axis=1)
    assert_close(s2s.hessian(function)(theta), expected, rtol=1e-6, atol=1e-8)
    v = np.linspace(1.0, -0.5, size)
    assert_close(s2s.hvp(function, theta, v), expected @ v, rtol=1e-6, atol=1e-8)


def test_second_derivative_of_a_scalar_log_density():
    def f(mu):
        return st.norm.logpdf(0.7, mu, 2.0)
    assert s2s.grad(s2s.grad(f))(0.3) == pytest.approx(-0.25, rel=1e-12)     # -1 / scale**2


# --- frozen distributions -------------------------------------------------------------------------


def chained(x, mu, sigma):
    return np.sum(st.norm(mu, sigma).logpdf(x))


def frozen_once(x, mu, sigma):
    d = st.norm(loc=mu, scale=np.exp(sigma))
    return np.sum(d.logpdf(x)) + np.sum(d.cdf(x) * x)


def frozen_in_a_loop(x, mu, sigma):
    d = st.t(3.0, mu, sigma)
    total = 0.0
    for xi in x:
        total = total + d.logpdf(xi)
    return total


def frozen_per_item(x, mu, sigma):
    total = 0.0
    for xi in x:
        d = st.gamma(sigma + 1.0, scale=mu * mu + 0.5)
        total = total + d.logpdf(xi * xi + 0.1)
    return total


def frozen_multivariate(x, mu, sigma):
    points = np.stack([x[:2], x[2:]])
    mean = np.array([mu, -mu])
    cov = np.array([[sigma * sigma, 0.2], [0.2, 1.0]])
    return np.sum(st.multivariate_normal(mean, cov, seed=0).logpdf(points))


def frozen_dirichlet(x, mu, sigma):
    alpha = np.array([mu, sigma, 2.0]) + 1.0
    return st.dirichlet(alpha).logpdf(np.array([0.2, 0.3, 0.5]))


PRIOR = st.norm(0.5, 2.0)
PRIOR_BY_KEYWORD = st.gamma(2.0, scale=1.5)


def global_frozen(x, mu, sigma):
    return np.sum(PRIOR.logpdf(x) + PRIOR_BY_KEYWORD.logpdf(x * x + 0.1)) + mu * sigma


@pytest.mark.parametrize("function", [chained, frozen_once, frozen_in_a_loop, frozen_per_item,
                                      frozen_multivariate, frozen_dirichlet, global_frozen],
                         ids=lambda f: f.__name__)
def test_frozen_distributions_in_generated_code_and_forward_mode(function):
    differentiable = s2s.differentiate(function, wrt=(0, 1, 2), fallback="error")
    assert differentiable.mode == "source"
    gradients = differentiable.grad(X, MU, SIGMA)
    for position, gradient in enumerate(gradients):
        assert_close(gradient, numerical_gradient(function, [X, MU, SIGMA], position),
                     rtol=1e-6, atol=1e-8)
    direction = (np.linspace(-1, 1, 4), 0.5, -0.25)
    _, tangent = s2s.jvp(function, (X, MU, SIGMA), direction)
    assert float(tangent) == pytest.approx(
        float(numerical_jvp(function, (X, MU, SIGMA), direction)), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("function", [frozen_once, frozen_per_item, global_frozen],
                         ids=lambda f: f.__name__)
def test_frozen_distributions_second_order(function):
    def f(theta):
        return function(X * theta[0], theta[1], theta[2])
    theta = np.array([0.9, MU, SIGMA])
    gradient = s2s.differentiate(f, fallback="error").grad
    expected = np.stack([numerical_jvp(gradient, (theta,), (e,), h=1e-5) for e in np.eye(3)],
                        axis=1)
    assert_close(s2s.hessian(f)(theta), expected, rtol=1e-6, atol=1e-8)


def test_a_frozen_method_becomes_the_distribution_method_with_its_parameters():
    source = s2s.differentiate(frozen_once, wrt=(0, 1, 2)).source
    assert "st.norm.logpdf(x, loc=mu, scale=_t0)" in source
    assert "st.norm.cdf(x, loc=mu, scale=_t0)" in source
    source = s2s.differentiate(global_frozen, wrt=0).source
    assert "PRIOR.logpdf(x)" in source and "PRIOR.args[0]" in source
    assert "PRIOR_BY_KEYWORD.kwds['scale']" in source


def frozen_and_returned(x, mu):
    d = st.norm(mu, 1.0)
    return d


def frozen_passed_on(x, mu):
    d = st.norm(mu, 1.0)
    return np.sum(helper_taking_a_distribution(d, x))


def helper_taking_a_distribution(d, x):
    return d.logpdf(x)


def rebound_between(x, mu):
    d = st.norm(mu, 1.0)
    total = 0.0
    for _ in range(3):
        mu = mu * 2.0
        total = total + np.sum(d.logpdf(x))
    return total + mu


def frozen_in_a_branch(x, mu):
    if mu > 0:
        d = st.norm(mu, 1.0)
    else:
        d = st.laplace(mu, 1.0)
    return np.sum(d.logpdf(x))


def frozen_method_without_rule(x, mu):
    return np.sum(st.norm(mu, 1.0).ppf(0.3) * x)


@pytest.mark.parametrize(("function", "message"), [
    (frozen_and_returned, "freezes scipy.stats.norm"),
    (frozen_passed_on, "freezes scipy.stats.norm"),
    (rebound_between, "freezes scipy.stats.norm"),
    (frozen_in_a_branch, "freezes scipy.stats.norm"),
    (frozen_method_without_rule, r"scipy\.stats\.norm\.ppf: SciPy function without a rule"),
], ids=lambda value: getattr(value, "__name__", ""))
def test_frozen_distributions_used_otherwise_are_refused_never_constant(function, message):
    with pytest.raises(s2s.MissingRuleError, match=message):
        s2s.differentiate(function, wrt=1, fallback="error").grad(X, MU)


def test_a_parameter_rebound_between_freezing_and_use_would_change_the_value():
    """Why rebound_between is refused: reading mu at the call would use the new value."""
    x = X
    assert rebound_between(x, MU) != pytest.approx(
        sum(np.sum(st.norm.logpdf(x, MU * 2 ** (i + 1), 1.0)) for i in range(3)) + MU * 8)


def test_an_unresolved_frozen_method_is_refused_for_the_data_too():
    """Where s2s cannot tell which parameters a frozen method reads, it refuses even when
    only the data is differentiated (the derivative in x depends on them)."""
    gradient = s2s.differentiate(rebound_between, wrt=0, fallback="error")
    with pytest.raises(s2s.MissingRuleError):
        gradient.grad(X, MU)          # d.logpdf(x) with x differentiated: not resolvable here
    assert_close(s2s.differentiate(chained, wrt=0, fallback="error").grad(X, MU, SIGMA),
                 -(X - MU) / SIGMA ** 2, rtol=1e-12, atol=0)


# --- conventions ----------------------------------------------------------------------------------


def test_outside_the_support_the_derivatives_are_zero():
    x = np.array([-0.5, 0.5, 2.0])            # -0.5 is below gamma's and expon's support
    for function, at in [
        (lambda x: np.sum(st.gamma.pdf(x, 2.0, 0.0, 1.5)), x),
        (lambda x: np.sum(st.expon.sf(x, 0.0, 1.5)), x),
        (lambda x: np.sum(st.beta.cdf(x, 2.0, 3.0)), np.array([-0.5, 0.5, 1.5])),
        (lambda x: np.sum(st.beta.logsf(x, 2.0, 3.0)), np.array([-0.5, 0.5, 1.5])),
        (lambda x: np.sum(st.lognorm.logcdf(x, 0.8)), x),     # -inf at -0.5: FD is nan
    ]:
        gradient = s2s.differentiate(function, fallback="error").grad(at)
        reference = numerical_gradient(function, [at], 0)
        finite = np.isfinite(reference)
        assert_close(gradient[finite], reference[finite], rtol=1e-6, atol=1e-9)
        assert gradient[0] == 0.0 and gradient[1] != 0.0
    def log_density(a):
        return np.sum(st.gamma.logpdf(x, a, scale=1.5))
    assert log_density(2.0) == -np.inf                # SciPy's value there
    gradient = s2s.grad(log_density)(2.0)
    inside = st.gamma.logpdf(x[1:], 2.0, scale=1.5)   # only the points inside contribute
    assert gradient == pytest.approx(numerical_gradient(
        lambda a: np.sum(st.gamma.logpdf(x[1:], a, scale=1.5)), [2.0], 0), rel=1e-6)
    assert np.all(np.isfinite(inside))


def test_the_count_of_a_discrete_distribution_off_the_integers():
    counts = np.array([1.0, 2.5, 3.0, -1.0])          # 2.5 and -1 have mass 0
    def f(mu):
        return np.sum(st.poisson.pmf(counts, mu) + st.nbinom.pmf(counts, mu, 0.4))
    gradient = s2s.grad(f)(1.7)
    assert gradient == pytest.approx(numerical_gradient(f, [1.7], 0), rel=1e-6)
    def g(mu):
        return st.poisson.cdf(2.5, mu)                 # SciPy floors the count: k = 2
    assert s2s.grad(g)(1.7) == pytest.approx(-st.poisson.pmf(2, 1.7), rel=1e-12)


def test_laplace_at_its_location_takes_the_subgradient_zero():
    def f(x):
        return np.sum(st.laplace.logpdf(x, 0.5, 2.0))
    np.testing.assert_array_equal(s2s.grad(f)(np.array([0.5, 1.5])), [0.0, -0.5])


def test_expon_at_its_location_is_inside_the_support():
    def f(scale):
        return st.expon.logpdf(0.0, 0.0, scale)           # -log(scale)
    assert s2s.grad(f)(2.0) == pytest.approx(-0.5, rel=1e-12)


COV = np.array([[2.0, 0.3, -0.2], [0.3, 1.0, 0.1], [-0.2, 0.1, 1.5]])
MEAN = np.array([0.1, -0.4, 0.3])
POINTS = np.random.default_rng(5).normal(size=(6, 3))


def mvn_total(cov):
    return np.sum(st.multivariate_normal.logpdf(POINTS, MEAN, cov))


def autograd_symmetric_gradient(cov):
    """-(inv(cov) - inv(cov) d d.T inv(cov)) / 2 summed over the samples (autograd, JAX)."""
    inverse = np.linalg.inv(cov)
    solved = (POINTS - MEAN) @ inverse
    return 0.5 * (solved.T @ solved - len(POINTS) * inverse)


def test_multivariate_normal_cov_gradient_is_on_the_lower_triangle_scipy_reads():
    gradient = s2s.differentiate(mvn_total, fallback="error").grad(COV)
    assert_close(gradient, numerical_gradient(mvn_total, [COV], 0), rtol=1e-6, atol=1e-8)
    assert np.all(np.triu(gradient, 1) == 0.0)       # SciPy never reads the upper triangle
    symmetric = autograd_symmetric_gradient(COV)
    assert_close((gradient + gradient.T) / 2, symmetric, rtol=1e-10, atol=1e-12)
    direction = np.random.default_rng(1).normal(size=(3, 3))
    direction = direction + direction.T               # a symmetric perturbation
    assert np.sum(gradient * direction) == pytest.approx(np.sum(symmetric * direction),
                                                         rel=1e-10)


def test_multivariate_normal_through_a_cholesky_factor_is_the_usual_gradient():
    def f(factor):
        return mvn_total(factor @ factor.T + 0.5 * np.eye(3))
    factor = np.linalg.cholesky(COV - 0.5 * np.eye(3))
    expected = 2 * autograd_symmetric_gradient(COV) @ factor
    assert_close(s2s.grad(f)(factor), expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(("cov", "x", "mean"), [
    (1.7, np.array([0.5, -0.3, 1.2]), np.array([0.1, 0.2, -0.1])),         # cov * I, one point
    (np.array([1.7, 0.6, 2.2]), POINTS, MEAN),                            # the diagonal
    (np.array([[1.3]]), np.array([0.5, -0.3, 1.2, 0.0]), np.array([0.2])),  # dim 1: 4 points
    (2.0, 0.5, None),                                                     # scalars, no mean
], ids=["scalar-cov", "vector-cov", "one-dimensional", "defaults"])
def test_multivariate_normal_cov_forms(cov, x, mean):
    def f(x, cov):
        if mean is None:
            return np.sum(st.multivariate_normal.pdf(x, cov=cov))
        return np.sum(st.multivariate_normal.logpdf(x, mean, cov))
    gradients = s2s.differentiate(f, wrt=(0, 1), fallback="error").grad(x, cov)
    for position, gradient in enumerate(gradients):
        assert np.shape(gradient) == np.shape([x, cov][position])
        assert_close(gradient, numerical_gradient(f, [x, cov], position), rtol=1e-6, atol=1e-9)


def test_multivariate_normal_hessian_in_the_mean_is_minus_n_inverse_cov():
    def f(mean):
        return np.sum(st.multivariate_normal.logpdf(POINTS, mean, COV))
    assert_close(s2s.hessian(f)(MEAN), -len(POINTS) * np.linalg.inv(COV), rtol=1e-10, atol=0)


ALPHA = np.array([1.5, 2.0, 3.5])


def test_dirichlet_with_k_components_along_the_simplex():
    """SciPy refuses points off the simplex, so finite differences move along it: the
    derivative of the K-component form agrees along every direction summing to zero."""
    point = np.array([0.2, 0.3, 0.5])

    def f(x, alpha):
        return st.dirichlet.logpdf(x, alpha)
    gradient, alpha_gradient = s2s.differentiate(f, wrt=(0, 1), fallback="error").grad(
        point, ALPHA)
    assert_close(gradient, (ALPHA - 1) / point, rtol=1e-12, atol=0)
    for direction in (np.array([1.0, -1.0, 0.0]), np.array([0.3, 0.2, -0.5])):
        assert np.sum(gradient * direction) == pytest.approx(
            float(numerical_jvp(lambda x: f(x, ALPHA), (point,), (direction,))), rel=1e-6)
    expected = np.log(point) - special.digamma(ALPHA) + special.digamma(ALPHA.sum())
    assert_close(alpha_gradient, expected, rtol=1e-12, atol=1e-14)


def test_dirichlet_points_as_columns_and_hessian_in_alpha():
    points = np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]])        # K = 3 components, 2 points

    def f(alpha):
        return np.sum(st.dirichlet.pdf(points, alpha))
    assert_close(s2s.grad(f)(ALPHA), numerical_gradient(f, [ALPHA], 0), rtol=1e-6, atol=1e-9)

    def g(alpha):
        return np.sum(st.dirichlet.logpdf(points, alpha))
    trigamma = special.polygamma(1, ALPHA)
    expected = -2 * (np.diag(trigamma) - special.polygamma(1, ALPHA.sum()))
    assert_close(s2s.hessian(g)(ALPHA), expected, rtol=1e-10, atol=1e-12)


# --- refusals and names ---------------------------------------------------------------------------


def t_cdf_in_df(x, df):
    return np.sum(st.t.cdf(x, df))


def poisson_in_the_count(k, mu):
    return np.sum(st.poisson.logpmf(k, mu))


def binomial_in_n(n, p):
    return np.sum(st.binom.pmf(3.0, n, p))


@pytest.mark.parametrize(("function", "args", "message"), [
    (t_cdf_in_df, (X, 4.0), r"argument 2 of scipy\.stats\.t\.cdf"),
    (poisson_in_the_count, (np.array([1.0, 2.0]), 1.5), r"argument 1 of scipy\.stats\.poisson"),
    (binomial_in_n, (6.0, 0.3), r"argument 2 of scipy\.stats\.binom\.pmf"),
], ids=lambda value: getattr(value, "__name__", ""))
def test_parameters_without_a_derivative_are_refused(function, args, message):
    wrt = 1 if function is t_cdf_in_df else 0
    with pytest.raises(s2s.MissingRuleError, match=message):
        s2s.differentiate(function, wrt=wrt, fallback="error").grad(*args)
    tangents = tuple(np.ones_like(np.asarray(a)) * (position == wrt)
                     for position, a in enumerate(args))
    with pytest.raises(s2s.MissingRuleError, match=message):
        s2s.jvp(function, args, tangents)


def test_the_other_arguments_of_those_rules_are_differentiated():
    gradient = s2s.differentiate(t_cdf_in_df, wrt=0, fallback="error").grad(X, 4.0)
    assert_close(gradient, st.t.pdf(X, 4.0), rtol=1e-12, atol=0)


def quantile(x):
    return np.sum(st.norm.ppf(x * 0.5 + 0.25))


def skewness(x):
    return st.skew(x)


@pytest.mark.parametrize(("function", "name"), [(quantile, "scipy.stats.norm.ppf"),
                                                (skewness, "scipy.stats.skew")],
                         ids=["method", "function"])
def test_scipy_functions_without_a_rule_name_themselves(function, name):
    """Never read as the user's Python helpers (their source is SciPy's), never numpy.xxx."""
    with pytest.raises(s2s.MissingRuleError, match=name.replace(".", r"\.")) as caught:
        s2s.differentiate(function, fallback="error").grad(np.array([0.1, 0.4, 0.7]))
    assert "numpy." not in str(caught.value)
    assert "SciPy function without a rule" in str(caught.value)


def test_the_tape_refuses_scipy_stats_by_name():
    """SciPy converts its arguments with np.asarray, which a tensor cannot intercept."""
    x = s2s.tensor(X, requires_grad=True)
    for call, name in [(lambda: st.norm.logpdf(x, MU, SIGMA), "scipy.stats.norm.logpdf"),
                       (lambda: st.norm(MU, SIGMA).cdf(x), r"scipy.stats.norm\(...\).cdf"),
                       (lambda: st.multivariate_normal.logpdf(x, np.zeros(4)),
                        "scipy.stats.multivariate_normal.logpdf")]:
        with pytest.raises(s2s.MissingRuleError, match=name) as caught:
            call()
        assert "used by generated code" in str(caught.value)
    with s2s.no_grad():
        assert np.allclose(np.asarray(st.norm.logpdf(x.detach(), MU, SIGMA)),
                           st.norm.logpdf(X, MU, SIGMA))


def test_a_function_falling_back_to_the_tape_refuses_too():
    def f(x):
        try:
            return np.sum(st.norm.logpdf(x))
        except ValueError:
            return 0.0
    differentiable = s2s.differentiate(f)
    with pytest.warns(s2s.FallbackWarning), \
            pytest.raises(s2s.MissingRuleError, match="scipy.stats.norm.logpdf"):
        differentiable.grad(X)
    assert differentiable.mode == "tape"


# --- the records ----------------------------------------------------------------------------------


def test_every_rule_is_registered_under_its_scipy_name():
    names = {rule.name for rule in RULES}
    univariate = ["norm", "t", "gamma", "beta", "expon", "laplace", "cauchy", "logistic",
                  "chi2", "lognorm"]
    expected = {f"scipy.stats.{d}.{m}" for d in univariate
                for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")}
    expected |= {f"scipy.stats.{d}.{m}" for d in ("poisson", "binom", "nbinom")
                 for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")}
    expected |= {f"scipy.stats.{d}.{m}" for d in ("multivariate_normal", "dirichlet")
                 for m in ("logpdf", "pdf")}
    assert names == expected
    assert len(RULES) == scipy_stats.RULE_COUNT == 82
    for rule in RULES:
        assert REGISTRY.lookup(rule.primal) is rule


def test_undifferentiated_positions_are_refused_not_zero():
    """Every position without a derivative is a count (k, n, loc of a discrete
    distribution) or a shape parameter inside a distribution function, and is declared
    NotDifferentiated, so a differentiated value there raises."""
    for rule in RULES:
        for vjp, jvp, domain in zip(rule.vjps, rule.jvps, rule.domains):
            assert (vjp is None) == (jvp is None)
            if vjp is None:
                assert isinstance(domain, NotDifferentiated), rule.name


def test_rule_bodies_never_assign_their_parameters():
    """Inlining substitutes the call site's atoms for the parameters: a body assigning one
    would overwrite the caller's variable."""
    tree = ast.parse(scipy_stats.SOURCE)
    for definition in tree.body:
        parameters = {argument.arg for argument in definition.args.args}
        stored = {node.id for node in ast.walk(definition)
                  if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        assert not parameters & stored, definition.name


def test_rule_functions_have_readable_source():
    rule = REGISTRY.lookup(st.norm.logpdf)
    text = inspect.getsource(rule.vjps[1])
    assert text == textwrap.dedent("""\
        def norm_logpdf_vjp_loc(g, ans, x, loc=0.0, scale=1.0):
            # d/dloc of scipy.stats.norm.logpdf
            z = (x - loc) / scale
            return g * (z / scale)
        """)


def test_functools_partial_of_a_method_with_a_rule():
    loss = functools.partial(st.norm.logpdf, loc=MU, scale=SIGMA)

    def f(x):
        return np.sum(loss(x))
    with pytest.raises(s2s.MissingRuleError, match="no derivative rule for 'loss'"):
        s2s.differentiate(f, fallback="error").grad(X)
