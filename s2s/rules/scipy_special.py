"""Rules for ``scipy.special``: logistic and log-sum-exp, gamma and beta, error functions,
the normal distribution's functions, entropies, exponential integrals, Bessel functions.
Imported only when SciPy is installed.  ``psi`` is ``digamma`` and ``jn`` is ``jv`` (the
same objects, so the same rules).

Rule bodies call SciPy's functions as ``special.<name>``: the module is published in
:mod:`s2s.runtime` as ``special``, so inlining accepts the name and generated code imports
it (``from scipy import special``).  Every VJP is written in operations that have rules
themselves (``special.digamma`` for ``gammaln``, ``special.iv`` for ``iv``...), so
gradient code can be differentiated again (``s2s.hessian``, ``s2s.hvp``).

Arguments that are not differentiated: the integer orders ``n`` of ``polygamma``, ``expn``
and ``yn`` and ``d`` of ``multigammaln`` (a zero derivative), and the real orders and
shapes marked :class:`~s2s.rules.domains.NotDifferentiated`, where a differentiated value
is refused: ``v`` of ``iv``, ``ive``, ``jv``, ``yv``, ``kv``, ``kve``; ``a`` of
``gammainc``/``gammaincc``; ``a, b`` of ``betainc`` and ``hyp1f1``; ``x`` of ``zeta``.
``logsumexp``'s ``b`` is a parameter: a differentiated ``b`` is refused like any parameter.
Multi-output functions (``fresnel``, ``logsumexp(..., return_sign=True)``) follow the
convention of :mod:`s2s.rules.linalg`.  Constants are Python floats (not
``np.sqrt(np.pi)``), so float32 inputs give float32 derivatives.
"""
import numpy as np
from scipy import special

from .. import runtime
from ..runtime import zeros_for_none
from .domains import NotDifferentiated
from .registry import POSITIVE, REAL, UNIT, Domain, define, define_nondifferentiable

runtime.special = special       # rule bodies read special.<f>; s2s.emit imports it from SciPy

OPEN_UNIT = Domain(0.1, 0.9)
ORDER = NotDifferentiated(0.5, 2.5)
INTEGER = Domain(0.0, 3.0, integer=True)
AXES = ({}, {"axis": 0}, {"axis": 1}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)})


def _define(primal, vjp, jvp, sympy=None, domains=REAL, name=None, **options):
    name = name or primal.__name__
    return define(primal, name=f"scipy.special.{name}", vjp=vjp, jvp=jvp, sympy=sympy,
                  domains=domains, display=name.title().replace("_", ""),
                  **{"elementwise": isinstance(primal, np.ufunc), **options})


# --- logistic, softmax, log-sum-exp -----------------------------------------------------


def expit_vjp(g, ans, x):
    return g * (ans * (1 - ans))


def expit_jvp(t, ans, x):
    return t * (ans * (1 - ans))


_define(special.expit, expit_vjp, expit_jvp, sympy=lambda sp, x: 1 / (1 + sp.exp(-x)))


def log_expit_vjp(g, ans, x):
    return g * special.expit(-x)


def log_expit_jvp(t, ans, x):
    return t * special.expit(-x)


_define(special.log_expit, log_expit_vjp, log_expit_jvp,
        sympy=lambda sp, x: -sp.log(1 + sp.exp(-x)))


def logit_vjp(g, ans, x):
    return g / (x * (1 - x))


def logit_jvp(t, ans, x):
    return t / (x * (1 - x))


_define(special.logit, logit_vjp, logit_jvp, domains=OPEN_UNIT,
        sympy=lambda sp, x: sp.log(x / (1 - x)))


def softmax_vjp(g, ans, x, axis=None):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


def softmax_jvp(t, ans, x, axis=None):
    return ans * (t - np.sum(t * ans, axis=axis, keepdims=True))


_define(special.softmax, softmax_vjp, softmax_jvp, examples=AXES[:3] + ({"axis": (0, 1)},))


def log_softmax_vjp(g, ans, x, axis=None):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


