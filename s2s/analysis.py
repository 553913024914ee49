"""Stage 3 (analyse).

Input: a :class:`~s2s.normalize.NormalForm`.
Output: an :class:`Analysis` that, for every statement of the normal form, says

* which operation it performs (:class:`Operation`: a registry rule with its bound
  arguments, a copy, a constant, or something with no derivative);
* which names are *active* (varied: depend on a ``wrt`` input, and useful: the output
  depends on them); only active names get adjoints;
* which names provably share a shape (so the generated code can skip ``unbroadcast``),
  and, for code specialized to its arguments' shapes, each name's shape
  (:mod:`s2s.shapes`).

Nothing here changes the code.
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect
import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import library, runtime
from .errors import MissingRuleError, S2SError, UnsupportedError
from .normalize import NormalForm, is_global_path, walk_statements
from .parse import MISSING, Target, is_compiled_function, resolve_target
from .rules import REGISTRY, Rule
from .rules.domains import NotDifferentiated
from .rules.operators import function_of
from .rules.refused import REFUSED
from .runtime import refuse_complex, refuse_shared_view
from .shapes import index_bounds, infer_shapes, integer_names

VARARG_METHODS = {"reshape": "shape", "transpose": "axes"}


@dataclass(frozen=True, eq=False)
class Operation:
    """What one normal-form assignment computes, in the registry's terms."""

    kind: str    # rule | copy | constant | nondifferentiable | unknown | setitem | append
    #              | pack | call | pop
    target: str
    statement: ast.stmt
    rule: Rule | None = None
    args: tuple[ast.expr, ...] = ()  # the rule's positional (possibly differentiable) inputs
    params: dict = field(default_factory=dict)  # the other bound parameters, as AST atoms
    error: Exception | None = None   # for "unknown": raised if the operation turns out active
    callee: Any = None               # for "call": a function object, or a lifted ast.FunctionDef

    def active_positions(self, active: set[str]) -> tuple[int, ...]:
        """For a call: the positions of arguments that are active names."""
        return tuple(index for index, arg in enumerate(self.args)
                     if isinstance(arg, ast.Name) and arg.id in active)

    def input_names(self) -> list[str]:
        """Names whose adjoints this operation feeds (differentiable inputs only)."""
        if self.kind in ("copy", "setitem", "append", "pack", "unknown", "call", "pop"):
            return [arg.id for arg in self.args if isinstance(arg, ast.Name)]
        if self.kind != "rule":
            return []
        return [arg.id for arg, vjp, jvp in zip(self.args, self.rule.vjps, self.rule.jvps)
                if (vjp is not None or jvp is not None) and isinstance(arg, ast.Name)]


@dataclass
class Analysis:
    normal: NormalForm
    operations: dict[int, Operation]     # id(statement) -> operation
    active: set[str]
    varied: set[str]
    useful: set[str]
    shape_classes: dict[str, str]        # name -> representative name of its shape class
    wrt: tuple[str, ...]
    result: str
    assignment_counts: dict[str, int] = field(default_factory=dict)
    scalar_names: set[str] = field(default_factory=set)   # bound once, to a number
    shapes: dict[str, tuple] = field(default_factory=dict)   # specialized: name -> shape
    mappings: set[str] = field(default_factory=set)  # every binding a dict display or dict()
    lists: set[str] = field(default_factory=set)     # every binding a list display or list()
    integers: set[str] = field(default_factory=set)  # names holding only Python ints
    index_bounds: dict[str, tuple[int, int]] = field(default_factory=dict)   # specialized
    # whether rules for real values only guard against complex ones (complex_guard): set by
    # the pipeline where complex values can arrive (complex arguments, may_be_complex)
    guard_complex: bool = True
    # refuse_shared_view(...) calls to follow a statement taking what may be a view of an
    # array written in place (_refuse_stale_views): id(statement) -> guards
    view_guards: dict[int, list[ast.Expr]] = field(default_factory=dict)

    def operation(self, statement: ast.stmt) -> Operation:
        return self.operations[id(statement)]

    def may_be_complex(self) -> bool:
        """Could some value here be complex although every argument is real?  Conservative:
        a complex constant, a ``dtype=`` argument, a global holding a complex value or a
        complex type, a rule that makes complex values (``np.fft.fft``), a call of another
        function or an operation without a rule all say yes.  ``grad`` skips computing
        the value (to check it is real) only when this is False."""
        normal = self.normal
        local_names = normal.local_names | set(normal.parsed.params)
        for operation in self.operations.values():
            if operation.kind in ("call", "unknown") \
                    or operation.rule is not None and operation.rule.complex_result:
                return True
        for node in ast.walk(ast.Module(body=list(normal.body), type_ignores=[])):
            if isinstance(node, ast.Constant) and isinstance(node.value, complex) \
                    or isinstance(node, ast.keyword) and node.arg == "dtype":
                return True
            if isinstance(node, (ast.Name, ast.Attribute)) and is_global_path(node, local_names):
                value = normal.parsed.scope.resolve_path(node)
                if value is MISSING or callable(value) and not isinstance(value, type):
                    continue
                if isinstance(value, type) and issubclass(value, (complex, np.complexfloating)) \
                        or isinstance(value, np.dtype) and value.kind == "c" \
                        or isinstance(value, (complex, np.ndarray, np.generic)) \
                        and np.iscomplexobj(value):
                    return True
        return False

    def same_shape(self, a: str, b: str) -> bool:
        return self._find(a) == self._find(b)

    def may_broadcast(self, operation: Operation, argument: ast.Name) -> bool:
        """Could the result of ``operation`` be larger than ``argument``?

        Not if every other operand is a scalar constant (``b * 2``, ``dt * t`` with
        ``dt = 0.001``) or provably has ``argument``'s shape (``y * y``).  This is a fact
        about this one operation, true however often ``argument`` is re-bound.  In code
        specialized to argument shapes, also not if ``argument`` provably has the shape of
        the result (``x = r * x * (1 - x)`` on floats).
        """
        shape = self.shapes.get(argument.id)
        if shape is not None and shape == self.shapes.get(operation.target):
            return False
        for other in operation.args:
            if other is argument or is_scalar_constant(other):
                continue
            if isinstance(other, ast.Name) and (other.id == argument.id
                                                or other.id in self.scalar_names
                                                or self.same_shape(other.id, argument.id)):
                continue
            return True
        return False

    def _find(self, name: str) -> str:
        while self.shape_classes.get(name, name) != name:
            name = self.shape_classes[name]
        return name


