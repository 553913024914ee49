"""Stage 7c (lower for numba), optional: vector arithmetic in loops as loops over elements.

Input: one function of a lowered module after :mod:`s2s.numba_allocations` (7b), with the
rank of every name that has one and the set of :mod:`s2s.numba_runtime` helpers it imports;
code for float64 arguments (float32 code is left as it is).  Output: the same function
computing every value it computed, each element by the same operations in the same order,
where arithmetic on vectors inside a top-level loop makes no array per pass:

* ``np.sum(E)`` of elementwise arithmetic ``E`` of vectors and numbers: a sum accumulated
  element by element before the statement that reads it (numba's ``np.sum`` of an array is
  the same left-to-right sum, of the same elements), without the array ``E``;
* ``y = E`` where no other name can hold ``y``'s array while the loop runs
  (:func:`s2s.numba_allocations.owned_arrays` of the loop): ``E`` written element by element into ``y``'s array when it has
  ``E``'s length (``reuse``), into a new array otherwise.  ``y``'s array is copied once
  before the loop unless every binding of ``y`` anywhere is a new array no other name
  holds;
* and first, a statement that reads an alias ``a = y`` after ``y`` is rebound is moved up
  before the rebinding where nothing it reads or writes changes in between, so that the
  alias is ``y`` itself and ``y``'s array is not shared (:func:`_reads_before_rebinding`).

An elementwise expression here is ``+ - * / **``, unary ``-`` and NumPy's elementwise
functions of one argument (``np.sin``...) over names of rank 0 or 1 and numbers, with a
float64 operand among them (:func:`float64_names`), so that numba's value is a float64
vector as the buffer is.  Where the vectors' lengths are proven (:func:`infer_lengths`), a
vector of length 1 beside longer ones is read at index 0 and the others at the index;
elsewhere the lengths broadcast when running (``broadcast_length``, NumPy's error if they
do not).
"""
from __future__ import annotations

import ast
import copy

from .naming import Namer
from .numba_allocations import (PENDING, expression_rank, name_bindings, owned_arrays,
                                solve_bindings)
from .numba_syntax import (PURE_HELPERS, PURE_METHODS, Substitute, assignment_counts,
                           int_constant, integer_names, is_comment, is_integer_expression,
                           make_call, name_loads,
                           numpy_call_name, pushed_stack)

__all__ = ["float64_names", "infer_lengths", "vector_loops"]

# NumPy functions of one argument computed element by element alike by numba's array and
# scalar code
_ELEMENTWISE = frozenset({"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                          "tanh", "arcsinh", "arccosh", "arctanh", "exp", "expm1", "exp2",
                          "log", "log1p", "log2", "log10", "sqrt", "abs", "absolute",
                          "fabs", "negative", "square"})
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_INTO_HELPERS = frozenset({"add_into", "subtract_into", "multiply_into"})


def vector_loops(function: ast.FunctionDef, shapes: dict, ranks: dict, namer: Namer,
                 helpers: set[str], dtype: str, seeded: bool = False) -> None:
    """Every rewrite of the module docstring on each top-level loop of ``function``;
    ``shapes``: the proven shapes of names (the shape analysis's, and the arguments');
    ``seeded``: ``_return_b`` is the gradient's seed (a Python float)."""
    if dtype != "float64":
        return
    for statement in function.body:
        if isinstance(statement, (ast.For, ast.While)):
            _reads_before_rebinding(statement.body, function)
    integers = integer_names(function)
    floats = float64_names(function, seeded)
    owned = owned_arrays(function, ranks, integers)
    lengths = infer_lengths(function, shapes, ranks, integers)
    body: list[ast.stmt] = []
    for statement in function.body:
        if isinstance(statement, (ast.For, ast.While)):
            context = _Loop(statement, function, body, ranks, integers, floats, lengths, namer,
                            helpers)
            copies, unbound = context.rewrite(statement.body)
            body += [ast.Assign([ast.Name(name, ast.Store())],
                                make_call(ast.Attribute(ast.Name("np", ast.Load()), "copy",
                                                        ast.Load()), ast.Name(name, ast.Load())))
                     for name in sorted(copies - owned)]
            body += [ast.Assign([ast.Name(name, ast.Store())],      # never read: a first array
                                make_call(ast.Attribute(ast.Name("np", ast.Load()), "empty",
                                                        ast.Load()), int_constant(0)))
                     for name in sorted(unbound)]
        body.append(statement)
    function.body = body