def log_softmax_jvp(t, ans, x, axis=None):
    return t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)


_define(special.log_softmax, log_softmax_vjp, log_softmax_jvp,
        examples=AXES[:3] + ({"axis": (0, 1)},))


def logsumexp_vjp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    # b exp(a - ans), times the sign: the softmax of a weighted by b.  With return_sign,
    # ans and g are (value, sign) pairs; the sign is piecewise constant (no cotangent).
    if return_sign:
        value = ans[0]
        cotangent = zeros_for_none(g, ans)[0] * ans[1]
    else:
        value = ans
        cotangent = g
    if axis is not None and not keepdims:
        value = np.expand_dims(value, axis)
        cotangent = np.expand_dims(cotangent, axis)
    if b is None:
        return cotangent * np.exp(a - value)
    return cotangent * (b * np.exp(a - value))


def logsumexp_jvp(t, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    # (tangent of the value, zeros for the sign) with return_sign.
    if return_sign:
        value = ans[0]
    else:
        value = ans
    if axis is not None and not keepdims:
        value = np.expand_dims(value, axis)
    if b is None:
        tangent = np.sum(np.exp(a - value) * t, axis=axis, keepdims=keepdims)
    else:
        tangent = np.sum(b * np.exp(a - value) * t, axis=axis, keepdims=keepdims)
    if return_sign:
        return (tangent * ans[1], np.zeros_like(ans[1]))
    return tangent


WEIGHTS = np.array([0.5, -1.0, 2.0, 1.5])
_define(special.logsumexp, logsumexp_vjp, logsumexp_jvp,
        examples=AXES + ({"axis": 1, "b": WEIGHTS}, {"b": np.abs(WEIGHTS), "keepdims": True},
                         {"axis": 1, "b": WEIGHTS, "return_sign": True},
                         {"return_sign": True}))


# --- gamma and beta ------------------------------------------------------------------------


def gammaln_vjp(g, ans, x):
    return g * special.digamma(x)


def gammaln_jvp(t, ans, x):
    return t * special.digamma(x)


_define(special.gammaln, gammaln_vjp, gammaln_jvp, domains=POSITIVE,
        sympy=lambda sp, x: sp.loggamma(x))


def gamma_vjp(g, ans, x):
    return g * (ans * special.digamma(x))


def gamma_jvp(t, ans, x):
    return t * (ans * special.digamma(x))


_define(special.gamma, gamma_vjp, gamma_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.gamma(x))


def factorial_vjp(g, ans, n, exact=False, extend="zero"):
    # gamma(n + 1) (and 0 for n < 0 with extend="zero": the derivative is 0 there too).
    return g * (ans * special.digamma(n + 1))


def factorial_jvp(t, ans, n, exact=False, extend="zero"):
    return t * (ans * special.digamma(n + 1))


_define(special.factorial, factorial_vjp, factorial_jvp, domains=POSITIVE, elementwise=True,
        sympy=lambda sp, n: sp.gamma(n + 1))


def rgamma_vjp(g, ans, x):
    return g * (-ans * special.digamma(x))


def rgamma_jvp(t, ans, x):
    return t * (-ans * special.digamma(x))


_define(special.rgamma, rgamma_vjp, rgamma_jvp, domains=POSITIVE,
        sympy=lambda sp, x: 1 / sp.gamma(x))


def digamma_vjp(g, ans, x):
    # The trigamma function polygamma(1, x) as the Hurwitz zeta(2, x), which keeps float32.
    return g * special.zeta(2, x)


def digamma_jvp(t, ans, x):
    return t * special.zeta(2, x)


_define(special.digamma, digamma_vjp, digamma_jvp, domains=POSITIVE, name="digamma",  # = psi
        sympy=lambda sp, x: sp.digamma(x))


def polygamma_vjp_x(g, ans, n, x):
    return g * special.polygamma(n + 1, x)


def polygamma_jvp_x(t, ans, n, x):
    return t * special.polygamma(n + 1, x)


_define(special.polygamma, (None, polygamma_vjp_x), (None, polygamma_jvp_x),
        broadcasting=True, domains=(INTEGER, POSITIVE),
        examples=({"n": 0}, {"n": 1}, {"n": 3}, {"n": np.array([0, 1, 2, 1])}))


def multigammaln_vjp(g, ans, a, d):
    # The sum over j < d of digamma(a - j / 2).
    return g * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2), axis=-1)


