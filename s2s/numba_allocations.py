"""Stage 7b (lower for numba), optional: fewer arrays per pass of a loop.

Input: one function of a lowered module (:mod:`s2s.lower_numba`), already code numba
compiles, with the proven shapes of its names (the shape analysis's), the rank of every name
that has one (:func:`infer_ranks`) and the set of :mod:`s2s.numba_runtime` helpers it imports.
Output: the same function computing every value it computed, by the same operations in the
same order, with fewer arrays made anew on each pass of its loops; the helpers it now calls
added to the set.

numba allocates every array an expression makes, and for small arrays (a 3-vector ODE
state, an 8-unit RNN) the allocations cost more than the arithmetic.  The rewrites:

* a name bound once to another name, or a temporary bound once to one elementwise ``+ - *
  /`` of names and numbers and read only as an operand of elementwise arithmetic, replaced
  by its value where it is read (:func:`_forward_substitute`), so numba fuses it too;
* ``a + -expand_dims(s, 0)`` of a number ``s`` and an array ``a`` as ``a - s``
  (:class:`_ScalarsBroadcast`);
* elementwise arithmetic of values a top-level loop never changes, bound once in it,
  computed once before it (:func:`_hoist_invariants`);
* the arrays of one proven shape a top-level loop over a range saves (a loop that cannot
  ``break``), as rows of one array (``stack_like``) and a count, instead of a list
  (:func:`_preallocate_stacks`);
* ``y = y + a`` (``-``, ``*``) where no other name ever holds ``y``'s array and ``a`` would
  be no array of its own, as ``y = add_into(y, a)``, which adds into ``y`` where ``a``
  broadcasts to its shape and the dtype stays, else makes the new array
  (:func:`_accumulate_in_place`).
"""
from __future__ import annotations

import ast
import copy

import numpy as np

from .naming import Namer
from .numba_syntax import (SHAPE_BUILDERS, Substitute, assignment_counts, constant_axes,
                           harmless, int_constant, integer_names, is_comment,
                           is_integer_expression, is_pop, is_prebinding, is_pure, make_call,
                           name_loads, numpy_call_name, pushed_stack)

__all__ = ["expression_rank", "fewer_arrays", "infer_ranks", "name_bindings", "owned_arrays",
           "PENDING", "solve_bindings"]


def fewer_arrays(function: ast.FunctionDef, shapes: dict, namer: Namer, ranks: dict,
                 helpers: set[str]) -> None:
    """Every rewrite of the module docstring, in turn, on ``function``."""
    integers = integer_names(function)
    function.body = [statement if is_comment(statement) else
                     _ScalarsBroadcast(ranks, integers).visit(statement)
                     for statement in function.body]
    _forward_substitute(function)
    _hoist_invariants(function)
    _preallocate_stacks(function, shapes, namer, helpers)
    _accumulate_in_place(function, ranks, helpers)


# --- ranks of the lowered code's values ------------------------------------------------------
# A small abstract interpretation over the function's bindings, flow-insensitive: a name has a
# rank if every binding of it yields that one rank (the shape analysis gives the primal names;
# adjoints, tangents and temporaries get theirs here).  ``_PENDING`` is "not known yet" (the
# least element), ``None`` "no single rank"; an expression it does not model has no rank.

_PENDING = "pending"
PENDING = _PENDING                  # for the other inferences that solve_bindings solves
_UFUNCS = frozenset(name for name in dir(np) if isinstance(getattr(np, name), np.ufunc))
_ALL_AXES = frozenset({"sum", "mean", "prod", "max", "min", "amax", "amin", "linalg.norm"})


def _join_ranks(a, b):
    if a == _PENDING:
        return b
    if b == _PENDING:
        return a
    return a if a == b else None


def _matmul_rank(a, b):
    if a == _PENDING or b == _PENDING:
        return _PENDING
    if a is None or b is None:
        return None
    if a == 0 or b == 0:
        return max(a, b)                       # np.dot with a number multiplies
    return {(1, 1): 0, (2, 1): 1, (1, 2): 1, (2, 2): 2}.get((a, b))


def _widest(ranks):
    ranks = list(ranks)
    if _PENDING in ranks:
        return _PENDING
    if not ranks or None in ranks:
        return None
    return max(ranks)