# --- float64 values ------------------------------------------------------------------------
# A value is float64, whatever the arguments' float types, if it is elementwise arithmetic (or a
# NumPy function that keeps or widens its operands' type) with a float64 operand: a Python
# float, a name every binding of which is such a value, or the gradient's seed (a Python
# float).  float64 with any real operand is float64, so the operand decides.  This is what
# lets the rewrites write into a float64 array; a complex operand makes numba refuse to
# compile them (the backend then falls back), it is never converted.

_KEEPS_TYPE = frozenset({"zeros_like", "ones_like", "empty_like", "copy", "sum", "mean",
                         "transpose", "expand_dims", "floor", "ceil", "trunc", "rint"}) \
    | _ELEMENTWISE
_WIDENS = frozenset({"maximum", "minimum", "fmax", "fmin", "hypot", "arctan2", "add",
                     "subtract", "multiply", "divide", "true_divide", "power", "dot", "matmul",
                     "outer"})
_HELPERS_KEEP = frozenset({"zeros_like", "unbroadcast", "broadcast_like", "expand_dims",
                           "stack_like"})
_HELPERS_WIDEN = frozenset({"multiply_outer", "add_into", "subtract_into", "multiply_into"})


def float64_names(function: ast.FunctionDef, seeded: bool) -> set[str]:
    """The names of ``function`` that always hold float64 values (see above); ``seeded``:
    its ``_return_b`` is the gradient's seed, a Python float."""
    seed = {"_return_b"} if seeded else set()
    bindings = name_bindings(function, seed)
    names = {name for name, values in bindings.items() if values and None not in values}
    changed = True
    while changed:                    # the greatest set whose every binding is float64
        changed = False
        for name in sorted(names):
            if not all(_is_float64(value, names | seed) for value in bindings[name]):
                names.discard(name)
                changed = True
    return names | seed


def _is_float64(node: ast.expr, names: set[str]) -> bool:
    def either(*parts: ast.expr) -> bool:
        return any(_is_float64(part, names) for part in parts)

    if isinstance(node, ast.Constant):
        return type(node.value) is float
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return either(node.left, node.right)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and either(node.operand)
    if isinstance(node, ast.IfExp):
        return _is_float64(node.body, names) and _is_float64(node.orelse, names)
    if isinstance(node, ast.Subscript):
        return either(node.value)                       # an element or part of it
    if isinstance(node, ast.Attribute):
        return node.attr == "T" and either(node.value)
    if isinstance(node, ast.Call) and node.args:
        name = numpy_call_name(node)
        helper = node.func.id if isinstance(node.func, ast.Name) else None
        if node.keywords and not (name in ("sum", "mean") and all(
                k.arg in ("axis", "keepdims") for k in node.keywords)):
            return False                                 # a dtype= among them, say
        if name in ("zeros", "ones", "empty"):
            return len(node.args) == 1                   # float64 unless told otherwise
        if name in _KEEPS_TYPE or helper in _HELPERS_KEEP:
            return either(node.args[0])
        if name in _WIDENS or helper in _HELPERS_WIDEN:
            return either(*node.args)
        if name == "full" or helper == "full":
            return len(node.args) == 2 and either(node.args[1])
        if helper == "float" or name == "float64":
            return True
    return False


# --- the lengths of vectors ------------------------------------------------------------------
# As the rank inference (s2s.numba_allocations.infer_ranks), flow-insensitive: a vector has a
# length if every binding of it gives that one length, by NumPy's broadcasting, from the proven
# shapes of this specialization.  Only where a vector of length 1 is read (index 0, or the
# index) depends on them, and that is the text's pattern of dimensions equal to 1.

_PENDING, _NUMBER = PENDING, "number"


def infer_lengths(function: ast.FunctionDef, shapes: dict, ranks: dict,
                  integers: set[str]) -> dict[str, int]:
    """The length of every vector of ``function`` that has one proven (see above)."""
    fixed = {name: shape[0] for name, shape in shapes.items()
             if shape is not None and len(shape) == 1}
    bindings = name_bindings(function, set(fixed))          # a stack's too, for its rows
    vectors = {name: values for name, values in bindings.items() if ranks.get(name) == 1}
    lengths = solve_bindings(vectors, fixed, lambda value, known: _length(
        value, known, shapes, ranks, integers, bindings), _join_lengths)
    return {name: n for name, n in lengths.items() if isinstance(n, int)
            and not isinstance(n, bool)}