def analyze(normal: NormalForm, wrt: tuple[str, ...],
            parameter_shapes: dict[str, tuple | None] | None = None) -> Analysis:
    """``parameter_shapes``: the argument shapes to specialize to (None: generic code)."""
    operations = {}
    for statement in walk_statements(normal.body):
        if isinstance(statement, ast.Assign):
            operations[id(statement)] = classify(normal, statement)
        elif isinstance(statement, ast.Expr) and _is_append_call(statement.value):
            call = statement.value
            operations[id(statement)] = Operation("append", call.func.value.id, statement,
                                                  args=(call.func.value, call.args[0]))
    result = normal.result
    ordered = list(operations.values())
    varied = _varied(ordered, set(wrt))
    useful = _useful(ordered, {result})
    active = varied & useful
    _refuse_mutating_calls(normal, varied)
    for operation in ordered:
        if operation.kind == "unknown" and operation.target in useful \
                and any(name in varied for name in operation.input_names()):
            raise operation.error
        if operation.kind == "rule" and operation.target in useful:
            _refuse_varied_parameters(normal, operation, varied)
        if operation.kind in ("rule", "call") and operation.target in useful:
            _refuse_varied_expressions(normal, operation, varied)
    shapes = infer_shapes(normal, operations, parameter_shapes) \
        if parameter_shapes is not None else {}
    view_guards = {}
    if not normal.parsed.source.filename.startswith("<s2s:"):
        # generated code reads views after in-place restores on purpose: they restore the
        # values the view saw (checked by the Hessian-vector products over the zoo)
        view_guards = _refuse_stale_views(normal, operations, active, shapes)
    analysis = Analysis(normal, operations, active, varied, useful, {}, wrt, result)
    analysis.view_guards = view_guards
    analysis.assignment_counts = _assignment_counts(normal)
    analysis.scalar_names = {
        op.target for op in ordered
        if op.kind == "constant" and is_scalar_constant(op.statement.value)
        and analysis.assignment_counts.get(op.target) == 1}
    analysis.mappings = _mappings(normal)
    analysis.lists = _list_names(normal)
    _shape_classes(ordered, analysis)
    if parameter_shapes is not None:
        analysis.shapes = shapes
        analysis.index_bounds = index_bounds(normal, operations, parameter_shapes)
    analysis.integers = integer_names(normal, set(normal.parsed.params))
    return analysis


#: callees of discarded calls known not to change their arguments
_PURE_EFFECTS = (print, warnings.warn, repr, str, format, refuse_complex, refuse_shared_view)


def complex_guard(analysis: Analysis, operation: Operation,
                  differentiated: set[str]) -> ast.Expr | None:
    """``refuse_complex('numpy.linalg.cholesky', a)``, to follow the primal statement of
    an operation whose rule is for real values only (see ``Rule.refuses_complex``) when a
    derivative goes through it: a rule whose target is in ``differentiated`` (the active
    names in reverse mode, the varied ones in forward mode), or a declared zero, true for
    real values only (``np.sign``), of a varied value.  None when no guard is needed: no
    complex value can arrive (``analysis.guard_complex`` is False) or the rule takes them."""
    rule = operation.rule
    if rule is None or not analysis.guard_complex or not rule.refuses_complex:
        return None
    if operation.kind == "rule" and operation.target in differentiated:
        # its inputs: a complex result of real ones (np.linalg.eig) is the rule's own case
        names = [arg.id for arg in operation.args if isinstance(arg, ast.Name)]
    elif operation.kind == "nondifferentiable" and operation.target in analysis.useful:
        names = sorted({node.id for node in ast.walk(operation.statement.value)
                        if isinstance(node, ast.Name) and node.id in analysis.varied})
    else:
        return None
    if not names:
        return None
    call = ast.Call(ast.Name("refuse_complex", ast.Load()),
                    [ast.Constant(rule.qualified_name)]
                    + [ast.Name(name, ast.Load()) for name in dict.fromkeys(names)], [])
    return ast.Expr(call)


def _refuse_mutating_calls(normal: NormalForm, varied: set[str]) -> None:
    """A discarded call (``callback(x)``) runs in the forward sweep, never differentiated.

    It is refused when it receives a differentiated value and may change it in place:
    unless the callee is ``print``, ``warnings.warn``, a ``logging`` function or logger
    method, or a NumPy function with a derivative rule (without ``out=``), each of its
    arguments must be a value that does not depend on the differentiated inputs.
    """
    scope = normal.parsed.scope
    for statement in walk_statements(normal.body):
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call) \
                or _is_append_call(statement.value):
            continue
        call = statement.value
        received = sorted({node.id for argument in [*call.args, *call.keywords]
                           for node in ast.walk(argument)
                           if isinstance(node, ast.Name) and node.id in varied})
        if not received:
            continue
        callee = scope.resolve_path(call.func)
        if _is_pure_effect(callee) and not any(k.arg == "out" for k in call.keywords):
            continue
        if callee is runtime.restore_entry:
            raise normal.parsed.source.unsupported(
                statement, "a derivative of gradient code that writes into a dict (second "
                           "derivatives through dict item writes are not supported yet)",
                hint="build the dict in one expression (a literal or a dict comprehension)")
        shown = _written_name(received[0])
        raise normal.parsed.source.unsupported(
            statement, f"the call '{ast.unparse(call)}' receives '{shown}', a differentiated "
                       "value, and its result is discarded: it may change the value in place",
            hint=f"pass a copy that is not differentiated (s2s.stop_gradient({shown}.copy())), "
                 "or assign the result to a name if it is a value")


def _is_pure_effect(callee: Any) -> bool:
    if any(callee is effect for effect in _PURE_EFFECTS):
        return True
    owner = getattr(callee, "__self__", None)
    if isinstance(owner, (logging.Logger, logging.LoggerAdapter)) \
            or getattr(callee, "__module__", None) == "logging" and inspect.isfunction(callee):
        return True
    rule = REGISTRY.lookup(callee)
    return rule is not None and (_is_numpy_function(callee) or library.is_library_function(callee))


def _refuse_varied_expressions(normal: NormalForm, operation: Operation,
                               varied: set[str]) -> None:
    """An argument that is an expression, not a name (``opts['k']`` from ``**opts``), gets
    no adjoint: it must not hold a differentiated value."""
    for argument in operation.args:
        if isinstance(argument, (ast.Name, ast.Constant)):
            continue
        if any(isinstance(node, ast.Name) and node.id in varied for node in ast.walk(argument)):
            raise normal.parsed.source.unsupported(
                operation.statement, f"'{ast.unparse(argument)}' holds a differentiated value "
                "passed through ** (or another expression s2s does not differentiate)",
                hint="pass the keyword argument by name", error=MissingRuleError)


def _refuse_varied_parameters(normal: NormalForm, operation: Operation, varied: set[str]) -> None:
    """A differentiated value passed where the rule takes no derivative is an error.

    ``np.clip(x, lo, hi)`` differentiates all three; ``np.sum(x, axis=k)`` does not
    differentiate ``k``, so a ``k`` computed from the inputs would lose its dependency.
    (Rule positions declared ``None``, such as an index or a ``where`` condition, are
    integer or boolean: their derivative is zero.)
    """
    variadic = {parameter.name for parameter in operation.rule.signature.parameters.values()
                if parameter.kind is parameter.VAR_POSITIONAL}   # the positions again
    rule = operation.rule
    for position, value in enumerate(operation.args[:rule.arity]):
        if rule.vjps[position] is None and isinstance(value, ast.Name) and value.id in varied \
                and isinstance(rule.domains[position], NotDifferentiated):
            raise normal.parsed.source.unsupported(
                operation.statement,
                f"argument {position + 1} of {rule.name} depends on the differentiated "
                "inputs, but s2s does not differentiate it", hint="compute it from values "
                "that are not differentiated, or wrap it in s2s.stop_gradient(...) if no "
                "gradient should flow", error=MissingRuleError)
    for name, value in operation.params.items():
        if name in variadic:
            continue
        for node in ast.walk(value):
            if isinstance(node, ast.Name) and node.id in varied:
                raise normal.parsed.source.unsupported(
                    operation.statement,
                    f"the '{name}' argument of {operation.rule.name} depends on the "
                    "differentiated inputs, but its rule has no derivative for it",
                    hint=f"compute '{name}' from values that are not differentiated, or "
                         "wrap it in s2s.stop_gradient(...) if no gradient should flow",
                    error=MissingRuleError)