def expression_rank(node: ast.expr, ranks: dict, integers: set[str] = frozenset()):
    """The rank of ``node``'s value given the ranks of names, ``_PENDING`` if it needs one
    not known yet, ``None`` if it has none the rules prove."""
    def rank(inner):
        return expression_rank(inner, ranks, integers)

    if isinstance(node, ast.Constant):
        return 0 if isinstance(node.value, (int, float)) else None
    if isinstance(node, ast.Name):
        if node.id in integers:
            return 0
        return ranks.get(node.id, _PENDING)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.MatMult):
            return _matmul_rank(rank(node.left), rank(node.right))
        return _widest([rank(node.left), rank(node.right)])
    if isinstance(node, ast.UnaryOp):
        return rank(node.operand)
    if isinstance(node, ast.Compare):
        return _widest([rank(node.left), *map(rank, node.comparators)])
    if isinstance(node, ast.IfExp):
        return _join_ranks(rank(node.body), rank(node.orelse))
    if isinstance(node, ast.Attribute):
        if node.attr in ("size", "ndim", "start", "stop", "step"):
            return 0
        if node.attr in ("T", "real", "imag"):
            return rank(node.value)
        return None
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            return 0
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not all(is_integer_expression(part, integers) for part in parts):
            return None
        base = rank(node.value)
        if base in (_PENDING, None):
            return base
        return base - len(parts) if len(parts) <= base else None
    if isinstance(node, ast.Call):
        return _call_rank(node, rank)
    return None


def _call_rank(node: ast.Call, rank):
    name = numpy_call_name(node)
    helper = node.func.id if isinstance(node.func, ast.Name) else None
    arguments = node.args
    if name in _UFUNCS or name in ("float32", "float64"):
        if any(k.arg not in ("dtype",) for k in node.keywords):
            return None
        return _widest(map(rank, arguments))
    if name in _ALL_AXES and len(arguments) == 1 and not node.keywords:
        return 0
    if name in ("sum", "mean") and len(arguments) == 1:
        keywords = {k.arg: k.value for k in node.keywords}
        axes = constant_axes(keywords["axis"]) if "axis" in keywords else None
        keep = keywords.get("keepdims")
        if axes is None or set(keywords) - {"axis", "keepdims"} or keep is not None and not (
                isinstance(keep, ast.Constant) and keep.value in (True, False)):
            return None
        base = rank(arguments[0])
        if base in (_PENDING, None):
            return base
        return base if keep is not None and keep.value else base - len(set(axes))
    if (name in ("zeros_like", "ones_like", "empty_like", "copy", "transpose")
            or helper == "zeros_like") and len(arguments) == 1:
        return rank(arguments[0])
    if (name in SHAPE_BUILDERS - {"broadcast_to"} or helper == "full") and arguments:
        shape = arguments[0]
        if isinstance(shape, ast.Tuple):
            return len(shape.elts)
        return None
    if name == "expand_dims" or helper == "expand_dims":
        inner = rank(arguments[0])
        return inner + 1 if isinstance(inner, int) else inner
    if name == "outer":
        return 2
    if (helper == "multiply_outer" or name == "multiply.outer") and len(arguments) == 2:
        return _sum_ranks(rank(arguments[0]), rank(arguments[1]))
    if name in ("dot", "matmul") and len(arguments) == 2:
        return _matmul_rank(rank(arguments[0]), rank(arguments[1]))
    if helper in ("unbroadcast", "broadcast_like") and len(arguments) == 2:
        return rank(arguments[1])
    if helper in ("len", "int"):
        return 0
    return None


def _sum_ranks(a, b):
    if a == _PENDING or b == _PENDING:
        return _PENDING
    if a is None or b is None:
        return None
    return a + b