def _join_lengths(a, b):
    if a is None or b is None or b == _NUMBER:
        return None
    if a == _PENDING or b == _PENDING:
        return b if a == _PENDING else a
    return a if a == b else None


def _broadcast(a, b):
    if a is None or b is None:
        return None
    if a == _PENDING or b == _PENDING:
        return _PENDING
    if a == _NUMBER or a == b or b == 1:
        return b if a == _NUMBER else a
    if b == _NUMBER:
        return a
    return b if a == 1 else None


def _length(node: ast.expr, lengths: dict, shapes: dict, ranks: dict, integers: set[str],
            bindings: dict):
    """The length of ``node``'s value if it is a vector, ``_NUMBER`` for a number,
    ``_PENDING`` if it needs a length not known yet, else None."""
    def length(inner):
        return _length(inner, lengths, shapes, ranks, integers, bindings)

    if isinstance(node, ast.Constant):
        return _NUMBER if type(node.value) in (int, float) else None
    if isinstance(node, ast.Name):
        if node.id in integers or ranks.get(node.id) == 0:
            return _NUMBER
        return lengths.get(node.id, _PENDING) if ranks.get(node.id) == 1 else None
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.MatMult):             # a matrix of proven shape @ a vector
            matrix, axis = node.left, 0
            if isinstance(matrix, ast.Attribute) and matrix.attr == "T":
                matrix, axis = matrix.value, 1
            shape = shapes.get(matrix.id) if isinstance(matrix, ast.Name) else None
            if shape is None or len(shape) != 2 or ranks.get(matrix.id) != 2:
                return None
            found = length(node.right)
            if found in (None, _NUMBER):
                return None
            return found if found == _PENDING else shape[axis]
        return _broadcast(length(node.left), length(node.right))
    if isinstance(node, ast.UnaryOp):
        return length(node.operand)
    if isinstance(node, ast.Call) and not node.keywords and node.args:
        name = numpy_call_name(node)
        helper = node.func.id if isinstance(node.func, ast.Name) else None
        if name in _ELEMENTWISE or name in ("zeros_like", "ones_like", "empty_like", "copy") \
                or helper == "zeros_like":
            found = length(node.args[0]) if len(node.args) == 1 else None
            return found if found != _NUMBER else None
        if helper in ("add_into", "subtract_into", "multiply_into") and len(node.args) == 2:
            return _broadcast(length(node.args[0]), length(node.args[1]))
        if (name == "expand_dims" or helper == "expand_dims") and len(node.args) == 2:
            return 1 if length(node.args[0]) == _NUMBER else None    # a number's (1,)
        if helper in ("unbroadcast", "broadcast_like") and len(node.args) == 2:
            return length(node.args[1])              # the shape of the second argument
        if name in ("zeros", "ones", "empty", "full") or helper == "full":
            shape = node.args[0]
            if isinstance(shape, ast.Tuple) and len(shape.elts) == 1:
                return _dimension(shape.elts[0], shapes)
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
            and is_integer_expression(node.slice, integers):
        base = node.value.id                     # a row of a matrix of proven shape, or of
        shape = shapes.get(base)                 # the rows a loop saves its vector into
        if shape is not None and len(shape) == 2:
            return shape[1]
        rows = bindings.get(base, [])
        if rows and all(isinstance(v, ast.Call) and isinstance(v.func, ast.Name)
                        and v.func.id == "stack_like" and len(v.args) == 2 for v in rows):
            found = {length(v.args[0]) for v in rows}
            return found.pop() if len(found) == 1 and _NUMBER not in found else None
    return None


