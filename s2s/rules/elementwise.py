"""Rules for Python's arithmetic operators and NumPy's elementwise functions.

Python operators resolve to the ufuncs here (``a * b`` is ``np.multiply``), so source
code, ``np.multiply`` calls and the tape's ``Tensor.__mul__`` share one rule.
Broadcasting is undone by the framework (``broadcasting=True``), never inside a rule.
"""
import math

import numpy as np

from .registry import POSITIVE, REAL, Domain, define

# --- arithmetic ---------------------------------------------------------------------


def add_vjp_x(g, ans, x, y):
    return g


def add_vjp_y(g, ans, x, y):
    return g


def add_jvp_x(t, ans, x, y):
    return t


def add_jvp_y(t, ans, x, y):
    return t


define(np.add, vjp=(add_vjp_x, add_vjp_y), jvp=(add_jvp_x, add_jvp_y), broadcasting=True,
       display="Add", linear=True, sympy=lambda sp, x, y: x + y)


def subtract_vjp_x(g, ans, x, y):
    return g


def subtract_vjp_y(g, ans, x, y):
    return -g


def subtract_jvp_x(t, ans, x, y):
    return t


def subtract_jvp_y(t, ans, x, y):
    return -t


define(np.subtract, vjp=(subtract_vjp_x, subtract_vjp_y), jvp=(subtract_jvp_x, subtract_jvp_y),
       broadcasting=True, display="Sub", linear=True, sympy=lambda sp, x, y: x - y)


def multiply_vjp_x(g, ans, x, y):
    return g * y


def multiply_vjp_y(g, ans, x, y):
    return g * x


def multiply_jvp_x(t, ans, x, y):
    return t * y


def multiply_jvp_y(t, ans, x, y):
    return x * t


define(np.multiply, vjp=(multiply_vjp_x, multiply_vjp_y), jvp=(multiply_jvp_x, multiply_jvp_y),
       broadcasting=True, display="Mul", sympy=lambda sp, x, y: x * y)


def divide_vjp_x(g, ans, x, y):
    return g / y


def divide_vjp_y(g, ans, x, y):
    return -g * ans / y


def divide_jvp_x(t, ans, x, y):
    return t / y


def divide_jvp_y(t, ans, x, y):
    return -t * ans / y


define(np.true_divide, name="divide", vjp=(divide_vjp_x, divide_vjp_y),
       jvp=(divide_jvp_x, divide_jvp_y), broadcasting=True, display="Div",
       domains=(REAL, Domain(0.5, 2.0)), sympy=lambda sp, x, y: x / y)


def negative_vjp(g, ans, x):
    return -g


def negative_jvp(t, ans, x):
    return -t


define(np.negative, elementwise=True, vjp=negative_vjp, jvp=negative_jvp, display="Neg", linear=True,
       sympy=lambda sp, x: -x)


def positive_vjp(g, ans, x):
    return g


def positive_jvp(t, ans, x):
    return t


define(np.positive, elementwise=True, vjp=positive_vjp, jvp=positive_jvp, display="Pos", linear=True,
       sympy=lambda sp, x: x)


def power_vjp_x(g, ans, x, y):
    return g * y * x ** (y - 1)


def power_vjp_y(g, ans, x, y):
    # d/dy x**y = x**y log x, defined for x > 0; taken as 0 where x <= 0 (README table).
    return g * ans * np.log(np.where(x > 0, x, 1.0))


def power_jvp_x(t, ans, x, y):
    return t * y * x ** (y - 1)


def power_jvp_y(t, ans, x, y):
    return t * ans * np.log(np.where(x > 0, x, 1.0))


define(np.power, vjp=(power_vjp_x, power_vjp_y), jvp=(power_jvp_x, power_jvp_y),
       broadcasting=True, display="Pow", domains=(POSITIVE, REAL),
       sympy=lambda sp, x, y: x ** y)

# --- elementwise functions --------------------------------------------------------------


def sin_vjp(g, ans, x):
    return g * np.cos(x)


def sin_jvp(t, ans, x):
    return t * np.cos(x)


define(np.sin, elementwise=True, aliases=(math.sin,), vjp=sin_vjp, jvp=sin_jvp, sympy=lambda sp, x: sp.sin(x))


def cos_vjp(g, ans, x):
    return -g * np.sin(x)


def cos_jvp(t, ans, x):
    return -t * np.sin(x)


