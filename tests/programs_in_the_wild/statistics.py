"""Statistics as people write it: log-likelihoods, GLMs, Gaussian processes, mixtures,
Bayesian regression and variational objectives, in plain NumPy (no SciPy)."""
import math

import numpy as np

from . import Case

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_likelihood(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    n = len(data)
    return -0.5 * n * LOG_2PI - n * log_sigma - np.sum((data - mu) ** 2) / (2 * sigma ** 2)


def student_t_log_likelihood(loc, log_scale, data, dof=4.0):
    scale = np.exp(log_scale)
    z = (data - loc) / scale
    return np.sum(-0.5 * (dof + 1) * np.log1p(z ** 2 / dof)) - len(data) * log_scale


def rbf_kernel(x1, x2, lengthscale, variance):
    sq = (x1[:, None] - x2[None, :]) ** 2
    return variance * np.exp(-0.5 * sq / lengthscale ** 2)


def gp_negative_log_marginal_likelihood(log_params, x, y):
    """Hyperparameters unpacked from a log-parameter vector; np.eye for the noise."""
    lengthscale, variance, noise = np.exp(log_params)
    K = rbf_kernel(x, x, lengthscale, variance) + (noise + 1e-6) * np.eye(len(x))
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet + 0.5 * len(x) * LOG_2PI


def gp_cholesky_nll(lengthscale, variance, x, y, noise=0.1):
    K = rbf_kernel(x, x, lengthscale, variance) + noise * np.eye(x.shape[0])
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * np.dot(y, alpha) + np.sum(np.log(np.diag(L)))


def bayesian_linear_regression_evidence(log_alpha, log_beta, X, t):
    """The log evidence of Bishop's Bayesian linear regression (alpha prior, beta noise)."""
    alpha, beta = np.exp(log_alpha), np.exp(log_beta)
    N, M = X.shape
    A = alpha * np.eye(M) + beta * X.T @ X
    m = beta * np.linalg.solve(A, X.T @ t)
    error = beta / 2 * np.sum((t - X @ m) ** 2) + alpha / 2 * m @ m
    return (M / 2 * log_alpha + N / 2 * log_beta - error - 0.5 * np.log(np.linalg.det(A))
            - N / 2 * LOG_2PI)


def kernel_ridge_objective(coefficients, K, y, lam=0.1):
    residual = K @ coefficients - y
    return residual @ residual + lam * coefficients @ K @ coefficients


def gaussian_mixture_log_likelihood(means, log_stds, logits, data):
    """Log-sum-exp over components with keepdims, written out by hand."""
    log_weights = logits - np.log(np.sum(np.exp(logits)))
    stds = np.exp(log_stds)
    z = (data[:, None] - means[None, :]) / stds
    component = log_weights - log_stds - 0.5 * z ** 2 - 0.5 * LOG_2PI
    peak = np.max(component, axis=1, keepdims=True)
    return np.sum(peak[:, 0] + np.log(np.sum(np.exp(component - peak), axis=1)))


def mixture_from_dict(params, data):
    return gaussian_mixture_log_likelihood(params["means"], params["log_stds"],
                                           params["logits"], data)


def poisson_glm_nll(beta, X, counts):
    eta = X @ beta
    return np.sum(np.exp(eta) - counts * eta)


def softmax_regression_loss(W, b, X, labels):
    """Integer labels picked by fancy indexing."""
    scores = X @ W + b
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(labels)), labels])


def elbo_gaussian(mean, log_std, eps, data):
    """Reparameterised ELBO with fixed noise ``eps``: a Gaussian model of the data mean."""
    samples = mean + np.exp(log_std) * eps
    log_prior = -0.5 * samples ** 2
    log_lik = np.array([-0.5 * np.sum((data - s) ** 2) for s in samples])
    entropy = np.sum(log_std)
    return np.mean(log_prior + log_lik) + entropy


def black_box_vi_objective(variational_params, eps):
    """autograd's black-box VI style: a 2-d target density, params packed in one vector."""
    D = 2
    mean, log_std = variational_params[:D], variational_params[D:]
    samples = eps * np.exp(log_std) + mean
    mu, log_sigma = samples[:, 0], samples[:, 1]
    log_density = -0.5 * mu ** 2 / np.exp(log_sigma) ** 2 - log_sigma - 0.5 * log_sigma ** 2 / 1.35
    return -(np.mean(log_density) + np.sum(log_std))