def name_bindings(function: ast.FunctionDef, fixed: set[str]) -> dict[str, list]:
    """Each name's bound values (None for one not modelled: a loop variable, an unpacked
    tuple's item, a parameter not in ``fixed``); a restored saved value of the same name
    and a placeholder before a loop are not bindings of another value."""
    bindings: dict[str, list] = {a.arg: [None] for a in function.args.args
                                 if a.arg not in fixed}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            if is_pop(node.value) or is_prebinding(node):
                continue                  # a saved value of the same name; a placeholder
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bindings.setdefault(target.id, []).append(node.value)
                else:
                    for inner in ast.walk(target):
                        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                            bindings.setdefault(inner.id, []).append(None)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            bindings.setdefault(node.target.id, []).append(
                ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value))
        elif isinstance(node, ast.For):
            for inner in ast.walk(node.target):
                if isinstance(inner, ast.Name):
                    bindings.setdefault(inner.id, []).append(None)
    return bindings


def solve_bindings(bindings: dict[str, list], fixed: dict, evaluate, join) -> dict:
    """The least fixpoint of a flow-insensitive abstract interpretation: each name of
    ``bindings`` not in ``fixed`` gets the ``join`` (starting from ``_PENDING``) of
    ``evaluate(value, known)`` over its bound values (None for one not modelled, which
    joins to None), until nothing changes."""
    known: dict = dict(fixed)
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name in fixed:
                continue
            joined = _PENDING
            for value in values:
                joined = join(joined, None if value is None else evaluate(value, known))
                if joined is None:
                    break
            if joined != known.get(name, _PENDING):      # monotone: pending, a value, None
                known[name] = joined
                changed = True
    return known


def infer_ranks(function: ast.FunctionDef, shapes: dict, parameter_shapes: dict,
                mode: str) -> dict[str, int]:
    """The rank of every name of ``function`` that has one (see above)."""
    fixed: dict[str, int] = {name: len(shape) for name, shape in shapes.items()
                             if shape is not None}
    parameters = [a.arg for a in function.args.args]
    for name, shape in parameter_shapes.items():
        if shape is not None:
            fixed[name] = len(shape)
            if mode == "forward" and f"{name}_d" in parameters:
                fixed[f"{name}_d"] = len(shape)       # a tangent has its primal's shape
    if mode == "gradient" and "_return_b" in parameters:
        fixed["_return_b"] = 0                        # the output is a proven scalar
    integers = integer_names(function)
    bindings = {name: values for name, values in name_bindings(function, set(fixed)).items()
                if name not in integers}
    ranks = solve_bindings(bindings, fixed, lambda value, known: expression_rank(
        value, known, integers), _join_ranks)
    for name in integers:
        ranks[name] = 0
    return {name: value for name, value in ranks.items() if isinstance(value, int)}


# --- fewer arrays: what numba would otherwise allocate on every pass of a loop ---------------

class _ScalarsBroadcast(ast.NodeTransformer):
    """``a + -expand_dims(s, 0)`` as ``a - s`` where ``s`` is a number and ``a`` an array:
    the one-element array broadcasts to ``a``'s shape exactly as the number does (a sum
    of every axis, unbroadcast to a ``(1,)`` argument)."""

    def __init__(self, ranks: dict, integers: set[str]):
        self.ranks, self.integers = ranks, integers

    def _rank(self, node: ast.expr):
        return expression_rank(node, self.ranks, self.integers)

    def _number(self, node: ast.expr) -> ast.expr | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "expand_dims" and len(node.args) == 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value == 0 \
                and self._rank(node.args[0]) == 0:
            return node.args[0]
        return None

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            return node
        for side, other in (("right", node.left), ("left", node.right)):
            operand = getattr(node, side)
            negated = isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub)
            number = self._number(operand.operand if negated else operand)
            rank = self._rank(other)
            if number is None or not isinstance(rank, int) or rank < 1:
                continue
            if negated and side == "right" and isinstance(node.op, ast.Add):
                return ast.copy_location(ast.BinOp(node.left, ast.Sub(), number), node)
            setattr(node, side, ast.UnaryOp(ast.USub(), number) if negated else number)
        return node