define(np.cos, elementwise=True, aliases=(math.cos,), vjp=cos_vjp, jvp=cos_jvp, sympy=lambda sp, x: sp.cos(x))


def tan_vjp(g, ans, x):
    return g * (1 + ans * ans)


def tan_jvp(t, ans, x):
    return t * (1 + ans * ans)


define(np.tan, elementwise=True, aliases=(math.tan,), vjp=tan_vjp, jvp=tan_jvp, domains=Domain(-1.2, 1.2),
       sympy=lambda sp, x: sp.tan(x))


def exp_vjp(g, ans, x):
    return g * ans


def exp_jvp(t, ans, x):
    return t * ans


define(np.exp, elementwise=True, aliases=(math.exp,), vjp=exp_vjp, jvp=exp_jvp, sympy=lambda sp, x: sp.exp(x))


def log_vjp(g, ans, x):
    return g / x


def log_jvp(t, ans, x):
    return t / x


define(np.log, elementwise=True, aliases=(math.log,), vjp=log_vjp, jvp=log_jvp, domains=POSITIVE,
       sympy=lambda sp, x: sp.log(x))


def sqrt_vjp(g, ans, x):
    return g / (2 * ans)


def sqrt_jvp(t, ans, x):
    return t / (2 * ans)


define(np.sqrt, elementwise=True, aliases=(math.sqrt,), vjp=sqrt_vjp, jvp=sqrt_jvp, domains=POSITIVE,
       sympy=lambda sp, x: sp.sqrt(x))


def tanh_vjp(g, ans, x):
    return g * (1 - ans * ans)


def tanh_jvp(t, ans, x):
    return t * (1 - ans * ans)


define(np.tanh, elementwise=True, aliases=(math.tanh,), vjp=tanh_vjp, jvp=tanh_jvp, sympy=lambda sp, x: sp.tanh(x))


def absolute_vjp(g, ans, x):
    # Subgradient 0 at x == 0 (README table).
    return g * np.sign(x)


def absolute_jvp(t, ans, x):
    return t * np.sign(x)


define(np.absolute, elementwise=True, name="abs", aliases=(abs, math.fabs), vjp=absolute_vjp, jvp=absolute_jvp,
       display="Abs", domains=Domain(0.1, 2.0), sympy=lambda sp, x: sp.Abs(x))


def maximum_vjp_x(g, ans, x, y):
    # Ties split the cotangent evenly between both arguments (README table).
    return g * ((x > y) + 0.5 * (x == y))


def maximum_vjp_y(g, ans, x, y):
    return g * ((y > x) + 0.5 * (x == y))


def maximum_jvp_x(t, ans, x, y):
    return t * ((x > y) + 0.5 * (x == y))


def maximum_jvp_y(t, ans, x, y):
    return t * ((y > x) + 0.5 * (x == y))


define(np.maximum, vjp=(maximum_vjp_x, maximum_vjp_y), jvp=(maximum_jvp_x, maximum_jvp_y),
       broadcasting=True, display="Maximum", sympy=lambda sp, x, y: sp.Max(x, y))


def minimum_vjp_x(g, ans, x, y):
    return g * ((x < y) + 0.5 * (x == y))


def minimum_vjp_y(g, ans, x, y):
    return g * ((y < x) + 0.5 * (x == y))


def minimum_jvp_x(t, ans, x, y):
    return t * ((x < y) + 0.5 * (x == y))


def minimum_jvp_y(t, ans, x, y):
    return t * ((y < x) + 0.5 * (x == y))


define(np.minimum, vjp=(minimum_vjp_x, minimum_vjp_y), jvp=(minimum_jvp_x, minimum_jvp_y),
       broadcasting=True, display="Minimum", sympy=lambda sp, x, y: sp.Min(x, y))


def where_vjp_x(g, ans, condition, x, y):
    return np.where(condition, g, 0.0)


def where_vjp_y(g, ans, condition, x, y):
    return np.where(condition, 0.0, g)


def where_jvp_x(t, ans, condition, x, y):
    return np.where(condition, t, 0.0)


def where_jvp_y(t, ans, condition, x, y):
    return np.where(condition, 0.0, t)


define(np.where, vjp=(None, where_vjp_x, where_vjp_y), jvp=(None, where_jvp_x, where_jvp_y),
       broadcasting=True, display="Where", linear=True)
