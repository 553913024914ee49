"""Pass 1b: nested ``def``s and lambdas become separate functions."""
from __future__ import annotations

import ast

from .core import NormalState, is_lambda_assignment, located

def lift_local_functions(state: NormalState) -> None:
    """Nested ``def``s and lambdas become separate functions; what they capture, parameters.

    Before: ``def scale(y): return y * w`` / ``z = scale(x)``
    After:  (lifted) ``def scale(y, w): return y * w`` / ``z = scale(x, w)``

    The captured ``w`` is then an ordinary argument, so its gradient flows like any other.
    Definitions inside ``if`` and loop bodies are lifted too.  The captured values are passed
    at each call, which is Python's late binding: a ``lambda v: v * i`` defined in a loop
    reads the ``i`` of the moment it is called.  So that one name means one function, a
    local function must be defined once (not in two branches, not also assigned), and be
    called only after its definition in the same block (or in blocks nested there).
    """
    definitions: dict[str, tuple[ast.FunctionDef, tuple]] = {}
    state.body = _take_definitions(state, state.body, (), None, definitions)
    if not definitions:
        return
    lifted = {**state.lifted, **{name: definition
                                 for name, (definition, _) in definitions.items()}}
    body = state.body
    outer = set(state.parsed.params) | {node.id for statement in body for node in ast.walk(statement)
                                        if isinstance(node, ast.Name)
                                        and isinstance(node.ctx, ast.Store)}
    for node in _stores(body):
        if node.id in definitions:
            raise state.source.unsupported(
                node, f"'{node.id}' names a local function and is also assigned",
                hint="give the local function a name of its own")
    _check_calls_follow_definitions(state, definitions)
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


def _take_definitions(state: NormalState, body: list[ast.stmt], path: tuple, block,
                      found: dict) -> list[ast.stmt]:
    """``body`` without its local functions, which go to ``found`` (name -> definition and
    the place it was defined: one (block, index) pair per enclosing block)."""
    kept = []
    for index, statement in enumerate(body):
        place = path + ((block, index),)
        definition = None
        if isinstance(statement, ast.FunctionDef):
            definition = statement
        elif is_lambda_assignment(statement):
            function = statement.value
            definition = located(ast.FunctionDef(
                statement.targets[0].id, function.args,
                [located(ast.Return(function.body), function.body)], [], None), statement)
        if definition is not None:
            if definition.name in found:
                first = found[definition.name][0]
                raise state.source.unsupported(
                    statement, f"the local function '{definition.name}' is defined twice "
                               f"(first on line {state.source.location(first).line})",
                    hint="give each definition a name of its own")
            found[definition.name] = (definition, place)
            statement.s2s_place = place        # type: ignore[attr-defined]
            continue
        statement.s2s_place = place            # type: ignore[attr-defined]
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            statement.body = _take_definitions(state, statement.body, place,
                                               (id(statement), "body"), found) \
                or [located(ast.Pass(), statement)]
            statement.orelse = _take_definitions(state, statement.orelse, place,
                                                 (id(statement), "orelse"), found)
        kept.append(statement)
    return kept


def _stores(body: list[ast.stmt]):
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node


def _check_calls_follow_definitions(state: NormalState, definitions: dict) -> None:
    """A local function defined in a block is called only where it is surely defined:
    after its definition, in the same block or one nested there.  (A call from another local
    function counts as made where that function is defined.)"""
    def defined_at(callee: str, place: tuple) -> bool:
        where = definitions[callee][1]
        return len(place) >= len(where) and place[:len(where) - 1] == where[:-1] \
            and place[len(where) - 1][0] == where[-1][0] and place[len(where) - 1][1] > where[-1][1]

    def check(tree: ast.AST, place: tuple, caller: str | None) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in definitions and node.func.id != caller:
                callee = node.func.id
                if caller is not None and len(definitions[callee][1]) == 1:
                    continue       # a top-level helper, called by another: late binding
                if not defined_at(callee, place):
                    line = state.source.location(definitions[callee][0]).line
                    raise state.source.unsupported(
                        node, f"the local function '{callee}' is called where it may not be "
                              f"defined (it is defined on line {line}, in another block or "
                              "later)", hint="define the function before the call, in the "
                                             "same block or at the top of the function")

    for statement in _all_statements(state.body):
        if not hasattr(statement, "s2s_place"):
            continue              # the pass left where a block held only definitions
        if not isinstance(statement, (ast.If, ast.For, ast.While)):
            check(statement, statement.s2s_place, None)
        else:
            check(statement.test if not isinstance(statement, ast.For) else statement.iter,
                  statement.s2s_place, None)
    for name, (definition, place) in definitions.items():
        check(definition, place + ((None, 0),), name)


def _all_statements(body):
    for statement in body:
        yield statement
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            yield from _all_statements(statement.body)
            yield from _all_statements(statement.orelse)


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
