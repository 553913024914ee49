"""Pass 3: one assignment per name."""
from __future__ import annotations

import ast

from .core import NormalState, assign, located, map_blocks, name

def lower_multiple_assignments(state: NormalState) -> None:
    """``a = b = e`` and ``a, b = e1, e2`` -> one assignment per name, in Python's order."""
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if not isinstance(statement, ast.Assign):
            return [statement]
        if len(statement.targets) == 1 and not isinstance(statement.targets[0], (ast.Tuple,
                                                                                 ast.List)):
            return [statement]
        lowered = []
        value = statement.value
        if len(statement.targets) > 1:
            temporary = state.fresh("_t")
            lowered.append(assign(temporary, value, statement))
            value = name(temporary, statement)
        for target in statement.targets:
            lowered.extend(unpack(state, target, value, statement))
        return lowered

    state.body = map_blocks(state.body, rewrite)


def unpack(state: NormalState, target: ast.expr, value: ast.expr,
            statement: ast.stmt) -> list[ast.stmt]:
    if not isinstance(target, (ast.Tuple, ast.List)):
        return [located(ast.Assign([target], value), statement)]
    elements = target.elts
    if isinstance(value, (ast.Tuple, ast.List)):
        if len(value.elts) != len(elements):
            raise state.source.unsupported(
                statement, f"cannot unpack {len(value.elts)} values into {len(elements)} names")
        staged, stores = [], []
        for element, item in zip(elements, value.elts):
            temporary = state.fresh("_t")
            staged.append(assign(temporary, item, statement))
            stores.extend(unpack(state, element, name(temporary, statement), statement))
        return staged + stores
    # a value that is not written out: unpack by position (arrays and tuples alike)
    temporary = state.fresh("_t")
    lowered = [assign(temporary, value, statement)]
    for index, element in enumerate(elements):
        item = located(ast.Subscript(name(temporary, statement), ast.Constant(index),
                                      ast.Load()), statement)
        lowered.extend(unpack(state, element, item, statement))
    return lowered
