"""Rules for Python's arithmetic operators and NumPy's elementwise functions.

Python operators resolve to the ufuncs here (``a * b`` is ``np.multiply``), so source
code, ``np.multiply`` calls and the tape's ``Tensor.__mul__`` share one rule.
Broadcasting is undone by the framework (``broadcasting=True``), never inside a rule.
The ``math`` functions (``math.sin``, ``math.atan2``, ``math.pow``...) are aliases of the
NumPy rules.  Conventions where a derivative does not exist are noted next to each rule
(one subgradient is chosen, never NaN where one exists); ``np.sign`` is in nondiff.py.

Complex values (the convention is in registry.py): the holomorphic functions' VJPs are
``g * f'(z)`` as for reals (``holomorphic=True``); ``abs``, ``angle``, ``real``, ``imag``
and ``conj`` are not holomorphic and have their own complex VJPs; the selections
(``maximum``, ``where``, ``clip``...) pass cotangents through unchanged.  The ufuncs
without complex loops (``arctan2``, ``hypot``, ``fabs``...) refuse complex values themselves.
"""
import math

import numpy as np

from ..runtime import unbroadcast
from .domains import Booleans
from .registry import ABOVE_ONE, POSITIVE, REAL, UNIT, Domain, define


def _math(*names):
    """The functions of the ``math`` module with these names that this Python has."""
    return tuple(getattr(math, name) for name in names if hasattr(math, name))


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
       display="Add", linear=True, holomorphic=True, sympy=lambda sp, x, y: x + y)


def subtract_vjp_x(g, ans, x, y):
    return g


def subtract_vjp_y(g, ans, x, y):
    return -g


def subtract_jvp_x(t, ans, x, y):
    return t


def subtract_jvp_y(t, ans, x, y):
    return -t


define(np.subtract, vjp=(subtract_vjp_x, subtract_vjp_y), jvp=(subtract_jvp_x, subtract_jvp_y),
       broadcasting=True, display="Sub", linear=True, holomorphic=True,
       sympy=lambda sp, x, y: x - y)


def multiply_vjp_x(g, ans, x, y):
    return g * y


def multiply_vjp_y(g, ans, x, y):
    return g * x


def multiply_jvp_x(t, ans, x, y):
    return t * y


def multiply_jvp_y(t, ans, x, y):
    return x * t


define(np.multiply, vjp=(multiply_vjp_x, multiply_vjp_y), jvp=(multiply_jvp_x, multiply_jvp_y),
       broadcasting=True, display="Mul", holomorphic=True, sympy=lambda sp, x, y: x * y)


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
       domains=(REAL, Domain(0.5, 2.0)), holomorphic=True, sympy=lambda sp, x, y: x / y)


def negative_vjp(g, ans, x):
    return -g


def negative_jvp(t, ans, x):
    return -t


define(np.negative, elementwise=True, vjp=negative_vjp, jvp=negative_jvp, display="Neg",
       linear=True, holomorphic=True, sympy=lambda sp, x: -x)


def positive_vjp(g, ans, x):
    return g


def positive_jvp(t, ans, x):
    return t


define(np.positive, elementwise=True, vjp=positive_vjp, jvp=positive_jvp, display="Pos",
       linear=True, holomorphic=True, sympy=lambda sp, x: x)


def power_vjp_x(g, ans, x, y):
    return g * y * x ** (y - 1)


def power_vjp_y(g, ans, x, y):
    # d/dy x**y = x**y log x: for a real power defined for x > 0 and taken as 0 where
    # x <= 0; for a complex one the principal log x, taken as 0 at x == 0.
    if np.iscomplexobj(ans):
        return g * ans * np.log(np.where(x == 0, 1.0, x) + 0j)
    return g * ans * np.log(np.where(x > 0, x, 1.0))


def power_jvp_x(t, ans, x, y):
    return t * y * x ** (y - 1)


