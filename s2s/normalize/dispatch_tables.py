"""Pass 0: a local dict of functions, called through a key, becomes branches.

Before: ``activations = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}`` /
        ``y = np.sum(activations[name](x))``
After:  ``_table0 = lambda z: np.maximum(z, 0.0)`` / ``_key0 = name`` /
        ``if _key0 == 'tanh': _call0 = np.tanh(x)`` /
        ``elif _key0 == 'relu': _call0 = _table0(x)`` /
        ``else: raise KeyError(_key0)`` / ``y = np.sum(_call0)``

The function a key selects is only known when the function runs, but the table is a
literal: each entry is a callee s2s can differentiate statically, so the call becomes one
branch per entry (and a lambda entry a local function, lifted by the next pass).  The
branches compare keys with ``==``, as the dict lookup does for strings and numbers.  A
table qualifies when it is bound once, to a dict display whose keys are constants and
whose values are lambdas, names or dotted paths, and when every use of it is a call
``table[key](...)`` outside a short-circuit, a conditional expression or a lambda (those
would change when the call runs).  Anything else is left alone for the later passes.
"""
from __future__ import annotations

import ast
import copy

from .core import COMPOUND, NormalState, assign, is_global_path, located, name

_DELAYING = (ast.BoolOp, ast.IfExp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp)


def lower_dispatch_tables(state: NormalState) -> None:
    """``table[key](args)`` over a local dict display of functions -> ``if``/``elif``."""
    tables = _tables(state.body)
    if tables:
        state.body = _lower_block(state, state.body, tables)


def _tables(body: list[ast.stmt]) -> dict[str, ast.Dict]:
    bindings: dict[str, list[ast.AST]] = {}
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bindings.setdefault(node.id, []).append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bindings.setdefault(node.name, []).append(node)
    candidates = {}
    for statement in body:                  # bound at the top level, before the calls
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, ast.Dict) \
                and len(bindings.get(statement.targets[0].id, ())) == 1 \
                and _is_table(statement.value):
            candidates[statement.targets[0].id] = statement.value
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Name) and node.id in candidates \
                and isinstance(node.ctx, ast.Load) and not _called_through(node, body):
            del candidates[node.id]
    return candidates


def _is_table(display: ast.Dict) -> bool:
    keys_ok = all(isinstance(key, ast.Constant) and isinstance(key.value, (str, int))
                  and not isinstance(key.value, bool) for key in display.keys)
    values_ok = all(isinstance(value, ast.Lambda) or is_global_path(value, set())
                    or isinstance(value, ast.Name) for value in display.values)
    return bool(display.keys) and keys_ok and values_ok \
        and len({key.value for key in display.keys}) == len(display.keys)


def _called_through(use: ast.Name, body: list[ast.stmt]) -> bool:
    """Is this read of a table the ``table`` of a call ``table[key](...)``, not delayed?"""
    for statement in body:
        for parent, delayed in _parents(statement, False):
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Subscript) \
                    and parent.func.value is use:
                return not delayed
    return False


def _parents(node: ast.AST, delayed: bool):
    yield node, delayed
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            yield from _parents(child, False)
        else:
            yield from _parents(child, delayed or isinstance(node, _DELAYING))


def _lower_block(state: NormalState, body: list[ast.stmt],
                 tables: dict[str, ast.Dict]) -> list[ast.stmt]:
    lowered: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id in tables \
                and statement.value is tables[statement.targets[0].id]:
            lowered.extend(_entries(state, statement.targets[0].id, tables))
            continue
        if isinstance(statement, COMPOUND):
            statement.body = _lower_block(state, statement.body, tables)
            statement.orelse = _lower_block(state, statement.orelse, tables)
        rewriter = _Dispatch(state, tables)
        if isinstance(statement, COMPOUND):     # only the header: bodies were done above
            if isinstance(statement, ast.For):
                statement.iter = rewriter.visit(statement.iter)
            elif isinstance(statement, ast.If):
                statement.test = rewriter.visit(statement.test)
            elif isinstance(statement, ast.While) and _mentions(statement.test, tables):
                raise state.source.unsupported(
                    statement.test, "a call through a table of functions in a while "
                    "condition", hint="call it before the loop and at the end of its body")
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            statement = rewriter.visit(statement)
        lowered.extend(rewriter.emitted)
        lowered.append(statement)
    return lowered


def _mentions(node: ast.AST, tables: dict[str, ast.Dict]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in tables for n in ast.walk(node))


def _entries(state: NormalState, table: str, tables: dict[str, ast.Dict]) -> list[ast.stmt]:
    """The table's lambdas, each bound to a name of its own (a local function)."""
    display = tables[table]
    statements = []
    for position, value in enumerate(display.values):
        if isinstance(value, ast.Lambda):
            entry = state.fresh(f"{table}_entry")
            statements.append(assign(entry, value, value))
            display.values[position] = name(entry, value)
    return statements


class _Dispatch(ast.NodeTransformer):
    """Hoists each ``table[key](args)`` of one statement into ``if``/``elif`` branches."""

    def __init__(self, state: NormalState, tables: dict[str, ast.Dict]) -> None:
        self.state = state
        self.tables = tables
        self.emitted: list[ast.stmt] = []

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        function = node.func
        if not (isinstance(function, ast.Subscript) and isinstance(function.value, ast.Name)
                and function.value.id in self.tables):
            return node
        display = self.tables[function.value.id]
        key = self.state.fresh("_key")
        self.emitted.append(assign(key, function.slice, function))
        result = self.state.fresh("_call")
        missing = located(ast.Raise(located(ast.Call(name("KeyError", node), [name(key, node)],
                                                     []), node), None), node)
        chain: list[ast.stmt] = [missing]
        for entry_key, entry in reversed(list(zip(display.keys, display.values))):
            test = located(ast.Compare(name(key, node), [ast.Eq()],
                                       [located(ast.Constant(entry_key.value), node)]), node)
            call = located(ast.Call(_copy(entry, node), [_copy(a, a) for a in node.args],
                                    [_copy(k, k) for k in node.keywords]), node)
            chain = [located(ast.If(test, [assign(result, call, node)], chain), node)]
        self.emitted.extend(chain)
        return name(result, node)


def _copy(value: ast.AST, at: ast.AST) -> ast.AST:
    """A copy for one branch, located where ``at`` is (each branch owns its nodes)."""
    copied = copy.deepcopy(value)
    if copied is not at:
        for node in ast.walk(copied):
            if not hasattr(node, "lineno") or node is copied:
                ast.copy_location(node, at)
    return copied
