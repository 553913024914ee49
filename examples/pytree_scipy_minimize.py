"""Train a small MLP whose parameters are a pytree, with scipy.optimize.minimize.

The parameters are a list of (W, b) pairs plus a dict of settings; s2s differentiates the
loss as generated code (fallback="error": never the tape), ravel_pytree turns the
parameters and their gradient into the flat vectors L-BFGS-B wants, and unravel turns the
optimizer's vector back into the tree.
"""
import numpy as np
from scipy.optimize import minimize

import s2s


def loss(params, x, y):
    h = x
    for W, b in params["layers"][:-1]:
        h = np.tanh(h @ W + b)
    W, b = params["layers"][-1]
    prediction = (h @ W + b) * params["scale"]
    return np.mean((prediction - y) ** 2)


rng = np.random.default_rng(0)
x = np.linspace(-2.0, 2.0, 40)[:, None]
y = np.sin(2.0 * x)
params = {"layers": [(0.5 * rng.normal(size=(1, 8)), np.zeros(8)),
                     (0.5 * rng.normal(size=(8, 1)), np.zeros(1))],
          "scale": 1.0,
          "name": "mlp"}                   # a string leaf: passed through, no gradient

f = s2s.differentiate(loss, fallback="error")
flat, unravel = s2s.ravel_pytree(params)


def objective(vector):
    value, gradient = s2s.value_and_grad(f)(unravel(vector), x, y)
    return float(value), s2s.ravel_pytree(gradient)[0]


print(f"mode: {f.mode}")
print(f"parameters: {flat.size}")
print(f"loss before: {objective(flat)[0]:.6f}")
result = minimize(objective, flat, jac=True, method="L-BFGS-B", options={"maxiter": 200})
trained = unravel(result.x)
print(f"loss after: {float(loss(trained, x, y)):.6f}")
print(f"name kept: {trained['name']}")