def may_alias(statement: ast.Assign) -> str | None:
    """The array ``statement`` may make a view or alias of: ``y = x``, ``y = x[1:]``."""
    value = statement.value
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        if any(isinstance(part, ast.Slice) or isinstance(part, ast.Constant)
               and part.value in (None, Ellipsis) for part in parts):
            return value.value.id
    return None


#: method and NumPy function names whose result may be a view of the array they take first
#: (``x.reshape(3)``, ``np.transpose(x)``), for :func:`may_view`
_VIEW_CALLS = frozenset({
    "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze", "expand_dims", "flip",
    "fliplr", "flipud", "rot90", "diagonal", "atleast_1d", "atleast_2d", "atleast_3d",
    "broadcast_to", "reshape", "ravel", "asarray", "asanyarray", "array", "real", "imag",
    "conj", "conjugate", "diag", "split", "array_split", "hsplit", "vsplit", "dsplit",
    "broadcast_arrays", "view", "permute_dims", "matrix_transpose", "astype"})


def may_view(statement: ast.Assign) -> tuple[str, ...]:
    """The arrays ``statement`` may make a view or alias of, read from its syntax alone (for
    the generated code's restores of array elements): :func:`may_alias`'s, and ``y = x[i]``
    (a row of a matrix), ``y = x.T``, ``y = x.reshape(3)``, ``y = np.transpose(x)``...
    (for ``a.f(b)`` both ``a`` and ``b``: a method of an array, or a function of a module)."""
    array = may_alias(statement)
    if array is not None:
        return (array,)
    value = statement.value
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        return (value.value.id,)
    if isinstance(value, ast.Attribute) and value.attr in ("T", "mT", "real", "imag") \
            and isinstance(value.value, ast.Name):
        return (value.value.id,)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr in _VIEW_CALLS:
        return tuple(node.id for node in (value.func.value, *value.args[:1])
                     if isinstance(node, ast.Name))
    return ()


#: rules whose result is always a view of (or the very object) their first argument, an
#: array: ``x.T``, ``np.transpose(x)``, ``np.flip(x)``...
VIEW_RULES = frozenset({
    "numpy.transpose", "numpy.swapaxes", "numpy.moveaxis", "numpy.rollaxis", "numpy.squeeze",
    "numpy.expand_dims", "numpy.flip", "numpy.fliplr", "numpy.flipud", "numpy.rot90",
    "numpy.diagonal", "numpy.atleast_1d", "numpy.atleast_2d", "numpy.atleast_3d",
    "numpy.broadcast_to"})
#: rules whose result may be a view of their first argument, or hold views of it, depending
#: on the values (``x.reshape(3)`` copies a non-contiguous ``x``; ``x.conj()`` of a real
#: array is ``x`` itself, ``np.conj(x)`` a copy; ``np.split`` returns a list of views)
MAYBE_VIEW_RULES = frozenset({
    "numpy.reshape", "numpy.ravel", "numpy.asarray", "numpy.array", "numpy.real",
    "numpy.imag", "numpy.conjugate", "numpy.diag", "numpy.split", "numpy.array_split",
    "numpy.hsplit", "numpy.vsplit", "numpy.dsplit", "numpy.broadcast_arrays",
    "_operator.getitem"})


def view_of(statement: ast.Assign, operation: Operation | None) -> tuple[str, bool] | None:
    """``(array, certain)`` when ``statement`` may bind its name to a view or alias of the
    array named ``array`` (or to a list holding views of it): ``certain`` for ``y = x``,
    ``y = x[1:]``, ``y = x.T``; not for ``y = x[i]`` (a view of a row of a matrix, a copy of
    an element of a vector), ``y = x.reshape(3)``... whose answer comes when the code runs."""
    if not isinstance(statement.targets[0], ast.Name):
        return None
    array = may_alias(statement)
    if array is not None:
        return array, True
    if operation is None or operation.kind != "rule" or not operation.args \
            or not isinstance(operation.args[0], ast.Name):
        return None
    name = operation.rule.qualified_name
    if name in VIEW_RULES:
        return operation.args[0].id, True
    if name in MAYBE_VIEW_RULES:
        return operation.args[0].id, False
    return None


