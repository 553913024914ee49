"""Python's operators as the NumPy functions they stand for: the one table of them.

``a % b`` is ``np.remainder(a, b)``, for the code generator (which reads the operator
from the syntax tree) and for the tape (whose ``Tensor.__mod__`` calls the ufunc) alike;
the derivative is then the registry's rule for that function, or its declared zero
(``//`` is ``np.floor_divide``, ``not`` is ``np.logical_not``, comparisons are
``np.less`` and the rest).  No consumer keeps a table of its own.

Each entry is ``(syntax node class, dunder stem or None, the NumPy function)``; the
stem names the tape's methods (``"mod"``: ``__mod__`` and ``__rmod__``).
"""
from __future__ import annotations

import ast
import operator

import numpy as np

from .registry import define_nondifferentiable

BINARY = (
    (ast.Add, "add", np.add),
    (ast.Sub, "sub", np.subtract),
    (ast.Mult, "mul", np.multiply),
    (ast.Div, "truediv", np.true_divide),
    (ast.FloorDiv, "floordiv", np.floor_divide),
    (ast.Mod, "mod", np.remainder),
    (ast.Pow, "pow", np.power),
    (ast.MatMult, "matmul", np.matmul),
    (ast.LShift, "lshift", np.left_shift),
    (ast.RShift, "rshift", np.right_shift),
    (ast.BitAnd, "and", np.bitwise_and),
    (ast.BitOr, "or", np.bitwise_or),
    (ast.BitXor, "xor", np.bitwise_xor),
)
UNARY = (
    (ast.USub, "neg", np.negative),
    (ast.UAdd, "pos", np.positive),
    (ast.Invert, "invert", np.invert),
    (ast.Not, None, np.logical_not),
)
COMPARISONS = (
    (ast.Lt, "lt", np.less),
    (ast.LtE, "le", np.less_equal),
    (ast.Gt, "gt", np.greater),
    (ast.GtE, "ge", np.greater_equal),
    (ast.Eq, "eq", np.equal),
    (ast.NotEq, "ne", np.not_equal),
    (ast.Is, None, operator.is_),
    (ast.IsNot, None, operator.is_not),
    (ast.In, None, operator.contains),
    (ast.NotIn, None, operator.contains),
)

#: syntax node class -> the NumPy (or ``operator``) function it computes
FUNCTIONS = {node: function for node, _, function in BINARY + UNARY + COMPARISONS}
#: the tape's operator methods: stem -> function (``"mod"``: ``__mod__``, ``__rmod__``);
#: the builtins ``divmod`` and ``abs`` call ``__divmod__`` and ``__abs__``
DUNDERS = {stem: function for _, stem, function in BINARY + UNARY + COMPARISONS
           if stem is not None}
DUNDERS.update({"divmod": np.divmod, "abs": np.absolute})

# Integer-valued operations: their derivative is zero wherever it exists.  Comparisons,
# ``//`` and ``not`` are declared with the other predicates in nondiff.py.
define_nondifferentiable(np.left_shift, np.right_shift, np.bitwise_and, np.bitwise_or,
                         np.bitwise_xor, np.invert, operator.is_, operator.is_not,
                         operator.contains)


def function_of(node: ast.AST):
    """The function an operator node stands for (``ast.Mod()`` -> ``np.remainder``)."""
    return FUNCTIONS[type(node)]
