"""Pass 10: a temporary that recomputes a value its block already holds is that value.

Before: ``_t3 = x[i]`` / ``_t4 = x[i]`` / ``_t5 = _t3 * _t4``
After:  ``_t3 = x[i]`` / ``_t5 = _t3 * _t3``

Users write ``x[i] * x[i]`` and ``d = x[i] - x[j]`` twice over; each read would be a
statement of its own, recomputed in the reverse sweep and given an adjoint accumulation of
its own.  A temporary (a name the normal form made, bound once) whose value is an element
read, an attribute, or an operator on atoms, equal to the value of an earlier temporary or
user name of the same block bound once, is replaced by that name everywhere, when nothing
between them rebinds an operand or writes into one (``x[i] = ...``, ``xs.append(...)``,
a call whose result is discarded, a nested block that may do either).  Calls are never
merged: a function may return a new value each time.
"""
from __future__ import annotations

import ast
from collections import Counter

from .core import COMPOUND, NormalState, assigned_in, walk_statements
from .reassignments import Renamer

_MERGED = (ast.Subscript, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Compare)


def merge_common_reads(state: NormalState) -> None:
    """Temporaries recomputing an earlier value of their block -> that value's name."""
    counts = Counter(target.id for statement in walk_statements(state.body)
                     if isinstance(statement, ast.Assign)
                     for target in statement.targets if isinstance(target, ast.Name))
    counts.update(state.parsed.params)
    mapping: dict[str, str] = {}
    _merge_block(state.body, counts, mapping, _written_in_place(state.body))
    if mapping:
        for name, kept in list(mapping.items()):     # chains: _t5 -> _t4 -> _t3
            while kept in mapping:
                kept = mapping[kept]
            mapping[name] = kept
        renamer = Renamer(mapping)
        state.body = [renamer.visit(statement) for statement in _without(state.body, mapping)]


def _merge_block(body: list[ast.stmt], counts: Counter, mapping: dict[str, str],
                 written: set[str]) -> None:
    available: dict[str, str] = {}            # ast.dump of a value -> the name holding it
    for statement in body:
        if isinstance(statement, COMPOUND):
            _merge_block(statement.body, counts, mapping, written)
            _merge_block(statement.orelse, counts, mapping, written)
            _forget(available, assigned_in([statement]) | _written(statement))
            continue
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, _MERGED) and _on_atoms(statement.value):
            target = statement.targets[0].id
            key = ast.dump(Renamer(mapping).visit(_copy(statement.value)))
            if counts[target] == 1:
                # an operator makes a new array: two of them merged would be one array, so a
                # write into either (``v0, v1 = x * 1.0, x * 1.0; v1[0] = y``) would change both
                fresh = not isinstance(statement.value, (ast.Subscript, ast.Attribute))
                if key in available and target.startswith("_t") \
                        and not (fresh and {target, available[key]} & written):
                    mapping[target] = available[key]
                    continue
                _forget(available, {target})
                available.setdefault(key, target)
                continue
        _forget(available, _bound(statement) | _written(statement))


def _written_in_place(body: list[ast.stmt]) -> set[str]:
    """The names whose value may be changed in place anywhere in ``body`` (:func:`_written`),
    with every name bound to one of them or bound from one (``v1 = _t1``: writing ``v1[0]``
    writes ``_t1``'s array)."""
    written: set[str] = set()
    aliases: dict[str, set[str]] = {}
    for statement in walk_statements(body):
        written |= _written(statement)
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Name):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    aliases.setdefault(target.id, set()).add(statement.value.id)
                    aliases.setdefault(statement.value.id, set()).add(target.id)
    pending = list(written)
    while pending:
        for alias in aliases.get(pending.pop(), ()):
            if alias not in written:
                written.add(alias)
                pending.append(alias)
    return written


def _copy(node: ast.expr) -> ast.expr:
    import copy
    return copy.deepcopy(node)


def _on_atoms(value: ast.expr) -> bool:
    """Operands are names, constants or index syntax: no call, no nested value."""
    for node in ast.walk(value):
        if isinstance(node, (ast.Call, ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield,
                             ast.YieldFrom, ast.ListComp, ast.DictComp, ast.SetComp,
                             ast.GeneratorExp, ast.List, ast.Dict, ast.Set)):
            return False
    return True


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.Assign):
        return {node.id for target in statement.targets for node in ast.walk(target)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return set()


def _written(statement: ast.stmt) -> set[str]:
    """Names whose value a statement may change in place: subscript and attribute targets,
    the receivers and arguments of calls whose result is discarded (``xs.append(v)``)."""
    names: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            names |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            names |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    return names


def _forget(available: dict[str, str], changed: set[str]) -> None:
    """Drop the values that read a changed name, or that a changed name holds."""
    for key, holder in list(available.items()):
        if holder in changed or any(f"id='{name}'" in key for name in changed):
            del available[key]


def _without(body: list[ast.stmt], mapping: dict[str, str]) -> list[ast.stmt]:
    kept = []
    for statement in body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id in mapping:
            continue
        if isinstance(statement, COMPOUND):
            statement.body = _without(statement.body, mapping) or [ast.Pass()]
            statement.orelse = _without(statement.orelse, mapping)
        kept.append(statement)
    return kept