def power_jvp_y(t, ans, x, y):
    if np.iscomplexobj(ans):
        return t * ans * np.log(np.where(x == 0, 1.0, x) + 0j)
    return t * ans * np.log(np.where(x > 0, x, 1.0))


define(np.power, aliases=(math.pow, pow), vjp=(power_vjp_x, power_vjp_y),
       jvp=(power_jvp_x, power_jvp_y), broadcasting=True, display="Pow", domains=(POSITIVE, REAL),
       holomorphic=True, sympy=lambda sp, x, y: x ** y)

# --- elementwise functions --------------------------------------------------------------


def sin_vjp(g, ans, x):
    return g * np.cos(x)


def sin_jvp(t, ans, x):
    return t * np.cos(x)


define(np.sin, elementwise=True, aliases=(math.sin,), vjp=sin_vjp, jvp=sin_jvp,
       holomorphic=True, sympy=lambda sp, x: sp.sin(x))


def cos_vjp(g, ans, x):
    return -g * np.sin(x)


def cos_jvp(t, ans, x):
    return -t * np.sin(x)


define(np.cos, elementwise=True, aliases=(math.cos,), vjp=cos_vjp, jvp=cos_jvp,
       holomorphic=True, sympy=lambda sp, x: sp.cos(x))


def tan_vjp(g, ans, x):
    return g * (1 + ans * ans)


def tan_jvp(t, ans, x):
    return t * (1 + ans * ans)


define(np.tan, elementwise=True, aliases=(math.tan,), vjp=tan_vjp, jvp=tan_jvp,
       domains=Domain(-1.2, 1.2), holomorphic=True, sympy=lambda sp, x: sp.tan(x))


def exp_vjp(g, ans, x):
    return g * ans


def exp_jvp(t, ans, x):
    return t * ans


define(np.exp, elementwise=True, aliases=(math.exp,), vjp=exp_vjp, jvp=exp_jvp,
       holomorphic=True, sympy=lambda sp, x: sp.exp(x))


def log_vjp(g, ans, x):
    return g / x


def log_jvp(t, ans, x):
    return t / x


define(np.log, elementwise=True, aliases=(math.log,), vjp=log_vjp, jvp=log_jvp,
       domains=POSITIVE, holomorphic=True, sympy=lambda sp, x: sp.log(x))


def sqrt_vjp(g, ans, x):
    # inf at x == 0 (vertical tangent; nan if the cotangent is 0 there too).
    return g / (2 * ans)


def sqrt_jvp(t, ans, x):
    return t / (2 * ans)


define(np.sqrt, elementwise=True, aliases=(math.sqrt,), vjp=sqrt_vjp, jvp=sqrt_jvp,
       domains=POSITIVE, holomorphic=True, sympy=lambda sp, x: sp.sqrt(x))


def tanh_vjp(g, ans, x):
    return g * (1 - ans * ans)


def tanh_jvp(t, ans, x):
    return t * (1 - ans * ans)


define(np.tanh, elementwise=True, aliases=(math.tanh,), vjp=tanh_vjp, jvp=tanh_jvp,
       holomorphic=True, sympy=lambda sp, x: sp.tanh(x))


def absolute_vjp(g, ans, x):
    # Subgradient 0 at x == 0; for complex x (not holomorphic) Re(g) conj(x) / |x|.
    if np.iscomplexobj(x):
        return np.real(g) * np.conj(x) / np.where(ans == 0, 1.0, ans)
    return g * np.sign(x)


def absolute_jvp(t, ans, x):
    if np.iscomplexobj(x):
        return np.real(np.conj(x) * t) / np.where(ans == 0, 1.0, ans)
    return t * np.sign(x)


define(np.absolute, elementwise=True, name="abs", aliases=(abs, math.fabs), vjp=absolute_vjp,
       jvp=absolute_jvp, display="Abs", domains=Domain(0.1, 2.0), complex_ok=True,
       sympy=lambda sp, x: sp.Abs(x))


