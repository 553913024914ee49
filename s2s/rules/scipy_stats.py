"""Rules for ``scipy.stats`` distributions: ``logpdf pdf cdf logcdf sf logsf`` of ``norm t
gamma beta expon laplace cauchy logistic chi2 lognorm``, ``logpmf pmf cdf logcdf sf logsf`` of
``poisson binom nbinom``, and ``logpdf pdf`` of ``multivariate_normal`` and ``dirichlet``.
Imported only when SciPy is installed, after :mod:`s2s.rules.scipy_special`, whose rules
the derivatives here are written in (``special.digamma``, ``special.xlogy``...), so
gradient code can be differentiated again (``s2s.hessian``).

**Which object is the primal.** ``scipy.stats.norm.logpdf`` is a method bound to the
distribution instance ``scipy.stats.norm``; every attribute read makes a new bound-method
object, so the registry keys bound methods by (instance, function)
(:func:`s2s.rules.registry._key`): ``st.norm.logpdf``, ``norm.logpdf`` after ``from
scipy.stats import norm``, and ``scipy.stats.norm.logpdf`` all find the one rule.  A frozen
distribution made in the differentiated function (``st.norm(mu, s).logpdf(x)``, ``d =
st.norm(mu, s)`` then ``d.logpdf(x)``) becomes a call of the same method with the
parameters of the call that froze it, where that provably reads the same values
(:mod:`s2s.normalize.frozen_distributions`); a frozen distribution used any other way with
a differentiated parameter is refused.  One frozen at module level (``PRIOR = st.norm(0,
10)``, then ``PRIOR.logpdf(w)``) is the method's rule with its frozen parameters as
constants (:func:`s2s.analysis._classify_global_frozen`).

**Parameters.** Each rule's positional arguments are SciPy's: the data, the shape
parameters in SciPy's order, then ``loc`` and ``scale`` (``loc`` only, for the discrete
distributions), with SciPy's names, so ``norm.logpdf(x, loc=mu, scale=s)``, ``t.logpdf(x,
df=3)`` and ``gamma.cdf(x, a, 0, s)`` bind as in SciPy.  Not differentiated, and refused
(:class:`~s2s.rules.domains.NotDifferentiated`, an :class:`s2s.MissingRuleError`) when
they receive a differentiated value:

* the count ``k`` and the integer shift ``loc`` of the discrete distributions (SciPy's
  mass is zero off the integers, so no derivative in ``k`` means anything), and the number
  of trials ``n`` of ``binom``, an integer;
* the shape parameters inside a distribution function (``cdf logcdf sf logsf``) where it
  would need the derivative of an incomplete gamma or beta function in its order: ``df``
  of ``t`` and ``chi2``, ``a`` of ``gamma``, ``a, b`` of ``beta``, ``n`` of ``nbinom``.
  (``s`` of ``lognorm`` is differentiated everywhere.)

**Conventions.** Outside the support (density 0, log-density ``-inf``), and where a
distribution function is constant (below or above the support), every derivative is 0: the
function is constant there.  At the edge of the support (``x == loc`` for the positive
distributions, ``x == loc + scale`` for ``beta``) it is 0 too, except for ``expon``,
whose density at ``loc`` is ``1 / scale`` (its one-sided derivatives from inside are used).
``laplace`` at ``x == loc`` takes the subgradient 0 (as ``abs``).  ``multivariate_normal``
reads ``cov`` as SciPy does, from its lower triangle (``scipy.linalg.eigh(lower=True)``):
its ``cov`` cotangent is the exact derivative of that function, an off-diagonal entry of
the lower triangle standing for both mirror entries (twice the symmetric gradient there,
zero above the diagonal), as :mod:`s2s.rules.linalg` does for ``cholesky`` and ``eigh``.
For a direction ``V`` that is symmetric — a ``cov`` built symmetric (``L @ L.T``), the
usual case — the derivative ``sum(G * V)`` is the same as with autograd's and JAX's
symmetric gradient ``-(inv(cov) - inv(cov) d d.T inv(cov)) / 2``, which is ``(G + G.T) / 2``
of this one.  ``cov`` may also be a number (``cov * I``) or a vector (the diagonal), as in
SciPy; ``allow_singular=True`` is accepted, but the derivative is the nonsingular formula
(a singular ``cov`` raises).  ``dirichlet`` takes ``x`` with ``K`` components or ``K - 1``
(SciPy then completes it with ``1 - sum(x)``): for ``K - 1`` components the derivative is
that of the completed density; for ``K`` it is the partial derivative of ``sum((alpha - 1)
log x) - log B(alpha)`` in each component, which is what moving ``x`` along the simplex
(directions summing to zero, the only ones SciPy accepts) sees.

**How the rules are written.** The univariate distributions share their structure: with
``z = (x - loc) / scale`` and the standardized log-density ``log f(z)``, the log-density is
``log f(z) - log(scale)``; its derivative in ``x`` is ``log f'(z) / scale``, in ``loc`` minus
that, in ``scale`` ``-(1 + z log f'(z)) / scale``; the derivatives of the distribution
function are ``pdf``, ``-pdf`` and ``-z pdf``.  Each distribution is therefore a row of a
table (:data:`FAMILIES`: ``log f'``, ``log f``, the derivatives in the shape parameters,
the support), and the VJP and JVP functions of its 6 methods are rendered from templates
into one Python source (:data:`SOURCE`, registered in :mod:`linecache` so that
``inspect.getsource`` and the inliner read each function like any other rule).  The
multivariate rules are templates of their own.  The formulas are the standard densities
(e.g. Johnson, Kotz and Balakrishnan, *Continuous Univariate Distributions*; the
derivative of the log-determinant and the inverse as in Petersen and Pedersen, *The Matrix
Cookbook*, eqs. 57 and 61).  SciPy computes these functions in float64; gradients take
their argument's dtype (float32 in, float32 out) as everywhere in s2s.

On the tape none of these can be recorded: SciPy converts its arguments with
``np.asarray``, which NumPy does not let a tensor intercept; the tape raises
:class:`s2s.MissingRuleError` naming the method (generated code, forward mode and
higher derivatives differentiate them).
"""
from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .. import runtime
from . import scipy_special  # noqa: F401  (the rules the derivatives here are written in)
from .domains import NotDifferentiated, Shaped, SymmetricPositive
from .registry import Domain, define