def multigammaln_jvp(t, ans, a, d):
    return t * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2), axis=-1)


_define(special.multigammaln, multigammaln_vjp, multigammaln_jvp, domains=Domain(1.6, 4.0),
        examples=({"d": 1}, {"d": 3}))


def betaln_vjp_a(g, ans, a, b):
    return g * (special.digamma(a) - special.digamma(a + b))


def betaln_vjp_b(g, ans, a, b):
    return g * (special.digamma(b) - special.digamma(a + b))


def betaln_jvp_a(t, ans, a, b):
    return t * (special.digamma(a) - special.digamma(a + b))


def betaln_jvp_b(t, ans, a, b):
    return t * (special.digamma(b) - special.digamma(a + b))


_define(special.betaln, (betaln_vjp_a, betaln_vjp_b), (betaln_jvp_a, betaln_jvp_b),
        broadcasting=True, domains=POSITIVE,
        sympy=lambda sp, a, b: sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b))


def beta_vjp_a(g, ans, a, b):
    return g * (ans * (special.digamma(a) - special.digamma(a + b)))


def beta_vjp_b(g, ans, a, b):
    return g * (ans * (special.digamma(b) - special.digamma(a + b)))


def beta_jvp_a(t, ans, a, b):
    return t * (ans * (special.digamma(a) - special.digamma(a + b)))


def beta_jvp_b(t, ans, a, b):
    return t * (ans * (special.digamma(b) - special.digamma(a + b)))


_define(special.beta, (beta_vjp_a, beta_vjp_b), (beta_jvp_a, beta_jvp_b), broadcasting=True,
        domains=POSITIVE, sympy=lambda sp, a, b: sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b))


def poch_vjp_z(g, ans, z, m):
    return g * (ans * (special.digamma(z + m) - special.digamma(z)))


def poch_vjp_m(g, ans, z, m):
    return g * (ans * special.digamma(z + m))


def poch_jvp_z(t, ans, z, m):
    return t * (ans * (special.digamma(z + m) - special.digamma(z)))


def poch_jvp_m(t, ans, z, m):
    return t * (ans * special.digamma(z + m))


_define(special.poch, (poch_vjp_z, poch_vjp_m), (poch_jvp_z, poch_jvp_m), broadcasting=True,
        domains=POSITIVE, sympy=lambda sp, z, m: sp.gamma(z + m) / sp.gamma(z))


def gammainc_vjp_x(g, ans, a, x):
    # The order a is not differentiated: x**(a - 1) exp(-x) / gamma(a).
    return g * np.exp((a - 1) * np.log(x) - x - special.gammaln(a))


def gammainc_jvp_x(t, ans, a, x):
    return t * np.exp((a - 1) * np.log(x) - x - special.gammaln(a))


_define(special.gammainc, (None, gammainc_vjp_x), (None, gammainc_jvp_x), broadcasting=True,
        domains=(NotDifferentiated(0.5, 3.0), POSITIVE),
        examples=({"a": 0.7}, {"a": np.array([0.5, 1.0, 2.5, 4.0])}))


def gammaincc_vjp_x(g, ans, a, x):
    # The order a is not differentiated.
    return -g * np.exp((a - 1) * np.log(x) - x - special.gammaln(a))


def gammaincc_jvp_x(t, ans, a, x):
    return -t * np.exp((a - 1) * np.log(x) - x - special.gammaln(a))


_define(special.gammaincc, (None, gammaincc_vjp_x), (None, gammaincc_jvp_x),
        broadcasting=True, domains=(NotDifferentiated(0.5, 3.0), POSITIVE),
        examples=({"a": 1.5}, {"a": np.array([0.5, 1.0, 2.5, 4.0])}))


