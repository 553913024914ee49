"""Stage 3b (analyse shapes), for derivative code specialized to its arguments' shapes.

Input: a :class:`~s2s.normalize.NormalForm`, its :class:`~s2s.analysis.Operation` per
statement, and the shape of each parameter at a call (a tuple of ints for a float, an int
or a NumPy array or scalar; ``None`` for anything else: a list, a tuple, an object).
Output: ``{name: shape}`` for the local names whose every value, at every call with
those argument shapes, is a number or a NumPy array or scalar of that one shape.  A name
left out has no provable shape.

The analysis is flow-insensitive and exact or silent: a name bound in several places
(``x = r * x * (1 - x)`` in a loop) has a shape only if every binding yields the same one,
computed by a fixpoint; an operation it does not model (a user function, a list, an
unknown NumPy call, data-dependent indexing) makes its result unknown, and so does every
name computed from it.  Nothing here reads values, only shapes, so specialized code is
valid for every call whose arguments have the same shapes.

Both generators use the map to leave out ``unbroadcast`` / ``broadcast_like`` where an
operand provably has the shape of the result (:meth:`s2s.analysis.Analysis.may_broadcast`);
the reverse one spells out the sums that remain (:func:`s2s.reverse.sum_to_shape`), and
:mod:`s2s.optimize` folds shape queries and drops value-only statements with it.
"""
from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np

from .arrays import array_type_name, is_dispatched_array, known_shape
from .normalize import NormalForm, walk_statements

Shape = tuple[int, ...]

_UNKNOWN = "unknown"            # a name bound somewhere to a value of no provable shape
_NUMPY_SCALARS = {"pi", "e", "inf", "nan", "euler_gamma"}
_REDUCTIONS = {"sum", "mean", "prod", "max", "min", "nansum", "nanmean", "std", "var"}
_SHAPE_NEUTRAL = {"dtype", "order", "subok", "copy", "casting", "out"}   # of elementwise rules
_SHAPED_BY_ARGUMENT = {"zeros", "ones", "empty", "full"}
_SHAPED_LIKE = {"zeros_like", "ones_like", "empty_like", "full_like", "copy"}
_INTEGER_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)


COMPLEX = "complex"     # first entry of the key of a complex argument: ("complex", 3, 4)


def argument_shape(value: Any) -> tuple | None:
    """The shape a specialization is keyed on: ``()`` for numbers, an exact ``ndarray``'s
    shape; ``None`` for every other value (subclasses such as ``np.matrix`` included).  A
    complex value's key starts with :data:`COMPLEX` (its code is specialized to the shape
    all the same, :func:`key_shape`), so that real and complex calls never share an entry
    of a cache that depends on the kind of value (``grad``'s closure-free fast path).  An
    array of another library that NumPy dispatches to (Dask, CuPy) has its type's name
    first (``("dask.array.Array", 1000, 3)``), so a NumPy specialization never runs on it;
    one of unknown lengths (Dask's ``nan`` chunks) has no key: it runs the generic code."""
    kind = value.__class__
    if kind is float or kind is int:
        return ()
    if kind is np.ndarray:
        return value.shape if value.dtype.kind != "c" else (COMPLEX, *value.shape)
    if isinstance(value, (np.floating, np.integer)) or kind is bool:
        return ()
    if kind is complex or isinstance(value, np.complexfloating):
        return (COMPLEX,)
    if is_dispatched_array(value):
        shape = known_shape(value)
        if shape is None:
            return None
        marks = (array_type_name(value),) + ((COMPLEX,) if np.dtype(value.dtype).kind == "c"
                                             else ())
        return (*marks, *shape)
    return None


def _marks(key: tuple) -> int:
    """How many entries of a key are marks (strings) before its shape."""
    count = 0
    while count < len(key) and isinstance(key[count], str):
        count += 1
    return count


def key_shape(key: tuple | None) -> Shape | None:
    """The shape in a key of :func:`argument_shape` (without its marks)."""
    if key and isinstance(key[0], str):
        return key[_marks(key):]
    return key


def is_complex_key(key: tuple | None) -> bool:
    return bool(key) and isinstance(key[0], str) and COMPLEX in key[:_marks(key)]


