"""Pass 2: ``y += e`` -> ``y = y + e``."""
from __future__ import annotations

import ast
import copy

from .core import NormalState, located, map_blocks

def lower_augmented_assignments(state: NormalState) -> None:
    """``y += e`` -> ``y = y + e``; ``y: float = e`` -> ``y = e``."""
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if isinstance(statement, ast.AugAssign):
            target = statement.target
            load = copy.deepcopy(target)
            for node in ast.walk(load):
                if hasattr(node, "ctx"):
                    node.ctx = ast.Load()
            value = located(ast.BinOp(load, statement.op, statement.value), statement)
            lowered = located(ast.Assign([target], value), statement)
            # on an array, y += e changes y in place: names sharing y see the change
            lowered.s2s_augmented = True          # type: ignore[attr-defined]
            return [lowered]
        if isinstance(statement, ast.AnnAssign):
            if statement.value is None:
                return []
            return [located(ast.Assign([statement.target], statement.value), statement)]
        return [statement]

    state.body = map_blocks(state.body, rewrite)