def _written(statement: ast.stmt) -> set[str]:
    """The names ``statement`` binds, and the arrays it writes into (``a[i] = v``)."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) \
                and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
    return names


def _elementwise_operands(statement: ast.stmt, name: str) -> int:
    """How many reads of ``name`` in ``statement`` are operands of elementwise arithmetic
    (which numba fuses into the loop of the expression around them)."""
    count = 0
    for node in ast.walk(statement):
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult):
            operands = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            operands = [node.operand]
        else:
            continue
        count += sum(isinstance(o, ast.Name) and o.id == name for o in operands)
    return count


def _cheap(value: ast.expr) -> bool:
    """One elementwise ``+ - * /`` of names and numbers (recomputed where it is read)."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return isinstance(value.operand, ast.Name)
    return isinstance(value, ast.BinOp) \
        and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)) \
        and all(isinstance(o, (ast.Name, ast.Constant)) for o in (value.left, value.right))


def _forward_substitute(function: ast.FunctionDef) -> None:
    """``_t2_b = _t4_b`` (a name bound once to another name) and ``_t4_b = x_b * dt`` (a
    temporary bound once to one elementwise operation, read only as an operand of others)
    replaced by their values where they are read, later in the same block, before anything
    rebinds what the value reads: numba then computes them inside the fused loops of the
    expressions that read them, without an array of their own.  The values are the same."""
    stores = assignment_counts(function)

    def substitutable(statement: ast.stmt) -> str | None:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return None
        name = statement.targets[0].id
        if stores.get(name) != 1 or not name.startswith("_t"):
            return None
        if isinstance(statement.value, ast.Name) or _cheap(statement.value):
            return name
        return None

    def block(body: list[ast.stmt]) -> list[ast.stmt]:
        for statement in body:
            if isinstance(statement, (ast.For, ast.While, ast.If)):
                statement.body = block(statement.body)
                statement.orelse = block(statement.orelse)
        loads = name_loads(function)
        index = 0
        while index < len(body):
            statement = body[index]
            name = substitutable(statement)
            if name is None:
                index += 1
                continue
            value = statement.value
            alias = isinstance(value, ast.Name)
            reads = set(name_loads(value))
            remaining = loads.get(name, 0)
            uses: list[int] = []
            for later in range(index + 1, len(body)):
                other = body[later]
                count = name_loads(other).get(name, 0)
                if count:
                    if not isinstance(other, (ast.Assign, ast.Expr, ast.Return)):
                        break                 # read inside a block: left as it is
                    if not alias and (_elementwise_operands(other, name) != count
                                      or not is_pure(other.value)):
                        break                 # read where numba would not fuse it
                    uses.append(later)
                    remaining -= count
                elif not alias and not harmless(other):
                    break                     # it may change what the value reads
                if remaining == 0 or _written(other) & (reads | {name}):
                    break
            if alias and any(value.id in _written(other) for other in body[index + 1:]):
                remaining = -1                # keep a name for the value before it changes
            if remaining != 0 or not uses or not alias and len(uses) > 4:
                index += 1
                continue
            for later in uses:
                body[later] = Substitute(name, value).visit(body[later])
            del body[index]
            loads = name_loads(function)
            index = 0                         # an earlier temporary may be read only so now
        return body

    function.body = block(function.body)


def _range_length(loop: ast.For, bound: dict[str, ast.expr]) -> ast.expr | None:
    """``len(r)`` for a loop over a range ``r`` (a name bound to ``range(...)`` before the
    loop, or the call itself), else None."""
    iterator = loop.iter
    if isinstance(iterator, ast.Name) and isinstance(bound.get(iterator.id), ast.Call):
        call = bound[iterator.id]
    elif isinstance(iterator, ast.Call):
        call = iterator
    else:
        return None
    if not (isinstance(call.func, ast.Name) and call.func.id == "range" and not call.keywords):
        return None
    return make_call(ast.Name("len", ast.Load()), copy.deepcopy(iterator))


def _pushes_in(body: list[ast.stmt]) -> list[tuple[list[ast.stmt], int]]:
    """The pushes ``_saved_y.append(y)`` of a loop body, through its ``if`` blocks (not in
    nested loops, which are not counted): (the block, the index)."""
    found = []
    for index, statement in enumerate(body):
        if isinstance(statement, ast.If):
            found += _pushes_in(statement.body) + _pushes_in(statement.orelse)
        elif pushed_stack(statement) is not None:
            found.append((body, index))
    return found