def _refuse_stale_views(normal: NormalForm, operations: dict[int, Operation],
                        active: set[str], shapes: dict[str, tuple]) -> dict[int, list[ast.Expr]]:
    """Refuse reading a view (or alias) of an array after the array was written in place,
    or the array (or another view of it) after the view was written in place.

    ``y = x[0:2]; x[0] = v; ... y ...`` reads the written value through ``y``, a dependency
    on ``v`` that the adjoint of ``y``, sent to ``x`` where ``y`` was taken, would miss;
    ``y = x[0:2]; y[0] = v; ... x ...`` the same through ``x``.  Views of views count, and
    two views of one array are related as well.  A loop over a view (``for r in x.T``) is
    such a read at each iteration (s2s/normalize/for_loops.py reads ``x.T`` or ``x[::-1]``
    afresh in the loop where it can).

    Where the name may or may not be a view (``r = A[i]``: a row of a matrix, or an element
    of a vector; ``x.reshape(3)``), the refusal waits for the code to run: the result is a
    ``{id(statement): [guard]}`` of ``refuse_shared_view(message, view, array)`` calls to
    follow the statement that takes the view, raising when the two share memory.  Names
    whose specialized shape is ``()`` are numbers, never views.
    """
    order: list[tuple[ast.stmt, tuple[int, ...]]] = []     # statements, enclosing loops
    blocks: list[tuple[int, ...]] = []                      # the blocks around each one

    def visit(body: list[ast.stmt], loops: tuple[int, ...], within: tuple[int, ...]) -> None:
        within = within + (id(body),)
        for statement in body:
            order.append((statement, loops))
            blocks.append(within)
            if isinstance(statement, (ast.For, ast.While)):
                visit(statement.body, loops + (id(statement),), within)
                visit(statement.orelse, loops, within)
            elif isinstance(statement, ast.If):
                visit(statement.body, loops, within)
                visit(statement.orelse, loops, within)

    visit(normal.body, (), ())

    def rebound_before(array: str, start: int, written: int) -> bool:
        """Is ``array`` bound to a new object on every path from ``start`` to ``written``
        (a plain assignment before the write, in its block or one around it)?"""
        for position in range(start + 1, written):
            statement = order[position][0]
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                    and statement.targets[0].id == array \
                    and not getattr(statement, "s2s_augmented", False) \
                    and blocks[written][:len(blocks[position])] == blocks[position]:
                return True
        return False
    indexed = {node.value.id for statement, _ in order for node in ast.walk(statement)
               if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)}
    # edges: (view, array, position of the statement taking the view, certain)
    edges: list[tuple[str, str, int, bool]] = []
    writes: dict[str, list[tuple[int, tuple[int, ...]]]] = {}
    for position, (statement, loops) in enumerate(order):
        operation = operations.get(id(statement))
        if operation is None or not isinstance(statement, ast.Assign):
            continue
        if operation.kind == "setitem":
            writes.setdefault(operation.args[0].id, []).append((position, loops))
        elif getattr(statement, "s2s_augmented", False) and isinstance(statement.value,
                                                                        ast.BinOp) \
                and isinstance(statement.value.left, ast.Name) \
                and statement.value.left.id in indexed:
            # x += e changes an array x in place, which s2s models as x_1 = x + e (a float
            # is rebound, and cannot be indexed: only names indexed somewhere count)
            writes.setdefault(statement.value.left.id, []).append((position, loops))
        else:
            taken = view_of(statement, operation)
            view = statement.targets[0].id if taken is not None else None
            if taken is None or view == taken[0] or shapes.get(view) == () \
                    or view not in active and taken[0] not in active:
                continue
            edges.append((view, taken[0], position, taken[1]))
    if not writes or not edges:
        return {}
    # related[(a, b)] = (position, certain, edges): a and b may share memory from that
    # statement on (a view of a view, two views of one array), through those edges
    related: dict[tuple[str, str], tuple[int, bool, frozenset[int]]] = {}

    def relate(a: str, b: str, fact: tuple[int, bool, frozenset[int]]) -> bool:
        if a == b:
            return False
        known = related.get((a, b))
        if known is not None and (known[0], not known[1]) <= (fact[0], not fact[1]):
            return False
        related[(a, b)] = related[(b, a)] = fact
        return True
    for number, (view, array, position, certain) in enumerate(edges):
        relate(view, array, (position, certain, frozenset({number})))
    changed = True
    while changed:
        changed = False
        for (a, b), first in list(related.items()):
            for (c, d), second in list(related.items()):
                if c == b and d != a:
                    changed |= relate(a, d, (max(first[0], second[0]), first[1] and second[1],
                                             first[2] | second[2]))
    direct = {(edge[0], edge[1]) for edge in edges}
    guards: dict[int, list[ast.Expr]] = {}
    for (read_name, array), (defined, certain, through) in sorted(related.items()):
        for written, write_loops in writes.get(array, []):
            if written <= defined or rebound_before(array, defined, written):
                continue
            for position, (statement, loops) in enumerate(order):
                if position == defined or isinstance(statement, (ast.For, ast.While, ast.If)):
                    continue
                if read_name not in _reads(statement):
                    continue
                later = written < position
                shared = set(write_loops) & set(loops) - set(order[defined][1])
                if not later and not shared:
                    continue
                view, base = _written_name(read_name), _written_name(array)
                if view.startswith("_"):          # a temporary: show what it holds
                    view = ast.unparse(order[defined][0].value) \
                        if order[defined][0].targets[0].id == read_name else view
                if base.startswith("_"):
                    base = ast.unparse(order[defined][0].value) \
                        if order[defined][0].targets[0].id == array else base
                line, write_line = order[defined][0].lineno, order[written][0].lineno
                if (read_name, array) in direct:      # y = x[1:]; x[0] = v; ... y ...
                    message = f"'{view}' is a view of '{base}' (line {line}), read after " \
                              f"'{base}' was written in place (line {write_line})"
                elif (array, read_name) in direct:    # y = x[1:]; y[0] = v; ... x ...
                    message = f"'{base}' is a view of '{view}' (line {line}), and '{view}' " \
                              f"is read after '{base}' was written in place (line " \
                              f"{write_line})"
                else:                                 # views of one array, or of a view
                    message = f"'{view}' and '{base}' may be views of one array (line " \
                              f"{line}), and '{view}' is read after '{base}' was written " \
                              f"in place (line {write_line})"
                error = normal.parsed.source.unsupported(
                    statement, message,
                    hint="take a copy where the view is made (y = x[...].copy()), or take "
                         "the view again after the write")
                if certain:
                    raise error
                for number in sorted(through):
                    view_name, base_name, taken_at, sure = edges[number]
                    if sure:
                        continue
                    guard = ast.Expr(ast.Call(ast.Name("refuse_shared_view", ast.Load()), [
                        ast.Constant(str(error)), ast.Name(view_name, ast.Load()),
                        ast.Name(base_name, ast.Load())], []))
                    # one view taken a statement: its first stale read names the lines
                    guards.setdefault(id(order[taken_at][0]), [guard])
                break
    return guards


def _written_name(name: str) -> str:
    """``x_1`` -> ``x``: the name as the user wrote it (renamed by the normal form)."""
    base, _, suffix = name.rpartition("_")
    return base if suffix.isdigit() and base and not name.startswith("_") else name


def _reads(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.Assign):
        nodes = [statement.value] + ([statement.targets[0].slice]
                                     if isinstance(statement.targets[0], ast.Subscript) else [])
    else:
        nodes = [statement]
    return {node.id for root in nodes for node in ast.walk(root)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _is_append_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "append" and isinstance(node.func.value, ast.Name)


def _varied(operations: list[Operation], seeds: set[str]) -> set[str]:
    varied = set(seeds)
    changed = True
    while changed:                       # a fixpoint, ready for loops
        changed = False
        for operation in operations:
            if operation.target not in varied and \
                    any(name in varied for name in operation.input_names()):
                varied.add(operation.target)
                changed = True
    return varied


def _useful(operations: list[Operation], seeds: set[str]) -> set[str]:
    useful = set(seeds)
    changed = True
    while changed:
        changed = False
        for operation in reversed(operations):
            if operation.target in useful:
                for name in operation.input_names():
                    if name not in useful:
                        useful.add(name)
                        changed = True
    return useful


def _union(analysis: Analysis, a: str, b: str) -> None:
    root_a, root_b = analysis._find(a), analysis._find(b)
    if root_a != root_b:
        analysis.shape_classes[max(root_a, root_b)] = min(root_a, root_b)


def is_scalar_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def _assignment_counts(normal: NormalForm) -> dict[str, int]:
    """How many statements bind each name (a loop variable counts as many)."""
    counts: dict[str, int] = {name: 1 for name in normal.parsed.params}
    for statement in walk_statements(normal.body):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            counts[name] = counts.get(name, 0) + 1
        elif isinstance(statement, ast.For):
            counts[statement.target.id] = 2
    return counts


def _list_names(normal: NormalForm) -> set[str]:
    """Names every binding of which is a list: a list display, ``list(...)``, a copy of
    such a name (a greatest fixpoint); and names appended to or popped from."""
    appended = {statement.value.func.value.id for statement in walk_statements(normal.body)
                if isinstance(statement, ast.Expr) and _is_append_call(statement.value)}
    appended |= {statement.value.func.value.id for statement in walk_statements(normal.body)
                 if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)
                 and isinstance(statement.value.func, ast.Attribute)
                 and statement.value.func.attr == "pop"
                 and isinstance(statement.value.func.value, ast.Name)}
    bindings: dict[str, list[ast.expr | None]] = {}
    for statement in walk_statements(normal.body):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            bindings.setdefault(statement.targets[0].id, []).append(statement.value)
        elif isinstance(statement, ast.For):
            bindings.setdefault(statement.target.id, []).append(None)
    for name in normal.parsed.params:
        bindings.setdefault(name, []).append(None)
    names = set(bindings)
    changed = True
    while changed:
        changed = False
        for name in sorted(names):
            if not all(isinstance(value, ast.List) or isinstance(value, ast.Name)
                       and value.id in names or isinstance(value, ast.Call)
                       and isinstance(value.func, ast.Name) and value.func.id == "list"
                       and "list" not in normal.local_names
                       for value in bindings[name]):
                names.discard(name)
                changed = True
    return names | appended


def _mappings(normal: NormalForm) -> set[str]:
    """Names every binding of which is a dict display or a ``dict(...)`` call: their item
    writes may add keys (the reverse sweep then deletes them instead of restoring)."""
    kinds: dict[str, bool] = {}
    for statement in walk_statements(normal.body):
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, ast.For) else []
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    value = statement.value if isinstance(statement, ast.Assign) \
                        and target is node else None
                    is_dict = isinstance(value, ast.Dict) or (
                        isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                        and value.func.id == "dict" and "dict" not in normal.local_names)
                    kinds[node.id] = kinds.get(node.id, True) and is_dict
    return {name for name, is_dict in kinds.items() if is_dict}


