"""What the numba lowering's passes read and build in generated code: small predicates and
constructors over its ``ast`` (:mod:`s2s.lower_numba`, :mod:`s2s.numba_allocations`).

Input: statements and expressions of generated derivative code (comments kept as string
statements).  Output: facts about them (which NumPy function a call is, which names a
statement reads, whether an expression only computes a value) and new nodes; nothing here
rewrites code.
"""
from __future__ import annotations

import ast
import copy

from .reverse import COMMENT_PREFIX

SHAPE_BUILDERS = {"full", "zeros", "ones", "empty", "broadcast_to"}


def is_comment(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str) and node.value.value.startswith(COMMENT_PREFIX)


def numpy_attribute(attribute: str) -> ast.Attribute:
    return ast.Attribute(ast.Name("np", ast.Load()), attribute, ast.Load())


def make_call(function: ast.expr, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    return ast.Call(function, list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def int_constant(value: int) -> ast.expr:
    return ast.Constant(value) if value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-value))


def numpy_call_name(node: ast.AST) -> str | None:
    """``np.sum(...)`` -> ``"sum"``; ``np.multiply.outer(...)`` -> ``"multiply.outer"``."""
    if not isinstance(node, ast.Call):
        return None
    parts = []
    function = node.func
    while isinstance(function, ast.Attribute):
        parts.append(function.attr)
        function = function.value
    if isinstance(function, ast.Name) and function.id == "np" and parts:
        return ".".join(reversed(parts))
    return None


def assignment_counts(function: ast.FunctionDef) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.For)):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    counts[name.id] = counts.get(name.id, 0) + 1
    for argument in function.args.args:
        counts[argument.arg] = counts.get(argument.arg, 0) + 1
    return counts


def is_pop(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
        and value.func.attr == "pop" and isinstance(value.func.value, ast.Name) \
        and value.func.value.id.startswith(("_stack", "_saved"))


def is_prebinding(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant) \
        and statement.value.value is None


def constant_axes(node: ast.expr) -> tuple[int, ...] | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return value
    return None


def is_integer_expression(node: ast.expr, integers: set[str]) -> bool:
    """Whether ``node`` is an integer given the names ``integers`` that hold one: a
    constant, such a name, a length, a shape entry or size, arithmetic of those (not ``/``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return node.id in integers
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Div):
        return is_integer_expression(node.left, integers) \
            and is_integer_expression(node.right, integers)
    if isinstance(node, ast.UnaryOp):
        return is_integer_expression(node.operand, integers)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("len", "int")
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
        return node.value.attr == "shape"
    if isinstance(node, ast.Attribute):
        return node.attr in ("size", "ndim", "start", "step", "stop")
    return False


def integer_names(function: ast.FunctionDef) -> set[str]:
    """Names that only ever hold integers: loop indices over ranges, lengths, counters,
    shape entries, and arithmetic of those (a small fixpoint)."""
    integers: set[str] = set()

    bindings: dict[str, list[ast.expr]] = {}
    loops: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and (is_prebinding(node) or is_pop(node.value)):
            continue                  # the value before the first binding; a restored one
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            iterator = node.iter
            if isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) \
                    and iterator.func.id in ("range", "reversed"):
                loops.add(node.target.id)
            elif isinstance(iterator, ast.Name) or isinstance(iterator, ast.Subscript):
                loops.add(node.target.id)       # over a range variable (checked below)
            else:
                bindings.setdefault(node.target.id, []).append(iterator)
    ranges = {name for name, values in bindings.items()
              if all(isinstance(v, ast.Call) and isinstance(v.func, ast.Name)
                     and v.func.id == "range" for v in values)}
    for node in ast.walk(function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) \
                and node.target.id in loops:
            iterator = node.iter
            base = iterator.args[0] if isinstance(iterator, ast.Call) \
                and iterator.func.id == "reversed" else iterator
            if isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in ranges:
                loops.discard(node.target.id)
    integers |= loops
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name not in integers \
                    and all(is_integer_expression(v, integers) for v in values) \
                    and name not in ranges:
                integers.add(name)
                changed = True
    return integers


PURE_HELPERS = {"full", "expand_dims", "zeros_like", "unbroadcast", "broadcast_like",
                "multiply_outer", "range", "len", "min", "max", "abs", "float", "int"}


PURE_METHODS = {"copy", "sum", "reshape", "transpose", "astype", "dot"}


def is_pure(node: ast.AST) -> bool:
    """Whether evaluating ``node`` only computes a value: arithmetic, NumPy functions (not
    ``np.random``), the numba runtime helpers, a few array methods; no stores."""
    for inner in ast.walk(node):
        if isinstance(inner, (ast.NamedExpr, ast.Lambda, ast.Yield, ast.Await)):
            return False
        if isinstance(inner, ast.Call):
            name = numpy_call_name(inner)
            if name is not None:
                if name.startswith("random"):
                    return False
            elif isinstance(inner.func, ast.Name):
                if inner.func.id not in PURE_HELPERS:
                    return False
            elif not (isinstance(inner.func, ast.Attribute)
                      and inner.func.attr in PURE_METHODS):
                return False
    return True


def name_loads(node: ast.AST) -> dict[str, int]:
    counts: dict[str, int] = {}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
            counts[inner.id] = counts.get(inner.id, 0) + 1
    return counts


class Substitute(ast.NodeTransformer):
    def __init__(self, name: str, value: ast.expr):
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return copy.deepcopy(self.value)
        return node


def pushed_stack(statement: ast.stmt) -> str | None:
    """The stack ``_saved_y`` of a push ``_saved_y.append(y)``, else None."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
            and isinstance(statement.value.func, ast.Attribute) \
            and statement.value.func.attr == "append" \
            and isinstance(statement.value.func.value, ast.Name) \
            and statement.value.func.value.id.startswith("_saved"):
        return statement.value.func.value.id
    return None


def harmless(statement: ast.stmt) -> bool:
    """A statement an expression may move across (no effect on its value): a comment, a
    push (``_saved_x.append(x)``), a binding of names to a pure value or a restored one."""
    if is_comment(statement):
        return True
    if isinstance(statement, ast.Expr):
        return pushed_stack(statement) is not None \
            and is_pure(ast.Tuple(statement.value.args, ast.Load()))
    if isinstance(statement, ast.Assign):
        return all(isinstance(t, ast.Name) for t in statement.targets) and (
            is_pure(statement.value) or is_pop(statement.value))
    return False