def maximum_vjp_x(g, ans, x, y):
    # Ties split the cotangent evenly between both arguments (1/2 each).
    return g * (x > y) + 0.5 * g * (x == y)


def maximum_vjp_y(g, ans, x, y):
    return g * (y > x) + 0.5 * g * (x == y)


def maximum_jvp_x(t, ans, x, y):
    return t * (x > y) + 0.5 * t * (x == y)


def maximum_jvp_y(t, ans, x, y):
    return t * (y > x) + 0.5 * t * (x == y)


define(np.maximum, vjp=(maximum_vjp_x, maximum_vjp_y), jvp=(maximum_jvp_x, maximum_jvp_y),
       broadcasting=True, display="Maximum", complex_ok=True, sympy=lambda sp, x, y: sp.Max(x, y))


def minimum_vjp_x(g, ans, x, y):
    # Ties split the cotangent evenly between both arguments (1/2 each).
    return g * (x < y) + 0.5 * g * (x == y)


def minimum_vjp_y(g, ans, x, y):
    return g * (y < x) + 0.5 * g * (x == y)


def minimum_jvp_x(t, ans, x, y):
    return t * (x < y) + 0.5 * t * (x == y)


def minimum_jvp_y(t, ans, x, y):
    return t * (y < x) + 0.5 * t * (x == y)


define(np.minimum, vjp=(minimum_vjp_x, minimum_vjp_y), jvp=(minimum_jvp_x, minimum_jvp_y),
       broadcasting=True, display="Minimum", complex_ok=True, sympy=lambda sp, x, y: sp.Min(x, y))


def where_vjp_x(g, ans, condition, x, y):
    # The condition gets no gradient; each branch gets g where it was chosen.
    return np.where(condition, g, 0.0)


def where_vjp_y(g, ans, condition, x, y):
    return np.where(condition, 0.0, g)


def where_jvp_x(t, ans, condition, x, y):
    return np.where(condition, t, 0.0)


def where_jvp_y(t, ans, condition, x, y):
    return np.where(condition, 0.0, t)


define(np.where, vjp=(None, where_vjp_x, where_vjp_y), jvp=(None, where_jvp_x, where_jvp_y),
       broadcasting=True, display="Where", linear=True, domains=(Booleans(), REAL, REAL),
       complex_ok=True)

# --- more arithmetic ------------------------------------------------------------------------


def float_power_vjp_x(g, ans, x, y):
    return g * y * np.float_power(x, y - 1)


def float_power_vjp_y(g, ans, x, y):
    # As for power: taken as 0 where x <= 0 (0 at x == 0 for a complex power).
    if np.iscomplexobj(ans):
        return g * ans * np.log(np.where(x == 0, 1.0, x) + 0j)
    return g * ans * np.log(np.where(x > 0, x, 1.0))


def float_power_jvp_x(t, ans, x, y):
    return t * y * np.float_power(x, y - 1)


def float_power_jvp_y(t, ans, x, y):
    if np.iscomplexobj(ans):
        return t * ans * np.log(np.where(x == 0, 1.0, x) + 0j)
    return t * ans * np.log(np.where(x > 0, x, 1.0))


define(np.float_power, vjp=(float_power_vjp_x, float_power_vjp_y),
       jvp=(float_power_jvp_x, float_power_jvp_y), broadcasting=True, display="FloatPower",
       domains=(POSITIVE, REAL), holomorphic=True, sympy=lambda sp, x, y: x ** y)


def remainder_vjp_x(g, ans, x, y):
    return g


def remainder_vjp_y(g, ans, x, y):
    # x % y = x - floor(x / y) * y; the jumps (x / y an integer) are ignored.
    return -g * np.floor(x / y)


def remainder_jvp_x(t, ans, x, y):
    return t