def is_dispatched_key(key: tuple | None) -> bool:
    """Is this the key of an array of another library (Dask, CuPy)?"""
    return bool(key) and isinstance(key[0], str) and key[0] != COMPLEX


def infer_shapes(normal: NormalForm, operations: dict[int, Any],
                 parameter_shapes: dict[str, Shape | None]) -> dict[str, Shape]:
    """The provable shape of each local name (see the module docstring)."""
    statements = list(walk_statements(normal.body))
    opaque = _opaquely_bound(normal, statements)
    ranges = _range_names(statements, opaque | set(parameter_shapes))
    integers = _integer_names(statements, opaque | set(parameter_shapes), ranges)
    state: dict[str, Any] = {}
    for name, shape in parameter_shapes.items():
        state[name] = _UNKNOWN if shape is None else shape
    for name in opaque:
        state[name] = _UNKNOWN
    locals_ = set(state) | {_bound_name(s) for s in statements if _bound_name(s)}
    transfer = _Transfer(state, locals_, integers, ranges, operations)
    transfer.single = _single_bindings(statements, opaque | set(parameter_shapes))
    transfer.elements = {name: None for name in _plain_lists(statements, operations,
                                                             opaque | set(parameter_shapes))}
    entries = [(operation.args[0].id, operation.args[1])       # what goes into a list
               for operation in operations.values()
               if operation.kind in ("append", "setitem") and operation.args
               and isinstance(operation.args[0], ast.Name)
               and operation.args[0].id in transfer.elements]
    entries += [(_bound_name(statement), element) for statement in statements
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.List)
                and _bound_name(statement) in transfer.elements
                for element in statement.value.elts]
    entries = [(transfer.list_root(name), value) for name, value in entries]
    changed = True
    while changed:
        changed = False
        for name, value in entries:             # the shape every element of a list has
            element = transfer.atom(value)
            if element is None or name not in transfer.elements:
                continue
            known = transfer.elements[name]
            joined = element if known is None else _join(known, element)
            if joined != known:
                transfer.elements[name] = joined
                changed = True
        for statement in statements:
            name = _bound_name(statement)
            if name is None or state.get(name) == _UNKNOWN:
                continue
            shape = transfer.binding(statement)
            if shape is None:                    # an input not computed yet: next round
                continue
            joined = shape if name not in state else _join(state[name], shape)
            if state.get(name) != joined:
                state[name] = joined
                changed = True
    return {name: shape for name, shape in sorted(state.items()) if shape != _UNKNOWN}


def index_bounds(normal: NormalForm, operations: dict[int, Any],
                 parameter_shapes: dict[str, Shape | None]) -> dict[str, tuple[int, int]]:
    """``{name: (lowest, highest)}`` for integer names whose every value, at every call with
    these argument shapes, lies in that interval: a loop counter over ``range(a, b, step)``
    with known bounds, a known constant, and those shifted by constants (``i - 1``).  An
    index read ``x[i]`` with ``i`` in bounds cannot raise."""
    statements = list(walk_statements(normal.body))
    shapes = infer_shapes(normal, operations, parameter_shapes)
    excluded = _opaquely_bound(normal, statements) | set(parameter_shapes)
    transfer = _Transfer(dict(shapes), set(shapes) | set(parameter_shapes), set(), set(),
                         operations)
    for name, shape in parameter_shapes.items():
        transfer.state[name] = _UNKNOWN if shape is None else shape
    transfer.single = _single_bindings(statements, excluded)
    counts: dict[str, int] = {}
    for statement in statements:
        name = _bound_name(statement)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    bounds: dict[str, tuple[int, int]] = {}
    for statement in statements:
        name = _bound_name(statement)
        if name is None or counts[name] != 1 or name in excluded:
            continue
        if isinstance(statement, ast.For):
            iterator = transfer.single.get(statement.iter.id) \
                if isinstance(statement.iter, ast.Name) else statement.iter
            if _is_call_to(iterator, "range") and 1 <= len(iterator.args) <= 3:
                values = [transfer.value(argument) for argument in iterator.args]
                if all(isinstance(v, int) for v in values):
                    steps = range(*values)
                    if len(steps):
                        bounds[name] = (min(steps[0], steps[-1]), max(steps[0], steps[-1]))
            continue
        value = statement.value
        constant = transfer.value(value)
        if isinstance(constant, int):
            bounds[name] = (constant, constant)
        elif isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
            left, right = value.left, value.right
            shift = transfer.value(right)
            if isinstance(left, ast.Name) and left.id in bounds and isinstance(shift, int):
                shift = shift if isinstance(value.op, ast.Add) else -shift
                low, high = bounds[left.id]
                bounds[name] = (low + shift, high + shift)
    return bounds


