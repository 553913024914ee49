"""Everyday Python around the arithmetic: comprehensions and builtins over them, assert,
print, raise, warnings, with blocks, *args and keyword-only parameters, partials, static
and class methods, callable objects, lambdas in containers, non-literal defaults."""
import functools
import logging
import warnings

import numpy as np

from . import Case

logger = logging.getLogger("programs_in_the_wild")
Y_DATA = np.array([0.5, -1.0, 2.0])


def squares_comprehension(x):
    return sum([x[i] ** 2 for i in range(len(x))])


def dict_comprehension_total(x, weights=(1.0, 2.0, 3.0)):
    terms = {f"term{i}": w * np.sin(x[i]) for i, w in enumerate(weights)}
    return sum(terms.values())


def filtered_generator(x):
    return sum(v * v for v in x if v > 0) + sum(np.exp(v) for v in x if v <= 0)


def zip_pairs(xs, ys):
    return sum(a * b for a, b in zip(xs, ys))


def max_of_generator(x):
    return max(np.cos(v) for v in x) + min(v ** 2 for v in x)


def sorted_and_reversed(x):
    total = 0.0
    for i, v in enumerate(reversed(sorted([x[0], x[1], x[2]]))):
        total = total + (i + 1) * v
    return total


def with_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x) / (1.0 + x)
    return np.sum(y)


def with_catch_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.sum(np.sqrt(x) * x)


def assert_with_fstring(w, x):
    assert w.shape == x.shape, f"shapes differ: {w.shape} vs {x.shape}"
    assert np.all(np.isfinite(x)), "x has non-finite entries"
    return np.sum(w * x ** 2)


def print_progress(x, steps=3):
    y = x
    for step in range(steps):
        y = np.tanh(y) + 0.5 * x
        print(f"step {step}: {np.sum(y):.3f}")
    return np.sum(y ** 2)


def logging_call(x):
    loss = np.sum(np.sin(x) ** 2)
    logger.debug("loss %s", loss)
    return loss


def raise_in_branch(x):
    if x.ndim != 1:
        raise ValueError(f"expected a vector, got shape {x.shape}")
    return np.sum(x ** 3)


def warn_on_large(x, limit=10.0):
    total = np.sum(x ** 2)
    if total > limit:
        warnings.warn(f"large input: {total}")
    return total


def star_args_sum(*xs):
    return sum(np.sum(x ** 2) for x in xs)


def keyword_only_scale(x, *, scale=2.0, shift=0.5):
    return np.sum((scale * x + shift) ** 2)


def call_with_kwargs(x):
    options = {"scale": 0.5, "shift": -1.0}
    return keyword_only_scale(x, **options)


def scaled_power(x, scale, power=2):
    return scale * np.sum(np.abs(x) ** power)


cubed_sum = functools.partial(scaled_power, scale=1.5, power=3)


class Units:
    factor = 0.25

    @staticmethod
    def energy(x):
        return np.sum(x ** 2) / 2

    @classmethod
    def scaled_energy(cls, x):
        return cls.factor * cls.energy(x)


class Polynomial:
    """A callable object: the coefficients are attributes read through self."""

    def __init__(self, coefficients):
        self.coefficients = coefficients

    def __call__(self, x):
        return sum(c * x ** k for k, c in enumerate(self.coefficients))


cubic = Polynomial([1.0, -2.0, 0.5, 0.25])


def activation_table(x, name="swish"):
    activations = {"tanh": np.tanh,
                   "relu": lambda z: np.maximum(z, 0.0),
                   "swish": lambda z: z / (1 + np.exp(-z))}
    return np.sum(activations[name](x))


def nested_def_in_loop(x):
    total = 0.0
    for k in range(1, 4):
        def bump(v):
            return np.exp(-k * v ** 2)
        total = total + np.sum(bump(x))
    return total


def fit_to_data(w, y=Y_DATA):
    """A global array as a parameter default."""
    return np.sum((w - y) ** 2)