def remainder_jvp_y(t, ans, x, y):
    return -t * np.floor(x / y)


define(np.remainder, vjp=(remainder_vjp_x, remainder_vjp_y),
       jvp=(remainder_jvp_x, remainder_jvp_y), broadcasting=True, display="Remainder",
       domains=(REAL, Domain(0.5, 2.0)))


def divmod_vjp_x(g, ans, x, y):
    # divmod(x, y) = (x // y, x % y): g = (g_quotient, g_remainder); the quotient is
    # piecewise constant, the remainder is x % y (as for np.remainder).  A rule with two
    # outputs is not marked broadcasting, so it undoes broadcasting itself.
    g_remainder = np.zeros_like(ans[1]) if g[1] is None else g[1]
    return unbroadcast(g_remainder, x)


def divmod_vjp_y(g, ans, x, y):
    g_remainder = np.zeros_like(ans[1]) if g[1] is None else g[1]
    return unbroadcast(-g_remainder * np.floor(x / y), y)


def divmod_jvp_x(t, ans, x, y):
    return (np.zeros_like(ans[0]), np.broadcast_to(t, np.shape(ans[1])))


def divmod_jvp_y(t, ans, x, y):
    return (np.zeros_like(ans[0]), -t * np.floor(x / y) + np.zeros_like(ans[1]))


define(np.divmod, aliases=(divmod,), vjp=(divmod_vjp_x, divmod_vjp_y),
       jvp=(divmod_jvp_x, divmod_jvp_y), display="Divmod", domains=(REAL, Domain(0.5, 2.0)))


def fmod_vjp_x(g, ans, x, y):
    return g


def fmod_vjp_y(g, ans, x, y):
    # fmod(x, y) = x - trunc(x / y) * y; the jumps are ignored.
    return -g * np.trunc(x / y)


def fmod_jvp_x(t, ans, x, y):
    return t


def fmod_jvp_y(t, ans, x, y):
    return -t * np.trunc(x / y)


define(np.fmod, aliases=(math.fmod,), vjp=(fmod_vjp_x, fmod_vjp_y), jvp=(fmod_jvp_x, fmod_jvp_y),
       broadcasting=True, display="Fmod", domains=(REAL, Domain(0.5, 2.0)))


def reciprocal_vjp(g, ans, x):
    return -g * ans * ans


def reciprocal_jvp(t, ans, x):
    return -t * ans * ans


define(np.reciprocal, elementwise=True, vjp=reciprocal_vjp, jvp=reciprocal_jvp,
       display="Reciprocal", domains=Domain(0.5, 2.0), holomorphic=True, sympy=lambda sp, x: 1 / x)


def square_vjp(g, ans, x):
    return g * 2 * x


def square_jvp(t, ans, x):
    return t * 2 * x


define(np.square, elementwise=True, vjp=square_vjp, jvp=square_jvp, display="Square",
       holomorphic=True, sympy=lambda sp, x: x ** 2)


def cbrt_vjp(g, ans, x):
    # inf at x == 0 (vertical tangent; no finite derivative).
    return g / (3 * ans * ans)


def cbrt_jvp(t, ans, x):
    return t / (3 * ans * ans)


define(np.cbrt, elementwise=True, aliases=_math("cbrt"), vjp=cbrt_vjp, jvp=cbrt_jvp,
       display="Cbrt", domains=POSITIVE, sympy=lambda sp, x: sp.cbrt(x))

# --- exponentials and logarithms ------------------------------------------------------------


def exp2_vjp(g, ans, x):
    return g * ans * 0.6931471805599453                    # log(2)


def exp2_jvp(t, ans, x):
    return t * ans * 0.6931471805599453


define(np.exp2, elementwise=True, aliases=_math("exp2"), vjp=exp2_vjp, jvp=exp2_jvp,
       display="Exp2", holomorphic=True, sympy=lambda sp, x: 2 ** x)


