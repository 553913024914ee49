"""Lowering for arrays of other libraries that NumPy's functions dispatch to (Dask, CuPy).

Input: the optimized generated functions (``ast.FunctionDef``), specialized to the shapes of
arguments of which some are such arrays.  Output: the same functions, with the NumPy calls
those libraries do not implement through ``__array_function__`` replaced by runtime helpers
that keep the array's type (``np.copy(v)`` becomes ``copy_value(v)``: Dask has no
``copy`` function and would compute the array to run NumPy's; ``np.size(v)`` becomes
``size_of(v)``, read from the shape).  Everything else is already
a NumPy call that dispatches, or a runtime helper that makes new arrays ``*_like`` an
operand; nothing here allocates or computes.
"""
from __future__ import annotations

import ast

# np.<name>(...) -> <helper>(...): calls NumPy does not hand to Dask or CuPy arrays
_REPLACED = {"copy": "copy_value", "size": "size_of"}


class _Lowering(ast.NodeTransformer):
    def __init__(self) -> None:
        self.helpers: set[str] = set()

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                and function.value.id == "np" and function.attr in _REPLACED \
                and (not node.keywords or function.attr == "size"):
            helper = _REPLACED[function.attr]
            self.helpers.add(helper)
            return ast.copy_location(ast.Call(ast.Name(helper, ast.Load()), node.args,
                                              node.keywords),
                                     node)
        return node


def lower_for_dispatch(functions: list[ast.FunctionDef]) -> tuple[list[ast.FunctionDef], set[str]]:
    """The functions with dispatch-safe calls, and the runtime helpers they now use."""
    lowering = _Lowering()
    lowered = [ast.fix_missing_locations(lowering.visit(function)) for function in functions]
    return lowered, lowering.helpers