def _single_assignments(analysis: Analysis) -> set[str]:
    """Names bound exactly once (a name re-bound in a loop may change shape)."""
    return {name for name, count in analysis.assignment_counts.items() if count == 1}


def _shape_classes(operations: list[Operation], analysis: Analysis) -> None:
    """Names that provably hold arrays of one shape: elementwise results and their inputs.

    Only names bound once take part: after ``p = 1.0`` and ``p = p * w`` in a loop, ``p``
    has no single shape.
    """
    stable = _single_assignments(analysis)
    for operation in operations:
        if operation.target not in stable or \
                any(isinstance(a, ast.Name) and a.id not in stable for a in operation.args):
            continue
        if operation.kind == "copy":
            _union(analysis, operation.target, operation.args[0].id)
        if operation.kind != "rule" or not operation.rule.elementwise:
            continue
        names = [arg.id for arg in operation.args if isinstance(arg, ast.Name)]
        others_scalar = all(isinstance(arg, ast.Name) or is_scalar_constant(arg)
                            for arg in operation.args)
        if not names or not others_scalar:
            continue
        if all(analysis.same_shape(names[0], name) for name in names):
            _union(analysis, operation.target, names[0])


def classify(normal: NormalForm, statement: ast.Assign) -> Operation:
    """Map a simple assignment to a registry rule with bound arguments."""
    value = statement.value
    local_names = normal.local_names | set(normal.parsed.params)
    source = normal.parsed.source
    scope = normal.parsed.scope
    target_node = statement.targets[0]
    if isinstance(target_node, ast.Subscript):
        return Operation("setitem", target_node.value.id, statement,
                         args=(target_node.value, value),
                         params={"index": index_value(target_node.slice)})
    target = target_node.id

    def make(kind, rule=None, args=(), params=None):
        return Operation(kind, target, statement, rule, tuple(args), params or {})

    for node in ast.walk(value):
        if isinstance(node, ast.Name) and node.id not in local_names \
                and node.id not in normal.lifted and not scope.is_bound(node.id):
            raise source.unsupported(node, f"the name '{node.id}' is not defined",
                                     hint="define it before differentiating the function")

    if isinstance(value, ast.Name) and value.id in local_names:
        return make("copy", args=[value])
    if isinstance(value, ast.Constant) or isinstance(value, (ast.Name, ast.Attribute)) \
            and is_global_path(value, local_names):
        return make("constant")
    if isinstance(value, (ast.Tuple, ast.List)) \
            and all(isinstance(e, ast.Constant) for e in value.elts):
        return make("constant")
    if isinstance(value, ast.JoinedStr):                 # f"term{i}": a string
        return make("nondifferentiable")
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        return _classify_operator(source, statement, value, make)
    if isinstance(value, ast.Attribute):
        rule = REGISTRY.attributes.get(value.attr)
        if rule is not None and rule.nondifferentiable:
            return make("nondifferentiable", rule)
        if rule is not None:
            return _bind(source, make, rule, ast.Call(value, [], []), [value.value])
        refusal = REFUSED.attributes.get(value.attr)
        if refusal is None and not hasattr(np.ndarray, value.attr):
            # a field of a namedtuple or registered dataclass of parameters (a pytree)
            return make("rule", REGISTRY.named("field"),
                        [value.value, ast.Constant(value.attr)])
        error = source.unsupported(value, f"the attribute '.{value.attr}' has no derivative "
                                   "rule" + (f" ({refusal.reason})" if refusal else ""),
                                   hint="use the equivalent NumPy function, or "
                                   "s2s.stop_gradient(...) if no gradient should flow",
                                   error=MissingRuleError)
        return Operation("unknown", target, statement, args=(value.value,), error=error)
    if isinstance(value, ast.Subscript):
        if is_global_path(value.value, local_names):
            return _classify_global_subscript(normal, statement, value, make)
        return make("rule", REGISTRY.named("getitem"), [value.value, index_value(value.slice)])
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and not is_global_path(value.func, local_names) \
            and getattr(REGISTRY.methods.get(value.func.attr), "nondifferentiable", False):
        return make("nondifferentiable", REGISTRY.methods[value.func.attr])   # d.keys()
    if isinstance(value, ast.Call):
        return _classify_call(normal, statement, value, make, local_names)
    if isinstance(value, (ast.Tuple, ast.List)):
        return make("pack", args=value.elts)
    if isinstance(value, ast.Dict):             # its keys: in the statement's value
        return make("pack", args=value.values)
    raise source.unsupported(value, f"cannot differentiate '{ast.unparse(value)}'")


def _classify_operator(source, statement: ast.Assign, value: ast.expr, make) -> Operation:
    """``a % b``, ``-a``, ``a < b``: the registry's entry for the function the operator
    stands for (:mod:`s2s.rules.operators`), or an error if it has none."""
    if isinstance(value, ast.BinOp):
        node, operands = value.op, [value.left, value.right]
    elif isinstance(value, ast.UnaryOp):
        node, operands = value.op, [value.operand]
    else:
        node, operands = value.ops[0], [value.left, *value.comparators]
        if len(value.ops) > 1:      # the normal form splits chains; be safe if it did not
            rules = [REGISTRY.lookup(function_of(op)) for op in value.ops]
            if all(rule is not None and rule.nondifferentiable for rule in rules):
                return make("nondifferentiable", rules[0])
    rule = REGISTRY.lookup(function_of(node))
    if rule is not None and rule.nondifferentiable:
        return make("nondifferentiable", rule)
    if rule is not None and len(operands) == rule.arity:
        return make("rule", rule, operands)
    text = ast.unparse(value)
    error = source.unsupported(value, f"the operator in '{text}' has no derivative rule",
                               hint="register a rule for the NumPy function it calls, or "
                                    "wrap the operand in s2s.stop_gradient(...)",
                               error=MissingRuleError)
    return Operation("unknown", statement.targets[0].id, statement, args=tuple(operands),
                     error=error)


def _classify_global_subscript(normal, statement: ast.Assign, value: ast.Subscript,
                               make) -> Operation:
    """``np.r_[x, y]``, ``TABLE[i]``: a subscript of an object that is not a local value.

    A global array (or list, tuple, dict) indexed by whatever the function computed is
    ``getitem`` on a constant; any other object's ``__getitem__`` (the index tricks
    ``np.r_``, ``np.c_``, ``np.mgrid``...) is a call with the index as its argument, so it
    needs a rule of its own when the index holds differentiated values.
    """
    resolved = normal.parsed.scope.resolve_path(value.value)
    if isinstance(resolved, (np.ndarray, np.generic, list, tuple, dict, str, int, float)):
        return make("rule", REGISTRY.named("getitem"), [value.value, index_value(value.slice)])
    rule = REGISTRY.lookup(resolved)
    name = ast.unparse(value.value)
    index = value.slice
    if rule is not None and rule.nondifferentiable:
        return make("nondifferentiable", rule)
    if rule is not None:
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        return make("rule", rule, [ast.Tuple(list(items), ast.Load())])
    error = normal.parsed.source.unsupported(
        value, f"no derivative rule for indexing '{name}'",
        hint=f"'{name}[...]' builds its result from the values in the brackets; use "
             "np.concatenate / np.stack instead, or register a rule for it",
        error=MissingRuleError)
    names = tuple(node for node in ast.walk(index) if isinstance(node, ast.Name))
    return Operation("unknown", statement.targets[0].id, statement, args=names, error=error)


