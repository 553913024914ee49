"""Pass 8: no top-level name is assigned twice."""
from __future__ import annotations

import ast

from .core import NormalState, assigned_in, keep_marks, located, name

class Renamer(ast.NodeTransformer):
    """Renames names by a mapping (``x`` -> ``x_1``), keeping their locations."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.mapping:
            return located(ast.Name(self.mapping[node.id], node.ctx), node)
        return node


def rename_reassignments(state: NormalState) -> None:
    """Give every top-level re-assignment a fresh name, so no value is overwritten.

    Before: ``y = x * 2`` / ``y = np.sin(y)`` / ``return y``
    After:  ``y = x * 2`` / ``y_1 = np.sin(y)`` / ``return y_1``

    Names assigned inside loops and branches keep one name there (the reverse sweep saves
    what those overwrite); a later top-level assignment to such a name is renamed too.
    """
    mapping: dict[str, str] = {}
    assigned = set(state.parsed.params)
    renamed = []
    for statement in state.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            value = Renamer(mapping).visit(statement.value)
            target = statement.targets[0].id
            if target in assigned:
                fresh = state.unique(target)
                mapping[target] = fresh
                target = fresh
            else:
                mapping.pop(target, None)
            assigned.add(target)
            statement = keep_marks(located(ast.Assign([name(target, statement, store=True)],
                                                    value), statement), statement)
        else:
            statement = Renamer(mapping).visit(statement)
            assigned |= assigned_in([statement])
        renamed.append(statement)
    state.body = renamed