def identity_quadratic(x):
    n = len(x)
    A = 2.0 * np.eye(n) + np.ones((n, n))
    return x @ A @ x


def early_return_piecewise(x):
    if x < 0:
        return x ** 2
    if x < 1:
        return 2 * x - x ** 3
    return np.log(x) + 1


def tuple_returning_helper(x):
    def moments(v):
        return np.mean(v), np.mean(v ** 2)

    m1, m2 = moments(x)
    return m2 - m1 ** 2


def any_all_guard(x):
    if any(v < -5 for v in x) or not all(np.isfinite(x)):
        return 0.0
    return np.sum(np.exp(0.5 * x))


def list_append_loop(x):
    parts = []
    for v in x:
        parts.append(np.sin(v) * v)
    return np.sum(np.array(parts))


def map_builtin(x):
    return sum(map(np.tanh, x))


CASES = [
    Case("squares_comprehension", squares_comprehension, lambda rng: (rng.normal(size=4),)),
    Case("dict_comprehension_total", dict_comprehension_total, lambda rng: (rng.normal(size=3),)),
    Case("filtered_generator", filtered_generator, lambda rng: (np.array([0.5, -0.3, 1.2, -1.1]),)),
    Case("zip_pairs", zip_pairs, lambda rng: (rng.normal(size=3), rng.normal(size=3)), (0, 1)),
    Case("max_of_generator", max_of_generator, lambda rng: (np.array([0.3, 1.1, -0.8]),)),
    Case("sorted_and_reversed", sorted_and_reversed, lambda rng: (np.array([0.4, -1.2, 0.9]),)),
    Case("with_errstate", with_errstate, lambda rng: (rng.uniform(0.5, 2.0, size=3),)),
    Case("with_catch_warnings", with_catch_warnings, lambda rng: (rng.uniform(0.5, 2.0, size=3),)),
    Case("assert_with_fstring", assert_with_fstring,
         lambda rng: (rng.normal(size=3), rng.normal(size=3)), (0, 1)),
    Case("print_progress", print_progress, lambda rng: (rng.normal(size=3),)),
    Case("logging_call", logging_call, lambda rng: (rng.normal(size=3),)),
    Case("raise_in_branch", raise_in_branch, lambda rng: (rng.normal(size=3),)),
    Case("warn_on_large", warn_on_large, lambda rng: (rng.normal(size=3),)),
    Case("star_args_sum", star_args_sum, lambda rng: (rng.normal(size=2), rng.normal(size=3)),
         (0, 1)),
    Case("keyword_only_scale", keyword_only_scale, lambda rng: (rng.normal(size=3),)),
    Case("call_with_kwargs", call_with_kwargs, lambda rng: (rng.normal(size=3),)),
    Case("partial_cubed_sum", cubed_sum, lambda rng: (rng.normal(size=3),)),
    Case("staticmethod_energy", Units.energy, lambda rng: (rng.normal(size=3),)),
    Case("classmethod_scaled_energy", Units.scaled_energy, lambda rng: (rng.normal(size=3),)),
    Case("callable_object", cubic, lambda rng: (0.7,)),
    Case("activation_table", activation_table, lambda rng: (rng.normal(size=4),)),
    Case("nested_def_in_loop", nested_def_in_loop, lambda rng: (rng.normal(size=3),)),
    Case("fit_to_data", fit_to_data, lambda rng: (rng.normal(size=3),)),
    Case("identity_quadratic", identity_quadratic, lambda rng: (rng.normal(size=3),)),
    Case("early_return_piecewise", early_return_piecewise, lambda rng: (0.6,)),
    Case("tuple_returning_helper", tuple_returning_helper, lambda rng: (rng.normal(size=4),)),
    Case("any_all_guard", any_all_guard, lambda rng: (rng.normal(size=3),)),
    Case("list_append_loop", list_append_loop, lambda rng: (rng.normal(size=3),)),
    Case("map_builtin", map_builtin, lambda rng: (rng.normal(size=3),)),
]