def index_value(index: ast.expr) -> ast.expr:
    """An index as an expression usable outside brackets: ``:, 1:`` -> ``np.s_[:, 1:]``."""
    if any(isinstance(node, ast.Slice) for node in ast.walk(index)):
        numpy_s = ast.Attribute(ast.Name("np", ast.Load()), "s_", ast.Load())
        return ast.Subscript(numpy_s, index, ast.Load())
    return index


def _classify_call(normal, statement, call: ast.Call, make, local_names) -> Operation:
    source = normal.parsed.source
    try:
        call = _expand_starred(normal, statement, call, local_names)
    except UnsupportedError as error:        # raised only if the call is active
        inputs = [node for part in (*call.args, *(k.value for k in call.keywords))
                  for node in ast.walk(part) if isinstance(node, ast.Name)
                  and node.id in local_names]
        return Operation("unknown", statement.targets[0].id, statement, args=tuple(inputs),
                         error=error)
    function = call.func
    arguments = list(call.args)
    if isinstance(function, ast.Attribute) and function.attr == "pop" and not arguments \
            and isinstance(function.value, ast.Name) and function.value.id in local_names:
        return Operation("pop", statement.targets[0].id, statement, args=(function.value,))
    owner = _constant_type(normal, function)
    if isinstance(function, ast.Attribute) and not is_global_path(function, local_names) \
            and owner is None:
        method = function.attr
        rule = REGISTRY.methods.get(method)
        if rule is None:
            hint = "call the NumPy function instead (np.{0}(x, ...)), or register a rule" \
                .format(method)
            if method in _DISTRIBUTION_METHODS:
                hint = (f"for a scipy.stats distribution, call its method with the parameters "
                        f"(st.norm.{method}(x, loc, scale)), or freeze it once in this "
                        f"function (d = st.norm(loc, scale), then d.{method}(x))")
            error = source.unsupported(
                call, f"the method '.{method}()' has no derivative rule", hint=hint,
                error=MissingRuleError)
            return Operation("unknown", statement.targets[0].id, statement,
                             args=(function.value, *arguments), error=error)
        if method in VARARG_METHODS and len(arguments) > 1:
            arguments = [ast.Tuple(arguments, ast.Load())]
        arguments = [function.value] + arguments
        return _bind(source, make, rule, _expand_options(normal, call, local_names), arguments)
    if isinstance(function, ast.Name) and function.id in normal.lifted:
        definition = normal.lifted[function.id]
        return _bind_call(normal, statement, call, definition,
                          _definition_signature(normal, definition))
    name = ast.unparse(function)
    if isinstance(function, ast.Name) and function.id in local_names:
        raise source.unsupported(
            call, f"'{name}' is a variable of {normal.parsed.name}: which function it calls "
            "is not known when the code is generated",
            hint="call the function by its global name, leave the parameter at its default "
                 "(a callee's default is a constant), or bind it with functools.partial")
    if owner is not None:                    # type(self).method(x)
        resolved = getattr(owner, function.attr, MISSING)
    else:
        resolved = normal.parsed.scope.resolve_path(function)
    resolved = getattr(resolved, "__s2s_function__", resolved)   # a decorated helper
    if is_compiled_function(resolved):                            # @numba.njit: its Python
        resolved = resolved.py_func
    if resolved is MISSING:
        raise source.unsupported(call, f"the name '{name}' is not defined",
                                 hint="define it before differentiating the function")
    rule = REGISTRY.lookup(resolved)
    if rule is None and library.is_frozen(getattr(resolved, "__self__", None)):
        return _classify_global_frozen(normal, statement, call, resolved, make, local_names)
    if rule is None and library.is_distribution(resolved):       # st.norm(mu, s) freezes it
        return _frozen_construction(normal, statement, call, resolved, local_names)
    if rule is None and inspect.isfunction(resolved) \
            and getattr(resolved, "__module__", "").startswith("s2s.") \
            and not resolved.__module__.startswith("s2s.generated") \
            and not REGISTRY.reads_source(resolved):     # read like a user's function
        error = source.unsupported(
            call, f"s2s's helper '{name}' has no derivative rule, so code that calls it "
            "cannot be differentiated again", hint="higher derivatives through this operation "
            "are not supported yet", error=MissingRuleError)
        return Operation("unknown", statement.targets[0].id, statement,
                         args=tuple(arguments), error=error)
    refusal = REFUSED.lookup(resolved) if rule is None else None
    if rule is None and (refusal is not None or _is_numpy_function(resolved)
                         or library.is_library_function(resolved)):
        # NumPy's and SciPy's own Python functions are never read as the user's helpers
        if refusal is not None:
            reason = refusal.reason
        elif _is_numpy_function(resolved):
            reason = "NumPy function without a rule"
        else:
            reason = f"{library.public_name(resolved) or name}: SciPy function without a rule"
        error = source.unsupported(
            call, f"no derivative rule for '{name}' ({reason})",
            hint=f"use a supported function (see the README's coverage table), "
                 f"register a rule with s2s.defvjp({name}, vjp), or wrap the argument in "
                 "s2s.stop_gradient(...) if no gradient should flow", error=MissingRuleError)
        keywords = [keyword.value for keyword in call.keywords]
        return Operation("unknown", statement.targets[0].id, statement,
                         args=(*arguments, *keywords), error=error)
    if rule is None and _is_python_callable(resolved):
        try:
            target = resolve_target(resolved)
            signature = inspect.signature(target.function)
        except (S2SError, TypeError, ValueError):
            target = None
        if target is not None:
            return _bind_call(normal, statement, call, target, signature)
    if rule is None:
        hint = ("calls to other Python functions are not differentiated yet; inline the "
                "helper's body into this function"
                if inspect.isfunction(resolved) else
                f"s2s has no derivative for '{name}'; use a supported NumPy function "
                "(see the README's coverage table), or register one with "
                f"s2s.defvjp({name}, vjp) / @s2s.vjp_rule({name}), or declare it "
                f"s2s.nondifferentiable({name})")
        error = source.unsupported(call, f"no derivative rule for '{name}'", hint=hint,
                                   error=MissingRuleError)
        keywords = [keyword.value for keyword in call.keywords]
        return Operation("unknown", statement.targets[0].id, statement,
                         args=(*arguments, *keywords), error=error)
    if rule.nondifferentiable:
        return make("nondifferentiable", rule)
    return _bind(source, make, rule, _expand_options(normal, call, local_names), arguments)


# --- scipy.stats distributions ---------------------------------------------------------------

#: methods of scipy.stats distributions (a hint when one is called on an unknown value)
_DISTRIBUTION_METHODS = frozenset({"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "logpmf",
                                   "pmf", "ppf", "isf", "entropy"})


def _frozen_construction(normal, statement: ast.Assign, call: ast.Call, distribution: Any,
                         local_names) -> Operation:
    """``d = st.norm(mu, s)``: no value s2s differentiates by itself.  Its methods called
    on ``d`` later in this function became calls of the distribution's methods with these
    parameters (:mod:`s2s.normalize.frozen_distributions`); any other use of ``d``
    (returned, passed on, a method without a rule, a parameter re-bound in between) while a
    parameter is differentiated is refused, never a constant."""
    shown = library.public_name(distribution) or ast.unparse(call.func)
    error = normal.parsed.source.unsupported(
        call, f"'{ast.unparse(statement)}' freezes {shown} with parameters that depend on the "
        "differentiated inputs, and the frozen distribution is used other than by calling "
        "its methods (logpdf, pdf, cdf, ...) later in the same block while the parameters "
        "keep their values", hint=f"call the method with the parameters "
        f"({ast.unparse(call.func)}.logpdf(x, ...)), or freeze the distribution right "
        "before calling its method", error=MissingRuleError)
    inputs = [node for part in (*call.args, *(keyword.value for keyword in call.keywords))
              for node in ast.walk(part) if isinstance(node, ast.Name) and node.id in local_names]
    return Operation("unknown", statement.targets[0].id, statement, args=tuple(inputs),
                     error=error)