def expm1_vjp(g, ans, x):
    return g * (ans + 1)


def expm1_jvp(t, ans, x):
    return t * (ans + 1)


define(np.expm1, elementwise=True, aliases=_math("expm1"), vjp=expm1_vjp, jvp=expm1_jvp,
       display="Expm1", holomorphic=True, sympy=lambda sp, x: sp.exp(x) - 1)


def log2_vjp(g, ans, x):
    return g / (x * 0.6931471805599453)                    # x log(2)


def log2_jvp(t, ans, x):
    return t / (x * 0.6931471805599453)


define(np.log2, elementwise=True, aliases=_math("log2"), vjp=log2_vjp, jvp=log2_jvp,
       display="Log2", domains=POSITIVE, holomorphic=True, sympy=lambda sp, x: sp.log(x, 2))


def log10_vjp(g, ans, x):
    return g / (x * 2.302585092994046)                     # x log(10)


def log10_jvp(t, ans, x):
    return t / (x * 2.302585092994046)


define(np.log10, elementwise=True, aliases=_math("log10"), vjp=log10_vjp, jvp=log10_jvp,
       display="Log10", domains=POSITIVE, holomorphic=True, sympy=lambda sp, x: sp.log(x, 10))


def log1p_vjp(g, ans, x):
    return g / (1 + x)


def log1p_jvp(t, ans, x):
    return t / (1 + x)


define(np.log1p, elementwise=True, aliases=_math("log1p"), vjp=log1p_vjp, jvp=log1p_jvp,
       display="Log1p", domains=Domain(-0.5, 2.0), holomorphic=True,
       sympy=lambda sp, x: sp.log(1 + x))


def logaddexp_vjp_x(g, ans, x, y):
    return g * np.exp(x - ans)


def logaddexp_vjp_y(g, ans, x, y):
    return g * np.exp(y - ans)


def logaddexp_jvp_x(t, ans, x, y):
    return t * np.exp(x - ans)


def logaddexp_jvp_y(t, ans, x, y):
    return t * np.exp(y - ans)


define(np.logaddexp, vjp=(logaddexp_vjp_x, logaddexp_vjp_y),
       jvp=(logaddexp_jvp_x, logaddexp_jvp_y), broadcasting=True, display="Logaddexp",
       sympy=lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)))


def logaddexp2_vjp_x(g, ans, x, y):
    return g * np.exp2(x - ans)


def logaddexp2_vjp_y(g, ans, x, y):
    return g * np.exp2(y - ans)


def logaddexp2_jvp_x(t, ans, x, y):
    return t * np.exp2(x - ans)


def logaddexp2_jvp_y(t, ans, x, y):
    return t * np.exp2(y - ans)


define(np.logaddexp2, vjp=(logaddexp2_vjp_x, logaddexp2_vjp_y),
       jvp=(logaddexp2_jvp_x, logaddexp2_jvp_y), broadcasting=True, display="Logaddexp2",
       sympy=lambda sp, x, y: sp.log(2 ** x + 2 ** y, 2))

# --- trigonometric and hyperbolic functions ---------------------------------------------------


def arcsin_vjp(g, ans, x):
    return g / np.sqrt(1 - x * x)


def arcsin_jvp(t, ans, x):
    return t / np.sqrt(1 - x * x)


define(np.arcsin, elementwise=True, aliases=(math.asin,), vjp=arcsin_vjp, jvp=arcsin_jvp,
       display="Asin", domains=UNIT, holomorphic=True, sympy=lambda sp, x: sp.asin(x))


def arccos_vjp(g, ans, x):
    return -g / np.sqrt(1 - x * x)


def arccos_jvp(t, ans, x):
    return -t / np.sqrt(1 - x * x)


define(np.arccos, elementwise=True, aliases=(math.acos,), vjp=arccos_vjp, jvp=arccos_jvp,
       display="Acos", domains=UNIT, holomorphic=True, sympy=lambda sp, x: sp.acos(x))