def integer_names(normal: NormalForm, parameters: set[str]) -> set[str]:
    """The local names that only ever hold Python ints (loop counters over ``range``,
    ``len(...)``, their sums and differences): indices that select one element."""
    statements = list(walk_statements(normal.body))
    excluded = _opaquely_bound(normal, statements) | parameters
    return _integer_names(statements, excluded, _range_names(statements, excluded))


def _plain_lists(statements: list[ast.stmt], operations: dict[int, Any],
                 excluded: set[str]) -> set[str]:
    """Names every binding of which is a list display (``[]``, ``[y0]``) or another such
    name, that are never passed to a user's function (which might put anything in them)."""
    bindings: dict[str, list[ast.expr | None]] = {}
    for statement in statements:
        name = _bound_name(statement)
        if name is not None:
            bindings.setdefault(name, []).append(
                statement.value if isinstance(statement, ast.Assign) else None)
    passed = {arg.id for operation in operations.values() if operation.kind == "call"
              for arg in operation.args if isinstance(arg, ast.Name)}
    names = {name for name in bindings if name not in excluded and name not in passed}
    changed = True
    while changed:
        changed = False
        for name in sorted(names):
            if not all(isinstance(value, ast.List)
                       or isinstance(value, ast.Name) and value.id in names
                       for value in bindings[name]):
                names.discard(name)
                changed = True
    return names


def _single_bindings(statements: list[ast.stmt], excluded: set[str]) -> dict[str, ast.expr]:
    """name -> the value of its one binding, for names bound exactly once by ``name = ...``."""
    counts: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    for statement in statements:
        name = _bound_name(statement)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
            if isinstance(statement, ast.Assign):
                values[name] = statement.value
    return {name: value for name, value in values.items()
            if counts[name] == 1 and name not in excluded}


def _join(a: Any, b: Any) -> Any:
    return a if a == b else _UNKNOWN


