"""Pass 4: every loop runs over a ``range``."""
from __future__ import annotations

import ast
import copy

from .core import (NormalState, assign, is_index_expression, located, map_blocks, name,
                   rebound_in)
from .multiple_assignments import unpack

def _call_to(node: ast.expr, function: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == function and not node.keywords


def lower_for_loops(state: NormalState) -> None:
    """Every loop runs over a ``range``; elements are read by index.

    Before: ``for i, (a, b) in enumerate(zip(A, B)): ...``
    After:  ``for _i0 in range(min(len(A), len(B))): i = _i0; a = A[_i0]; b = B[_i0]; ...``
    """
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if not isinstance(statement, ast.For):
            return [statement]
        if _call_to(statement.iter, "range") and isinstance(statement.target, ast.Name):
            return [statement]
        before: list[ast.stmt] = []
        index = state.fresh("_i")
        # an array changed in place is iterated as it changes: read it, not a copy's name
        iterable = _bind_sequences(state, statement.iter, statement, before,
                                   rebound_in(statement.body))
        reads = _element_reads(state, statement.target, iterable, index, statement, before)
        length = _length(state, iterable, statement, before)
        loop = located(ast.For(name(index, statement, store=True),
                                located(ast.Call(name("range", statement), [length], []),
                                         statement),
                                reads + statement.body, statement.orelse), statement)
        return before + [loop]

    state.body = map_blocks(state.body, rewrite)


def _bind_sequences(state, iterable, statement, before, rebound=frozenset()) -> ast.expr:
    """``enumerate(f(x))`` -> ``enumerate(_t0)`` with ``_t0 = f(x)`` before the loop.

    A name the loop body re-binds is bound to a temporary too: Python iterates over the
    object the name held when the loop began.
    """
    if _call_to(iterable, "enumerate") or _call_to(iterable, "zip"):
        arguments = list(iterable.args)
        arguments[0] = _bind_sequences(state, arguments[0], statement, before, rebound)
        if iterable.func.id == "zip":
            arguments = [_bind_sequences(state, a, statement, before, rebound)
                         for a in arguments]
        return located(ast.Call(iterable.func, arguments, []), iterable)
    if isinstance(iterable, ast.Name) and iterable.id not in rebound \
            or _call_to(iterable, "range"):
        return iterable
    if isinstance(iterable, ast.Subscript) and isinstance(iterable.value, ast.Name) \
            and iterable.value.id not in rebound and _is_view_index(iterable.slice):
        return iterable      # x[::-1]: a view, read afresh each iteration like Python does
    if isinstance(iterable, ast.Attribute) and iterable.attr == "T" \
            and isinstance(iterable.value, ast.Name) and iterable.value.id not in rebound:
        return iterable      # x.T: a view too (of an array; a transposed copy of nothing)
    if _call_to(iterable, "reversed") and len(iterable.args) == 1:   # reversed(s) -> s[::-1]
        iterable = located(ast.Subscript(iterable.args[0], ast.Slice(None, None,
                                                                      ast.Constant(-1)),
                                          ast.Load()), iterable)
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) \
            and iterable.func.attr in ("items", "keys", "values") and not iterable.args:
        # a dict's view cannot be indexed: loop over a list of its entries
        iterable = located(ast.Call(name("list", statement), [iterable], []), iterable)
    temporary = state.fresh("_t")
    before.append(assign(temporary, iterable, statement))
    return name(temporary, statement)


def _is_view_index(index: ast.expr) -> bool:
    """Slices, constants and ``None`` only, written as they are or through ``np.s_[...]``:
    NumPy returns a view (lists and arrays copy)."""
    if is_index_expression(index):
        index = index.slice
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(part, ast.Slice) and all(
                   bound is None or isinstance(bound, ast.Constant) or isinstance(bound,
                   ast.UnaryOp) and isinstance(bound.operand, ast.Constant)
                   for bound in (part.lower, part.upper, part.step))
               or isinstance(part, ast.Constant) for part in parts)


def _length(state, iterable, statement, before) -> ast.expr:
    if _call_to(iterable, "enumerate"):
        return _length(state, iterable.args[0], statement, before)
    if _call_to(iterable, "zip"):
        lengths = [_length(state, argument, statement, before) for argument in iterable.args]
        return located(ast.Call(name("min", statement), lengths, []), statement) \
            if len(lengths) > 1 else lengths[0]
    if _call_to(iterable, "range"):
        return located(ast.Call(name("len", statement), [iterable], []), statement)
    return located(ast.Call(name("len", statement), [iterable], []), statement)


def _element_reads(state, target, iterable, index, statement, before) -> list[ast.stmt]:
    """Statements binding ``target`` to element ``index`` of ``iterable``."""
    position = name(index, statement)
    if _call_to(iterable, "enumerate"):
        counter, element = _pair(state, target, statement)
        start = iterable.args[1] if len(iterable.args) > 1 else None
        count = position if start is None else located(ast.BinOp(position, ast.Add(), start),
                                                        statement)
        return [located(ast.Assign([counter], count), statement)] + \
            _element_reads(state, element, iterable.args[0], index, statement, before)
    if _call_to(iterable, "zip"):
        elements = target.elts if isinstance(target, ast.Tuple) else None
        if elements is None or len(elements) != len(iterable.args):
            raise state.source.unsupported(target, "unpack zip(...) into one name per sequence")
        reads = []
        for element, sequence in zip(elements, iterable.args):
            reads.extend(_element_reads(state, element, sequence, index, statement, before))
        return reads
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) \
            and iterable.func.id in ("range", "sorted", "map", "filter", "iter"):
        if iterable.func.id != "range":
            raise state.source.unsupported(
                iterable, f"loops over {iterable.func.id}(...) are not supported",
                hint="loop over range(...) and index the sequence")
    item = located(ast.Subscript(copy.deepcopy(iterable), position, ast.Load()), statement)
    return unpack(state, target, item, statement)


def _pair(state, target, statement):
    if not isinstance(target, ast.Tuple) or len(target.elts) != 2:
        raise state.source.unsupported(target, "unpack enumerate(...) into two names: i, x")
    return target.elts
