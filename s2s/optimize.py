"""Stage 5 (optimise).

Input: a :class:`~s2s.reverse.ReverseCode`.
Output: the same code, computing the same values, with

* constants folded and identities removed (``x ** (2 - 1)`` -> ``x``, ``g * 1`` -> ``g``);
* dead adjoint statements removed (an assignment whose target nothing reads later).

Multiplication by zero is never folded: ``0 * x`` has the shape of ``x``.
"""
from __future__ import annotations

import ast
import copy
import operator

from .reverse import ReverseCode

_FOLDABLE = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.Pow: operator.pow}


def _number(node: ast.expr):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


_NUMPY_DEFAULTS = {"axis": None, "keepdims": False, "dtype": None, "out": None}


class _Simplifier(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right = _number(node.left), _number(node.right)
        op = type(node.op)
        if left is not None and right is not None and op in _FOLDABLE:
            if not (op is ast.Pow and abs(right) > 64) and not (op is ast.Div and right == 0):
                return ast.copy_location(ast.Constant(_FOLDABLE[op](left, right)), node)
        if op is ast.Pow and right == 1:
            return node.left
        if op is ast.Mult and right == 1:
            return node.left
        if op is ast.Mult and left == 1:
            return node.right
        if op is ast.Div and right == 1:
            return node.left
        if op in (ast.Add, ast.Sub) and right == 0 and not isinstance(node.left, ast.Constant):
            return node.left
        if op is ast.Add and left == 0 and not isinstance(node.right, ast.Constant):
            return node.right
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        """``t[np.s_[1:]]`` -> ``t[1:]``."""
        self.generic_visit(node)
        index = node.slice
        if isinstance(index, ast.Subscript) and isinstance(index.value, ast.Attribute) \
                and index.value.attr == "s_" and isinstance(index.value.value, ast.Name) \
                and index.value.value.id == "np":
            node.slice = index.slice
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        """``np.sum(t, axis=None, keepdims=False)`` -> ``np.sum(t)`` (NumPy's defaults)."""
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "np":
            node.keywords = [k for k in node.keywords
                             if not (k.arg in _NUMPY_DEFAULTS and isinstance(k.value, ast.Constant)
                                     and k.value.value is _NUMPY_DEFAULTS[k.arg])]
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
                return node.operand.operand
            value = _number(node.operand)
            if value is not None:
                return ast.copy_location(ast.Constant(-value), node)
        return node


def fold_constants(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``g * 2 * x ** (2 - 1)`` -> ``g * 2 * x``.

    Identities (``* 1``, ``+ 0``, ``** 1``) are removed only inside larger expressions:
    at the top of an assignment, ``y = x * 1.0`` makes a new array and ``y = x`` would
    not, so a later ``y[i] = ...`` would also change ``x``.
    """
    simplifier = _Simplifier()
    folded = []
    for statement in statements:
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            for name in ("test", "iter"):
                if hasattr(statement, name):
                    setattr(statement, name, simplifier.visit(getattr(statement, name)))
            statement.body = fold_constants(statement.body)
            statement.orelse = fold_constants(statement.orelse)
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp):
            value = statement.value
            value.left = simplifier.visit(value.left)
            value.right = simplifier.visit(value.right)
            if _number(value.left) is not None and _number(value.right) is not None:
                statement.value = simplifier.visit(value)     # constants only: safe
        else:
            statement = simplifier.visit(statement)
        folded.append(statement)
    return folded


def _reads(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node)
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def _impure(node: ast.AST) -> bool:
    """Calls that change state: ``lst.pop()``, ``_saved.append(v)``."""
    return any(isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
               and child.func.attr in ("pop", "append") for child in ast.walk(node))


def eliminate_dead_code(statements: list[ast.stmt], live: set[str]) -> list[ast.stmt]:
    """Drop assignments nothing reads afterwards; ``live`` is what is read after the block.

    Works through branches and loops (a loop's body is solved to a fixpoint, since what
    one iteration reads the previous one must keep); markers and stack operations stay.
    """
    kept, _ = _eliminate(statements, set(live))
    return _drop_orphan_comments(kept)


def _eliminate(statements: list[ast.stmt], live: set[str]) -> tuple[list[ast.stmt], set[str]]:
    kept: list[ast.stmt] = []
    live = set(live)
    for statement in reversed(statements):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            target = statement.targets[0].id
            if target not in live and not _impure(statement.value):
                continue
            live.discard(target)
            live |= _reads(statement.value)
        elif isinstance(statement, ast.If):
            body, live_body = _eliminate(statement.body, live)
            orelse, live_else = _eliminate(statement.orelse, live)
            if not _has_code(body) and not _has_code(orelse):
                continue
            statement.body = body or [ast.Pass()]
            statement.orelse = orelse
            live = live_body | live_else | _reads(statement.test)
        elif isinstance(statement, (ast.For, ast.While)):
            target = statement.target.id if isinstance(statement, ast.For) else None
            header = set(live)
            if target is None:       # a while test is read before every iteration
                header |= _reads(statement.test)
            while True:        # _eliminate trims nested blocks in place: give it a copy
                body, live_body = _eliminate(copy.deepcopy(statement.body), header)
                widened = header | live_body
                if widened == header:
                    break
                header = widened
            if not _has_code(body):
                continue
            statement.body = body
            live = (header - {target}) | _reads(statement.iter if target else statement.test)
        else:
            live |= _reads(statement)
        kept.append(statement)
    kept.reverse()
    return kept, live


def _has_code(statements: list[ast.stmt]) -> bool:
    from .reverse import is_comment
    return any(not is_comment(s) and not isinstance(s, ast.Pass) for s in statements)


def _drop_orphan_comments(statements: list[ast.stmt]) -> list[ast.stmt]:
    """A comment whose statements were all removed says nothing: remove it too."""
    from .reverse import is_comment

    kept = []
    for index, statement in enumerate(statements):
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            statement.body = _drop_orphan_comments(statement.body) or [ast.Pass()]
            statement.orelse = _drop_orphan_comments(statement.orelse)
        following = statements[index + 1] if index + 1 < len(statements) else None
        if is_comment(statement) and (following is None or is_comment(following)):
            continue
        kept.append(statement)
    return kept


def optimize_forward(code):
    """Fold constants and drop tangents nothing reads in forward-mode code."""
    body = fold_constants(code.body)
    live = {code.result} | _reads(code.tangent)
    code.body = eliminate_dead_code(body, live)
    return code


def optimize(code: ReverseCode) -> ReverseCode:
    reverse = fold_constants(code.reverse)
    returned = set().union(*(_reads(gradient) for gradient in code.gradients))
    reverse = eliminate_dead_code(reverse, returned)
    return ReverseCode(code.forward, reverse, code.result, code.seed, code.gradients,
                       code.helpers, captured=code.captured, prebound=code.prebound,
                       saved=code.saved, stack=code.stack, epilogue=code.epilogue)