runtime.special = special       # rule bodies read special.<f>; s2s.emit imports it from SciPy


# --- test domains -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedShape(NotDifferentiated, Shaped):
    """A real parameter s2s does not differentiate, sampled with a fixed shape."""


@dataclass(frozen=True)
class Counts(NotDifferentiated, Shaped):
    """Integers in ``[low, high]`` (as floats) of ``shape``: a count ``k`` or trials ``n``."""

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.integers(int(self.low), int(self.high) + 1, size=self.shape).astype(float)


@dataclass(frozen=True)
class Simplex(Shaped):
    """The first ``K - 1`` components of points inside the simplex, shape ``(K - 1, N)``:
    positive, summing to less than 1 (SciPy's dirichlet completes them)."""

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        components = self.shape[0] + 1
        points = rng.dirichlet(np.full(components, 4.0), size=self.shape[1:]).T
        return np.clip(points[:-1], 0.05, None) * 0.9


DATA = (3, 4)           # the shapes of a rule's arguments in tests/test_rules.py
SHAPE_1 = (4,)
SHAPE_2 = (3, 1)
LOC = (3, 1)
SCALE = ()


# --- the univariate table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A location-scale family, with ``z = (x - loc) / scale`` and its standardized density f.

    Expressions are Python source over ``z``, the shape parameters and ``scale``.
    """

    name: str
    shapes: tuple[str, ...]               # SciPy's shape parameters, in order
    score: str                            # d/dz log f(z)
    scale_score: str                      # scale * d/dscale log pdf(x) = -(1 + z score)
    log_density: str                      # log f(z) - log(scale): log pdf(x)
    shape_scores: tuple[str, ...]         # d/d(shape) log f(z)
    cdf_shapes: tuple[tuple[str, str] | None, ...]   # d/d(shape) F = coefficient * exp(term)
    support: str | None                   # where f(z) > 0, in y = (x - loc) / scale
    inside: str = "0.5"                   # a point of the support (for masked-out entries)
    log_f: object = None                  # sympy twin of log f: (sp, z, *shapes) -> expr
    cdf: object = None                    # sympy twin of F: (sp, z, *shapes) -> expr
    data: Domain = Domain(-2.0, 2.0)      # where tests draw x
    shape_domains: tuple[Domain, ...] = ()
    loc: Domain = Domain(-0.5, 0.5)
    scale: Domain = Domain(0.5, 2.0)


LOG_ROOT_2PI = "0.9189385332046727"       # log(sqrt(2 pi))
LOG_PI = "1.1447298858494002"


def _sympy_log_root_2pi(sp):
    return sp.log(2 * sp.pi) / 2


FAMILIES = (
    Family(
        "norm", (),
        score="-z", scale_score="z * z - 1",
        log_density=f"-0.5 * z * z - {LOG_ROOT_2PI} - np.log(scale)",
        shape_scores=(), cdf_shapes=(), support=None,
        log_f=lambda sp, z: -z ** 2 / 2 - _sympy_log_root_2pi(sp),
        cdf=lambda sp, z: (1 + sp.erf(z / sp.sqrt(2))) / 2),
    Family(
        "t", ("df",),
        score="-(df + 1) * z / (df + z * z)", scale_score="df * (z * z - 1) / (df + z * z)",
        log_density="special.gammaln(0.5 * (df + 1)) - special.gammaln(0.5 * df) "
                    f"- 0.5 * np.log(df) - 0.5 * {LOG_PI} - 0.5 * (df + 1) * np.log1p(z * z / df) "
                    "- np.log(scale)",
        shape_scores=("0.5 * (special.digamma(0.5 * (df + 1)) - special.digamma(0.5 * df)) "
                      "- 0.5 / df - 0.5 * np.log1p(z * z / df) "
                      "+ 0.5 * (df + 1) * z * z / (df * (df + z * z))",),
        cdf_shapes=(None,), support=None,
        log_f=lambda sp, z, df: sp.loggamma((df + 1) / 2) - sp.loggamma(df / 2)
        - sp.log(df * sp.pi) / 2 - (df + 1) / 2 * sp.log(1 + z ** 2 / df),
        cdf=lambda sp, z, df: sp.Rational(1, 2) + z * sp.gamma((df + 1) / 2) * sp.hyper(
            [sp.Rational(1, 2), (df + 1) / 2], [sp.Rational(3, 2)], -z ** 2 / df)
        / (sp.sqrt(sp.pi * df) * sp.gamma(df / 2)),
        shape_domains=(FixedShape(1.5, 6.0, shape=SHAPE_1),)),
    Family(
        "gamma", ("a",),
        score="(a - 1) / z - 1", scale_score="z - a",
        log_density="(a - 1) * np.log(z) - z - special.gammaln(a) - np.log(scale)",
        shape_scores=("np.log(z) - special.digamma(a)",),
        cdf_shapes=(None,), support="y > 0", inside="1.0",
        log_f=lambda sp, z, a: (a - 1) * sp.log(z) - z - sp.loggamma(a),
        cdf=lambda sp, z, a: sp.lowergamma(a, z) / sp.gamma(a),
        data=Domain(0.6, 3.0), shape_domains=(FixedShape(0.7, 3.0, shape=SHAPE_1),),
        loc=Domain(-0.4, 0.4)),
    Family(
        "beta", ("a", "b"),
        score="(a - 1) / z - (b - 1) / (1 - z)", scale_score="(b - 1) * z / (1 - z) - a",
        log_density="(a - 1) * np.log(z) + (b - 1) * np.log1p(-z) - special.betaln(a, b) "
                    "- np.log(scale)",
        shape_scores=("np.log(z) - special.digamma(a) + special.digamma(a + b)",
                      "np.log1p(-z) - special.digamma(b) + special.digamma(a + b)"),
        cdf_shapes=(None, None), support="np.logical_and(y > 0, y < 1)",
        log_f=lambda sp, z, a, b: (a - 1) * sp.log(z) + (b - 1) * sp.log(1 - z)
        - sp.loggamma(a) - sp.loggamma(b) + sp.loggamma(a + b),
        cdf=lambda sp, z, a, b: sp.betainc_regularized(a, b, 0, z),
        data=Domain(0.3, 0.8), shape_domains=(FixedShape(0.7, 3.0, shape=SHAPE_1),
                                              FixedShape(0.7, 3.0, shape=SHAPE_2)),
        loc=Domain(-0.1, 0.1), scale=Domain(1.0, 1.3)),
    Family(
        "expon", (),
        score="-1.0", scale_score="z - 1",
        log_density="-z - np.log(scale)",
        shape_scores=(), cdf_shapes=(), support="y >= 0", inside="1.0",
        log_f=lambda sp, z: -z,
        cdf=lambda sp, z: 1 - sp.exp(-z),
        data=Domain(0.6, 3.0), loc=Domain(-0.4, 0.4)),
    Family(
        "laplace", (),
        score="-np.sign(z)", scale_score="np.abs(z) - 1",
        log_density="-np.abs(z) - 0.6931471805599453 - np.log(scale)",     # log 2
        shape_scores=(), cdf_shapes=(), support=None,
        log_f=lambda sp, z: -sp.Abs(z) - sp.log(2),
        cdf=lambda sp, z: sp.Piecewise((sp.exp(z) / 2, z < 0), (1 - sp.exp(-z) / 2, True))),
    Family(
        "cauchy", (),
        score="-2 * z / (1 + z * z)", scale_score="(z * z - 1) / (1 + z * z)",
        log_density=f"-{LOG_PI} - np.log1p(z * z) - np.log(scale)",
        shape_scores=(), cdf_shapes=(), support=None,
        log_f=lambda sp, z: -sp.log(sp.pi * (1 + z ** 2)),
        cdf=lambda sp, z: sp.Rational(1, 2) + sp.atan(z) / sp.pi),
    Family(
        "logistic", (),
        score="-np.tanh(0.5 * z)", scale_score="z * np.tanh(0.5 * z) - 1",
        log_density="-np.abs(z) - 2 * np.log1p(np.exp(-np.abs(z))) - np.log(scale)",
        shape_scores=(), cdf_shapes=(), support=None,
        log_f=lambda sp, z: -z - 2 * sp.log(1 + sp.exp(-z)),
        cdf=lambda sp, z: 1 / (1 + sp.exp(-z))),
    Family(
        "chi2", ("df",),
        score="(0.5 * df - 1) / z - 0.5", scale_score="0.5 * (z - df)",
        log_density="(0.5 * df - 1) * np.log(z) - 0.5 * z - 0.5 * df * 0.6931471805599453 "
                    "- special.gammaln(0.5 * df) - np.log(scale)",
        shape_scores=("0.5 * (np.log(z) - 0.6931471805599453 - special.digamma(0.5 * df))",),
        cdf_shapes=(None,), support="y > 0", inside="1.0",
        log_f=lambda sp, z, df: (df / 2 - 1) * sp.log(z) - z / 2 - df / 2 * sp.log(2)
        - sp.loggamma(df / 2),
        cdf=lambda sp, z, df: sp.lowergamma(df / 2, z / 2) / sp.gamma(df / 2),
        data=Domain(0.6, 3.0), shape_domains=(FixedShape(1.5, 5.0, shape=SHAPE_1),),
        loc=Domain(-0.4, 0.4)),
    Family(
        "lognorm", ("s",),
        score="-(1 + np.log(z) / (s * s)) / z", scale_score="np.log(z) / (s * s)",
        log_density=f"-np.log(s) - np.log(z) - {LOG_ROOT_2PI} - 0.5 * (np.log(z) / s) ** 2 "
                    "- np.log(scale)",
        shape_scores=("(np.log(z) ** 2 / (s * s) - 1) / s",),
        # F = ndtr(log(z) / s): dF/ds = -pdf_N(u) u / s with u = log(z) / s
        cdf_shapes=(("-np.log(z) / (s * s)",
                     f"-0.5 * (np.log(z) / s) ** 2 - {LOG_ROOT_2PI}"),),
        support="y > 0", inside="1.0",
        log_f=lambda sp, z, s: -sp.log(s * z) - _sympy_log_root_2pi(sp)
        - sp.log(z) ** 2 / (2 * s ** 2),
        cdf=lambda sp, z, s: (1 + sp.erf(sp.log(z) / (s * sp.sqrt(2)))) / 2,
        data=Domain(0.6, 3.0), shape_domains=(Shaped(0.5, 1.5, shape=SHAPE_1),),
        loc=Domain(-0.4, 0.4)),
)

CONTINUOUS_METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")


# --- rendering the templates into one source ----------------------------------------------------

_LINES: list[str] = []


def _function(name: str, parameters: str, body: list[str], comment: str) -> str:
    """Append one VJP or JVP definition to :data:`SOURCE`'s lines; returns its name."""
    _LINES.extend([f"def {name}({parameters}):", f"    # {comment}"])
    _LINES.extend(f"    {line}" for line in body)
    _LINES.extend(["", ""])
    return name