def _preallocate_stacks(function: ast.FunctionDef, shapes: dict, namer: Namer,
                        helpers: set[str]) -> None:
    """A stack of the arrays a top-level ``for`` loop over a range saves, each of one
    proven shape, as one array of a row per save (``stack_like(x, len(r))``) and a count,
    instead of a list: no list of arrays to grow, and the rows stay put.  ``x`` must be
    bound before the loop (its type and shape are those of every saved value); a loop that
    may ``break`` or ``return`` keeps its list (rows for every pass might not fit)."""
    pushes: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.stmt) and pushed_stack(node) is not None:
            pushes[pushed_stack(node)] = pushes.get(pushed_stack(node), 0) + 1
    created = {node.targets[0].id: node for node in function.body
               if isinstance(node, ast.Assign) and len(node.targets) == 1
               and isinstance(node.targets[0], ast.Name) and node.targets[0].id in pushes
               and isinstance(node.value, ast.List) and not node.value.elts}
    bound: dict[str, ast.expr] = {}
    before: set[str] = {a.arg for a in function.args.args}
    chosen: dict[str, tuple[ast.expr, ast.expr]] = {}     # stack -> (saved name, length)
    places: dict[int, list[str]] = {}                     # id(loop) -> its stacks
    for statement in function.body:
        if isinstance(statement, ast.For):
            length = _range_length(statement, bound)
            if any(isinstance(node, (ast.Break, ast.Return)) for node in ast.walk(statement)):
                length = None                # it may stop early: rows for every pass could
            found = _pushes_in(statement.body) if length is not None else []   # not fit
            per_pass: dict[str, int] = {}
            for block, index in found:
                stack = pushed_stack(block[index])
                per_pass[stack] = per_pass.get(stack, 0) + 1
            for stack, count in sorted(per_pass.items()):
                call = next(block[index].value for block, index in found
                            if pushed_stack(block[index]) == stack)
                value = call.args[0]
                if stack not in created or pushes[stack] != count \
                        or not isinstance(value, ast.Name) or value.id not in before \
                        or not shapes.get(value.id):
                    continue                 # a number, a shape not proven, saved elsewhere
                rows = length if count == 1 else ast.BinOp(copy.deepcopy(length), ast.Mult(),
                                                           int_constant(count))
                chosen[stack] = (value, rows)
                places.setdefault(id(statement), []).append(stack)
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    if not is_prebinding(statement):
                        before.add(target.id)
                    bound[target.id] = statement.value
    if not chosen:
        return
    helpers.add("stack_like")
    counts = {stack: namer.unique("_count" + stack[len("_saved"):])
              for stack in sorted(chosen)}

    def count(stack: str, store: bool = False) -> ast.Name:
        return ast.Name(counts[stack], ast.Store() if store else ast.Load())

    def rewrite(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            for field in ("body", "orelse"):
                if isinstance(statement, (ast.For, ast.While, ast.If)):
                    setattr(statement, field, rewrite(getattr(statement, field)))
            stack = pushed_stack(statement)
            if stack in chosen:
                out.append(ast.Assign([ast.Subscript(ast.Name(stack, ast.Load()),
                                                     count(stack), ast.Store())],
                                      statement.value.args[0]))
                out.append(ast.AugAssign(count(stack, True), ast.Add(), int_constant(1)))
                continue
            if isinstance(statement, ast.Assign) and is_pop(statement.value) \
                    and statement.value.func.value.id in chosen:
                stack = statement.value.func.value.id
                out.append(ast.AugAssign(count(stack, True), ast.Sub(), int_constant(1)))
                statement.value = ast.Subscript(ast.Name(stack, ast.Load()), count(stack),
                                                ast.Load())
                out.append(statement)
                continue
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name) \
                    and statement.targets[0].id in chosen and statement in created.values():
                continue                              # allocated before its loop instead
            if id(statement) in places:
                for stack in places[id(statement)]:
                    value, rows = chosen[stack]
                    out.append(ast.Assign([ast.Name(stack, ast.Store())], make_call(
                        ast.Name("stack_like", ast.Load()), copy.deepcopy(value), rows)))
                    out.append(ast.Assign([count(stack, True)], int_constant(0)))
            out.append(statement)
        return out

    function.body = rewrite(function.body)