def _dimension(node: ast.expr, shapes: dict) -> int | None:
    """A dimension written as a number or as ``X.shape[i]`` of a proven shape."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
            and node.value.attr == "shape" and isinstance(node.value.value, ast.Name) \
            and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int:
        shape = shapes.get(node.value.value.id)
        if shape is not None and 0 <= node.slice.value < len(shape):
            return shape[node.slice.value]
    return None


# --- what a statement reads and writes ----------------------------------------------------

def _effects(statement: ast.stmt) -> tuple[set[str], set[str]] | None:
    """(the names ``statement`` reads, the names it binds or writes into), for a comment, a
    push, or a binding of names to arithmetic, NumPy functions, the pure runtime helpers
    and the ``*_into`` accumulations (which write into their first argument); None for any
    other statement (its effects are not modelled: nothing moves across it)."""
    if is_comment(statement):
        return set(), set()
    if isinstance(statement, ast.Expr) and pushed_stack(statement) is not None:
        return set(name_loads(statement.value.args[0])) | {pushed_stack(statement)}, \
            {pushed_stack(statement)}
    if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name)
                                                 for t in statement.targets):
        written = {t.id for t in statement.targets}
        value = statement.value
    elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        written = {statement.target.id}
        value = ast.BinOp(ast.Name(statement.target.id, ast.Load()), statement.op,
                          statement.value)
    else:
        return None
    for node in ast.walk(value):
        if isinstance(node, (ast.NamedExpr, ast.Lambda)):
            return None
        if not isinstance(node, ast.Call):
            continue
        name = numpy_call_name(node)
        if name is not None:
            if name.startswith("random"):
                return None
        elif isinstance(node.func, ast.Name) and node.func.id in _INTO_HELPERS:
            if not (node.args and isinstance(node.args[0], ast.Name)):
                return None
            written.add(node.args[0].id)
        elif isinstance(node.func, ast.Name):
            if node.func.id not in PURE_HELPERS:
                return None
        elif not (isinstance(node.func, ast.Attribute) and node.func.attr in PURE_METHODS):
            return None
    return set(name_loads(value)), written


def _reads_before_rebinding(body: list[ast.stmt], function: ast.FunctionDef) -> None:
    """In ``body``: for an alias ``a = y`` (``a`` bound once) read after the next rebinding
    ``y = ...`` of ``y``, move each statement after the rebinding that reads ``a`` to just
    before it, where no statement from the rebinding on to it writes what it reads or
    writes, or reads what it writes.  When every read of ``a`` then comes after the alias
    and at or before the rebinding (with nothing writing ``y`` in between), read ``y``
    there instead and drop the alias."""
    counts = assignment_counts(function)
    index = 0
    while index < len(body):
        alias = body[index]
        index += 1
        if not (isinstance(alias, ast.Assign) and len(alias.targets) == 1
                and isinstance(alias.targets[0], ast.Name)
                and isinstance(alias.value, ast.Name)):
            continue
        a, y = alias.targets[0].id, alias.value.id
        if counts.get(a) != 1 or a == y:
            continue
        rebinding = _next_write(body, index, y)
        if rebinding is None:
            continue
        for current in range(rebinding + 1, len(body)):
            effects = _effects(body[current])
            if effects is None:
                break
            reads, writes = effects
            if a not in reads:
                continue
            between = [_effects(s) for s in body[rebinding:current]]
            if any(e is None or e[1] & (reads | writes) or writes & e[0] for e in between):
                break
            body.insert(rebinding, body.pop(current))
            rebinding += 1
        everywhere = name_loads(function).get(a, 0)
        if sum(name_loads(s).get(a, 0) for s in body[index:rebinding + 1]) != everywhere:
            continue
        for position in range(index, rebinding + 1):
            body[position] = Substitute(a, ast.Name(y, ast.Load())).visit(body[position])
        del body[index - 1]
        index -= 1


def _next_write(body: list[ast.stmt], start: int, name: str) -> int | None:
    """The index of the first statement from ``start`` on that writes ``name``, if it is a
    binding ``name = ...`` and every statement before it has modelled effects; else None."""
    for position in range(start, len(body)):
        effects = _effects(body[position])
        if effects is None:
            return None
        if name in effects[1]:
            statement = body[position]
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and statement.targets[0].id == name and not any(
                        isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in _INTO_HELPERS for node in ast.walk(statement)):
                return position                   # a new array (none written into)
            return None
    return None


# --- loops over the elements ----------------------------------------------------------------

class _Loop:
    """The rewrites of one top-level loop ``loop`` of ``function``; ``before``: the
    top-level statements before it."""

    def __init__(self, loop: ast.stmt, function: ast.FunctionDef, before: list[ast.stmt],
                 ranks: dict, integers: set[str], floats: set[str], lengths: dict[str, int],
                 namer: Namer, helpers: set[str]):
        self.ranks, self.integers, self.floats = ranks, integers, floats
        self.lengths = lengths
        self.namer, self.helpers = namer, helpers
        self.bound_before = {a.arg for a in function.args.args} | {
            t.id for s in before if isinstance(s, ast.Assign) for t in s.targets
            if isinstance(t, ast.Name)}
        self.owned = owned_arrays(loop, ranks, integers)
        self.bound_in_each_pass = {name for name in self.owned - self.bound_before
                                   if name in floats and ranks.get(name) == 1
                                   and _bound_in_each_pass_first(loop, function, name)}
        self.copies: set[str] = set()
        self.unbound: set[str] = set()

    def rewrite(self, body: list[ast.stmt]) -> tuple[set[str], set[str]]:
        """Rewrite ``body`` (and the blocks in it) in place; (the names whose array is to be
        copied before the loop, the names to be bound to an empty array before it: each
        pass binds them before reading them, and nothing after the loop reads them)."""
        rewritten: list[ast.stmt] = []
        for statement in body:
            for field in ("body", "orelse"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    self.rewrite(inner)
            rewritten += self._statement(statement)
        body[:] = rewritten
        return self.copies, self.unbound

    def _statement(self, statement: ast.stmt) -> list[ast.stmt]:
        before = self._sums(statement)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            vectors = self._vectors(statement.value)
            if vectors and name in self.owned and self.ranks.get(name) == 1:
                if name in self.bound_before:
                    self.copies.add(name)
                    return before + self._into(name, statement.value, vectors)
                if name in self.bound_in_each_pass:
                    self.unbound.add(name)
                    return before + self._into(name, statement.value, vectors)
        return before + [statement]

    def _vectors(self, node: ast.expr) -> list[str] | None:
        """The vectors ``node`` reads, in order, when it is elementwise arithmetic of
        vectors and numbers with a float64 operand among them (see the module docstring);
        else None."""
        vectors: list[str] = []
        has_float = False

        def visit(inner: ast.expr) -> bool:
            nonlocal has_float
            if isinstance(inner, ast.Constant):
                has_float |= type(inner.value) is float
                return type(inner.value) in (int, float)
            if isinstance(inner, ast.Name):
                has_float |= inner.id in self.floats
                rank = 0 if inner.id in self.integers else self.ranks.get(inner.id)
                if rank == 1 and inner.id not in vectors:
                    vectors.append(inner.id)
                return rank in (0, 1)
            if isinstance(inner, ast.BinOp):
                if not isinstance(inner.op, _OPERATORS) or isinstance(inner.op, ast.Pow) \
                        and expression_rank(inner.right, self.ranks, self.integers) != 0:
                    return False                  # a power by a number only
                return visit(inner.left) and visit(inner.right)
            if isinstance(inner, ast.UnaryOp):
                return isinstance(inner.op, (ast.USub, ast.UAdd)) and visit(inner.operand)
            if isinstance(inner, ast.Call):
                return numpy_call_name(inner) in _ELEMENTWISE and len(inner.args) == 1 \
                    and not inner.keywords and visit(inner.args[0])
            return False

        if not visit(node) or not vectors or not has_float:
            return None
        return vectors

    def _elements(self, node: ast.expr, vectors: list[str]
                  ) -> tuple[list[ast.stmt], ast.expr, str, str]:
        """(the statements giving the length (and each vector's step, where the lengths are
        not proven), ``node`` at one element, the index's name, the length's name)."""
        index, length = self.namer.fresh("_i"), self.namer.fresh("_n")
        shapes = [ast.Subscript(ast.Attribute(ast.Name(v, ast.Load()), "shape", ast.Load()),
                                int_constant(0), ast.Load()) for v in vectors]
        known = [self.lengths.get(v) for v in vectors]
        result = max(known) if None not in known else None
        at = ast.Name(index, ast.Load())
        setup: list[ast.stmt] = []
        if len(vectors) == 1:
            value: ast.expr = shapes[0]
            indices: dict[str, ast.expr] = {vectors[0]: at}
        elif result is not None and all(n in (1, result) for n in known):
            # proven lengths: a vector of length 1 is read at 0 where the others are longer
            value = shapes[known.index(result)]
            indices = {v: int_constant(0) if n == 1 and result != 1 else at
                       for v, n in zip(vectors, known)}
        else:                   # lengths found when running, broadcast as NumPy does
            self.helpers.add("broadcast_length")
            value = shapes[0]
            for shape in shapes[1:]:
                value = make_call(ast.Name("broadcast_length", ast.Load()), value, shape)
            indices = {}
            for vector, shape in zip(vectors, shapes):
                step = self.namer.fresh("_step")
                setup.append(ast.Assign([ast.Name(step, ast.Store())], ast.IfExp(
                    ast.Compare(copy.deepcopy(shape), [ast.Eq()], [int_constant(1)]),
                    int_constant(0), int_constant(1))))
                indices[vector] = ast.BinOp(at, ast.Mult(), ast.Name(step, ast.Load()))
        setup.insert(0, ast.Assign([ast.Name(length, ast.Store())], value))
        element = _AtIndex(indices).visit(copy.deepcopy(node))
        return setup, element, index, length

    def _into(self, name: str, value: ast.expr, vectors: list[str]) -> list[ast.stmt]:
        """``name = value`` written element by element into ``name``'s array (``reuse``)."""
        setup, element, index, length = self._elements(value, vectors)
        out = self.namer.fresh("_out")
        self.helpers.add("reuse")
        store = ast.Assign([ast.Subscript(ast.Name(out, ast.Load()), ast.Name(index, ast.Load()),
                                          ast.Store())], element)
        return setup + [
            ast.Assign([ast.Name(out, ast.Store())], make_call(
                ast.Name("reuse", ast.Load()), ast.Name(name, ast.Load()),
                ast.Name(length, ast.Load()))),
            _loop_over(index, length, [store]),
            ast.Assign([ast.Name(name, ast.Store())], ast.Name(out, ast.Load()))]

    def _sums(self, statement: ast.stmt) -> list[ast.stmt]:
        """The loops accumulating each ``np.sum(E)`` of ``statement`` (see the module
        docstring), which then reads their totals; none where a part of it is evaluated
        only on a condition (``IfExp``, ``and``/``or``)."""
        if _effects(statement) is None or any(isinstance(node, (ast.IfExp, ast.BoolOp))
                                              for node in ast.walk(statement)):
            return []
        written_inside = {node.args[0].id for node in ast.walk(statement)   # *_into(y, ...)
                          if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                          and node.func.id in _INTO_HELPERS}
        loops: list[ast.stmt] = []

        def total_of(node: ast.Call) -> ast.expr | None:
            if not (numpy_call_name(node) == "sum" and len(node.args) == 1
                    and not node.keywords and not isinstance(node.args[0], ast.Name)):
                return None
            vectors = self._vectors(node.args[0])
            if not vectors or set(name_loads(node.args[0])) & written_inside:
                return None
            setup, element, index, length = self._elements(node.args[0], vectors)
            total = self.namer.fresh("_total")
            self.ranks[total] = 0
            self.floats.add(total)
            loops.extend(setup + [
                ast.Assign([ast.Name(total, ast.Store())], ast.Constant(0.0)),
                _loop_over(index, length, [ast.AugAssign(ast.Name(total, ast.Store()),
                                                         ast.Add(), element)])])
            return ast.Name(total, ast.Load())

        _Replace(total_of).visit(statement)
        return loops