def arctan_vjp(g, ans, x):
    return g / (1 + x * x)


def arctan_jvp(t, ans, x):
    return t / (1 + x * x)


define(np.arctan, elementwise=True, aliases=(math.atan,), vjp=arctan_vjp, jvp=arctan_jvp,
       display="Atan", holomorphic=True, sympy=lambda sp, x: sp.atan(x))


def arctan2_vjp_y(g, ans, y, x):
    # 0 at the origin, where arctan2 is not continuous.
    return g * x / np.where(x * x + y * y == 0, 1.0, x * x + y * y)


def arctan2_vjp_x(g, ans, y, x):
    return -g * y / np.where(x * x + y * y == 0, 1.0, x * x + y * y)


def arctan2_jvp_y(t, ans, y, x):
    return t * x / np.where(x * x + y * y == 0, 1.0, x * x + y * y)


def arctan2_jvp_x(t, ans, y, x):
    return -t * y / np.where(x * x + y * y == 0, 1.0, x * x + y * y)


define(np.arctan2, aliases=(math.atan2,), vjp=(arctan2_vjp_y, arctan2_vjp_x),
       jvp=(arctan2_jvp_y, arctan2_jvp_x), broadcasting=True, display="Atan2",
       domains=(REAL, POSITIVE), sympy=lambda sp, y, x: sp.atan2(y, x))


def hypot_vjp_x(g, ans, x, y):
    # 0 at the origin (like norm at the zero vector).
    return g * x / np.where(ans == 0, 1.0, ans)


def hypot_vjp_y(g, ans, x, y):
    return g * y / np.where(ans == 0, 1.0, ans)


def hypot_jvp_x(t, ans, x, y):
    return t * x / np.where(ans == 0, 1.0, ans)


def hypot_jvp_y(t, ans, x, y):
    return t * y / np.where(ans == 0, 1.0, ans)


define(np.hypot, aliases=(math.hypot,), vjp=(hypot_vjp_x, hypot_vjp_y),
       jvp=(hypot_jvp_x, hypot_jvp_y), broadcasting=True, display="Hypot",
       sympy=lambda sp, x, y: sp.sqrt(x ** 2 + y ** 2))


def sinh_vjp(g, ans, x):
    return g * np.cosh(x)


def sinh_jvp(t, ans, x):
    return t * np.cosh(x)


define(np.sinh, elementwise=True, aliases=(math.sinh,), vjp=sinh_vjp, jvp=sinh_jvp,
       display="Sinh", holomorphic=True, sympy=lambda sp, x: sp.sinh(x))


def cosh_vjp(g, ans, x):
    return g * np.sinh(x)


def cosh_jvp(t, ans, x):
    return t * np.sinh(x)


define(np.cosh, elementwise=True, aliases=(math.cosh,), vjp=cosh_vjp, jvp=cosh_jvp,
       display="Cosh", holomorphic=True, sympy=lambda sp, x: sp.cosh(x))


def arcsinh_vjp(g, ans, x):
    return g / np.sqrt(x * x + 1)


def arcsinh_jvp(t, ans, x):
    return t / np.sqrt(x * x + 1)


define(np.arcsinh, elementwise=True, aliases=(math.asinh,), vjp=arcsinh_vjp, jvp=arcsinh_jvp,
       display="Asinh", holomorphic=True, sympy=lambda sp, x: sp.asinh(x))


def arccosh_vjp(g, ans, x):
    return g / np.sqrt(x * x - 1)


def arccosh_jvp(t, ans, x):
    return t / np.sqrt(x * x - 1)


define(np.arccosh, elementwise=True, aliases=(math.acosh,), vjp=arccosh_vjp, jvp=arccosh_jvp,
       display="Acosh", domains=ABOVE_ONE, holomorphic=True, sympy=lambda sp, x: sp.acosh(x))


