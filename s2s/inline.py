"""Inlining of rule bodies into generated code.

A rule is a plain Python function (``def sin_vjp(g, ans, x): return g * np.cos(x)``).
:func:`inline` substitutes the call site's atoms for its parameters and returns the
statements and the expression that compute its value at the call site:

* an ``if`` whose test reads only constant arguments (``axis is None``) is decided now,
  and so are the constant operands of its ``and`` / ``or``; any other ``if`` is kept,
  assigning the rule's value on each branch;
* the rule's local names become fresh temporaries (hygiene);
* free names must denote ``numpy`` (written ``np``) or a helper of :mod:`s2s.runtime`;
  the helpers used are reported so that the generated module imports them.
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect
import textwrap
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import runtime
from .errors import S2SError
from .naming import Namer


@dataclass
class Inlined:
    statements: list[ast.stmt]
    value: ast.expr
    helpers: set[str] = field(default_factory=set)


@functools.lru_cache(maxsize=None)
def _definition(function: Callable[..., Any]) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef)
    return definition


def _free_name_kind(function: Callable[..., Any], name: str) -> str:
    value = function.__globals__.get(name, getattr(__builtins__, name, None)
                                     if not isinstance(__builtins__, dict)
                                     else __builtins__.get(name))
    if value is np:
        return "numpy"
    if getattr(runtime, name, None) is value and value is not None:
        return "runtime"
    raise S2SError(f"rule {function.__qualname__} uses '{name}', which is neither numpy (np) "
                   "nor a helper of s2s.runtime; rule bodies must be self-contained")


def _static_value(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


class _Substitute(ast.NodeTransformer):
    def __init__(self, bindings: dict[str, ast.expr]):
        self.bindings = bindings

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.bindings:
            replacement = self.bindings[node.id]
            if isinstance(node.ctx, ast.Store):
                return ast.Name(replacement.id, ast.Store())
            return copy.deepcopy(replacement)
        return node


def inline(function: Callable[..., Any], arguments: dict[str, ast.expr], namer: Namer) -> Inlined:
    """The body of ``function`` with ``arguments`` (parameter -> atom) substituted.

    A user's rule (:mod:`s2s.rules.custom`) is not inlined but called, by the name under
    which it is published in :mod:`s2s.runtime`.
    """
    if getattr(function, "__s2s_user_rule__", False):
        return _user_rule_call(function, arguments)
    definition = _definition(function)
    parameters = [a.arg for a in definition.args.args + definition.args.kwonlyargs]
    bindings = dict(arguments)
    missing = [name for name in parameters if name not in bindings]
    if missing:
        raise S2SError(f"inlining {function.__name__}: no value for {missing}")
    local_names = {node.id for node in ast.walk(definition)
                   if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    for name in sorted(local_names):
        bindings[name] = ast.Name(namer.fresh("_r"), ast.Load())
    helpers = set()
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and node.id not in bindings:
            if _free_name_kind(function, node.id) == "runtime":
                helpers.add(node.id)
    substitute = _Substitute(bindings)
    body = [substitute.visit(copy.deepcopy(statement)) for statement in definition.body]
    statements, value = _lower_returns(body, namer, bindings)
    return Inlined(statements, value, helpers)


def _user_rule_call(function: Callable[..., Any], arguments: dict[str, ast.expr]) -> Inlined:
    positional, keywords = [], []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name not in arguments:
            if parameter.default is inspect.Parameter.empty:
                raise S2SError(f"calling the rule {function.__name__}: no value for "
                               f"{parameter.name!r}")
            continue
        value = copy.deepcopy(arguments[parameter.name])
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            keywords.append(ast.keyword(parameter.name, value))
        else:
            positional.append(value)
    call = ast.Call(ast.Name(function.__name__, ast.Load()), positional, keywords)
    return Inlined([], call, {function.__name__})


def _decide(test: ast.expr) -> tuple[bool, bool]:
    """(decided, outcome) for a test over constants only, such as ``None is None or False``."""
    for node in ast.walk(test):
        if isinstance(node, ast.Name) or isinstance(node, ast.Call):
            return False, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)    # "1 is None" is what we mean
            code = compile(ast.fix_missing_locations(ast.Expression(test)), "<rule>", "eval")
        return True, bool(eval(code, {"__builtins__": {}}, {}))  # noqa: S307 - constants only
    except Exception:
        return False, False


def _simplified(test: ast.expr) -> ast.expr:
    """``test`` with its constant operands of ``and`` / ``or`` decided (rule tests are pure):
    ``p is None and (-2, -1) is None`` is ``False``; ``p is None or False`` is ``p is None``."""
    if not isinstance(test, ast.BoolOp):
        return test
    conjunction = isinstance(test.op, ast.And)
    kept = []
    for value in test.values:
        value = _simplified(value)
        decided, outcome = _decide(value)
        if not decided:
            kept.append(value)
        elif outcome != conjunction:               # False in an 'and', True in an 'or'
            return ast.Constant(outcome)
    if not kept:
        return ast.Constant(conjunction)
    return kept[0] if len(kept) == 1 else ast.BoolOp(test.op, kept)


def _lower_returns(body: list[ast.stmt], namer: Namer,
                   bindings: dict[str, ast.expr]) -> tuple[list[ast.stmt], ast.expr]:
    """Turn a body ending in ``return`` (possibly inside ``if``) into statements + value."""
    statements: list[ast.stmt] = []
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Return):
            return statements, statement.value
        if isinstance(statement, ast.If):
            test = _simplified(statement.test)
            decided, outcome = _decide(test)
            rest = body[index + 1:]
            if decided:
                branch = statement.body if outcome else statement.orelse
                inner, value = _lower_returns(list(branch) + rest, namer, bindings)
                return statements + inner, value
            result = namer.fresh("_r")
            then_statements, then_value = _lower_returns(list(statement.body) + rest, namer,
                                                         bindings)
            else_statements, else_value = _lower_returns(list(statement.orelse) + rest, namer,
                                                         bindings)
            store = ast.Name(result, ast.Store())
            statements.append(ast.If(
                test,
                then_statements + [ast.Assign([store], then_value)],
                else_statements + [ast.Assign([copy.deepcopy(store)], else_value)]))
            return statements, ast.Name(result, ast.Load())
        statements.append(statement)
    raise S2SError("a rule body must end with 'return'")


RUNTIME_MODULE: types.ModuleType = runtime
