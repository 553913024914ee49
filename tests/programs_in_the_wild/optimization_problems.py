"""Test problems of optimisation (the kind scipy.optimize's tests and benchmark suites use),
each written in one of the ways people write them: vectorised slices, index loops, tuple
unpacking, comprehensions, defaults."""
import math

import numpy as np

from . import Case


def rosen(x):
    """Rosenbrock, vectorised with slices."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)


def rosen_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return total


def rosen_comprehension(x, n=4):
    return sum([100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1)])


def beale(p):
    x, y = p
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def booth(v):
    return (v[0] + 2 * v[1] - 7) ** 2 + (2 * v[0] + v[1] - 5) ** 2


def rastrigin(x, A=10):
    return A * len(x) + np.sum(x ** 2 - A * np.cos(2 * np.pi * x))


def ackley(x, a=20.0, b=0.2, c=2 * math.pi):
    d = x.size
    return (-a * np.exp(-b * np.sqrt(np.sum(x ** 2) / d))
            - np.exp(np.sum(np.cos(c * x)) / d) + a + math.e)


def sphere(x):
    assert len(x) >= 2, f"sphere needs at least two coordinates, got {len(x)}"
    return np.dot(x, x)


def styblinski_tang(x):
    return 0.5 * np.sum(x ** 4 - 16 * x ** 2 + 5 * x)


def three_hump_camel(x, y):
    return 2 * x ** 2 - 1.05 * x ** 4 + x ** 6 / 6 + x * y + y ** 2


def goldstein_price(xy):
    x, y = xy[0], xy[1]
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2)
    return a * b


def zakharov(x):
    i = np.arange(1, len(x) + 1)
    s = np.sum(0.5 * i * x)
    return np.sum(x ** 2) + s ** 2 + s ** 4


def trid(x):
    return np.sum((x - 1) ** 2) - np.sum(x[1:] * x[:-1])


def quadratic_form(x, A, b):
    """0.5 x^T A x - b^T x, the conjugate-gradient test problem."""
    return 0.5 * x @ A @ x - b @ x


def powell_singular(x):
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    return ((x1 + 10 * x2) ** 2 + 5 * (x3 - x4) ** 2 + (x2 - 2 * x3) ** 4
            + 10 * (x1 - x4) ** 4)


CASES = [
    Case("rosen", rosen, lambda rng: (rng.uniform(-1.5, 1.5, size=4),)),
    Case("rosen_loop", rosen_loop, lambda rng: (rng.uniform(-1.5, 1.5, size=4),)),
    Case("rosen_comprehension", rosen_comprehension, lambda rng: (rng.uniform(-1.5, 1.5, size=4),)),
    Case("beale", beale, lambda rng: (np.array([1.2, 0.3]),)),
    Case("himmelblau", himmelblau, lambda rng: (1.3, -0.4), (0, 1)),
    Case("booth", booth, lambda rng: (rng.normal(size=2),)),
    Case("rastrigin", rastrigin, lambda rng: (rng.uniform(-1, 1, size=3),)),
    Case("ackley", ackley, lambda rng: (rng.uniform(-1, 1, size=3),)),
    Case("sphere", sphere, lambda rng: (rng.normal(size=3),)),
    Case("styblinski_tang", styblinski_tang, lambda rng: (rng.normal(size=3),)),
    Case("three_hump_camel", three_hump_camel, lambda rng: (0.6, -0.8), (0, 1)),
    Case("goldstein_price", goldstein_price, lambda rng: (np.array([0.3, -0.6]),)),
    Case("zakharov", zakharov, lambda rng: (rng.uniform(-1, 1, size=3),)),
    Case("trid", trid, lambda rng: (rng.normal(size=4),)),
    Case("quadratic_form", quadratic_form,
         lambda rng: (rng.normal(size=3), np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5],
                                                    [0.0, 0.5, 1.5]]), rng.normal(size=3)),
         (0, 1, 2)),
    Case("powell_singular", powell_singular, lambda rng: (np.array([3.0, -1.0, 0.5, 1.0]),)),
]
