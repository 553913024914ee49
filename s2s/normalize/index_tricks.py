"""Pass 6b: the index tricks ``np.r_[...]`` and ``np.c_[...]`` -> ``np.concatenate`` of their
items, each promoted as NumPy promotes it.

Before: ``y = np.r_[a, 0.0, 0:3]``
After:  ``_t0 = np.atleast_1d(a)`` / ``_t1 = np.result_type(_t0, 0.0)`` /
        ``_t2 = np.full(1, 0.0, _t1)`` / ``_t3 = np.r_[0:3]`` / ``_t4 = [_t0, _t2, _t3]`` /
        ``y = np.concatenate(_t4, axis=0)``

``np.r_`` makes each item at least one-dimensional and joins them along the first axis;
``np.c_`` makes a vector a column (``np.column_stack([item])``, which leaves arrays of two
or more dimensions alone) and joins along the last axis.  A number written in the brackets
is cast to the result's dtype as NumPy casts it (a Python number does not widen a float32
array); a slice stays an index trick of constants (``np.r_[0:3]``).  Items that hold
differentiated values so meet ``np.concatenate``'s rule.  A string directive (``np.r_['0,2',
...]``, ``'r'``, ``'c'``) is left as it is: it is refused where it meets a differentiated
value.  Runs after ``lower_to_three_address``, so the items are atoms.
"""
from __future__ import annotations

import ast

import numpy as np

from .core import NormalState, assign, keep_marks, located, map_blocks, name

TRICKS = {"r_": (0, 1), "c_": (-1, 2)}        # the trick's axis and ndmin


def _trick(state: NormalState, value: ast.expr) -> str | None:
    """``"r_"`` or ``"c_"`` if ``value`` subscripts NumPy's index trick of that name."""
    if not isinstance(value, ast.Subscript):
        return None
    node = value.value
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id in state.local_names \
            or root.id in state.parsed.params:
        return None
    resolved = state.parsed.scope.resolve_path(node)
    for trick in TRICKS:
        if resolved is getattr(np, trick):
            return trick
    return None


def _numpy(attribute: str, like: ast.AST) -> ast.expr:
    return located(ast.Attribute(name("np", like), attribute, ast.Load()), like)


def _call(function: str, arguments: list[ast.expr], like: ast.AST,
          keywords: list[ast.keyword] = ()) -> ast.expr:
    return located(ast.Call(_numpy(function, like), arguments, list(keywords)), like)


def _is_number(item: ast.expr) -> bool:
    return isinstance(item, ast.Constant) and isinstance(item.value, (int, float, complex)) \
        and not isinstance(item.value, bool)


def lower_index_tricks(state: NormalState) -> None:
    """``y = np.r_[a, b]`` -> ``y = np.concatenate([np.atleast_1d(a), np.atleast_1d(b)])``."""

    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1 \
                or not isinstance(statement.targets[0], ast.Name):
            return [statement]
        trick = _trick(state, statement.value)
        if trick is None:
            return [statement]
        index = statement.value.slice
        items = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if not items or isinstance(items[0], ast.Constant) and isinstance(items[0].value, str):
            return [statement]                           # a directive: left to the refusal
        axis, ndmin = TRICKS[trick]
        before: list[ast.stmt] = []
        promoted: list[ast.expr | None] = []
        for item in items:
            if isinstance(item, ast.Slice):              # an arange or linspace of constants
                piece = located(ast.Subscript(statement.value.value, item, ast.Load()), item)
            elif _is_number(item):
                promoted.append(None)
                continue
            elif trick == "r_":
                piece = _call("atleast_1d", [item], item)
            else:
                single = state.fresh("_t")
                before.append(assign(single, located(ast.List([item], ast.Load()), item),
                                     statement))
                piece = _call("column_stack", [name(single, statement)], item)
            temporary = state.fresh("_t")
            before.append(keep_marks(assign(temporary, piece, statement), statement))
            promoted.append(name(temporary, statement))
        numbers = [item for item in items if _is_number(item)]
        if numbers:                                      # NumPy's dtype for the numbers
            dtype = state.fresh("_t")
            operands = [item for item in promoted if item is not None] + numbers
            before.append(assign(dtype, _call("result_type", operands, statement), statement))
            numbered = iter(numbers)
            for position, item in enumerate(promoted):
                if item is not None:
                    continue
                shape = ast.Constant((1,) * ndmin)
                full = _call("full", [shape, next(numbered), name(dtype, statement)], statement)
                temporary = state.fresh("_t")
                before.append(assign(temporary, full, statement))
                promoted[position] = name(temporary, statement)
        pieces = state.fresh("_t")
        before.append(assign(pieces, located(ast.List(promoted, ast.Load()), statement),
                             statement))
        joined = _call("concatenate", [name(pieces, statement)], statement,
                       [ast.keyword("axis", ast.Constant(axis))])
        return before + [keep_marks(assign(statement.targets[0].id, joined, statement),
                                    statement)]

    state.body = map_blocks(state.body, rewrite)