def _hoist_invariants(function: ast.FunctionDef) -> None:
    """``_t1 = -k`` in a top-level loop that never rebinds ``k``, bound once: computed once,
    before the loop (elementwise arithmetic of values bound before it; it cannot raise)."""
    stores = assignment_counts(function)
    parameters = {a.arg for a in function.args.args}

    def invariant(node: ast.expr, rebound: set[str]) -> bool:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name):
                if inner.id in rebound:
                    return False
            elif isinstance(inner, ast.Call):
                if numpy_call_name(inner) not in _UFUNCS or inner.keywords:
                    return False
            elif isinstance(inner, ast.BinOp):
                if isinstance(inner.op, ast.MatMult):
                    return False
            elif not isinstance(inner, (ast.UnaryOp, ast.Constant, ast.expr_context,
                                        ast.operator, ast.unaryop, ast.Attribute)):
                return False
            if isinstance(inner, ast.Attribute) and not (
                    isinstance(inner.value, ast.Name) and inner.value.id == "np"):
                return False
        return True

    body: list[ast.stmt] = []
    for statement in function.body:
        if isinstance(statement, ast.For):
            rebound = set().union(*(_written(s) for s in statement.body)) \
                | _written(ast.Assign([statement.target], ast.Constant(0)))
            if not all(harmless(s) or isinstance(s, (ast.Assign, ast.If, ast.For, ast.While))
                       and all(is_pure(n) for n in ast.walk(s) if isinstance(n, ast.Call))
                       for s in statement.body):
                body.append(statement)              # a call that may write an array
                continue
            kept: list[ast.stmt] = []
            for inner in statement.body:
                if isinstance(inner, ast.Assign) and len(inner.targets) == 1 \
                        and isinstance(inner.targets[0], ast.Name) \
                        and stores.get(inner.targets[0].id) == 1 \
                        and inner.targets[0].id not in parameters \
                        and not isinstance(inner.value, (ast.Name, ast.Constant)) \
                        and invariant(inner.value, rebound):
                    body.append(inner)
                    continue
                kept.append(inner)
            statement.body = kept or [ast.Pass()]
        body.append(statement)
    function.body = body


# Functions whose result is a new array (or a number), never a view of an argument, and
# which keep no reference to their arguments.
_FRESH_NUMPY = frozenset({"zeros", "ones", "empty", "full", "zeros_like", "ones_like",
                          "empty_like", "full_like", "copy", "sum", "mean", "prod", "max", "min",
                          "amax", "amin", "dot", "outer", "matmul", "linalg.norm", "float32",
                          "float64", "arange", "linspace"}) | _UFUNCS
_FRESH_HELPERS = frozenset({"zeros_like", "full", "multiply_outer", "len"})
_INTO = {ast.Add: "add_into", ast.Sub: "subtract_into", ast.Mult: "multiply_into"}


def _fresh(value: ast.expr) -> bool:
    """Whether ``value`` is a new array or a number (no other name can hold it)."""
    if isinstance(value, (ast.BinOp, ast.Compare, ast.Constant)):
        return True
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.op, (ast.USub, ast.Not))
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Name):
            return value.func.id in _FRESH_HELPERS
        return numpy_call_name(value) in _FRESH_NUMPY
    return False


