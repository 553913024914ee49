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


GOLDEN = {
    "seed_mean": (seed_mean, 0),
    "seed_linear": (seed_linear, ("X", "W", "b")),
    "d2l_exercise": (d2l_exercise, 0),
    "reassigned": (reassigned, (0, 1)),
    "detached": (detached, 0),
}
