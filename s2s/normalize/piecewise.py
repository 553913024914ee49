"""Pass 0b: ``np.piecewise`` with a list of functions written in the call -> masked writes.

Before: ``y = np.piecewise(x, [x < 0, x > 1], [lambda v: -v, np.log, 0.5])``
After:  ``_piece0 = lambda v: -v`` / ``_pw_x0 = np.asarray(x)`` /
        ``_pw_masks0 = piecewise_masks(_pw_x0, [x < 0, x > 1], 3)`` /
        ``_pw_y0 = np.zeros_like(_pw_x0)`` /
        ``_pw_mask0 = _pw_masks0[0]`` / ``_pw_y0[_pw_mask0] = _piece0(_pw_x0[_pw_mask0])`` /
        ``_pw_mask1 = _pw_masks0[1]`` / ``_pw_y0[_pw_mask1] = np.log(_pw_x0[_pw_mask1])`` /
        ``_pw_mask2 = _pw_masks0[2]`` / ``_pw_y0[_pw_mask2] = 0.5`` / ``y = _pw_y0``

This is what NumPy does: ``y`` starts as zeros like ``x``, and each entry of the list
writes its function of ``x[mask]`` (or its value) where its mask holds, in order, so a
later condition wins where several hold; one entry more than conditions is "otherwise"
(:func:`s2s.runtime.piecewise_masks`, declared zero, computes the masks as NumPy does).
Each function sees only the entries it selects, so a ``np.log`` branch never meets the
negative ``x`` of another branch: no NaN, no ``NaN * 0`` in the gradient (the double-where
problem).  The writes and gathers are indexing, which has adjoints, and a lambda entry is a
local function (lifted by a later pass).  Extra arguments (``np.piecewise(x, c, f, a,
k=b)``) are passed to every function, as NumPy passes them.  The list may be a local name
bound once, before the calls, to a list of lambdas, numbers and global functions, read
only as np.piecewise's list; any other list of functions not written in the call is refused
with the line.  A call inside a lambda, a conditional
expression, a short-circuit or a comprehension is left alone (np.piecewise's refusal).
"""
from __future__ import annotations

import ast
import copy

import numpy as np

from ..runtime import piecewise_masks
from .core import COMPOUND, NormalState, assign, located, name

_DELAYING = (ast.BoolOp, ast.IfExp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp)
_OWN = {"x", "condlist", "funclist"}


def lower_piecewise(state: NormalState) -> None:
    """``np.piecewise(x, conditions, [f0, f1, ...])`` -> ``y[mask_k] = f_k(x[mask_k])``."""
    lists = _function_lists(state)
    body = [statement for statement in state.body
            if not (isinstance(statement, ast.Assign) and statement.value in lists.values())]
    state.body = _lower_block(state, body, lists)


def _function_lists(state: NormalState) -> dict[str, ast.expr]:
    """Names bound once, at the top level, to a list display of lambdas, numbers and global
    functions, and read only as the list of functions of ``np.piecewise`` calls after it:
    ``fs = [np.sin, lambda v: v * v]`` / ``np.piecewise(x, c, fs)``.  Each call gets the
    display itself (a lambda reads what it captures when it is called, so nothing moves)."""
    module = ast.Module(body=state.body, type_ignores=[])
    stores: dict[str, int] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores[node.name] = stores.get(node.name, 0) + 1
    candidates: dict[str, tuple[int, ast.expr]] = {}
    for position, statement in enumerate(state.body):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, (ast.List, ast.Tuple)) \
                and stores.get(statement.targets[0].id) == 1 and statement.value.elts \
                and all(_fixed_entry(state, entry) for entry in statement.value.elts):
            candidates[statement.targets[0].id] = (position, statement.value)
    finder = _Piecewise(state)
    for position, statement in enumerate(state.body):
        for node, delayed in _nodes(statement, False):
            if not (isinstance(node, ast.Name) and node.id in candidates
                    and isinstance(node.ctx, ast.Load)):
                continue
            parent = _parent_call(statement, node)
            if delayed or parent is None or not finder._is_piecewise(parent.func) \
                    or position <= candidates[node.id][0]:
                del candidates[node.id]
    return {identifier: display for identifier, (_, display) in candidates.items()}


def _fixed_entry(state: NormalState, entry: ast.expr) -> bool:
    """A lambda, a number or a global path: the same object wherever the list is read."""
    if isinstance(entry, (ast.Lambda, ast.Constant)):
        return True
    root = entry
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and root.id not in state.local_names \
        and root.id not in state.parsed.params


def _nodes(node: ast.AST, delayed: bool):
    yield node, delayed
    for child in ast.iter_child_nodes(node):
        yield from _nodes(child, delayed or isinstance(node, _DELAYING))