def _classify_global_frozen(normal, statement: ast.Assign, call: ast.Call, method: Any,
                            make, local_names) -> Operation:
    """``PRIOR.logpdf(w)`` with ``PRIOR = st.norm(0, 10)`` frozen outside the function: the
    rule of ``st.norm.logpdf`` with the frozen parameters, read from ``PRIOR.args`` and
    ``PRIOR.kwds`` (constants: only the data is differentiated)."""
    source = normal.parsed.source
    found = library.frozen_method_rule(method, REGISTRY)
    name = ast.unparse(call.func)
    if found is None or not isinstance(call.func, ast.Attribute):
        error = source.unsupported(
            call, f"no derivative rule for '{name}' ({library.public_name(method) or name})",
            hint="call the distribution's method with its parameters (st.norm.logpdf(x, "
                 "loc, scale)), or see the README's coverage table", error=MissingRuleError)
        inputs = [node for part in (*call.args, *(k.value for k in call.keywords))
                  for node in ast.walk(part) if isinstance(node, ast.Name)
                  and node.id in local_names]
        return Operation("unknown", statement.targets[0].id, statement, args=tuple(inputs),
                         error=error)
    rule, positional, keywords = found
    holder = call.func.value

    def read(field_name: str, key: Any) -> ast.expr:
        return ast.Subscript(ast.Attribute(copy.deepcopy(holder), field_name, ast.Load()),
                             ast.Constant(key), ast.Load())
    merged = ast.Call(call.func, [], [ast.keyword(key, read("kwds", key)) for key in keywords]
                      + list(call.keywords))
    return _bind(source, make, rule, merged,
                 [*call.args, *(read("args", index) for index in range(len(positional)))])


def _is_python_callable(value: Any) -> bool:
    """A function, bound method, ``functools.partial`` or object with a Python
    ``__call__``: something :func:`~s2s.parse.resolve_target` can read the source of."""
    if inspect.isfunction(value) or inspect.ismethod(value) or isinstance(value, functools.partial):
        return True
    return not inspect.isclass(value) and inspect.isfunction(getattr(type(value), "__call__",
                                                                      None))


def _constant_type(normal, function: ast.expr) -> Any:
    """For ``_t.method`` where the normal form bound ``_t = type(<constant>)`` once (the
    user wrote ``type(self).method(x)``): that type, else None."""
    if not (isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name)):
        return None
    definitions = [s for s in walk_statements(normal.body) if isinstance(s, ast.Assign)
                   and isinstance(s.targets[0], ast.Name)
                   and s.targets[0].id == function.value.id]
    if len(definitions) != 1 or function.value.id in normal.parsed.params:
        return None
    value = definitions[0].value
    scope = normal.parsed.scope
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and scope.resolve(value.func.id) is type and len(value.args) == 1 \
            and not value.keywords \
            and is_global_path(value.args[0], normal.local_names | set(normal.parsed.params)):
        constant = scope.resolve_path(value.args[0])
        return None if constant is MISSING else type(constant)
    return None


def _expand_options(normal, call: ast.Call, local_names) -> ast.Call:
    """``f(x, **opts)`` with ``opts`` a constant dict -> ``f(x, axis=opts['axis'], ...)``
    (for binding only: the generated code keeps the call as written)."""
    if all(keyword.arg is not None for keyword in call.keywords):
        return call
    keywords = []
    for keyword in call.keywords:
        if keyword.arg is not None:
            keywords.append(keyword)
            continue
        options = normal.parsed.scope.resolve_path(keyword.value) \
            if is_global_path(keyword.value, local_names) else _local_dict(normal, keyword.value)
        if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
            raise normal.parsed.source.unsupported(
                call, f"'**{ast.unparse(keyword.value)}' is not a constant dict",
                hint="pass the keyword arguments one by one, or build the dict outside the "
                     "differentiated function")
        for key in options:
            keywords.append(ast.keyword(key, ast.Subscript(keyword.value, ast.Constant(key),
                                                           ast.Load())))
    return ast.Call(call.func, call.args, keywords)


def _local_dict(normal, node: ast.expr) -> Any:
    """The keys of a dict literal bound once to a local name (``opts = {"k": v}``), as a
    dict of key -> the value's atom; MISSING for anything else.  Its values become the
    call's arguments as ``opts['k']``; one holding a differentiated value is refused by
    :func:`_refuse_varied_expressions`."""
    if not isinstance(node, ast.Name):
        return MISSING
    bindings = [statement for statement in walk_statements(normal.body)
                if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id == node.id]
    if len(bindings) != 1 or not isinstance(bindings[0].value, ast.Dict) \
            or not all(isinstance(key, ast.Constant) for key in bindings[0].value.keys):
        return MISSING
    return {key.value: value for key, value in zip(bindings[0].value.keys,
                                                   bindings[0].value.values)}