def arctanh_vjp(g, ans, x):
    return g / (1 - x * x)


def arctanh_jvp(t, ans, x):
    return t / (1 - x * x)


define(np.arctanh, elementwise=True, aliases=(math.atanh,), vjp=arctanh_vjp, jvp=arctanh_jvp,
       display="Atanh", domains=UNIT, holomorphic=True, sympy=lambda sp, x: sp.atanh(x))


def sinc_vjp(g, ans, x):
    # (cos(pi x) - sinc(x)) / x, and 0 at x == 0 (the limit).
    return g * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))


def sinc_jvp(t, ans, x):
    return t * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))


define(np.sinc, elementwise=True, vjp=sinc_vjp, jvp=sinc_jvp, display="Sinc",
       holomorphic=True, sympy=lambda sp, x: sp.sin(sp.pi * x) / (sp.pi * x))


def deg2rad_vjp(g, ans, x):
    return g * 0.017453292519943295                       # pi / 180


def deg2rad_jvp(t, ans, x):
    return t * 0.017453292519943295


define(np.deg2rad, elementwise=True, aliases=(np.radians, math.radians), vjp=deg2rad_vjp,
       jvp=deg2rad_jvp, display="Deg2rad", linear=True, sympy=lambda sp, x: x * sp.pi / 180)


def rad2deg_vjp(g, ans, x):
    return g * 57.29577951308232                           # 180 / pi


def rad2deg_jvp(t, ans, x):
    return t * 57.29577951308232


define(np.rad2deg, elementwise=True, aliases=(np.degrees, math.degrees), vjp=rad2deg_vjp,
       jvp=rad2deg_jvp, display="Rad2deg", linear=True, sympy=lambda sp, x: x * 180 / sp.pi)

# --- absolute values, extrema, clipping -------------------------------------------------------


def fabs_vjp(g, ans, x):
    # Subgradient 0 at x == 0.
    return g * np.sign(x)


def fabs_jvp(t, ans, x):
    return t * np.sign(x)


define(np.fabs, elementwise=True, vjp=fabs_vjp, jvp=fabs_jvp, display="Abs",
       domains=Domain(0.1, 2.0), sympy=lambda sp, x: sp.Abs(x))


def fmax_vjp_x(g, ans, x, y):
    # As maximum (ties 1/2 each); a NaN argument is ignored, so the other one gets all.
    return g * np.logical_or(x > y, np.isnan(y)) + 0.5 * g * (x == y)


def fmax_vjp_y(g, ans, x, y):
    return g * np.logical_or(y > x, np.isnan(x)) + 0.5 * g * (x == y)


def fmax_jvp_x(t, ans, x, y):
    return t * np.logical_or(x > y, np.isnan(y)) + 0.5 * t * (x == y)


def fmax_jvp_y(t, ans, x, y):
    return t * np.logical_or(y > x, np.isnan(x)) + 0.5 * t * (x == y)


define(np.fmax, vjp=(fmax_vjp_x, fmax_vjp_y), jvp=(fmax_jvp_x, fmax_jvp_y), broadcasting=True,
       display="Fmax", complex_ok=True, sympy=lambda sp, x, y: sp.Max(x, y))


def fmin_vjp_x(g, ans, x, y):
    # As minimum (ties 1/2 each); a NaN argument is ignored, so the other one gets all.
    return g * np.logical_or(x < y, np.isnan(y)) + 0.5 * g * (x == y)


def fmin_vjp_y(g, ans, x, y):
    return g * np.logical_or(y < x, np.isnan(x)) + 0.5 * g * (x == y)


def fmin_jvp_x(t, ans, x, y):
    return t * np.logical_or(x < y, np.isnan(y)) + 0.5 * t * (x == y)


def fmin_jvp_y(t, ans, x, y):
    return t * np.logical_or(y < x, np.isnan(x)) + 0.5 * t * (x == y)


