"""Stage 5 (optimise).

Input: a :class:`~s2s.reverse.ReverseCode`.
Output: the same code, computing the same values, with

* constants folded and identities removed (``x ** (2 - 1)`` -> ``x``, ``g * 1`` -> ``g``);
* dead adjoint statements removed (an assignment whose target nothing reads later).

Multiplication by zero is never folded: ``0 * x`` has the shape of ``x``.
"""
from __future__ import annotations

import ast
import operator

from .reverse import ReverseCode

_FOLDABLE = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.Pow: operator.pow}


def _number(node: ast.expr):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


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
    """``g * 2 * x ** (2 - 1)`` -> ``g * 2 * x``."""
    simplifier = _Simplifier()
    return [simplifier.visit(statement) for statement in statements]


def _reads(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node)
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def eliminate_dead_code(statements: list[ast.stmt], live: set[str]) -> list[ast.stmt]:
    """Drop assignments nothing reads afterwards; ``live`` is what is read after the block."""
    kept: list[ast.stmt] = []
    live = set(live)
    for statement in reversed(statements):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            target = statement.targets[0].id
            if target not in live:
                continue
            live.discard(target)
            live |= _reads(statement.value)
        else:
            live |= _reads(statement)
        kept.append(statement)
    kept.reverse()
    return _drop_orphan_comments(kept)


def _drop_orphan_comments(statements: list[ast.stmt]) -> list[ast.stmt]:
    """A comment whose statements were all removed says nothing: remove it too."""
    from .reverse import COMMENT_PREFIX

    def is_comment(statement):
        return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
            and isinstance(statement.value.value, str) \
            and statement.value.value.startswith(COMMENT_PREFIX)

    kept = []
    for index, statement in enumerate(statements):
        following = statements[index + 1] if index + 1 < len(statements) else None
        if is_comment(statement) and (following is None or is_comment(following)):
            continue
        kept.append(statement)
    return kept


def optimize(code: ReverseCode) -> ReverseCode:
    reverse = fold_constants(code.reverse)
    returned = set().union(*(_reads(gradient) for gradient in code.gradients))
    reverse = eliminate_dead_code(reverse, returned)
    return ReverseCode(code.forward, reverse, code.result, code.seed, code.gradients,
                       code.helpers)
