"""Pass 1b: nested ``def``s and lambdas become separate functions."""
from __future__ import annotations

import ast

from .core import NormalState, is_lambda_assignment, located

def lift_local_functions(state: NormalState) -> None:
    """Nested ``def``s and lambdas become separate functions; what they capture, parameters.

    Before: ``def scale(y): return y * w`` / ``z = scale(x)``
    After:  (lifted) ``def scale(y, w): return y * w`` / ``z = scale(x, w)``

    The captured ``w`` is then an ordinary argument, so its gradient flows like any other.
    """
    lifted: dict[str, ast.FunctionDef] = {}
    body = []
    for statement in state.body:
        if isinstance(statement, ast.FunctionDef):
            lifted[statement.name] = statement
        elif is_lambda_assignment(statement):
            function = statement.value
            definition = ast.FunctionDef(statement.targets[0].id, function.args,
                                         [located(ast.Return(function.body), function.body)],
                                         [], None)
            lifted[definition.name] = located(definition, statement)
        else:
            body.append(statement)
    if not lifted:
        return
    lifted = {**state.lifted, **lifted}
    outer = set(state.parsed.params) | {node.id for statement in body for node in ast.walk(statement)
                                        if isinstance(node, ast.Name)
                                        and isinstance(node.ctx, ast.Store)}
    captured = {name: _free_names(definition) & outer - set(lifted)
                for name, definition in lifted.items()}
    changed = True
    while changed:                       # a helper calling a helper captures what it captures
        changed = False
        for name, definition in lifted.items():
            for callee in _called_names(definition) & set(lifted):
                if not captured[callee] <= captured[name]:
                    captured[name] |= captured[callee]
                    changed = True
    order = {name: sorted(names) for name, names in captured.items()}
    rewrite = _CaptureArguments(order)
    state.body = [rewrite.visit(statement) for statement in body]
    for name, definition in lifted.items():
        definition = rewrite.visit(definition)
        definition.args.args = definition.args.args + [ast.arg(c) for c in order[name]]
        lifted[name] = definition
    for statement in state.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in lifted and not rewrite.is_call(node):
                raise state.source.unsupported(
                    node, f"the local function '{node.id}' is used as a value",
                    hint="call it directly; s2s differentiates calls, not function values")
    state.lifted = lifted


def _free_names(definition: ast.FunctionDef) -> set[str]:
    parameters = {a.arg for a in definition.args.posonlyargs + definition.args.args
                  + definition.args.kwonlyargs}
    stores = {node.id for node in ast.walk(definition)
              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    loads = {node.id for node in ast.walk(definition)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return loads - parameters - stores


def _called_names(definition: ast.FunctionDef) -> set[str]:
    return {node.func.id for node in ast.walk(definition)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


class _CaptureArguments(ast.NodeTransformer):
    """``scale(x)`` -> ``scale(x, w)`` for every lifted function that captured ``w``."""

    def __init__(self, captured: dict[str, list[str]]):
        self.captured = captured
        self.calls: set[int] = set()

    def is_call(self, node: ast.Name) -> bool:
        return id(node) in self.calls

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.captured:
            self.calls.add(id(node.func))
            extra = [located(ast.Name(name, ast.Load()), node) for name in
                     self.captured[node.func.id]]
            node.args = node.args + extra
        return node
