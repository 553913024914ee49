"""Pass 7: inside loops and branches, no operation reads its own target."""
from __future__ import annotations

import ast

from .core import COMPOUND, NormalState, assign, name

def split_self_updates(state: NormalState) -> None:
    """Inside loops and branches, no operation reads its own target.

    Before: ``s = s * x``        After: ``_t0 = s * x`` / ``s = _t0``

    The reverse sweep then finds the old ``s`` (an operand) and the new one (the result)
    under different names.
    """
    def split(body: list[ast.stmt], nested: bool) -> list[ast.stmt]:
        result = []
        for statement in body:
            if isinstance(statement, COMPOUND):
                statement.body = split(statement.body, True)
                statement.orelse = split(statement.orelse, True)
            elif nested and isinstance(statement, ast.Assign) \
                    and isinstance(statement.targets[0], ast.Name) \
                    and not isinstance(statement.value, ast.Name):
                target = statement.targets[0].id
                reads = {n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}
                if target in reads:
                    temporary = state.fresh("_t")
                    result.append(assign(temporary, statement.value, statement))
                    statement = assign(target, name(temporary, statement), statement)
            result.append(statement)
        return result

    state.body = split(state.body, False)
