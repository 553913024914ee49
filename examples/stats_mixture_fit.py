"""Fit a two-component Gaussian mixture by maximum likelihood with scipy.stats log-densities.

The negative log-likelihood is plain NumPy and SciPy: `scipy.stats.norm.logpdf` with
`loc=` and `scale=` for each component, mixed with `np.logaddexp`; the weight is a logistic
(`scipy.special.log_expit`) and the scales are exponentials, so the five parameters are
unconstrained.  s2s differentiates it ahead of time (fallback="error": generated code,
never the tape), and `scipy.optimize.minimize(..., jac=...)` uses that gradient.  A Student-t
variant of the same model freezes its distributions (`st.t(df, mu, s).logpdf(x)`) and also
fits the degrees of freedom.

    python examples/stats_mixture_fit.py
"""
import numpy as np
import scipy.stats as st
from scipy.optimize import minimize
from scipy.special import expit, log_expit

import s2s

rng = np.random.default_rng(0)
TRUTH = {"weight": 0.6, "mu1": -2.0, "mu2": 1.5, "sigma1": 0.7, "sigma2": 1.2}
data = np.where(rng.random(400) < TRUTH["weight"],
                rng.normal(TRUTH["mu1"], TRUTH["sigma1"], 400),
                rng.normal(TRUTH["mu2"], TRUTH["sigma2"], 400))


def negative_log_likelihood(theta, x):
    """theta = (logit of the weight, mu1, mu2, log sigma1, log sigma2)."""
    first = log_expit(theta[0]) + st.norm.logpdf(x, loc=theta[1], scale=np.exp(theta[3]))
    second = log_expit(-theta[0]) + st.norm.logpdf(x, loc=theta[2], scale=np.exp(theta[4]))
    return -np.sum(np.logaddexp(first, second))


def negative_log_likelihood_t(theta, x):
    """The same mixture with Student-t components sharing df = 1 + exp(theta[5])."""
    df = 1.0 + np.exp(theta[5])
    first = log_expit(theta[0]) + st.t(df, theta[1], np.exp(theta[3])).logpdf(x)
    second = log_expit(-theta[0]) + st.t(df, theta[2], np.exp(theta[4])).logpdf(x)
    return -np.sum(np.logaddexp(first, second))


def finite_differences(function, theta, x, step=1e-6):
    return np.array([(function(theta + step * e, x) - function(theta - step * e, x)) / (2 * step)
                     for e in np.eye(len(theta))])


def describe(theta):
    return (f"weight {expit(theta[0]):.3f}, mu1 {theta[1]:+.3f}, mu2 {theta[2]:+.3f}, "
            f"sigma1 {np.exp(theta[3]):.3f}, sigma2 {np.exp(theta[4]):.3f}")


nll = s2s.differentiate(negative_log_likelihood, fallback="error")
start = np.array([0.0, -1.0, 1.0, 0.0, 0.0])
print("--- the model:")
print("mode:", nll.mode)
error = np.max(np.abs(nll.grad(start, data) - finite_differences(negative_log_likelihood,
                                                                   start, data)))
print(f"gradient at the start vs finite differences: max abs error {error:.1e}")
print("--- the generated gradient:")
print(nll.source)

fit = minimize(negative_log_likelihood, start, args=(data,), jac=nll.grad, method="BFGS")
print("--- the fit:")
print("converged:", fit.success, "in", fit.nit, "iterations")
print(f"negative log-likelihood: {fit.fun:.4f}")
print("truth:   ", describe([np.log(TRUTH["weight"] / (1 - TRUTH["weight"])), TRUTH["mu1"],
                             TRUTH["mu2"], np.log(TRUTH["sigma1"]), np.log(TRUTH["sigma2"])]))
print("estimate:", describe(fit.x))
print(f"gradient norm at the optimum: {np.linalg.norm(nll.grad(fit.x, data)):.1e}")

# Standard errors from the Hessian of the negative log-likelihood (forward over reverse).
hessian = s2s.hessian(negative_log_likelihood)(fit.x, data)
errors = np.sqrt(np.diag(np.linalg.inv(hessian)))
print("standard errors (unconstrained):", np.array2string(errors, precision=3))

nll_t = s2s.differentiate(negative_log_likelihood_t, fallback="error")
start_t = np.concatenate([fit.x, [2.0]])
error_t = np.max(np.abs(nll_t.grad(start_t, data) - finite_differences(
    negative_log_likelihood_t, start_t, data)))
fit_t = minimize(negative_log_likelihood_t, start_t, args=(data,), jac=nll_t.grad,
                 method="BFGS")
print("--- the Student-t mixture:")
print("mode:", nll_t.mode)
print(f"gradient at the start vs finite differences: max abs error {error_t:.1e}")
print("converged:", fit_t.success)
print("estimate:", describe(fit_t.x), f"df {1 + np.exp(fit_t.x[5]):.1f}")
print(f"negative log-likelihood: {fit_t.fun:.4f} (normal mixture: {fit.fun:.4f})")