def betainc_vjp_x(g, ans, a, b, x):
    # x**(a - 1) (1 - x)**(b - 1) / beta(a, b).  The shapes a and b are not differentiated.
    # They enter betaln in x's dtype: its first loop is float64, even for Python floats.
    zero = np.zeros_like(x)
    return g * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
                      - special.betaln(zero + a, zero + b))


def betainc_jvp_x(t, ans, a, b, x):
    zero = np.zeros_like(x)
    return t * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
                      - special.betaln(zero + a, zero + b))


_define(special.betainc, (None, None, betainc_vjp_x), (None, None, betainc_jvp_x),
        broadcasting=True, domains=(NotDifferentiated(0.5, 3.0), NotDifferentiated(0.5, 3.0),
                                    OPEN_UNIT),
        examples=({"a": 0.7, "b": 2.5}, {"a": np.array([0.5, 1.0, 2.5, 4.0]), "b": 1.5}))

define_nondifferentiable(special.gammasgn)          # the sign of gamma: piecewise constant


# --- error functions and the normal distribution -----------------------------------------


def erf_vjp(g, ans, x):
    return g * (1.1283791670955126 * np.exp(-x * x))                # 2 / sqrt(pi)


def erf_jvp(t, ans, x):
    return t * (1.1283791670955126 * np.exp(-x * x))


_define(special.erf, erf_vjp, erf_jvp, sympy=lambda sp, x: sp.erf(x))


def erfc_vjp(g, ans, x):
    return g * (-1.1283791670955126 * np.exp(-x * x))


def erfc_jvp(t, ans, x):
    return t * (-1.1283791670955126 * np.exp(-x * x))


_define(special.erfc, erfc_vjp, erfc_jvp, sympy=lambda sp, x: sp.erfc(x))


def erfcx_vjp(g, ans, x):
    # erfcx = exp(x**2) erfc(x): 2 x erfcx(x) - 2 / sqrt(pi).
    return g * (2 * x * ans - 1.1283791670955126)


def erfcx_jvp(t, ans, x):
    return t * (2 * x * ans - 1.1283791670955126)


_define(special.erfcx, erfcx_vjp, erfcx_jvp, sympy=lambda sp, x: sp.exp(x ** 2) * sp.erfc(x))


def erfinv_vjp(g, ans, x):
    return g * (0.8862269254527579 * np.exp(ans * ans))             # sqrt(pi) / 2


def erfinv_jvp(t, ans, x):
    return t * (0.8862269254527579 * np.exp(ans * ans))


_define(special.erfinv, erfinv_vjp, erfinv_jvp, domains=UNIT, sympy=lambda sp, x: sp.erfinv(x))


def erfcinv_vjp(g, ans, x):
    return g * (-0.8862269254527579 * np.exp(ans * ans))


def erfcinv_jvp(t, ans, x):
    return t * (-0.8862269254527579 * np.exp(ans * ans))


_define(special.erfcinv, erfcinv_vjp, erfcinv_jvp, domains=Domain(0.1, 1.9),
        sympy=lambda sp, x: sp.erfinv(1 - x))       # sympy does not evaluate erfcinv


def ndtr_vjp(g, ans, x):
    return g * (0.3989422804014327 * np.exp(-0.5 * x * x))          # 1 / sqrt(2 pi)


def ndtr_jvp(t, ans, x):
    return t * (0.3989422804014327 * np.exp(-0.5 * x * x))


_define(special.ndtr, ndtr_vjp, ndtr_jvp, sympy=lambda sp, x: (1 + sp.erf(x / sp.sqrt(2))) / 2)


def ndtri_vjp(g, ans, x):
    return g * (2.5066282746310002 * np.exp(0.5 * ans * ans))       # sqrt(2 pi)


def ndtri_jvp(t, ans, x):
    return t * (2.5066282746310002 * np.exp(0.5 * ans * ans))


_define(special.ndtri, ndtri_vjp, ndtri_jvp, domains=Domain(0.05, 0.95),
        sympy=lambda sp, x: sp.sqrt(2) * sp.erfinv(2 * x - 1))