class _AtIndex(ast.NodeTransformer):
    """Each read of a vector as its element at the index expression given for it."""

    def __init__(self, indices: dict[str, ast.expr]):
        self.indices = indices

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.indices and isinstance(node.ctx, ast.Load):
            return ast.Subscript(ast.Name(node.id, ast.Load()),
                                 copy.deepcopy(self.indices[node.id]), ast.Load())
        return node


class _Replace(ast.NodeTransformer):
    """Each call ``replacement`` gives a node for replaced by it (innermost first)."""

    def __init__(self, replacement):
        self.replacement = replacement

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        return self.replacement(node) or node


def _loop_over(index: str, length: str, body: list[ast.stmt]) -> ast.For:
    return ast.For(ast.Name(index, ast.Store()),
                   make_call(ast.Name("range", ast.Load()), ast.Name(length, ast.Load())),
                   body, [])


def _bound_in_each_pass_first(loop: ast.stmt, function: ast.FunctionDef, name: str) -> bool:
    """Whether ``name`` is read only in the body of ``loop``, each pass binding it (in a
    statement of the body itself, which does not read it) before anything reads it."""
    everywhere = name_loads(function).get(name, 0)
    if sum(name_loads(s).get(name, 0) for s in loop.body) != everywhere:
        return False                       # read in the loop's header, its else or after it
    for statement in loop.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id == name:
            return name not in name_loads(statement.value)
        if name in name_loads(statement):
            return False
    return False