def _expression(text: str) -> ast.expr:
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant):
        return ast.Constant(-node.operand.value)           # "-1": the number
    return node


def _negated(node: ast.expr) -> ast.expr:
    """``-node``, without double negations (``-(-z) / s`` is ``z / s``)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        return ast.BinOp(_negated(node.left), node.op, node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return ast.Constant(-node.value)
    return ast.UnaryOp(ast.USub(), node)


def _times(left: ast.expr, right: ast.expr) -> ast.expr:
    if isinstance(left, ast.Constant) and left.value == 1:
        return right
    if isinstance(left, ast.Constant) and left.value == -1:
        return _negated(right)
    return ast.BinOp(left, ast.Mult(), right)


def _over(left: ast.expr, right: str) -> ast.expr:
    return ast.BinOp(left, ast.Div(), ast.Name(right, ast.Load()))


def _masked(node: ast.expr, masked: bool) -> ast.expr:
    """``np.where(inside, node, 0.0)``: zero outside the support (or the range where a
    distribution function is not constant)."""
    if not masked:
        return node
    return _expression(f"np.where(inside, {ast.unparse(node)}, 0.0)")


def _pair(stem: str, signature: str, body: list[str], result: ast.expr, comment: str):
    """A VJP ``g * result`` and its JVP ``t * result`` (an elementwise derivative)."""
    names = []
    for kind, seed in (("vjp", "g"), ("jvp", "t")):
        value = ast.unparse(ast.BinOp(ast.Name(seed, ast.Load()), ast.Mult(), result))
        names.append(_function(stem.replace("@", kind), f"{seed}, ans, {signature}",
                               body + [f"return {value}"], comment))
    return tuple(names)


def _distribution_factor(coefficient: ast.expr, log_term: str, method: str) -> ast.expr:
    """The derivative of ``cdf logcdf sf logsf`` (``logcmf``...) from that of the
    distribution function F, ``coefficient * exp(log_term)``: divided by exp(ans) for the
    logarithms, negated for the survival function ``1 - F``."""
    if method in ("logcdf", "logsf"):
        log_term = f"{log_term} - level"
    factor = _times(coefficient, _expression(f"np.exp({log_term})"))
    return _negated(factor) if method in ("sf", "logsf") else factor


def _univariate(family: Family, method: str) -> tuple[list, list]:
    """The VJP and JVP names of ``family.method``, per positional argument (None: not
    differentiated)."""
    parameters = ["x", *family.shapes, "loc", "scale"]
    signature = ", ".join(["x", *family.shapes, "loc=0.0", "scale=1.0"])
    if family.support is None:
        prelude = ["z = (x - loc) / scale"]
    else:
        prelude = ["y = (x - loc) / scale", f"inside = {family.support}",
                   f"z = np.where(inside, y, {family.inside})"]
    if method in ("logcdf", "logsf"):
        prelude = prelude + ["level = np.where(ans == -np.inf, 0.0, ans)"]
    z = ast.Name("z", ast.Load())
    if method in ("logpdf", "pdf"):            # d/dx, d/dshapes, d/dloc, d/dscale
        score = _expression(family.score)
        factors = [_over(score, "scale"), _negated(_over(score, "scale")),
                   _over(_expression(family.scale_score), "scale")]
        factors[1:1] = [_expression(text) for text in family.shape_scores]
        if method == "pdf":
            factors = [_times(ast.Name("ans", ast.Load()), factor) for factor in factors]
    else:
        density = family.log_density
        factors = [_distribution_factor(ast.Constant(1), density, method)]
        factors += [None if term is None else
                    _distribution_factor(_expression(term[0]), term[1], method)
                    for term in family.cdf_shapes]
        factors += [_distribution_factor(ast.Constant(-1), density, method),
                    _distribution_factor(_negated(z), density, method)]
    vjps, jvps = [], []
    for parameter, factor in zip(parameters, factors):
        if factor is None:
            vjps.append(None)
            jvps.append(None)
            continue
        vjp, jvp = _pair(f"{family.name}_{method}_@_{parameter}", signature, prelude,
                         _masked(factor, family.support is not None),
                         f"d/d{parameter} of scipy.stats.{family.name}.{method}")
        vjps.append(vjp)
        jvps.append(jvp)
    return vjps, jvps


# --- discrete distributions -------------------------------------------------------------------


@dataclass(frozen=True)
class Discrete:
    """A distribution on the integers ``k >= loc``; expressions over ``kk = k - loc``."""

    name: str
    shapes: tuple[str, ...]
    support: str                               # in j = k - loc (floor of it for cdfs)
    mass_scores: tuple[str | None, ...]        # d/d(shape) log pmf, None: not differentiated
    cdf_terms: tuple[tuple[str, str] | None, ...]   # d/d(shape) F: (coefficient, log term)
    cdf_support: str                           # where F is not constant, in j = floor(k - loc)
    shape_domains: tuple[Domain, ...] = ()
    counts: Domain = Counts(0, 4, shape=DATA)


DISCRETE = (
    Discrete(
        "poisson", ("mu",), support="j >= 0",
        mass_scores=("kk / mu - 1",),
        cdf_terms=(("-1", "special.xlogy(kk, mu) - mu - special.gammaln(kk + 1)"),),
        cdf_support="j >= 0",
        shape_domains=(Shaped(0.5, 4.0, shape=SHAPE_1),)),
    Discrete(
        "binom", ("n", "p"), support="np.logical_and(j >= 0, j <= n)",
        mass_scores=(None, "kk / p - (n - kk) / (1 - p)"),
        # dF/dp = -n pmf(k; n - 1, p)
        cdf_terms=(None, ("-n", "special.gammaln(n) - special.gammaln(kk + 1) "
                          "- special.gammaln(n - kk) + special.xlogy(kk, p) "
                          "+ special.xlog1py(n - 1 - kk, -p)")),
        cdf_support="np.logical_and(j >= 0, j < n)",
        shape_domains=(Counts(5, 8, shape=SHAPE_1), Shaped(0.2, 0.8, shape=SHAPE_2))),
    Discrete(
        "nbinom", ("n", "p"), support="j >= 0",
        mass_scores=("special.digamma(kk + n) - special.digamma(n) + np.log(p)",
                     "n / p - kk / (1 - p)"),
        # F = betainc(n, k + 1, p): dF/dp = p**(n - 1) (1 - p)**k / B(n, k + 1)
        cdf_terms=(None, ("1", "special.xlogy(n - 1, p) + special.xlog1py(kk, -p) "
                              "- special.betaln(n, kk + 1)")),
        cdf_support="j >= 0",
        shape_domains=(Shaped(0.5, 4.0, shape=SHAPE_1), Shaped(0.2, 0.8, shape=SHAPE_2))),
)

DISCRETE_METHODS = ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")


def _discrete(family: Discrete, method: str) -> tuple[list, list]:
    """The VJP and JVP names of ``family.method``, per positional argument: ``k`` and
    ``loc`` are not differentiated."""
    signature = ", ".join(["k", *family.shapes, "loc=0"])
    if method in ("logpmf", "pmf"):
        prelude = ["j = k - loc",
                   f"inside = np.logical_and({family.support}, j == np.floor(j))",
                   "kk = np.where(inside, j, 0.0)"]
        factors = [None if text is None else _expression(text) for text in family.mass_scores]
        if method == "pmf":
            factors = [None if factor is None else _times(ast.Name("ans", ast.Load()), factor)
                       for factor in factors]
    else:                                   # SciPy's distribution functions floor k - loc
        prelude = ["j = np.floor(k - loc)", f"inside = {family.cdf_support}",
                   "kk = np.where(inside, j, 0.0)"]
        if method in ("logcdf", "logsf"):
            prelude.append("level = np.where(ans == -np.inf, 0.0, ans)")
        factors = [None if term is None else
                   _distribution_factor(_expression(term[0]), term[1], method)
                   for term in family.cdf_terms]
    vjps, jvps = [None], [None]                        # k: a count
    for parameter, factor in zip(family.shapes, factors):
        if factor is None:
            vjps.append(None)
            jvps.append(None)
            continue
        vjp, jvp = _pair(f"{family.name}_{method}_@_{parameter}", signature, prelude,
                         _masked(factor, True),
                         f"d/d{parameter} of scipy.stats.{family.name}.{method}")
        vjps.append(vjp)
        jvps.append(jvp)
    return vjps + [None], jvps + [None]                # loc: an integer shift


# --- multivariate normal and Dirichlet --------------------------------------------------------
# Each argument's VJP and JVP bodies follow a shared prelude.  The pdf rules are the logpdf
# rules with the cotangent weighted by ans (d pdf = pdf d logpdf): WEIGHT below is ``g`` for
# logpdf and ``g * ans`` for pdf, and a pdf tangent is ``ans`` times the logpdf tangent.

# multivariate_normal: the samples as rows (n, dim); the covariance as SciPy reads it (its
# lower triangle; a number is cov * I, a vector the diagonal); the rows solved against it.
MVN_SIGNATURE = "x, mean=None, cov=1, allow_singular=False"
MVN_PRELUDE = [
    "if mean is None:",
    "    diff = x",
    "    dim = np.size(cov) if np.ndim(cov) == 1 else np.shape(cov)[0] if np.ndim(cov) == 2 "
    "else 1",
    "else:",
    "    diff = x - mean",
    "    dim = np.size(mean)",
    "if np.ndim(cov) == 2:",
    "    sigma = np.tril(cov) + np.transpose(np.tril(cov, -1))",
    "else:",
    "    sigma = cov * np.eye(dim)",
    "rows = np.reshape(diff, (-1, dim))",
    "solved = np.transpose(np.linalg.solve(sigma, np.transpose(rows)))",
]
MVN_WEIGHTS = ["w = np.reshape(np.broadcast_to(WEIGHT, np.shape(ans)), (-1, 1))"]
MVN = {   # argument -> (VJP body, JVP body returning `change`, the formula)
    "x": (["return np.reshape(-(w * solved), np.shape(x))"],
          ["change = np.reshape(-np.sum(solved * np.reshape(t, (-1, dim)), axis=-1), "
           "np.shape(ans))"],
          "-inv(cov) (x - mean)"),
    "mean": (["return np.reshape(np.sum(w * solved, axis=0), np.shape(mean))"],
             ["change = np.reshape(np.sum(solved * np.reshape(t, (1, dim)), axis=-1), "
              "np.shape(ans))"],
             "inv(cov) (x - mean), summed over the samples"),
    "cov": (["outer = np.transpose(solved) @ (w * solved)",
             "gradient = 0.5 * (outer - np.sum(w) * np.linalg.inv(sigma))",
             "if np.ndim(cov) == 2:",
             "    return np.tril(gradient) + np.tril(gradient, -1)",
             "if np.ndim(cov) == 1:",
             "    return np.diagonal(gradient)",
             "return np.trace(gradient)"],
            ["if np.ndim(cov) == 2:",
             "    perturbation = np.tril(t) + np.transpose(np.tril(t, -1))",
             "else:",
             "    perturbation = t * np.eye(dim)",
             "quadratic = np.sum((solved @ perturbation) * solved, axis=-1)",
             "trace = np.trace(np.linalg.solve(sigma, perturbation))",
             "change = np.reshape(0.5 * (quadratic - trace), np.shape(ans))"],
            "(inv(cov) d d.T inv(cov) - inv(cov)) / 2, on the lower triangle SciPy reads"),
}

# dirichlet: x completed to its K components (SciPy accepts K - 1: the last is 1 - sum);
# x is (K,) or (K, N), components first.
DIRICHLET_SIGNATURE = "x, alpha"
DIRICHLET_PRELUDE = [
    "size = np.shape(alpha)[0]",
    "if np.shape(x)[0] < size:",
    "    full = np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0)",
    "else:",
    "    full = x",
]
DIRICHLET_WEIGHTS = ["w = np.expand_dims(np.broadcast_to(WEIGHT, np.shape(ans)), -1)"]
DIRICHLET = {
    "x": (["complete = np.transpose(w * ((alpha - 1) / np.transpose(full)))",
           "if np.shape(x)[0] < size:",
           "    return complete[:-1] - complete[-1:]",
           "return complete"],
          ["if np.shape(x)[0] < size:",
           "    tangent = np.concatenate([t, -np.sum(t, axis=0, keepdims=True)], axis=0)",
           "else:",
           "    tangent = t",
           "change = np.sum((alpha - 1) * np.transpose(tangent / full), axis=-1)"],
          "(alpha - 1) / x"),
    "alpha": (["logs = np.sum(np.reshape(w * np.transpose(np.log(full)), (-1, size)), axis=0)",
               "return logs - np.sum(w) * (special.digamma(alpha) "
               "- special.digamma(np.sum(alpha)))"],
              ["logs = np.sum(np.transpose(np.log(full)) * t, axis=-1)",
               "normalizer = np.sum(t * (special.digamma(alpha) "
               "- special.digamma(np.sum(alpha))))",
               "change = logs - normalizer"],
              "log x - digamma(alpha) + digamma(sum(alpha))"),
}


def _multivariate(name: str, method: str, signature: str, prelude: list[str],
                  weights: list[str], table: dict) -> tuple[list, list]:
    """The VJP and JVP names of ``name.method`` per argument, from its table."""
    weight = "g" if method == "logpdf" else "g * ans"
    vjps, jvps = [], []
    for argument, (vjp_body, jvp_body, formula) in table.items():
        where = f"d/d{argument} of scipy.stats.{name}.{method}"
        stem = f"{name}_{method}_@_{argument}"
        vjps.append(_function(stem.replace("@", "vjp"), f"g, ans, {signature}",
                              prelude + [line.replace("WEIGHT", weight) for line in weights]
                              + vjp_body, f"{where}: {formula}"))
        result = "change" if method == "logpdf" else "ans * change"
        jvps.append(_function(stem.replace("@", "jvp"), f"t, ans, {signature}",
                              prelude + jvp_body + [f"return {result}"], where))
    return vjps, jvps


# --- building the rules -------------------------------------------------------------------------


def _univariate_sympy(family: Family, method: str):
    """The sympy twin of ``family.method`` over (x, *shapes, loc, scale)."""
    def twin(sp, x, *rest):
        *shapes, loc, scale = rest
        z = (x - loc) / scale
        if method in ("logpdf", "pdf"):
            log_pdf = family.log_f(sp, z, *shapes) - sp.log(scale)
            return log_pdf if method == "logpdf" else sp.exp(log_pdf)
        cdf = family.cdf(sp, z, *shapes)
        return {"cdf": cdf, "logcdf": sp.log(cdf), "sf": 1 - cdf,
                "logsf": sp.log(1 - cdf)}[method]
    return twin


_PLAN = []        # (primal, name, vjp names, jvp names, options) to define once SOURCE runs

for _family in FAMILIES:
    for _method in CONTINUOUS_METHODS:
        _vjps, _jvps = _univariate(_family, _method)
        _domains = (Shaped(_family.data.low, _family.data.high, shape=DATA),
                    *_family.shape_domains,
                    Shaped(_family.loc.low, _family.loc.high, shape=LOC),
                    Shaped(_family.scale.low, _family.scale.high, shape=SCALE))
        if _method not in ("logpdf", "pdf"):          # shapes of a cdf: not differentiated
            _domains = tuple(
                FixedShape(d.low, d.high, shape=d.shape) if v is None else d
                for d, v in zip(_domains, _vjps))
        _PLAN.append((getattr(getattr(stats, _family.name), _method),
                      f"{_family.name}.{_method}", _vjps, _jvps,
                      {"broadcasting": True, "domains": _domains,
                       "sympy": _univariate_sympy(_family, _method)}))

for _family in DISCRETE:
    for _method in DISCRETE_METHODS:
        _vjps, _jvps = _discrete(_family, _method)
        _shapes = tuple(FixedShape(d.low, d.high, shape=d.shape)
                        if v is None and not isinstance(d, Counts) else d
                        for d, v in zip(_family.shape_domains, _vjps[1:]))
        _PLAN.append((getattr(getattr(stats, _family.name), _method),
                      f"{_family.name}.{_method}", _vjps, _jvps,
                      {"broadcasting": True,
                       "domains": (_family.counts, *_shapes, Counts(0, 0, shape=SCALE))}))

_MVN_DOMAINS = (Shaped(-1.5, 1.5, shape=(4, 3)), Shaped(-1.0, 1.0, shape=(3,)),
                SymmetricPositive(shape=(3, 3)))
for _method in ("logpdf", "pdf"):
    _vjps, _jvps = _multivariate("multivariate_normal", _method, MVN_SIGNATURE, MVN_PRELUDE,
                                 MVN_WEIGHTS, MVN)
    _PLAN.append((getattr(stats.multivariate_normal, _method),
                  f"multivariate_normal.{_method}", _vjps, _jvps, {"domains": _MVN_DOMAINS}))
    _vjps, _jvps = _multivariate("dirichlet", _method, DIRICHLET_SIGNATURE, DIRICHLET_PRELUDE,
                                 DIRICHLET_WEIGHTS, DIRICHLET)
    _PLAN.append((getattr(stats.dirichlet, _method), f"dirichlet.{_method}", _vjps, _jvps,
                  {"domains": (Simplex(shape=(2, 4)), Shaped(0.8, 3.0, shape=(3,)))}))

SOURCE = "\n".join(_LINES)
"""The VJP and JVP functions of every rule in this module, as rendered from the templates."""

_FILENAME = "<s2s: scipy.stats rules>"
linecache.cache[_FILENAME] = (len(SOURCE), None, SOURCE.splitlines(True), _FILENAME)
_NAMESPACE: dict = {"np": np, "special": special}
exec(compile(SOURCE, _FILENAME, "exec"), _NAMESPACE)  # noqa: S102 - templates of this module


def _resolve(names):
    return tuple(None if name is None else _NAMESPACE[name] for name in names)


for _primal, _name, _vjps, _jvps, _options in _PLAN:
    define(_primal, name=f"scipy.stats.{_name}", vjp=_resolve(_vjps), jvp=_resolve(_jvps),
           display=_name.title().replace(".", "").replace("_", ""), **_options)

RULE_COUNT = len(_PLAN)
"""How many rules this module defines (one per distribution method)."""