define(np.fmin, vjp=(fmin_vjp_x, fmin_vjp_y), jvp=(fmin_jvp_x, fmin_jvp_y), broadcasting=True,
       display="Fmin", complex_ok=True, sympy=lambda sp, x, y: sp.Min(x, y))


def clip_vjp_a(g, ans, a, a_min, a_max):
    # Closed interval: at a == a_min or a == a_max the gradient passes to a (1).
    return g * (ans == a)


def clip_vjp_a_min(g, ans, a, a_min, a_max):
    return g * (a < a_min)


def clip_vjp_a_max(g, ans, a, a_min, a_max):
    return g * (a > a_max)


def clip_jvp_a(t, ans, a, a_min, a_max):
    return t * (ans == a)


def clip_jvp_a_min(t, ans, a, a_min, a_max):
    return t * (a < a_min)


def clip_jvp_a_max(t, ans, a, a_min, a_max):
    return t * (a > a_max)


define(np.clip, methods=("clip",), vjp=(clip_vjp_a, clip_vjp_a_min, clip_vjp_a_max),
       jvp=(clip_jvp_a, clip_jvp_a_min, clip_jvp_a_max), broadcasting=True, display="Clamp",
       domains=(REAL, Domain(-1.5, -0.5), Domain(0.5, 1.5)),
       complex_ok=True, sympy=lambda sp, a, a_min, a_max: sp.Min(sp.Max(a, a_min), a_max))

# --- complex parts: not holomorphic (on real input: identity, zero, identity, zero) ---------
# The cotangent of a complex value is carried as 2 dL/dz = dL/dRe z - i dL/dIm z (registry.py).


def real_vjp(g, ans, val):
    return np.real(g)


def real_jvp(t, ans, val):
    return np.real(t)


define(np.real, attributes=("real",), elementwise=True, vjp=real_vjp, jvp=real_jvp,
       display="Real", linear=True, complex_ok=True)


def imag_vjp(g, ans, val):
    # Im z grows along the imaginary direction: dL/dIm z = g, so the cotangent is -i g.
    if np.iscomplexobj(val):
        return -1j * np.real(g)
    return np.zeros_like(g)


def imag_jvp(t, ans, val):
    return np.imag(t)


define(np.imag, attributes=("imag",), elementwise=True, vjp=imag_vjp, jvp=imag_jvp,
       display="Imag", linear=True, complex_ok=True)


def conjugate_vjp(g, ans, x):
    return np.conj(g)


def conjugate_jvp(t, ans, x):
    return np.conj(t)


define(np.conjugate, name="conj", methods=("conj", "conjugate"), elementwise=True,
       vjp=conjugate_vjp, jvp=conjugate_jvp, display="Conj", linear=True,
       complex_ok=True, sympy=lambda sp, x: sp.conjugate(x))


def angle_vjp(g, ans, z, deg=False):
    # d angle(z) = Im(conj(z) dz) / |z|^2, taken as 0 at z == 0; piecewise constant (0 or
    # pi) on real z.  In degrees, times 180 / pi.
    if deg:
        scale = 57.29577951308232
    else:
        scale = 1.0
    if np.iscomplexobj(z):
        squared = np.real(z * np.conj(z))
        return -1j * scale * np.real(g) * np.conj(z) / np.where(squared == 0, 1.0, squared)
    return np.zeros_like(np.real(g))


def angle_jvp(t, ans, z, deg=False):
    if deg:
        scale = 57.29577951308232
    else:
        scale = 1.0
    if np.iscomplexobj(z):
        squared = np.real(z * np.conj(z))
        return scale * np.imag(np.conj(z) * t) / np.where(squared == 0, 1.0, squared)
    return np.zeros_like(np.real(t))


define(np.angle, elementwise=True, vjp=angle_vjp, jvp=angle_jvp, display="Angle",
       examples=({}, {"deg": True}), complex_ok=True)