def log_ndtr_vjp(g, ans, x):
    # The normal density over ndtr(x), computed as exp(-x**2 / 2 - ans) / sqrt(2 pi).
    return g * (0.3989422804014327 * np.exp(-0.5 * x * x - ans))


def log_ndtr_jvp(t, ans, x):
    return t * (0.3989422804014327 * np.exp(-0.5 * x * x - ans))


_define(special.log_ndtr, log_ndtr_vjp, log_ndtr_jvp, domains=Domain(-6.0, 4.0),
        sympy=lambda sp, x: sp.log((1 + sp.erf(x / sp.sqrt(2))) / 2))


# --- logarithms and entropies ------------------------------------------------------------


def xlogy_vjp_x(g, ans, x, y):
    return g * np.log(y)


def xlogy_vjp_y(g, ans, x, y):
    # x / y, and 0 where x == 0 (xlogy(0, y) is 0 for every y).
    return g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y))


def xlogy_jvp_x(t, ans, x, y):
    return t * np.log(y)


def xlogy_jvp_y(t, ans, x, y):
    return t * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y))


_define(special.xlogy, (xlogy_vjp_x, xlogy_vjp_y), (xlogy_jvp_x, xlogy_jvp_y),
        broadcasting=True, domains=(REAL, POSITIVE), sympy=lambda sp, x, y: x * sp.log(y))


def xlog1py_vjp_x(g, ans, x, y):
    return g * np.log1p(y)


def xlog1py_vjp_y(g, ans, x, y):
    # x / (1 + y), and 0 where x == 0.
    return g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, 1 + y))


def xlog1py_jvp_x(t, ans, x, y):
    return t * np.log1p(y)


def xlog1py_jvp_y(t, ans, x, y):
    return t * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, 1 + y))


_define(special.xlog1py, (xlog1py_vjp_x, xlog1py_vjp_y), (xlog1py_jvp_x, xlog1py_jvp_y),
        broadcasting=True, domains=(REAL, Domain(-0.5, 2.0)),
        sympy=lambda sp, x, y: x * sp.log(1 + y))


def entr_vjp(g, ans, x):
    return g * (-np.log(x) - 1)


def entr_jvp(t, ans, x):
    return t * (-np.log(x) - 1)


_define(special.entr, entr_vjp, entr_jvp, domains=POSITIVE, sympy=lambda sp, x: -x * sp.log(x))


def rel_entr_vjp_x(g, ans, x, y):
    return g * (np.log(x / y) + 1)


def rel_entr_vjp_y(g, ans, x, y):
    return g * (-x / y)


def rel_entr_jvp_x(t, ans, x, y):
    return t * (np.log(x / y) + 1)


def rel_entr_jvp_y(t, ans, x, y):
    return t * (-x / y)


_define(special.rel_entr, (rel_entr_vjp_x, rel_entr_vjp_y), (rel_entr_jvp_x, rel_entr_jvp_y),
        broadcasting=True, domains=POSITIVE, sympy=lambda sp, x, y: x * sp.log(x / y))


def kl_div_vjp_x(g, ans, x, y):
    return g * np.log(x / y)


def kl_div_vjp_y(g, ans, x, y):
    return g * (1 - x / y)


def kl_div_jvp_x(t, ans, x, y):
    return t * np.log(x / y)


def kl_div_jvp_y(t, ans, x, y):
    return t * (1 - x / y)


_define(special.kl_div, (kl_div_vjp_x, kl_div_vjp_y), (kl_div_jvp_x, kl_div_jvp_y),
        broadcasting=True, domains=POSITIVE, sympy=lambda sp, x, y: x * sp.log(x / y) - x + y)


def expm1_vjp(g, ans, x):
    return g * (ans + 1)


def expm1_jvp(t, ans, x):
    return t * (ans + 1)


_define(special.expm1, expm1_vjp, expm1_jvp, sympy=lambda sp, x: sp.exp(x) - 1)


def log1p_vjp(g, ans, x):
    return g / (1 + x)


def log1p_jvp(t, ans, x):
    return t / (1 + x)


