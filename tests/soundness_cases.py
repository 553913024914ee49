"""Functions that once gave silently wrong gradients (issue 13): operators, index tricks,
parameters a rule does not differentiate.  Imported by tests/test_soundness.py, which needs
them in a real file so that s2s can read their source."""
import numpy as np


def remainder_operator(x, y):
    return np.sum(x % y)


def remainder_of_a_constant(x, y):
    return np.sum(2.9 % x + x)


def floor_divide_operator(x, y):
    return np.sum(x // y * x)


def divmod_builtin(x, y):
    quotient, remainder = divmod(x, y)
    return np.sum(remainder * x + quotient)


def divmod_ufunc(x, y):
    quotient, remainder = np.divmod(x, y)
    return np.sum(remainder ** 2)


def not_operator(x, y):
    flag = not np.sum(x) > 5.0
    return np.sum(x * y) if flag else 0.0


def comparison_chain(x, y):
    return np.sum(x * x) if 0.0 < y < 2.0 else np.sum(x)


def transpose_attribute(x, y):
    return np.sum(np.outer(x, x).T * np.arange(9.0).reshape(3, 3))


def shape_attribute(x, y):
    return np.sum(x) * x.shape[0] + x.size * y


def global_array_indexed(x, y):
    return np.sum(WEIGHTS[1:] * x[:2])


WEIGHTS = np.array([1.0, 2.0, 3.0])


def concatenation_trick(x, y):
    return np.sum(np.r_[x, x ** 2, y, 0.5] * np.r_[0:8])


def column_trick(x, y):
    return np.sum(np.c_[x, x ** 2 * y] ** 2)


# --- refused: each must raise MissingRuleError in source mode (never a zero) ----------------


def concatenation_directive(x, y):
    return np.sum(np.r_['0,2', x, x ** 2])


def norm_order_from_the_inputs(x, y):
    return np.linalg.norm(x, ord=y + 2.3)


def bitwise_on_floats(x, y):
    return np.sum(x ^ x)