def _bound_name(statement: ast.stmt) -> str | None:
    """The name a simple binding statement binds (``name = ...`` or ``for name in ...``)."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.For) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return None


def _opaquely_bound(normal: NormalForm, statements: list[ast.stmt]) -> set[str]:
    """Names bound in any way other than a simple binding: tuple targets, nested scopes,
    ``with``, ``except``, imports, lifted local functions.  They get no shape."""
    simple = {id(s.targets[0]) for s in statements if isinstance(s, ast.Assign)
              and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)}
    simple |= {id(s.target) for s in statements if isinstance(s, ast.For)
               and isinstance(s.target, ast.Name)}
    names = set(normal.lifted)
    for statement in normal.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) \
                    and id(node) not in simple:
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names.update(node.names)
    return names


def _range_names(statements: list[ast.stmt], excluded: set[str]) -> set[str]:
    """Names bound only to ``range(...)`` (the normal form's ``_t1 = range(n)``)."""
    ranges = {_bound_name(s) for s in statements if isinstance(s, ast.Assign)
              and _is_call_to(s.value, "range")}
    for statement in statements:                 # a name bound to anything else is no range
        name = _bound_name(statement)
        if name in ranges and not (isinstance(statement, ast.Assign)
                                   and _is_call_to(statement.value, "range")):
            ranges.discard(name)
    return ranges - excluded


def _integer_names(statements: list[ast.stmt], excluded: set[str], ranges: set[str]) -> set[str]:
    """Names that only ever hold Python ints (loop counters, ``len(...)``), so that
    ``x[i]`` drops one axis.  A greatest fixpoint: assume every candidate, then drop any
    name with a binding that may not be an int."""
    candidates = {_bound_name(s) for s in statements if _bound_name(s)}
    candidates -= excluded
    changed = True
    while changed:
        changed = False
        for statement in statements:
            name = _bound_name(statement)
            if name in candidates and not _binds_integer(statement, candidates, ranges):
                candidates.discard(name)
                changed = True
    return candidates


def _binds_integer(statement: ast.stmt, integers: set[str], ranges: set[str]) -> bool:
    if isinstance(statement, ast.For):
        iterator = statement.iter
        return _is_call_to(iterator, "range") or isinstance(iterator, ast.Name) \
            and iterator.id in ranges
    return _is_integer(statement.value, integers)


def _is_integer(node: ast.expr, integers: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return node.id in integers
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_integer(node.operand, integers)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _INTEGER_OPERATORS):
        return _is_integer(node.left, integers) and _is_integer(node.right, integers)
    return _is_call_to(node, "len")


def _is_call_to(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == name and not node.keywords


class _Transfer:
    """The shape one binding gives its name: a shape, ``_UNKNOWN``, or ``None`` when an
    input has not been computed yet (the fixpoint comes back to it)."""

    def __init__(self, state: dict[str, Any], locals_: set[str], integers: set[str],
                 ranges: set[str], operations: dict[int, Any]):
        self.state, self.locals, self.integers, self.ranges = state, locals_, integers, ranges
        self.operations = operations
        self.single: dict[str, ast.expr] = {}
        self.elements: dict[str, Any] = {}     # list name -> the shape of its elements

    def list_root(self, name: str) -> str:
        """The list a name holds, through copies (``terms = _list0``)."""
        seen = set()
        while isinstance(self.single.get(name), ast.Name) and name not in seen:
            seen.add(name)
            name = self.single[name].id
        return name

    def value(self, node: ast.expr, depth: int = 0) -> Any:
        """The int or tuple of ints ``node`` holds at every call with these argument
        shapes (``x.shape``, ``x.shape[0]``, ``(n, 2)``, ``len(x)``), or None."""
        if depth > 20:
            return None
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) is int else None
        if isinstance(node, ast.Name):
            bound = self.single.get(node.id)
            return None if bound is None else self.value(bound, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "shape":
            shape = self.atom(node.value)
            return shape if isinstance(shape, tuple) else None
        if isinstance(node, ast.Subscript):
            container, index = self.value(node.value, depth + 1), self.value(node.slice, depth + 1)
            if isinstance(container, tuple) and isinstance(index, int) \
                    and -len(container) <= index < len(container):
                return container[index]
            return None
        if isinstance(node, ast.Tuple):
            items = [self.value(item, depth + 1) for item in node.elts]
            return tuple(items) if all(isinstance(item, int) for item in items) else None
        if _is_call_to(node, "len") and len(node.args) == 1:
            shape = self.atom(node.args[0])
            return shape[0] if isinstance(shape, tuple) and shape else None
        return None

    def binding(self, statement: ast.stmt) -> Any:
        if isinstance(statement, ast.For):
            return self.iterated(statement.iter)
        operation = self.operations.get(id(statement))
        if operation is not None and operation.kind == "rule":
            return self.rule(operation)
        return self.expression(statement.value)

    def atom(self, node: ast.expr) -> Any:
        """The shape of a name or constant; ``_UNKNOWN`` for anything else."""
        if isinstance(node, ast.Name):
            if node.id not in self.locals:
                return _UNKNOWN                  # a global: it may change between calls
            return self.state.get(node.id)       # None: not computed yet
        if isinstance(node, ast.Constant):
            value = node.value
            return () if type(value) in (int, float, bool, complex) else _UNKNOWN
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "np" and node.attr in _NUMPY_SCALARS \
                and "np" not in self.locals:
            return ()
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.atom(node.operand)
        return _UNKNOWN

    def iterated(self, iterator: ast.expr) -> Any:
        if _is_call_to(iterator, "range") or isinstance(iterator, ast.Name) \
                and iterator.id in self.ranges:
            return ()
        shape = self.atom(iterator)
        if shape is None or shape == _UNKNOWN:
            return shape
        return shape[1:] if shape else _UNKNOWN

    def expression(self, node: ast.expr) -> Any:
        if isinstance(node, (ast.Name, ast.Constant, ast.Attribute)):
            if isinstance(node, ast.Attribute) and node.attr in ("T", "real", "imag"):
                shape = self.atom(node.value)
                if node.attr == "T" and isinstance(shape, tuple):
                    return shape[::-1]
                return shape
            return self.atom(node)
        if isinstance(node, ast.UnaryOp):
            return () if isinstance(node.op, ast.Not) else self.atom(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = self.atom(node.left), self.atom(node.right)
            if isinstance(node.op, ast.MatMult):
                return _combine(_matmul, left, right)
            return _combine(broadcast_shapes, left, right)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                return _UNKNOWN
            if isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
                return ()
            return _combine(broadcast_shapes, self.atom(node.left), self.atom(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            shapes = [self.atom(value) for value in node.values]
            return _combine(lambda *s: s[0] if len(set(s)) == 1 else None, *shapes)
        if isinstance(node, ast.IfExp):
            return _combine(lambda a, b: a if a == b else None,
                            self.atom(node.body), self.atom(node.orelse))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("len", "float", "int") and node.func.id not in self.locals:
            return ()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" \
                and "np" not in self.locals and node.func.attr in _SHAPED_LIKE \
                and node.args and not any(k.arg == "shape" for k in node.keywords):
            return self.atom(node.args[0])      # np.zeros_like(x): x's shape
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" \
                and "np" not in self.locals and node.func.attr in _SHAPED_BY_ARGUMENT \
                and len(node.args) >= 1 and not any(k.arg == "like" for k in node.keywords):
            shape = self.value(node.args[0])    # np.zeros((n, 2)): an array of that shape
            if isinstance(shape, int):
                shape = (shape,)
            if isinstance(shape, tuple) and all(size >= 0 for size in shape):
                return shape
        return _UNKNOWN

    def rule(self, operation: Any) -> Any:
        rule, args, params = operation.rule, operation.args, operation.params
        name = rule.name
        if rule.elementwise:
            operands = list(args)
            for key, value in params.items():
                if key in _SHAPE_NEUTRAL or _is_none(value):
                    continue
                operands.append(value)
            return _combine(broadcast_shapes, *[self.atom(operand) for operand in operands])
        if name == "getitem":
            return self.getitem(operation)
        shape = self.atom(args[0]) if args else _UNKNOWN
        if name in _REDUCTIONS and shape == _UNKNOWN and _is_full_reduction(params):
            return ()                            # a scalar, whatever was reduced
        if name in _REDUCTIONS:
            return _combine(lambda s: _reduce(s, params), shape)
        if name == "norm" and _is_none(params.get("axis")) \
                and _constant(params.get("keepdims", ast.Constant(False))) is False:
            return _combine(lambda s: (), shape)
        if name in ("matmul", "dot"):
            return _combine(_matmul if name == "matmul" else _dot, shape, self.atom(args[1]))
        if name == "transpose" and _is_none(params.get("axes")):
            return _combine(lambda s: s[::-1], shape)
        if name == "ravel":
            return _combine(lambda s: (math.prod(s),), shape)
        if name == "reshape":
            return _combine(lambda s: _reshape(s, params.get("shape")), shape)
        if name == "outer":
            return _combine(lambda a, b: (math.prod(a), math.prod(b)), shape,
                            self.atom(args[1]))
        return _UNKNOWN

    def getitem(self, operation: Any) -> Any:
        value = operation.statement.value
        base = operation.args[0]
        if isinstance(base, ast.Name) and self.list_root(base.id) in self.elements \
                and isinstance(value, ast.Subscript) and _is_integer(value.slice, self.integers):
            return self.elements[self.list_root(base.id)]    # xs[i]: None until known
        shape = self.atom(operation.args[0])
        if not isinstance(value, ast.Subscript) or shape is None or shape == _UNKNOWN:
            return shape if shape is None else _UNKNOWN
        index = value.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if len(parts) > len(shape):
            return _UNKNOWN
        result: list[int] = []
        for part, size in zip(parts, shape):
            if isinstance(part, ast.Slice):
                bounds = [_constant_int(bound) for bound in (part.lower, part.upper, part.step)]
                if any(bound is _UNKNOWN for bound in bounds) or bounds[2] == 0:
                    return _UNKNOWN
                result.append(len(range(size)[slice(*bounds)]))
            elif not _is_integer(part, self.integers):
                return _UNKNOWN                  # arrays, booleans, None, Ellipsis
        return tuple(result) + shape[len(parts):]


def _combine(function, *shapes: Any) -> Any:
    """Apply ``function`` to known shapes; ``None`` if an input is not computed yet, and
    ``_UNKNOWN`` if one has no shape or ``function`` cannot tell (returns None)."""
    if any(shape is None for shape in shapes):
        return None
    if any(shape == _UNKNOWN for shape in shapes):
        return _UNKNOWN
    result = function(*shapes)
    return _UNKNOWN if result is None else tuple(result)


def broadcast_shapes(*shapes: Shape) -> Shape | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None                              # the call raises; no shape to promise


def _matmul(a: Shape, b: Shape) -> Shape | None:
    if len(a) == 2 and len(b) == 2 and a[1] == b[0]:
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 2 and a[0] == b[0]:
        return (b[1],)
    if len(a) == 2 and len(b) == 1 and a[1] == b[0]:
        return (a[0],)
    if len(a) == 1 and len(b) == 1 and a[0] == b[0]:
        return ()
    return None


def _dot(a: Shape, b: Shape) -> Shape | None:
    if not a or not b:
        return broadcast_shapes(a, b)
    return _matmul(a, b)


def _reduce(shape: Shape, params: dict[str, ast.expr]) -> Shape | None:
    if not all(_is_none(params.get(key)) for key in ("out",)):
        return None
    keepdims = params.get("keepdims")
    keep = _constant(keepdims) if keepdims is not None else False
    if keep not in (True, False):
        return None
    axis = params.get("axis")
    if _is_none(axis):
        axes = set(range(len(shape)))
    else:
        values = axis.elts if isinstance(axis, ast.Tuple) else [axis]
        axes = set()
        for value in values:
            number = _constant_int(value)
            if number is _UNKNOWN or number is None or not -len(shape) <= number < len(shape):
                return None
            axes.add(number % len(shape))
    if keep:
        return tuple(1 if axis in axes else size for axis, size in enumerate(shape))
    return tuple(size for axis, size in enumerate(shape) if axis not in axes)


def _reshape(shape: Shape, target: ast.expr | None) -> Shape | None:
    if target is None:
        return None
    parts = target.elts if isinstance(target, ast.Tuple) else [target]
    sizes = [_constant_int(part) for part in parts]
    if any(size is _UNKNOWN or size is None for size in sizes) or sizes.count(-1) > 1:
        return None
    total = math.prod(shape)
    if -1 in sizes:
        known = math.prod(size for size in sizes if size != -1)
        if known == 0 or total % known:
            return None
        sizes[sizes.index(-1)] = total // known
    return tuple(sizes) if math.prod(sizes) == total else None


def _is_full_reduction(params: dict[str, ast.expr]) -> bool:
    """``np.sum(x)``: no axis, no kept dimensions, no ``out``."""
    keepdims = params.get("keepdims")
    return _is_none(params.get("axis")) and _is_none(params.get("out")) \
        and (keepdims is None or _constant(keepdims) is False)


def _is_none(node: ast.expr | None) -> bool:
    return node is None or isinstance(node, ast.Constant) and node.value is None


def _constant(node: ast.expr) -> Any:
    return node.value if isinstance(node, ast.Constant) else _UNKNOWN


def _constant_int(node: ast.expr | None) -> Any:
    """An int constant (``-1`` included), None for an absent bound, else ``_UNKNOWN``."""
    if node is None or isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant_int(node.operand)
        return -inner if isinstance(inner, int) else _UNKNOWN
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return _UNKNOWN


__all__ = ["COMPLEX", "Shape", "argument_shape", "broadcast_shapes", "infer_shapes",
           "is_complex_key", "is_dispatched_key", "key_shape"]