def huber_loss(w, X, y, delta=1.0):
    r = X @ w - y
    return np.sum(np.where(np.abs(r) <= delta, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))


def weighted_least_squares(w, X, y, weights=None):
    residual = X @ w - y
    if weights is None:
        return np.sum(residual ** 2)
    return np.sum(weights * residual ** 2)


def ridge_with_checks(w, X, y, lam=0.5):
    assert X.shape[1] == w.shape[0], f"X has {X.shape[1]} columns, w has {w.shape[0]} rows"
    return np.sum((X @ w - y) ** 2) + lam * np.sum(w ** 2)


def ar2_log_likelihood(phi, series, sigma=0.5):
    total = 0.0
    for t in range(2, len(series)):
        prediction = phi[0] * series[t - 1] + phi[1] * series[t - 2]
        total += -0.5 * ((series[t] - prediction) / sigma) ** 2
    return total


def multivariate_normal_logpdf(x, mean, cov):
    d = len(mean)
    diff = x - mean
    return -0.5 * (diff @ np.linalg.inv(cov) @ diff + np.log(np.linalg.det(cov)) + d * LOG_2PI)


def _spd(rng, n):
    A = rng.normal(size=(n, n))
    return A @ A.T + n * np.eye(n)


CASES = [
    Case("gaussian_log_likelihood", gaussian_log_likelihood,
         lambda rng: (0.3, -0.2, rng.normal(size=8)), (0, 1)),
    Case("student_t_log_likelihood", student_t_log_likelihood,
         lambda rng: (0.1, 0.2, rng.normal(size=6)), (0, 1)),
    Case("gp_negative_log_marginal_likelihood", gp_negative_log_marginal_likelihood,
         lambda rng: (np.array([0.1, -0.3, -1.0]), np.linspace(-1.0, 1.0, 5), rng.normal(size=5))),
    Case("gp_cholesky_nll", gp_cholesky_nll,
         lambda rng: (0.8, 1.3, np.linspace(-1.0, 1.0, 4), rng.normal(size=4)), (0, 1)),
    Case("bayesian_linear_regression_evidence", bayesian_linear_regression_evidence,
         lambda rng: (0.2, 0.5, rng.normal(size=(6, 2)), rng.normal(size=6)), (0, 1)),
    Case("kernel_ridge_objective", kernel_ridge_objective,
         lambda rng: (rng.normal(size=4), _spd(rng, 4), rng.normal(size=4))),
    Case("gaussian_mixture_log_likelihood", gaussian_mixture_log_likelihood,
         lambda rng: (np.array([-1.0, 0.5, 2.0]), rng.normal(size=3) * 0.2, rng.normal(size=3),
                      rng.normal(size=7)), (0, 1, 2)),
    Case("mixture_from_dict", mixture_from_dict,
         lambda rng: ({"means": np.array([-1.0, 1.0]), "log_stds": np.array([0.1, -0.2]),
                       "logits": np.array([0.3, -0.4])}, rng.normal(size=6))),
    Case("poisson_glm_nll", poisson_glm_nll,
         lambda rng: (0.3 * rng.normal(size=3), rng.normal(size=(6, 3)),
                      rng.poisson(2.0, size=6).astype(float))),
    Case("softmax_regression_loss", softmax_regression_loss,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
                      rng.integers(0, 4, size=5)), (0, 1)),
    Case("elbo_gaussian", elbo_gaussian,
         lambda rng: (0.2, -0.5, rng.normal(size=4), rng.normal(size=5)), (0, 1)),
    Case("black_box_vi_objective", black_box_vi_objective,
         lambda rng: (np.array([0.1, -0.2, -0.5, -0.3]), rng.normal(size=(6, 2)))),
    Case("huber_loss", huber_loss,
         lambda rng: (rng.normal(size=2), rng.normal(size=(6, 2)), 2.0 * rng.normal(size=6))),
    Case("weighted_least_squares", weighted_least_squares,
         lambda rng: (rng.normal(size=2), rng.normal(size=(5, 2)), rng.normal(size=5))),
    Case("ridge_with_checks", ridge_with_checks,
         lambda rng: (rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=5))),
    Case("ar2_log_likelihood", ar2_log_likelihood,
         lambda rng: (np.array([0.5, -0.2]), rng.normal(size=7))),
    Case("multivariate_normal_logpdf", multivariate_normal_logpdf,
         lambda rng: (rng.normal(size=3), rng.normal(size=3), _spd(rng, 3)), (0, 1, 2)),
]
