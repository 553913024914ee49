"""The whole flow, top to bottom, in one short function.

``derive(function, wrt)`` runs parse -> normalise -> analyse -> reverse -> optimise ->
emit and keeps every stage's output in a :class:`Derivation`, so each can be inspected
and tested on its own.  Calls to other user functions are derived the same way, each into
its own ``vjp_<callee>`` function of the same generated module (callees first).
``derive(..., shapes=...)`` specializes the code to argument shapes: the analysis then
proves the shapes of intermediates (:mod:`s2s.shapes`); callees stay generic.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import runtime
from .analysis import Analysis, analyze
from .emit import (GeneratedModule, build_grad_function, build_jvp_function, build_module,
                   build_vjp_function, compile_module, python_name, render)
from .forward import generate_forward
from .lower_dispatch import lower_for_dispatch
from .errors import UnsupportedError
from .naming import Namer
from .normalize import NormalForm, normalize
from .optimize import eliminate_dead_primal, optimize, optimize_forward
from .parse import MISSING, ParsedFunction, Scope, parse_function, resolve_target
from .reverse import ReverseCode, generate_reverse, resolve_markers


@dataclass(frozen=True)
class Derivation:
    parsed: ParsedFunction
    normal: NormalForm
    analysis: Analysis
    reverse: ReverseCode
    optimized: ReverseCode
    module: GeneratedModule

    @property
    def source(self) -> str:
        return self.module.source


@dataclass
class _Module:
    """What the derivations of one top-level function share: one generated module."""

    functions: dict[Any, tuple[str, ast.FunctionDef]] = field(default_factory=dict)
    namespace: dict[str, Any] = field(default_factory=dict)
    primal_definitions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    helpers: set[str] = field(default_factory=set)
    in_progress: list[Any] = field(default_factory=list)
    names: Namer = field(default_factory=Namer)
    mode: str = "reverse"
    guarded: bool = False       # complex values may arrive: rules for reals guard (analysis)
    dispatched: bool = False    # for arrays NumPy dispatches to (Dask, CuPy): no NumPy allocation
    aliases: dict[tuple[str, int], str] = field(default_factory=dict)  # (name, id) -> name
    callees: list[Any] = field(default_factory=list)   # keeps the objects of the keys alive


def derive(function: Callable[..., Any], wrt: tuple[str, ...], single: bool,
           mode: str = "reverse", shapes: tuple | None = None,
           complex_arguments: bool = False, dispatched: bool = False) -> Derivation:
    """Generate the derivative of ``function`` with respect to ``wrt``.

    ``mode="reverse"``: a ``vjp_<name>`` function returning ``(value, pullback)``.
    ``mode="forward"``: a ``jvp_<name>(params, tangents)`` returning ``(value, tangent)``.
    ``mode="gradient"``: a closure-free ``grad_<name>(params, seed=1.0)`` returning the
    gradient(s), which can itself be differentiated (higher derivatives).

    ``shapes``: one shape per parameter (:func:`s2s.shapes.argument_shape`, None where
    unknown) to specialize the reverse-mode code to; None for code valid for any shapes.

    ``complex_arguments``: the arguments may hold complex values.  Then, and wherever the
    code itself may make complex values (``Analysis.may_be_complex``), the derivatives of
    rules for real values only refuse complex ones at run time (``refuse_complex``); code
    for real arguments without such sources carries no such checks.

    ``dispatched``: the arguments include arrays of another library that NumPy's functions
    dispatch to (Dask, CuPy): specialized code then makes every new array from an operand
    (``*_like``, through the runtime), never a NumPy array of a known shape.
    """
    parsed = parse_function(function)
    _check_reserved_names(parsed)
    module = _Module(mode=mode, guarded=complex_arguments, dispatched=dispatched)
    name = module.names.unique(f"{_PREFIX[mode]}_{python_name(parsed.name)}")
    module.in_progress.append(_key(function))
    parameter_shapes = None if shapes is None else dict(zip(parsed.params, shapes))
    stages, definition = _derive(parsed, wrt, single, name, module, parameter_shapes)
    functions = [d for _, d in module.functions.values()]
    functions += list(module.primal_definitions.values()) + [definition]
    if dispatched:
        functions, lowered_helpers = lower_for_dispatch(functions)
        module.helpers |= lowered_helpers
    used = {node.id for function in functions for node in ast.walk(function)
            if isinstance(node, ast.Name)}
    helpers = {helper for helper in module.helpers if helper in used}   # some were folded
    source = render(build_module(parsed, functions, helpers, mode, shapes))
    return Derivation(*stages, compile_module(name, source, parsed, module.namespace, shapes))


_PREFIX = {"reverse": "vjp", "forward": "jvp", "gradient": "grad"}


def _derive(parsed: ParsedFunction, wrt: tuple[str, ...], single: bool, name: str,
            module: _Module, parameter_shapes: dict[str, Any] | None = None):
    normal = normalize(parsed)
    _gather_globals(parsed, normal, module)
    analysis = analyze(normal, wrt, parameter_shapes)
    analysis.guard_complex = module.guarded or analysis.may_be_complex()
    module.guarded = analysis.guard_complex      # the callees, derived next, get its values
    defaults = [ast.Expr(argument) for operation in analysis.operations.values()
                if operation.kind == "call" for argument in operation.args]
    _gather_globals(parsed, normal, module, defaults)     # a local def's default: SCALE
    callees: dict[int, str] = {}
    for operation in analysis.operations.values():
        if operation.kind != "call":
            continue
        callee = _parsed_callee(operation.callee, parsed, normal)
        differentiated = analysis.active if module.mode == "reverse" else analysis.varied
        positions = operation.active_positions(differentiated)
        if operation.target not in differentiated or not positions:
            if isinstance(operation.callee, ast.FunctionDef):
                _copy_primal(operation.callee, parsed, normal, module)
            continue
        key = (_key(operation.callee, parsed), positions)
        module.callees.append(operation.callee)
        if key[0] in module.in_progress:
            raise parsed.source.unsupported(
                operation.statement, f"the recursive call to '{callee.name}' cannot be "
                "differentiated ahead of time",
                hint="rewrite the recursion as a loop, or differentiate on the tape")
        if module.mode == "gradient" and isinstance(operation.callee, ast.FunctionDef):
            _copy_primal(operation.callee, parsed, normal, module)
        if key not in module.functions:
            callee_name = module.names.unique(f"{_PREFIX[module.mode]}_{python_name(callee.name)}")
            module.in_progress.append(key[0])
            callee_wrt = tuple(callee.params[position] for position in positions)
            _, definition = _derive(callee, callee_wrt, False, callee_name, module)
            module.in_progress.pop()
            module.functions[key] = (callee_name, definition)
        callees[id(operation)] = module.functions[key][0]
    if module.mode == "forward":
        code = optimize_forward(generate_forward(analysis, normal.namer, callees),
                                analysis.shapes, module.dispatched)
        module.helpers |= code.helpers
        definition = build_jvp_function(parsed, code, name)
        return (parsed, normal, analysis, code, code), definition
    fused = module.mode == "gradient"
    reverse = generate_reverse(analysis, normal.namer, callees, fused=fused)
    numbers = frozenset(name for name, shape in analysis.shapes.items() if shape == ())
    optimized = resolve_markers(optimize(reverse, analysis.shapes, module.dispatched),
                                set(parsed.params), fused, numbers)
    if fused and analysis.shapes:
        optimized = eliminate_dead_primal(optimized, analysis)
    module.helpers |= optimized.helpers
    if fused:
        definition = build_grad_function(parsed, optimized, single, name)
        return (parsed, normal, analysis, reverse, optimized), definition
    pullback_name = normal.namer.unique("pullback")
    definition = build_vjp_function(parsed, optimized, pullback_name, single, name)
    return (parsed, normal, analysis, reverse, optimized), definition


def _gather_globals(parsed: ParsedFunction, normal: NormalForm, module: _Module,
                    body: list[ast.stmt] | None = None) -> None:
    """Every global or closure name the function's code reads, as the generated code's.

    Each function keeps its own globals: a name another function of the derivative binds
    to a different object (``logprob`` of two modules, ``self`` of two objects) is renamed
    in this function's code to ``<class or module>_<name>`` (``Layer_self``,
    ``model_SCALE``); the same object keeps one name.
    ``body`` defaults to the normal form; a lifted local function copied as it is (called,
    not differentiated) passes its own definition.
    """
    local = set(normal.local_names) | set(parsed.params) | set(normal.lifted)
    statements = normal.body if body is None else body
    written = local | {node.id for statement in statements for node in ast.walk(statement)
                       if isinstance(node, ast.Name)}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id not in local:
                value = parsed.scope.resolve(node.id)
                if value is MISSING:
                    continue
                node.id = _global_name(node, value, parsed, module, written)


def _global_name(node: ast.Name, value: Any, parsed: ParsedFunction, module: _Module,
                 written: set[str]) -> str:
    """The name under which the generated module holds ``value``, read as ``node.id``."""
    name = node.id
    known = module.namespace.get(name, MISSING)
    if known is MISSING or known is value:
        module.namespace[name] = value
        # a normalisation pass's helper: imported (runtime's own names only: getattr would
        # load SciPy's deferred rules for every other global, about a second)
        if vars(runtime).get(name) is value and callable(value):
            module.helpers.add(name)
        return name
    if name == "np":
        raise parsed.source.unsupported(
            node, f"in {parsed.name}, the name 'np' is bound to {value!r}, but s2s's "
            "generated code uses 'np' for NumPy", hint="import numpy as np in its module")
    alias = module.aliases.get((name, id(value)))
    if alias is None or alias in written:
        stem = f"{_owner_name(parsed)}_{name}"
        if stem.endswith(("_b", "_d")):           # the suffixes of adjoints and tangents
            stem += "_"
        alias, index = stem, 1
        while alias in module.namespace or alias in written:
            alias, index = f"{stem}_{index}", index + 1
        module.aliases[(name, id(value))] = alias
        module.namespace[alias] = value
    parsed.scope.closure[alias] = value
    return alias


def _owner_name(parsed: ParsedFunction) -> str:
    """What qualifies a renamed global of ``parsed``: its class (``Layer_self``), else its
    module (``model_SCALE`` for ``model.py``), else its own name."""
    function = parsed.function
    qualname = getattr(function, "__qualname__", "").split(".<locals>.")[-1].split(".")
    if len(qualname) > 1:
        return python_name(qualname[-2])
    module = getattr(function, "__module__", None)
    return python_name(module.rsplit(".", 1)[-1] if module else parsed.name)


def _copy_primal(definition: ast.FunctionDef, parsed: ParsedFunction, normal: NormalForm,
                 module: _Module) -> None:
    """Copy a lifted local function into the generated module as written, with the globals
    it reads and the other lifted functions it calls (transitively)."""
    if definition.name in module.primal_definitions:
        return
    module.primal_definitions[definition.name] = copied = copy.deepcopy(definition)
    _gather_globals(parsed, normal, module, [copied])
    for node in ast.walk(definition):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in normal.lifted and node.func.id != definition.name:
            _copy_primal(normal.lifted[node.func.id], parsed, normal, module)


def _key(callee: Any, outer: ParsedFunction | None = None) -> Any:
    if isinstance(callee, ast.FunctionDef):      # a lifted local function: where it is written
        return ("local", outer.source.filename if outer else "", callee.lineno, callee.name)
    return resolve_target(callee).key          # a function, and the constants bound in it


def _parsed_callee(callee: Any, outer: ParsedFunction, normal: NormalForm) -> ParsedFunction:
    if not isinstance(callee, ast.FunctionDef):
        return parse_function(callee)
    definition = copy.deepcopy(callee)
    params = tuple(a.arg for a in definition.args.posonlyargs + definition.args.args
                   + definition.args.kwonlyargs)
    return ParsedFunction(None, definition.name, definition, params, outer.source, outer.scope,
                          dict(normal.lifted))


def _check_reserved_names(parsed: ParsedFunction) -> None:
    bound = parsed.scope.resolve("np")
    if bound is not MISSING and bound is not np:
        raise UnsupportedError(
            f"in {parsed.name}, the name 'np' is bound to {bound!r}, but s2s's generated code "
            "uses 'np' for NumPy", hint="import numpy as np in the function's module")


__all__ = ["Derivation", "derive", "Scope"]