def _is_numpy_function(function: Any) -> bool:
    module = getattr(function, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")


def _definition_signature(normal, definition: ast.FunctionDef) -> inspect.Signature:
    """The signature of a lifted local ``def``; a default is its value if a literal, else
    its expression if it reads only globals (``scale=SCALE``), else refused."""
    arguments = definition.args
    source = normal.parsed.source
    local_names = normal.local_names | set(normal.parsed.params)
    for special in (arguments.vararg, arguments.kwarg):
        if special is not None:
            stars = "*" if special is arguments.vararg else "**"
            raise source.unsupported(special, f"'{stars}{special.arg}' parameters of a local "
                                     "function are not supported in generated code",
                                     hint="list the parameters explicitly, or define the "
                                          "function at module level")

    def default_of(node: ast.expr | None) -> Any:
        if node is None:
            return inspect.Parameter.empty
        try:
            return ast.literal_eval(node)
        except ValueError:
            pass
        if isinstance(node, (ast.Name, ast.Attribute)) and is_global_path(node, local_names):
            return copy.deepcopy(node)
        raise source.unsupported(node, f"the default value '{ast.unparse(node)}' of a local "
                                 "function reads the enclosing function's variables",
                                 hint="pass the argument explicitly in the call")

    positional = arguments.posonlyargs + arguments.args
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    parameters = [inspect.Parameter(argument.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    default=default_of(default))
                  for argument, default in zip(positional, defaults)]
    parameters += [inspect.Parameter(argument.arg, inspect.Parameter.KEYWORD_ONLY,
                                     default=default_of(default))
                   for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    return inspect.Signature(parameters)


_LITERALS = (int, float, complex, str, bool, type(None))


def _is_literal(value: Any) -> bool:
    return isinstance(value, _LITERALS) or (
        isinstance(value, tuple) and all(isinstance(v, _LITERALS) for v in value))


def _bind_call(normal, statement: ast.Assign, call: ast.Call, callee,
               signature: inspect.Signature) -> Operation:
    """A call to a user function: arguments in the callee's parameter order, as atoms.

    ``callee`` is a lifted ``ast.FunctionDef`` or the :class:`~s2s.parse.Target` of a
    Python function.  A target also binds, as constants of the callee (like globals),
    what is no atom of the caller: a default that is not a literal (``y=Y``,
    ``nonlinearity=np.tanh``), a function passed by its global name, ``**options`` of
    constants; the arguments of ``*rest`` become parameters of their own (the callee is
    generated for their number), and so do the keywords ``**options`` gathers when some
    are the caller's values (the callee is generated for their names).
    """
    source = normal.parsed.source
    scope = normal.parsed.scope
    local_names = normal.local_names | set(normal.parsed.params)
    bound_before = callee.bound if isinstance(callee, Target) else {}
    signature = signature.replace(parameters=[p for p in signature.parameters.values()
                                              if p.name not in bound_before])
    call = _expand_starred(normal, statement, call, local_names)
    try:
        bound = signature.bind(*call.args, **{k.arg: k.value for k in call.keywords})
    except TypeError as exc:
        raise source.unsupported(call, f"cannot match the call: {exc}") from None
    bound.apply_defaults()
    arguments, constants, varargs, varkeywords = [], dict(bound_before), None, None
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if not isinstance(callee, Target):
                raise source.unsupported(call, "calls to local functions with *args are not "
                                         "differentiated", hint="list the parameters")
            varargs = len(value)
            arguments.extend(value)
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            if isinstance(callee, Target) and value and all(
                    isinstance(option, ast.Constant) or isinstance(option, ast.Name)
                    and option.id in local_names for option in value.values()) \
                    and any(isinstance(option, ast.Name) for option in value.values()):
                varkeywords = tuple(sorted(value))     # values of the caller: parameters
                arguments.extend(value[key] for key in varkeywords)
                continue
            constants[name] = {key: _constant_value(normal, call, option, local_names)
                               for key, option in value.items()}
            continue
        if isinstance(value, ast.AST) and isinstance(callee, Target) \
                and isinstance(value, (ast.Name, ast.Attribute)) \
                and is_global_path(value, local_names):
            resolved = scope.resolve_path(value)
            if resolved is not MISSING and _is_python_callable(resolved) \
                    or isinstance(resolved, np.ufunc):
                constants[name] = resolved       # a function the callee calls
                continue
        if not isinstance(value, ast.AST):
            if not _is_literal(value):
                constants[name] = value          # evaluated once, at def time: a constant
                continue
            value = ast.Constant(value)
        arguments.append(value)
    if isinstance(callee, Target):
        callee = Target(callee.function, constants, varargs, varkeywords)
    return Operation("call", statement.targets[0].id, statement, args=tuple(arguments),
                     callee=callee)


def _constant_value(normal, call: ast.Call, node: ast.expr, local_names) -> Any:
    """The value of a literal or a global path, known when the code is generated."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and is_global_path(node.value, local_names):
        container = normal.parsed.scope.resolve_path(node.value)
        if container is not MISSING:
            return container[node.slice.value]
    if isinstance(node, (ast.Name, ast.Attribute)) and is_global_path(node, local_names):
        value = normal.parsed.scope.resolve_path(node)
        if value is not MISSING:
            return value
    raise normal.parsed.source.unsupported(
        call, f"the keyword argument '{ast.unparse(node)}' gathered into **kwargs is computed "
        "by the function", hint="name the parameter in the callee's def, so that it can be "
                                "differentiated")


def _expand_starred(normal, at: ast.stmt, call: ast.Call, local_names) -> ast.Call:
    """``f(*args)`` and ``f(**options)`` as one atom per argument: ``args[0], args[1]``
    for a constant sequence, the elements of a tuple or list the function built once,
    ``options['k']`` for a constant dict."""
    if not any(isinstance(a, ast.Starred) for a in call.args):
        return _expand_options(normal, call, local_names)
    counts: dict[str, int] = {}
    packs: dict[str, tuple[int, ast.expr]] = {}
    order: dict[str, int] = {}                     # name -> where it is bound
    here = None
    for index, statement in enumerate(walk_statements(normal.body)):
        if statement is at:
            here = index
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            counts[name] = counts.get(name, 0) + 1
            packs[name], order[name] = statement.value, index
        elif isinstance(statement, ast.For):
            counts[statement.target.id] = 2

    def built_once(element: ast.expr, before: int) -> bool:
        """A literal, an unchanged parameter, or a name bound once before ``before``."""
        if isinstance(element, ast.Constant):
            return True
        if not isinstance(element, ast.Name):
            return False
        if element.id in normal.parsed.params:
            return element.id not in counts
        return counts.get(element.id) == 1 and order[element.id] < before
    arguments = []
    for argument in call.args:
        if not isinstance(argument, ast.Starred):
            arguments.append(argument)
            continue
        value = argument.value
        sequence = normal.parsed.scope.resolve_path(value) \
            if is_global_path(value, local_names) else MISSING
        if isinstance(sequence, (tuple, list)):
            arguments.extend(ast.Subscript(value, ast.Constant(index), ast.Load())
                             for index in range(len(sequence)))
            continue
        pack = packs.get(value.id) if isinstance(value, ast.Name) else None
        if isinstance(pack, (ast.Tuple, ast.List)) and value.id not in normal.parsed.params \
                and here is not None and built_once(value, here) \
                and all(built_once(e, order[value.id]) for e in pack.elts):
            arguments.extend(pack.elts)
            continue
        raise normal.parsed.source.unsupported(
            call, f"'*{ast.unparse(value)}': s2s cannot tell how many arguments it passes",
            hint="pass the arguments one by one, or build the tuple once in the function "
                 "(args = (a, b)) before the call")
    return _expand_options(normal, ast.Call(call.func, arguments, call.keywords), local_names)


def _bind(source, make, rule: Rule, call: ast.Call, arguments: list[ast.expr]) -> Operation:
    signature = rule.signature
    try:
        bound = signature.bind(*arguments, **{k.arg: k.value for k in call.keywords})
    except TypeError as exc:
        raise source.unsupported(call, f"cannot match the call to {rule.name}: {exc}") from None
    bound.apply_defaults()
    names = list(signature.parameters)
    variadic = next((name for name, parameter in signature.parameters.items()
                     if parameter.kind is parameter.VAR_POSITIONAL), None)
    if variadic is None:                    # a default (adjoint_copy's like=None): a constant
        args = [value if isinstance(value, ast.AST) else ast.Constant(value)
                for value in (bound.arguments[name] for name in names[:rule.arity])]
        rest, params = names[rule.arity:], {}
    else:
        # np.einsum(*operands): one rule position per positional argument; the rule's
        # bodies read them all as one tuple.
        args = list(bound.arguments[variadic])
        if len(args) > rule.arity:
            raise source.unsupported(call, f"{rule.name} is differentiated with at most "
                                     f"{rule.arity} positional arguments")
        rest = [name for name in names if name != variadic]
        params = {variadic: ast.Tuple(list(args), ast.Load())}
    for name in rest:
        value = bound.arguments[name]
        params[name] = value if isinstance(value, ast.AST) else ast.Constant(value)
    for name in ("out", "dtype"):
        if name in params and not (isinstance(params[name], ast.Constant)
                                   and params[name].value is None):
            # refused only if a differentiated value reaches the call: np.linspace(0, 1, n,
            # dtype=np.float32) of constants just runs
            error = source.unsupported(call, f"the '{name}=' argument of {rule.name} is not "
                                       "supported in differentiated code",
                                       hint=f"drop '{name}=' and convert the result afterwards")
            inputs = [node for part in (*arguments, *(k.value for k in call.keywords))
                      for node in ast.walk(part) if isinstance(node, ast.Name)]
            return replace(make("unknown", args=inputs), error=error)
    return make("rule", rule, args, params)