def _accumulation(statement: ast.stmt):
    """For ``y = y + a - b`` (``y`` first, then terms that do not read ``y``; also ``a +
    y`` and ``y + -a``): ``(y, [(operator, term), ...])``, else None."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return None
    name = statement.targets[0].id
    value = statement.value
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Mult)) \
            and isinstance(value.right, ast.Name) and value.right.id == name \
            and not (isinstance(value.left, ast.Name) and value.left.id == name):
        value = ast.BinOp(value.right, value.op, value.left)      # a + y as y + a: the same
    terms: list[tuple[type, ast.expr]] = []
    while isinstance(value, ast.BinOp) and type(value.op) in _INTO:
        operator, term = type(value.op), value.right
        if operator is ast.Add and isinstance(term, ast.UnaryOp) \
                and isinstance(term.op, ast.USub):
            operator, term = ast.Sub, term.operand                # y + -a is y - a
        terms.append((operator, term))
        value = value.left
    if not (isinstance(value, ast.Name) and value.id == name) or not terms \
            or any(name in name_loads(term) for _, term in terms):
        return None
    return name, terms[::-1]


def owned_arrays(code: ast.AST, ranks: dict, integers: set[str]) -> set[str]:
    """Names no other name ever shares an array with in ``code`` (a function, or a loop
    whose names each hold an array of their own when it starts): every binding is a new
    array (or an accumulation into the name itself), and every read only computes from the
    value — arithmetic, a NumPy function that returns a new array, an element, a copy into
    another array, the return.  Writing into such a name's array changes no other value.
    A function's parameters are not (the caller holds their arrays)."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(code):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    names = {node.id for node in ast.walk(code)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    owned = names - ({a.arg for a in code.args.args} if isinstance(code, ast.FunctionDef)
                     else set())
    for node in ast.walk(code):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if not isinstance(target, ast.Name):
                    owned -= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)
                              and isinstance(n.ctx, ast.Store)}
                elif not (_fresh(node.value) or _accumulation(node) is not None):
                    owned.discard(target.id)
        elif isinstance(node, ast.For) or isinstance(node, ast.AugAssign) \
                and isinstance(node.target, ast.Name):
            owned -= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.id in owned and not _only_read(node, parents, ranks, integers):
            owned.discard(node.id)
    return owned


def _only_read(node: ast.Name, parents: dict, ranks: dict, integers: set[str]) -> bool:
    parent = parents.get(id(node))
    if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Return)):
        return True
    if isinstance(parent, ast.Tuple):
        return isinstance(parents.get(id(parent)), ast.Return)
    if isinstance(parent, ast.Call):
        if node not in parent.args:
            return False
        if isinstance(parent.func, ast.Name):
            return parent.func.id in _FRESH_HELPERS
        return numpy_call_name(parent) in _FRESH_NUMPY
    if isinstance(parent, ast.Attribute):
        return parent.attr in ("shape", "size", "ndim", "dtype")
    if isinstance(parent, ast.Subscript):
        if isinstance(parent.ctx, ast.Store):
            return True                               # written into, in place
        parts = parent.slice.elts if isinstance(parent.slice, ast.Tuple) else [parent.slice]
        return parent.value is node and ranks.get(node.id) == len(parts) \
            and all(is_integer_expression(part, integers) for part in parts)   # one element
    if isinstance(parent, ast.Assign):
        return node is parent.value and all(isinstance(t, ast.Subscript)
                                            for t in parent.targets)   # copied into a row
    return False


def _allocates(term: ast.expr, ranks: dict, integers: set[str]) -> bool:
    """Whether ``term`` would be an array of its own when not fused into the expression
    around it: elementwise arithmetic that is not a number (a name, a reduction to a number
    or a call that makes its array anyway costs the same either way)."""
    if isinstance(term, (ast.Name, ast.Constant)) or expression_rank(term, ranks, integers) == 0:
        return False
    if isinstance(term, ast.Call):
        return numpy_call_name(term) in _UFUNCS
    return True


def _accumulate_in_place(function: ast.FunctionDef, ranks: dict, helpers: set[str]) -> None:
    """``y = y + a`` (and ``-``, ``*``, and chains of them) as ``y = add_into(y, a)`` for an
    array ``y`` no other name shares (:func:`owned_arrays`): the numba helper adds into
    ``y``'s array where ``a`` broadcasts to its shape and the dtype stays, else makes the
    new array the expression would; the values are the same, without an array per pass."""
    integers = integer_names(function)
    owned = owned_arrays(function, ranks, integers)
    for node in ast.walk(function):
        found = _accumulation(node) if isinstance(node, ast.Assign) else None
        if found is None or found[0] not in owned or not isinstance(ranks.get(found[0]), int) \
                or ranks[found[0]] < 1:
            continue
        name, terms = found
        if any(_allocates(term, ranks, integers) for _, term in terms):
            continue                          # fused into one array already: as it is
        value: ast.expr = ast.Name(name, ast.Load())
        for operator, term in terms:
            helper = _INTO[operator]
            helpers.add(helper)
            value = make_call(ast.Name(helper, ast.Load()), value, term)
        node.value = value