def _parent_call(statement: ast.stmt, use: ast.Name) -> ast.Call | None:
    """The call whose third positional argument ``use`` is, if any."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and len(node.args) >= 3 and node.args[2] is use:
            return node
    return None


def _lower_block(state: NormalState, body: list[ast.stmt],
                 lists: dict[str, ast.expr]) -> list[ast.stmt]:
    lowered: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, COMPOUND):
            statement.body = _lower_block(state, statement.body, lists)
            statement.orelse = _lower_block(state, statement.orelse, lists)
        rewriter = _Piecewise(state, lists)
        if isinstance(statement, ast.For):
            statement.iter = rewriter.visit(statement.iter)
        elif isinstance(statement, ast.If):
            statement.test = rewriter.visit(statement.test)
        elif not isinstance(statement, (ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                                        ast.ClassDef)):
            statement = rewriter.visit(statement)
        lowered.extend(rewriter.emitted)
        lowered.append(statement)
    return lowered


class _Piecewise(ast.NodeTransformer):
    """Hoists each ``np.piecewise`` call of one statement into masked writes before it."""

    def __init__(self, state: NormalState, lists: dict[str, ast.expr] | None = None) -> None:
        self.state = state
        self.lists = lists or {}
        self.emitted: list[ast.stmt] = []

    def _leave(self, node: ast.AST) -> ast.AST:
        return node                               # delayed: evaluated later, or not at all

    visit_BoolOp = visit_IfExp = visit_Lambda = visit_ListComp = _leave
    visit_SetComp = visit_DictComp = visit_GeneratorExp = _leave

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not self._is_piecewise(node.func) or len(node.args) < 3 \
                or any(isinstance(a, ast.Starred) for a in node.args) \
                or any(k.arg is None or k.arg in _OWN for k in node.keywords):
            return node                            # left to np.piecewise's refusal
        x, conditions, functions, *extra = node.args
        if isinstance(functions, ast.Name) and functions.id in self.lists:
            functions = _copy(self.lists[functions.id], functions)
        if not isinstance(functions, (ast.List, ast.Tuple)) or not functions.elts:
            raise self.state.source.unsupported(
                functions, "np.piecewise with a list of functions that is not written in the "
                "call", hint="write the list in the call: np.piecewise(x, [c0, c1], "
                "[f0, f1, f2])")
        entries = [self._entry(entry) for entry in functions.elts]
        extra = [self._keep(argument, "_pw_arg") for argument in extra]
        keywords = [located(ast.keyword(k.arg, self._keep(k.value, "_pw_arg")), k)
                    for k in node.keywords]
        at = node
        values = self.state.fresh("_pw_x")
        self.emitted.append(assign(values, _numpy("asarray", [x], at), at))
        helper = self._masks_helper()
        masks = self.state.fresh("_pw_masks")
        count = located(ast.Constant(len(entries)), at)
        self.emitted.append(assign(masks, located(ast.Call(name(helper, at), [
            name(values, at), conditions, count], []), at), at))
        result = self.state.fresh("_pw_y")
        self.emitted.append(assign(result, _numpy("zeros_like", [name(values, at)], at), at))
        for position, (kind, entry) in enumerate(entries):
            mask = self.state.fresh("_pw_mask")
            self.emitted.append(assign(mask, located(ast.Subscript(
                name(masks, at), located(ast.Constant(position), at), ast.Load()), at), at))
            if kind == "call":
                selected = located(ast.Subscript(name(values, at), name(mask, at), ast.Load()),
                                   at)
                value = located(ast.Call(entry, [selected] + [name(a, at) for a in extra],
                                         [located(ast.keyword(k.arg, name(k.value, at)), at)
                                          for k in keywords]), at)
            else:
                value = entry
            target = located(ast.Subscript(name(result, at), name(mask, at), ast.Store()), at)
            self.emitted.append(located(ast.Assign([target], value), at))
        return name(result, at)

    def _is_piecewise(self, function: ast.expr) -> bool:
        root = function
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in self.state.local_names:
            return False
        return self.state.parsed.scope.resolve_path(function) is np.piecewise

    def _entry(self, entry: ast.expr) -> tuple[str, ast.expr]:
        """``("call", function)`` or ``("value", value)`` for one entry of the list."""
        if isinstance(entry, ast.Lambda):
            piece = self.state.fresh("_piece")
            self.emitted.append(assign(piece, entry, entry))
            return "call", name(piece, entry)
        if isinstance(entry, ast.Constant):
            return "value", entry
        if isinstance(entry, ast.Name) and self._local_function(entry.id):
            return "call", entry
        if isinstance(entry, (ast.Name, ast.Attribute)):
            root = entry
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and (root.id in self.state.local_names
                                               or root.id in self.state.parsed.params):
                return "value", entry          # a local number (NumPy: not callable)
            resolved = self.state.parsed.scope.resolve_path(entry)
            return ("call" if callable(resolved) else "value"), entry
        if isinstance(entry, (ast.UnaryOp, ast.BinOp, ast.Subscript)):
            return "value", name(self._keep(entry, "_pw_value"), entry)   # arithmetic: a number
        raise self.state.source.unsupported(
            entry, "this entry of np.piecewise's list of functions",
            hint="use a lambda, a function's name or a number")

    def _local_function(self, identifier: str) -> bool:
        for node in ast.walk(ast.Module(body=self.state.body, type_ignores=[])):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and node.name == identifier:
                return True
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) \
                    and any(isinstance(t, ast.Name) and t.id == identifier
                            for t in node.targets):
                return True
        return False

    def _keep(self, value: ast.expr, stem: str) -> str:
        """``value`` evaluated once, before the writes, into a name of its own."""
        kept = self.state.fresh(stem)
        self.emitted.append(assign(kept, value, value))
        return kept

    def _masks_helper(self) -> str:
        closure = self.state.parsed.scope.closure
        helper = next((key for key, value in closure.items() if value is piecewise_masks),
                      None) or self.state.namer.unique("piecewise_masks")
        closure[helper] = piecewise_masks
        return helper


def _copy(display: ast.expr, at: ast.AST) -> ast.expr:
    """A copy of a list display for one call, located at the call's argument."""
    copied = copy.deepcopy(display)
    for node in ast.walk(copied):
        if hasattr(node, "lineno"):
            ast.copy_location(node, at)
    return copied


def _numpy(function: str, arguments: list[ast.expr], like: ast.AST) -> ast.expr:
    attribute = located(ast.Attribute(name("np", like), function, ast.Load()), like)
    return located(ast.Call(attribute, arguments, []), like)
