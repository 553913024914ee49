"""Pass 1a: ``with`` blocks of managers that do not touch the values become straight code.

Before: ``with np.errstate(divide="ignore"):`` / ``y = np.log(x)``
After:  ``_with0 = np.errstate(divide="ignore")`` / ``_with0.__enter__()`` /
        ``y = np.log(x)`` / ``_with0.__exit__(None, None, None)``

The body is differentiated as if it were inline; the manager's ``__enter__`` and
``__exit__`` are discarded calls, so they run in the forward sweep around the body's primal
statements (``np.errstate`` applies to the values computed there).  The reverse sweep runs
outside the manager.  Only the managers in :data:`MANAGERS` are accepted: they change how
NumPy reports floating-point errors or how warnings are shown, never a value or the control
flow (``contextlib.suppress`` skips the rest of the body, so it is refused).  A ``return``
(or a ``break``/``continue`` leaving the body) exits the managers first; if the body
raises, ``__exit__`` is not called.  An ``as`` target is a value that is not differentiated
(``with warnings.catch_warnings(record=True) as caught``).
"""
from __future__ import annotations

import ast
import warnings

import numpy as np

from .core import COMPOUND, NormalState, assign, located, name

#: the context managers whose ``with`` blocks are differentiated: they change only how
#: floating-point errors and warnings are reported
MANAGERS = {np.errstate: "np.errstate", warnings.catch_warnings: "warnings.catch_warnings"}


def lower_with_blocks(state: NormalState) -> None:
    """``with m: body`` -> ``_with0 = m`` / ``_with0.__enter__()`` / body / ``__exit__``."""
    state.body = _lower_block(state, state.body)


def _lower_block(state: NormalState, body: list[ast.stmt]) -> list[ast.stmt]:
    lowered: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, COMPOUND):
            statement.body = _lower_block(state, statement.body)
            statement.orelse = _lower_block(state, statement.orelse)
        if not isinstance(statement, ast.With):
            lowered.append(statement)
            continue
        inner = _lower_block(state, statement.body)
        exits = []
        for item in statement.items:
            manager = state.fresh("_with")
            lowered.append(assign(manager, item.context_expr, item.context_expr))
            enter = _method_call(manager, "__enter__", [], item.context_expr)
            if item.optional_vars is None:
                lowered.append(located(ast.Expr(enter), item.context_expr))
            else:
                lowered.append(located(ast.Assign([item.optional_vars], enter),
                                       item.context_expr))
            exits.insert(0, located(ast.Expr(_method_call(
                manager, "__exit__", [ast.Constant(None) for _ in range(3)], statement)), statement))
        inner = _exit_before_jumps(state, inner, exits, in_loop=False)
        lowered.extend(inner)
        if not (inner and isinstance(inner[-1], (ast.Return, ast.Break, ast.Continue))):
            lowered.extend(exits)
    return lowered


def _exit_before_jumps(state: NormalState, body: list[ast.stmt], exits: list[ast.stmt],
                       in_loop: bool) -> list[ast.stmt]:
    """A ``return e`` in a with-block -> ``_value0 = e`` / ``__exit__`` / ``return _value0``
    (the value is computed inside the block, as Python does); a ``break``/``continue``
    that leaves the block exits the managers first."""
    out: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.Return):
            if statement.value is None:
                out.extend(_copies(exits) + [statement])
            else:
                value = state.fresh("_value")
                out.append(assign(value, statement.value, statement))
                out.extend(_copies(exits))
                out.append(located(ast.Return(name(value, statement)), statement))
            continue
        if isinstance(statement, (ast.Break, ast.Continue)) and not in_loop:
            out.extend(_copies(exits) + [statement])
            continue
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            loop = isinstance(statement, (ast.For, ast.While))
            statement.body = _exit_before_jumps(state, statement.body, exits, in_loop or loop)
            statement.orelse = _exit_before_jumps(state, statement.orelse, exits, in_loop)
        out.append(statement)
    return out


def _copies(statements: list[ast.stmt]) -> list[ast.stmt]:
    import copy
    return [copy.deepcopy(statement) for statement in statements]


def check_with(state: NormalState, statement: ast.With) -> None:
    """The fence's part: an allowed manager, a plain ``as`` name, no jump out of the body."""
    source = state.source
    allowed = ", ".join(sorted(MANAGERS.values()))
    for item in statement.items:
        call = item.context_expr
        manager = state.parsed.scope.resolve_path(call.func) \
            if isinstance(call, ast.Call) else None
        if not any(manager is known for known in MANAGERS):
            raise source.unsupported(
                call, f"the with-block manager '{ast.unparse(call)}' is not known to leave "
                      "the values and the control flow alone",
                hint=f"s2s differentiates with-blocks of {allowed}; move other with-blocks "
                     "out of the differentiated function")
        if item.optional_vars is not None and not isinstance(item.optional_vars, ast.Name):
            raise source.unsupported(item.optional_vars, "a with-block 'as' target must be "
                                     "a plain name")


def _method_call(owner: str, method: str, arguments, like: ast.AST) -> ast.Call:
    function = located(ast.Attribute(name(owner, like), method, ast.Load()), like)
    return located(ast.Call(function, list(arguments), []), like)