_define(special.log1p, log1p_vjp, log1p_jvp, domains=Domain(-0.5, 2.0),
        sympy=lambda sp, x: sp.log(1 + x))


def exp2_vjp(g, ans, x):
    return g * (ans * 0.6931471805599453)                           # log(2)


def exp2_jvp(t, ans, x):
    return t * (ans * 0.6931471805599453)


_define(special.exp2, exp2_vjp, exp2_jvp, sympy=lambda sp, x: 2 ** x)


def exp10_vjp(g, ans, x):
    return g * (ans * 2.302585092994046)                            # log(10)


def exp10_jvp(t, ans, x):
    return t * (ans * 2.302585092994046)


_define(special.exp10, exp10_vjp, exp10_jvp, sympy=lambda sp, x: 10 ** x)


# --- exponential integrals, Dawson, Spence, Hurwitz zeta, hypergeometric -----------------


def expn_vjp_x(g, ans, n, x):
    # -E_{n-1}(x) for the integer n >= 1; E_0(x) = exp(-x) / x gives -E_0(x) (1 + 1 / x).
    return g * np.where(n == 0, -ans * (1 + 1 / x), -special.expn(np.maximum(n - 1, 0), x))


def expn_jvp_x(t, ans, n, x):
    return t * np.where(n == 0, -ans * (1 + 1 / x), -special.expn(np.maximum(n - 1, 0), x))


_define(special.expn, (None, expn_vjp_x), (None, expn_jvp_x), broadcasting=True,
        domains=(INTEGER, POSITIVE), examples=({"n": 1}, {"n": 0}, {"n": np.array([0, 1, 2, 3])}))


def fresnel_vjp(g, ans, x):
    # fresnel(x) = (S(x), C(x)): S' = sin(pi x**2 / 2), C' = cos(pi x**2 / 2).
    return zeros_for_none(g, ans)[0] * np.sin(1.5707963267948966 * x * x) \
        + zeros_for_none(g, ans)[1] * np.cos(1.5707963267948966 * x * x)     # pi / 2


def fresnel_jvp(t, ans, x):
    return (t * np.sin(1.5707963267948966 * x * x), t * np.cos(1.5707963267948966 * x * x))


_define(special.fresnel, fresnel_vjp, fresnel_jvp)


def expi_vjp(g, ans, x):
    return g * (np.exp(x) / x)


def expi_jvp(t, ans, x):
    return t * (np.exp(x) / x)


_define(special.expi, expi_vjp, expi_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.Ei(x))


def exp1_vjp(g, ans, x):
    return g * (-np.exp(-x) / x)


def exp1_jvp(t, ans, x):
    return t * (-np.exp(-x) / x)


_define(special.exp1, exp1_vjp, exp1_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.E1(x))


def dawsn_vjp(g, ans, x):
    return g * (1 - 2 * x * ans)


def dawsn_jvp(t, ans, x):
    return t * (1 - 2 * x * ans)


_define(special.dawsn, dawsn_vjp, dawsn_jvp)


def spence_vjp(g, ans, z):
    # log(z) / (1 - z), and its limit -1 at z == 1.
    return g * np.where(z == 1, -1.0, np.log(z) / np.where(z == 1, 0.5, 1 - z))


def spence_jvp(t, ans, z):
    return t * np.where(z == 1, -1.0, np.log(z) / np.where(z == 1, 0.5, 1 - z))


_define(special.spence, spence_vjp, spence_jvp, domains=POSITIVE,
        sympy=lambda sp, z: sp.polylog(2, 1 - z))


def zeta_vjp_q(g, ans, x, q=None):
    # Hurwitz zeta(x, q): -x zeta(x + 1, q).  The exponent x is not differentiated.
    return g * (-x * special.zeta(x + 1, q))


def zeta_jvp_q(t, ans, x, q=None):
    return t * (-x * special.zeta(x + 1, q))


