"""Pass 5: ``return``, ``break`` and ``continue`` become flags and guards."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .core import NormalState, assign, assigned_in, located, name, walk_statements

@dataclass
class _Jumps:
    """Flag names for one function: ``_returned``, and per loop ``_break0``/``_continue0``."""

    state: NormalState
    returned: str | None = None
    result: str | None = None

    def returned_flag(self) -> str:
        if self.returned is None:
            self.returned = self.state.unique("_returned")
        return self.returned

    def result_name(self) -> str:
        if self.result is None:
            self.result = self.state.unique("_return")
        return self.result


def _flag_test(flags: list[str], like: ast.AST) -> ast.expr:
    """``not (f1 or f2)`` as an expression."""
    operand = name(flags[0], like) if len(flags) == 1 else \
        located(ast.BoolOp(ast.Or(), [name(flag, like) for flag in flags]), like)
    return located(ast.UnaryOp(ast.Not(), operand), like)


def _set_flag(flag: str, like: ast.AST, value: bool = True) -> ast.Assign:
    return assign(flag, located(ast.Constant(value), like), like)


def lower_jumps(state: NormalState) -> None:
    """``return``, ``break`` and ``continue`` become flags; what follows them is guarded.

    Before: ``for i in range(n):`` / ``if x[i] < 0: break`` / ``s = s + x[i]``
    After:  ``_break0 = False`` / ``for i in range(n):`` / ``if x[i] < 0: _break0 = True``
            / ``if not _break0: s = s + x[i]`` / ``if _break0: break``

    A single ``return`` at the very end stays; any other ``return v`` becomes
    ``_return = v; _returned = True``, and the function ends with ``return _return``.
    """
    jumps = _Jumps(state)
    body = state.body
    last = body[-1] if body else None
    if isinstance(last, ast.Return) and not any(
            isinstance(s, ast.Return) for s in walk_statements(body[:-1])):
        state.body = _lower_block(state, jumps, body[:-1], loop=None) + [last]
        return
    lowered = _lower_block(state, jumps, body, loop=None)
    result = jumps.result_name()
    prologue = [_set_flag(jumps.returned_flag(), body[0], False),
                assign(result, located(ast.Constant(None), body[0]), body[0])]
    end = body[-1]
    state.body = prologue + lowered + [located(ast.Return(name(result, end)), end)]


@dataclass
class _Loop:
    break_flag: str | None = None
    continue_flag: str | None = None


def _lower_block(state, jumps: _Jumps, body: list[ast.stmt], loop: _Loop | None) -> list[ast.stmt]:
    """Lower one block; statements after a possible jump are guarded by the jump's flags."""
    lowered: list[ast.stmt] = []
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Return):
            lowered.append(assign(jumps.result_name(), statement.value, statement))
            lowered.append(_set_flag(jumps.returned_flag(), statement))
            return lowered
        if isinstance(statement, ast.Break):
            loop.break_flag = loop.break_flag or state.fresh("_break")
            lowered.append(_set_flag(loop.break_flag, statement))
            return lowered
        if isinstance(statement, ast.Continue):
            loop.continue_flag = loop.continue_flag or state.fresh("_continue")
            lowered.append(_set_flag(loop.continue_flag, statement))
            return lowered
        if isinstance(statement, ast.If):
            statement.body = _lower_block(state, jumps, statement.body, loop)
            statement.orelse = _lower_block(state, jumps, statement.orelse, loop)
            lowered.append(statement)
        elif isinstance(statement, (ast.For, ast.While)):
            produced = _lower_loop(state, jumps, statement, loop)
            lowered.extend(produced)
        else:
            lowered.append(statement)
            continue
        flags = _flags_set(lowered[-1] if isinstance(statement, ast.If) else
                           ast.If(ast.Constant(True), produced, []), jumps, loop)
        rest = body[index + 1:]
        if flags and rest:
            guarded = _lower_block(state, jumps, rest, loop)
            if guarded:
                lowered.append(located(ast.If(_flag_test(flags, rest[0]), guarded, []), rest[0]))
            return lowered
    return lowered


def _flags_set(statement: ast.stmt, jumps: _Jumps, loop: _Loop | None) -> list[str]:
    """The flags of this scope that ``statement`` may set (in program order of creation)."""
    candidates = [jumps.returned]
    if loop is not None:
        candidates += [loop.break_flag, loop.continue_flag]
    candidates = [flag for flag in candidates if flag is not None]
    assigned = {s.targets[0].id for s in walk_statements([statement])
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)}
    return [flag for flag in candidates if flag in assigned]


def _lower_loop(state, jumps: _Jumps, statement: ast.For | ast.While,
                outer: _Loop | None = None) -> list[ast.stmt]:
    inner = _Loop()
    body = _lower_block(state, jumps, statement.body, inner)
    before, after = [], []
    exits = []
    if inner.continue_flag:
        body.insert(0, _set_flag(inner.continue_flag, statement, False))
    if inner.break_flag:
        before.append(_set_flag(inner.break_flag, statement, False))
        exits.append(inner.break_flag)
    returned = jumps.returned if jumps.returned in assigned_in(body) else None
    if returned:
        exits.append(returned)
    if exits:
        operand = name(exits[0], statement) if len(exits) == 1 else \
            located(ast.BoolOp(ast.Or(), [name(flag, statement) for flag in exits]), statement)
        body.append(located(ast.If(operand, [located(ast.Break(), statement)], []), statement))
    # the else clause runs after the loop: break/continue there belong to the outer loop
    orelse = _lower_block(state, jumps, statement.orelse, outer) if statement.orelse else []
    statement.body = body
    statement.orelse = []
    if orelse and exits:     # for/while-else: runs unless the loop was left early
        after = [located(ast.If(_flag_test(exits, statement), orelse, []), statement)]
    else:
        after = orelse
    return before + [statement] + after
