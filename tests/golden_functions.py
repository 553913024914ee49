"""Functions whose generated code is kept in tests/golden/ and reviewed as diffs."""
import numpy as np

import s2s


def seed_mean(x):
    y = x - 2
    z = y * y * 3
    return z.mean()


def seed_linear(X, W, b):
    z1 = X @ W
    z2 = z1 + b
    return z2.sum()


def d2l_exercise(x):
    return np.log(x ** 2) * np.sin(x) + 1 / x


def reassigned(x, y):
    z = x * y
    z = np.sin(z) * x
    z *= 3
    return z


def detached(x):
    y = x * x
    u = s2s.stop_gradient(y)
    return np.sum(u * x)


def d2l_control_flow(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def fill_in_a_loop(x):
    out = np.zeros(5)
    for i in range(5):
        out[i] = np.sin(x[i]) * x[(i + 2) % 5]
    return np.sum(out ** 2)


def product_with_branches(x):
    p = 1.0
    for i in range(len(x)):
        if x[i] > 0:
            p = p * (1 + x[i])
        else:
            p = p * np.cos(x[i])
    return p


GOLDEN = {
    "seed_mean": (seed_mean, 0),
    "seed_linear": (seed_linear, ("X", "W", "b")),
    "d2l_exercise": (d2l_exercise, 0),
    "reassigned": (reassigned, (0, 1)),
    "detached": (detached, 0),
    "d2l_control_flow": (d2l_control_flow, 0),
    "fill_in_a_loop": (fill_in_a_loop, 0),
    "product_with_branches": (product_with_branches, 0),
}