_define(special.zeta, (None, zeta_vjp_q), (None, zeta_jvp_q), broadcasting=True,
        domains=(NotDifferentiated(1.5, 4.0), POSITIVE),
        examples=({"x": 2.5}, {"x": np.array([1.5, 2.0, 3.0, 4.0])}),
        sympy=lambda sp, x, q: sp.zeta(x, q))


def hyp1f1_vjp_x(g, ans, a, b, x):
    # a / b 1F1(a + 1; b + 1; x).  The parameters a and b are not differentiated.
    return g * (a / b * special.hyp1f1(a + 1, b + 1, x))


def hyp1f1_jvp_x(t, ans, a, b, x):
    return t * (a / b * special.hyp1f1(a + 1, b + 1, x))


_define(special.hyp1f1, (None, None, hyp1f1_vjp_x), (None, None, hyp1f1_jvp_x),
        broadcasting=True, domains=(NotDifferentiated(0.5, 2.0), NotDifferentiated(0.5, 2.0),
                                    REAL),
        examples=({"a": 0.5, "b": 1.5}, {"a": np.array([0.5, 1.0, 2.0, 1.5]), "b": 2.5}),
        sympy=lambda sp, a, b, x: sp.hyper([a], [b], x))


# --- Bessel functions ----------------------------------------------------------------------
# d/dx J_v = (J_{v-1} - J_{v+1}) / 2, d/dx Y_v likewise, d/dx I_v = (I_{v-1} + I_{v+1}) / 2,
# d/dx K_v = -(K_{v-1} + K_{v+1}) / 2; the scaled ive = iv exp(-|x|) adds -sign(x) ive and
# kve = kv exp(x) adds kve.  The order v is not differentiated (NotDifferentiated).


def i0_vjp(g, ans, x):
    return g * special.i1(x)


def i0_jvp(t, ans, x):
    return t * special.i1(x)


_define(special.i0, i0_vjp, i0_jvp, sympy=lambda sp, x: sp.besseli(0, x))


def i1_vjp(g, ans, x):
    return g * (0.5 * (special.i0(x) + special.iv(2, x)))


def i1_jvp(t, ans, x):
    return t * (0.5 * (special.i0(x) + special.iv(2, x)))


_define(special.i1, i1_vjp, i1_jvp, sympy=lambda sp, x: sp.besseli(1, x))


def i0e_vjp(g, ans, x):
    return g * (special.i1e(x) - np.sign(x) * ans)


def i0e_jvp(t, ans, x):
    return t * (special.i1e(x) - np.sign(x) * ans)


_define(special.i0e, i0e_vjp, i0e_jvp, sympy=lambda sp, x: sp.besseli(0, x) * sp.exp(-abs(x)))


def i1e_vjp(g, ans, x):
    return g * (0.5 * (special.i0e(x) + special.ive(2, x)) - np.sign(x) * ans)


def i1e_jvp(t, ans, x):
    return t * (0.5 * (special.i0e(x) + special.ive(2, x)) - np.sign(x) * ans)


_define(special.i1e, i1e_vjp, i1e_jvp, sympy=lambda sp, x: sp.besseli(1, x) * sp.exp(-abs(x)))


def iv_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x)))


def iv_jvp_x(t, ans, v, x):
    return t * (0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x)))


BESSEL_ORDERS = ({"v": 1.5}, {"v": 0}, {"v": np.array([0.5, 1.0, 2.0, 3.5])})
_define(special.iv, (None, iv_vjp_x), (None, iv_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.besseli(v, x))


def ive_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x)) - np.sign(x) * ans)


def ive_jvp_x(t, ans, v, x):
    return t * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x)) - np.sign(x) * ans)


_define(special.ive, (None, ive_vjp_x), (None, ive_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.besseli(v, x) * sp.exp(-x))


def jv_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x)))


def jv_jvp_x(t, ans, v, x):
    return t * (0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x)))


_define(special.jv, (None, jv_vjp_x), (None, jv_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.besselj(v, x))


def yv_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x)))


def yv_jvp_x(t, ans, v, x):
    return t * (0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x)))


_define(special.yv, (None, yv_vjp_x), (None, yv_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.bessely(v, x))


def kv_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (-0.5 * (special.kv(v - 1, x) + special.kv(v + 1, x)))


def kv_jvp_x(t, ans, v, x):
    return t * (-0.5 * (special.kv(v - 1, x) + special.kv(v + 1, x)))


_define(special.kv, (None, kv_vjp_x), (None, kv_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.besselk(v, x))


def kve_vjp_x(g, ans, v, x):
    # The order v is not differentiated.
    return g * (ans - 0.5 * (special.kve(v - 1, x) + special.kve(v + 1, x)))


def kve_jvp_x(t, ans, v, x):
    return t * (ans - 0.5 * (special.kve(v - 1, x) + special.kve(v + 1, x)))


_define(special.kve, (None, kve_vjp_x), (None, kve_jvp_x), broadcasting=True,
        domains=(ORDER, POSITIVE), examples=BESSEL_ORDERS,
        sympy=lambda sp, v, x: sp.besselk(v, x) * sp.exp(x))


def j0_vjp(g, ans, x):
    return g * -special.j1(x)


def j0_jvp(t, ans, x):
    return t * -special.j1(x)


_define(special.j0, j0_vjp, j0_jvp, sympy=lambda sp, x: sp.besselj(0, x))


def j1_vjp(g, ans, x):
    return g * (0.5 * (special.j0(x) - special.jv(2, x)))


def j1_jvp(t, ans, x):
    return t * (0.5 * (special.j0(x) - special.jv(2, x)))


_define(special.j1, j1_vjp, j1_jvp, sympy=lambda sp, x: sp.besselj(1, x))


def y0_vjp(g, ans, x):
    return g * -special.y1(x)


def y0_jvp(t, ans, x):
    return t * -special.y1(x)


_define(special.y0, y0_vjp, y0_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.bessely(0, x))


def y1_vjp(g, ans, x):
    return g * (0.5 * (special.y0(x) - special.yv(2, x)))


def y1_jvp(t, ans, x):
    return t * (0.5 * (special.y0(x) - special.yv(2, x)))


_define(special.y1, y1_vjp, y1_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.bessely(1, x))


def yn_vjp_x(g, ans, n, x):
    # The integer order n is not differentiated.
    return g * (0.5 * (special.yn(n - 1, x) - special.yn(n + 1, x)))


def yn_jvp_x(t, ans, n, x):
    return t * (0.5 * (special.yn(n - 1, x) - special.yn(n + 1, x)))


_define(special.yn, (None, yn_vjp_x), (None, yn_jvp_x), broadcasting=True,
        domains=(INTEGER, POSITIVE), examples=({"n": 2}, {"n": np.array([0, 1, 2, 3])}))


def k0_vjp(g, ans, x):
    return g * -special.k1(x)


def k0_jvp(t, ans, x):
    return t * -special.k1(x)


_define(special.k0, k0_vjp, k0_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.besselk(0, x))


def k1_vjp(g, ans, x):
    return g * (-0.5 * (special.k0(x) + special.kv(2, x)))


def k1_jvp(t, ans, x):
    return t * (-0.5 * (special.k0(x) + special.kv(2, x)))


_define(special.k1, k1_vjp, k1_jvp, domains=POSITIVE, sympy=lambda sp, x: sp.besselk(1, x))


def k0e_vjp(g, ans, x):
    return g * (ans - special.k1e(x))


def k0e_jvp(t, ans, x):
    return t * (ans - special.k1e(x))


_define(special.k0e, k0e_vjp, k0e_jvp, domains=POSITIVE,
        sympy=lambda sp, x: sp.besselk(0, x) * sp.exp(x))


def k1e_vjp(g, ans, x):
    return g * (ans - 0.5 * (special.k0e(x) + special.kve(2, x)))


def k1e_jvp(t, ans, x):
    return t * (ans - 0.5 * (special.k0e(x) + special.kve(2, x)))


_define(special.k1e, k1e_vjp, k1e_jvp, domains=POSITIVE,
        sympy=lambda sp, x: sp.besselk(1, x) * sp.exp(x))
