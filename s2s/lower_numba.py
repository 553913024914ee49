"""Stage 7 (lower for numba), optional: what ``backend="numba"`` compiles.

Input: a :class:`~s2s.pipeline.Derivation` of shape-specialized, closure-free code — the
gradient ``grad_<name>(params, seed)`` (mode ``"gradient"``) or the forward-mode
``jvp_<name>(params, tangents)`` (mode ``"forward"``) — with the functions of its module
(callees first), the shapes of its arguments and the float dtype they compute in.
Output: a :class:`Lowered` module source that ``numba.njit`` compiles, computing the same
values in the same order, every function decorated ``@numba.njit(cache=True,
error_model="numpy")``; or a :class:`LoweringError` (an :class:`~s2s.errors.UnsupportedError`)
naming the construct and the line of the user's code it comes from.

The rewrites, each local and exact:

* one stack per saved name instead of the one ``_saved`` list (numba lists hold one type):
  ``_saved.append(y)`` / ``y = _stack.pop()`` become ``_saved_y.append(y)`` /
  ``y = _saved_y.pop()``.  Each value is pushed and popped by the pair of one name (or of
  one array's elements), so the per-name order is the global order restricted to it;
* ``for i in reversed(r)`` over ``r = range(...)`` (or its first ``n`` items, ``r[:n]``)
  as an explicit descending ``range``;
* ``np.sum(x, axis=a, keepdims=True)`` as ``np.expand_dims`` of the axis sum,
  ``np.mean(x, axis=a)`` as the axis sum over the axis length, ``np.multiply.outer`` as
  ``np.outer`` or a product of ``expand_dims``;
* the runtime helper ``zeros_like`` spelled out for names of known shape (``0.0``,
  ``np.zeros_like(x)``), else taken from :mod:`s2s.numba_runtime`;
* ``np.copy(x[i])`` of one element as the element;
* for float32 arguments, float constants as ``np.float32(c)`` and integer constants in
  float arithmetic too, so float32 stays float32 (numba types a Python float as float64);
* dimensions written into the specialized code (``np.full((32,), g)``, ``g / 32``) as the
  argument dimension that has that value (``X.shape[0]``): exact for these arguments, and
  the same text for other arguments of the same ranks and the same pattern of equal
  dimensions, so a new batch size reuses the compiled code (the text is what is cached);
* a temporary bound once and read once later in its block, or a value read only by the
  statement that binds its name again, inlined into that statement where nothing between
  rebinds what it reads or has an effect (:func:`_inline_single_uses`): numba fuses the
  elementwise operations of one expression into one loop, with no array per temporary.

Then :mod:`s2s.numba_allocations` rewrites each function for fewer arrays per pass of a
loop (preallocated rows of saved arrays, sums into arrays no other name holds, ...).

Anything else numba is known not to compile (another runtime helper, ``scipy``, axis
reductions other than ``sum``/``mean``) is a :class:`LoweringError`; what numba itself
then refuses is reported by :mod:`s2s.numba_backend`, mapped back the same way.
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass

from .emit import render
from .errors import UnsupportedError
from .naming import Namer, names_in
from .numba_allocations import expression_rank, fewer_arrays, infer_ranks
from .numba_elementwise import vector_loops
from .numba_syntax import (SHAPE_BUILDERS, Substitute, assignment_counts, constant_axes,
                           harmless, int_constant, integer_names, is_comment,
                           is_integer_expression, is_pop, is_prebinding, is_pure, make_call,
                           name_loads, numpy_attribute, numpy_call_name)
from .reverse import COMMENT_PREFIX, comment

__all__ = ["Lowered", "LoweringError", "lower", "user_line"]

DECORATOR = "numba.njit(cache=True, error_model='numpy', boundscheck=True)"
_SPELLED_HELPERS = {"zeros_like", "broadcast_like", "unbroadcast"}   # with a numba version
_COMMENT = re.compile(r"^(\s*)# (.*)$")
_GRAD_OF_LINE = re.compile(r"#\s*grad of line (\d+): (.*)$")


class LoweringError(UnsupportedError):
    """Code numba cannot compile: the construct and where it comes from."""


@dataclass(frozen=True)
class Lowered:
    source: str                 # the module's text, as written to the cache and exported
    entry: str                  # the function to call: grad_<name> or jvp_<name>
    reads: tuple[str, ...]      # the module's free names (globals the generated code reads)
    dtype: str                  # "float64" or "float32"


def user_line(source: str, line: int) -> str:
    """Where line ``line`` of generated code comes from: the ``# grad of line N: ...``
    comment above it, or the line itself."""
    lines = source.splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    for previous in reversed(lines[:max(line - 1, 0)]):
        match = _GRAD_OF_LINE.search(previous)
        if match:
            return f"line {match.group(1)} (`{match.group(2).strip()}`), generated `{text}`"
        if re.match(r"^\S", previous):            # the top of the function: no origin
            break
    return f"the generated line `{text}`" if text else "the generated code"


def _parse_with_comments(source: str) -> ast.Module:
    """The generated source parsed, its ``# ...`` lines kept as comment markers."""
    lines = []
    for line in source.splitlines():
        match = _COMMENT.match(line)
        if match:
            line = f"{match.group(1)}{COMMENT_PREFIX + match.group(2)!r}"
        lines.append(line)
    return ast.parse("\n".join(lines) + "\n")


class _Context:
    """What one function's rewrites know: shapes of names, its line for errors."""

    def __init__(self, function: ast.FunctionDef, shapes: dict, source: str,
                 dtype: str, parameter_shapes: dict[str, tuple] | None):
        self.function = function
        self.shapes = shapes
        self.source = source
        self.dtype = dtype
        self.parameter_shapes = parameter_shapes or {}
        self.namer = Namer(names_in(function))
        self.assigned = assignment_counts(function)
        self.ranks: dict[str, int] = {}       # every name's, once stacks are split
        self.integers: set[str] = set()

    def refuse(self, node: ast.AST, what: str) -> LoweringError:
        line = getattr(node, "lineno", 0)
        return LoweringError(f"numba cannot compile {what}, at {user_line(self.source, line)}",
                             hint="it runs on the Python backend; rewrite it with operations "
                                  "numba supports, or use backend='python'")

    def rank(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.Name) and node.id in self.shapes:
            return len(self.shapes[node.id])
        return None


# --- stacks: one per saved name ------------------------------------------------------------

def _slot_of_push(value: ast.expr) -> str | None:
    if isinstance(value, ast.Name):
        return value.id
    if numpy_call_name(value) == "copy" and len(value.args) == 1 \
            and isinstance(value.args[0], ast.Subscript) \
            and isinstance(value.args[0].value, ast.Name):
        return value.args[0].value.id + "[]"
    return None


def _slot_of_pop(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        return target.value.id + "[]"
    return None


def _split_stacks(context: _Context) -> None:
    function = context.function
    saved = {node.targets[0].id for node in ast.walk(function)
             if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
             and isinstance(node.value, ast.List) and not node.value.elts
             and node.targets[0].id.startswith("_saved")}
    if not saved:
        return
    aliases = {node.targets[0].id: node.value.id for node in ast.walk(function)
               if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
               and isinstance(node.value, ast.Name) and node.value.id in saved}
    stacks = saved | set(aliases)
    names: dict[str, str] = {}

    def stack_for(slot: str) -> str:
        if slot not in names:
            stem = slot[:-2] + "_items" if slot.endswith("[]") else slot
            names[slot] = context.namer.unique(f"_saved_{stem.lstrip('_')}")
        return names[slot]

    pushed: set[str] = set()
    popped: set[str] = set()

    def rewrite(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            for field in ("body", "orelse"):
                if isinstance(statement, (ast.For, ast.While, ast.If)):
                    setattr(statement, field, rewrite(getattr(statement, field))
                            or ([ast.Pass()] if field == "body" else []))
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                    and statement.targets[0].id in stacks:
                continue                               # _saved = [] / _stack = _saved
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
                    and isinstance(statement.value.func, ast.Attribute) \
                    and isinstance(statement.value.func.value, ast.Name) \
                    and statement.value.func.value.id in stacks:
                call = statement.value
                slot = _slot_of_push(call.args[0]) if call.func.attr == "append" \
                    and len(call.args) == 1 else None
                if slot is None:
                    raise context.refuse(statement, f"the saved value `{ast.unparse(call)}`")
                pushed.add(slot)
                value = call.args[0]
                if slot.endswith("[]"):
                    value = _element_copy(value, context)
                push = ast.Attribute(ast.Name(stack_for(slot), ast.Load()), "append", ast.Load())
                out.append(ast.Expr(make_call(push, value)))
                continue
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call) \
                    and isinstance(statement.value.func, ast.Attribute) \
                    and statement.value.func.attr == "pop" \
                    and isinstance(statement.value.func.value, ast.Name) \
                    and statement.value.func.value.id in stacks:
                slot = _slot_of_pop(statement.targets[0])
                if slot is None or len(statement.targets) != 1:
                    raise context.refuse(statement, f"the restore `{ast.unparse(statement)}`")
                popped.add(slot)
                statement.value.func.value = ast.Name(stack_for(slot), ast.Load())
            out.append(statement)
        return out

    body = rewrite(function.body)
    if pushed != popped or any(isinstance(node, ast.Name) and node.id in stacks
                               for statement in body for node in ast.walk(statement)):
        raise context.refuse(function, "a stack of saved values used other than by "
                             "pushing and popping one name at a time")
    start = 0
    while start < len(body) and (is_comment(body[start]) or is_prebinding(body[start])):
        start += 1
    created = [ast.Assign([ast.Name(names[slot], ast.Store())], ast.List([], ast.Load()))
               for slot in sorted(names)]
    function.body = body[:start] + created + body[start:]


def _element_copy(value: ast.Call, context: _Context) -> ast.expr:
    """``np.copy(x[i])``: the element itself where it is one number (numba has no copy of a
    scalar), else ``x[i].copy()``."""
    subscript = value.args[0]
    rank = context.rank(subscript.value)
    index = subscript.slice
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    if rank is not None and len(parts) == rank and not any(
            isinstance(part, ast.Slice) for part in parts):
        return subscript
    return make_call(ast.Attribute(subscript, "copy", ast.Load()))


def _type_prebound_integers(function: ast.FunctionDef) -> None:
    """``_t5 = None`` bound before a loop that saves ``_t5`` before assigning it an integer
    (an index): bound to ``0`` instead, so numba types it an integer, not an optional (the
    saved first value is never read: it is restored after the last use)."""
    integers = integer_names(function)
    body: list[ast.stmt] = []
    for statement in function.body:
        targets = [t for t in statement.targets if isinstance(t, ast.Name)] \
            if is_prebinding(statement) else []
        if not targets or not any(t.id in integers for t in targets):
            body.append(statement)
            continue
        others = [t for t in targets if t.id not in integers]
        if others:
            body.append(ast.Assign(others, ast.Constant(None)))
        body.append(ast.Assign([t for t in targets if t.id in integers], ast.Constant(0)))
    function.body = body


# --- the expression rewrites -----------------------------------------------------------------

class _Expressions(ast.NodeTransformer):
    def __init__(self, context: _Context, helpers: set[str]):
        self.context = context
        self.helpers = helpers            # runtime helpers still called (numba versions)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        context = self.context
        name = numpy_call_name(node)
        if isinstance(node.func, ast.Name) and node.func.id == "zeros_like" \
                and len(node.args) == 1:
            argument = node.args[0]
            rank = context.rank(argument)
            if rank == 0:
                return _typed_float(0.0, context.dtype)
            if rank is not None:
                return make_call(numpy_attribute("zeros_like"), argument)
            self.helpers.add("zeros_like")
            return node
        if isinstance(node.func, ast.Attribute) and node.func.attr == "stop_gradient" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "s2s" \
                and len(node.args) == 1:
            return node.args[0]                   # the identity on values
        if isinstance(node.func, ast.Name) and node.func.id in _SPELLED_HELPERS:
            self.helpers.add(node.func.id)
        if name is None and isinstance(node.func, ast.Attribute) and node.keywords \
                and node.func.attr in ("sum", "mean") and not node.args:
            # x.sum(axis=1, keepdims=True) as np.sum(x, ...), which the reduction lowers
            method = node.func.attr
            node = ast.copy_location(ast.Call(numpy_attribute(method), [node.func.value],
                                              node.keywords), node)
            name = method
        if name in ("sum", "mean"):
            return self._reduction(node, name)
        if name in ("max", "min", "prod", "std", "var", "amax", "amin", "nanmax", "nanmin",
                    "nansum", "nanmean", "any", "all", "argmax", "argmin", "cumsum", "cumprod") \
                and any(k.arg in ("axis", "keepdims") for k in node.keywords):
            raise context.refuse(node, f"`np.{name}` with axis= or keepdims= "
                                 f"(`{ast.unparse(node)}`)")
        if name in ("linalg.norm",) and (len(node.args) > 1 or node.keywords):
            raise context.refuse(node, f"`np.linalg.norm` with ord=, axis= or keepdims= "
                                 f"(`{ast.unparse(node)}`)")
        if name == "multiply.outer" and len(node.args) == 2 and not node.keywords:
            return self._outer(node)
        if name == "full" and len(node.args) == 2 and not node.keywords \
                and not isinstance(node.args[1], ast.Constant):
            self.helpers.add("full")              # the fill value may be an array
            return make_call(ast.Name("full", ast.Load()), *node.args)
        if name is not None and "." in name and not name.startswith(("linalg.", "random.")):
            raise context.refuse(node, f"`np.{name}` (`{ast.unparse(node)}`)")
        return node

    def _reduction(self, node: ast.Call, name: str) -> ast.expr:
        context = self.context
        keywords = {k.arg: k.value for k in node.keywords}
        if set(keywords) - {"axis", "keepdims"} or len(node.args) != 1:
            raise context.refuse(node, f"`{ast.unparse(node)}`")
        keepdims = keywords.get("keepdims")
        if keepdims is not None and not (isinstance(keepdims, ast.Constant)
                                         and isinstance(keepdims.value, bool)):
            raise context.refuse(node, f"keepdims= that is not a constant (`{ast.unparse(node)}`)")
        keep = bool(keepdims.value) if keepdims is not None else False
        axis = keywords.get("axis")
        if axis is None or isinstance(axis, ast.Constant) and axis.value is None:
            if keep:
                raise context.refuse(node, f"`{ast.unparse(node)}`")
            return make_call(numpy_attribute(name), node.args[0])
        axes = constant_axes(axis)
        if axes is None:
            raise context.refuse(node, f"an axis that is not a constant (`{ast.unparse(node)}`)")
        x = node.args[0]
        inferred = expression_rank(x, context.ranks, context.integers)   # shapes' ranks too
        rank = inferred if isinstance(inferred, int) else None
        if rank and all(-rank <= a < rank for a in axes) \
                and sorted({a % rank for a in axes}) == list(range(rank)):
            # every axis: a number (faster in numba than an axis sum), kept as (1, ...)
            total = self._reduction(ast.copy_location(ast.Call(node.func, [x], []), node), name)
            if keep:
                self.helpers.add("expand_dims")
                for a in range(rank):
                    total = make_call(ast.Name("expand_dims", ast.Load()), total, int_constant(a))
            return total
        if any(a < 0 for a in axes):
            if rank is None:
                raise context.refuse(node, f"a negative axis on a value of unknown rank "
                                     f"(`{ast.unparse(node)}`)")
            axes = tuple(a % rank for a in axes)
        axes = tuple(sorted(set(axes)))
        axis_node = int_constant(axes[0]) if len(axes) == 1 else ast.Tuple(
            [int_constant(a) for a in axes], ast.Load())
        result: ast.expr = make_call(numpy_attribute("sum"), x, axis=axis_node)
        if name == "mean":
            count: ast.expr = _shape_item(x, axes[0])
            for a in axes[1:]:
                count = ast.BinOp(count, ast.Mult(), _shape_item(x, a))
            result = ast.BinOp(result, ast.Div(), count)
        if keep:
            rank = context.rank(x)
            for a in axes:
                if rank is not None and len(axes) < rank:
                    result = make_call(numpy_attribute("expand_dims"), result, int_constant(a))
                else:                         # the sum may be a number: a numba helper
                    self.helpers.add("expand_dims")
                    result = make_call(ast.Name("expand_dims", ast.Load()), result, int_constant(a))
        return result

    def _outer(self, node: ast.Call) -> ast.expr:
        a, b = node.args
        rank_a, rank_b = self.context.rank(a), self.context.rank(b)
        if rank_a == 1 and rank_b == 1:
            return make_call(numpy_attribute("outer"), a, b)
        if rank_a is None or rank_b is None:
            self.helpers.add("multiply_outer")      # chosen by the ranks at compile time
            return make_call(ast.Name("multiply_outer", ast.Load()), a, b)
        if rank_a == 0 or rank_b == 0:
            return ast.BinOp(a, ast.Mult(), b)
        expanded = a
        for axis in range(rank_a, rank_a + rank_b):
            expanded = make_call(numpy_attribute("expand_dims"), expanded, int_constant(axis))
        return ast.BinOp(expanded, ast.Mult(), b)


def _shape_item(x: ast.expr, axis: int) -> ast.expr:
    return ast.Subscript(ast.Attribute(copy.deepcopy(x), "shape", ast.Load()), int_constant(axis),
                         ast.Load())


def _typed_float(value: float, dtype: str) -> ast.expr:
    constant = ast.Constant(float(value))
    return make_call(numpy_attribute("float32"), constant) if dtype == "float32" else constant


# --- reversed loops ------------------------------------------------------------------------

def _lower_reversed_loops(context: _Context) -> None:
    ranges: dict[str, ast.Call] = {}
    for node in ast.walk(context.function):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                and node.value.func.id == "range" and not node.value.keywords:
            ranges[node.targets[0].id] = node.value
    for node in ast.walk(context.function):
        if not (isinstance(node, ast.For) and isinstance(node.iter, ast.Call)
                and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "reversed"):
            continue
        sequence = node.iter.args[0]
        count = None
        if isinstance(sequence, ast.Subscript) and isinstance(sequence.slice, ast.Slice) \
                and sequence.slice.lower is None and sequence.slice.step is None:
            count = sequence.slice.upper
            sequence = sequence.value
        if isinstance(sequence, ast.Call) and isinstance(sequence.func, ast.Name) \
                and sequence.func.id == "range":
            made, name = sequence, None
        elif isinstance(sequence, ast.Name) and sequence.id in ranges:
            made, name = ranges[sequence.id], sequence.id
        else:
            raise context.refuse(node, f"`reversed` over `{ast.unparse(sequence)}`, "
                                 "which is not a range")
        arguments = made.args
        stable = name is None or context.assigned.get(name, 0) == 1 and all(
            isinstance(a, ast.Constant) or isinstance(a, ast.Name)
            and context.assigned.get(a.id, 0) <= 1 for a in arguments)
        if count is None and len(arguments) <= 2 and stable:
            # range(stop) or range(start, stop): step 1, written out
            start = arguments[0] if len(arguments) == 2 else ast.Constant(0)
            stop = arguments[-1]
            node.iter = make_call(ast.Name("range", ast.Load()),
                                  _minus_one(copy.deepcopy(stop)), _minus_one(copy.deepcopy(start)),
                                  int_constant(-1))
            continue
        # the general case: count down an index k and map it onto the range
        if name is None:
            raise context.refuse(node, f"`{ast.unparse(node.iter)}`")
        index = context.namer.unique("_k")
        length = count if count is not None else make_call(ast.Name("len", ast.Load()),
                                                           ast.Name(name, ast.Load()))
        target = node.target
        node.target = ast.Name(index, ast.Store())
        node.iter = make_call(ast.Name("range", ast.Load()), _minus_one(copy.deepcopy(length)),
                              int_constant(-1), int_constant(-1))
        value = ast.BinOp(ast.Attribute(ast.Name(name, ast.Load()), "start", ast.Load()),
                          ast.Add(),
                          ast.BinOp(ast.Name(index, ast.Load()), ast.Mult(),
                                    ast.Attribute(ast.Name(name, ast.Load()), "step",
                                                  ast.Load())))
        node.body.insert(0, ast.Assign([target], value))


def _minus_one(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return int_constant(node.value - 1)
    return ast.BinOp(node, ast.Sub(), ast.Constant(1))


# --- float32: typed constants ----------------------------------------------------------------


class _Float32Constants(ast.NodeTransformer):
    """Float constants as ``np.float32(c)``; integer constants too where they meet a value
    that is not an integer in arithmetic (numba types ``float32 * 2`` as float64 for scalars)."""

    def __init__(self, integers: set[str]):
        self.integers = integers

    def _is_integer(self, node: ast.expr) -> bool:
        return is_integer_expression(node, self.integers)

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        node.value = self.visit(node.value)
        return node                           # indices stay integers

    def visit_Call(self, node: ast.Call) -> ast.expr:
        name = node.func.id if isinstance(node.func, ast.Name) else numpy_call_name(node)
        if name in ("range", "len", "expand_dims", "zeros", "ones", "empty", "reshape",
                    "float32", "int", "broadcast_to"):
            if name == "broadcast_to" or name == "reshape":
                node.args[0] = self.visit(node.args[0])
            return node
        if name == "full":
            node.args[1:] = [self.visit(a) for a in node.args[1:]]
            return node
        node.func = self.visit(node.func)
        node.args = [self.visit(a) for a in node.args]
        for keyword in node.keywords:
            if keyword.arg not in ("axis", "keepdims"):
                keyword.value = self.visit(keyword.value)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        if isinstance(node.value, float):
            return make_call(numpy_attribute("float32"), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        if self._is_integer(node):
            return node                       # integer arithmetic (indices, counts)
        node.left, node.right = self.visit(node.left), self.visit(node.right)
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Constant) and isinstance(operand.value, int) \
                    and not isinstance(operand.value, bool):
                setattr(node, side, make_call(numpy_attribute("float32"),
                                              ast.Constant(float(operand.value))))
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        return node                           # a comparison's constants do not propagate


# --- dimensions as argument dimensions -----------------------------------------------------

class _Dimensions(ast.NodeTransformer):
    """An integer the specialized code holds as a dimension, as the first argument
    dimension with that value (``X.shape[0]``); a divisor equal to an argument's size as
    ``X.size``.  Exact for these arguments; see the module docstring."""

    def __init__(self, parameter_shapes: dict[str, tuple], assigned: dict[str, int]):
        self.dimensions: dict[int, ast.expr] = {}
        self.sizes: dict[int, ast.expr] = {}
        for name, shape in parameter_shapes.items():
            if shape is None or assigned.get(name, 0) != 1:
                continue                      # rebound in the function: its shape may change
            for axis, size in enumerate(shape):
                if size >= 2:
                    self.dimensions.setdefault(size, _shape_item(ast.Name(name, ast.Load()),
                                                                 axis))
            total = 1
            for size in shape:
                total *= size
            if len(shape) >= 2 and total >= 2:
                self.sizes.setdefault(total, ast.Attribute(ast.Name(name, ast.Load()), "size",
                                                           ast.Load()))

    def _dimension(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, int) \
                and not isinstance(node.value, bool) and node.value in self.dimensions:
            return copy.deepcopy(self.dimensions[node.value])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        name = numpy_call_name(node)
        if isinstance(node.func, ast.Name) and node.func.id == "full":
            name = "full"
        position = 1 if name in ("broadcast_to", "reshape") else 0
        if name in SHAPE_BUILDERS | {"reshape"} and len(node.args) > position:
            shape = node.args[position]
            if isinstance(shape, ast.Tuple):
                shape.elts = [self._dimension(e) for e in shape.elts]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) \
                and isinstance(node.right.value, int) and not isinstance(node.right.value, bool):
            value = node.right.value
            if value in self.dimensions:
                node.right = copy.deepcopy(self.dimensions[value])
            elif value in self.sizes:
                node.right = copy.deepcopy(self.sizes[value])
        return node


# --- single-use temporaries inlined -----------------------------------------------------------


def _inline_single_uses(function: ast.FunctionDef) -> None:
    """``_t2 = a * x; _t3 = np.sin(x); _t4 = _t2 + _t3`` as ``_t4 = a * x + np.sin(x)``: a
    temporary of the generated code bound once and read once, later in the same block,
    is replaced by its expression where nothing between rebinds a name it reads or has
    an effect; so is a value read only by the statement that binds its name again
    (``x_b = x_b + a; x_b = x_b + b`` as ``x_b = x_b + a + b``).  The values and their
    order of use are the same; numba then fuses the elementwise array operations of one
    expression into one loop, without an array per temporary (the generated code names
    every intermediate value)."""
    loads = name_loads(function)
    stores = assignment_counts(function)

    def simple(statement: ast.stmt) -> bool:
        return isinstance(statement, (ast.Assign, ast.Return, ast.Expr)) and not any(
            isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred))
            for target in getattr(statement, "targets", ()))

    def block(body: list[ast.stmt]) -> list[ast.stmt]:
        for statement in body:
            for field in ("body", "orelse"):
                if isinstance(statement, (ast.For, ast.While, ast.If)):
                    setattr(statement, field, block(getattr(statement, field)))
        index = 0
        while index < len(body):
            statement = body[index]
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)):
                index += 1
                continue
            name = statement.targets[0].id
            value = statement.value
            if not is_pure(value) or is_pop(value):
                index += 1
                continue
            once = name.startswith("_t") and stores.get(name) == 1 and loads.get(name) == 1
            reads = set(name_loads(value))
            for later in range(index + 1, len(body)):
                other = body[later]
                count = name_loads(other).get(name, 0)
                if count:
                    # the one read of a temporary; or the only read of this value: the
                    # statement reading it binds the name again (x_b = x_b + a), so no
                    # later statement, nor the next pass of a loop, sees this value
                    again = count == 1 and isinstance(other, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == name for t in other.targets)
                    if simple(other) and (once or again):
                        body[later] = Substitute(name, value).visit(other)
                        del body[index]
                        index -= 1
                    break
                written = {t.id for node in ast.walk(other) if isinstance(node, ast.Name)
                           and isinstance(node.ctx, ast.Store) for t in [node]}
                if not harmless(other) or written & reads:
                    break
            index += 1
        return body

    function.body = block(function.body)


# --- the module ----------------------------------------------------------------------------------

def lower(source: str, entry: str, mode: str, shapes: dict, dtype: str = "float64",
          parameter_shapes: dict[str, tuple] | None = None, described: str = "") -> Lowered:
    """The numba module for the generated ``source`` (see the module docstring).

    ``entry``: the function called (``grad_f``, ``jvp_f``); ``shapes``: the proven shapes of
    its names (:attr:`s2s.analysis.Analysis.shapes`); ``parameter_shapes``: its arguments'
    shapes; ``described``: where the code comes from, for the header."""
    module = _parse_with_comments(source)
    helpers: set[str] = set()
    imported: set[str] = set()
    body: list[ast.stmt] = []
    for statement in module.body:
        if is_comment(statement):
            continue                                      # the header is written anew
        if isinstance(statement, ast.Import):
            if [a.name for a in statement.names] != ["numpy"]:
                raise LoweringError(f"numba cannot compile code that imports "
                                    f"{ast.unparse(statement)!r}")
            continue
        if isinstance(statement, ast.ImportFrom):
            names = [a.name for a in statement.names]
            if statement.module != "s2s.runtime":
                raise LoweringError(f"numba cannot compile the generated code's use of "
                                    f"{statement.module} ({', '.join(names)})",
                                    hint="it runs on the Python backend")
            imported |= set(names)
            continue
        body.append(statement)
    functions = [s for s in body if isinstance(s, ast.FunctionDef)]
    if len(functions) != len(body):
        raise LoweringError("numba cannot compile generated code with module-level statements")
    for function in functions:
        is_entry = function.name == entry
        context = _Context(function, shapes if is_entry else {}, source, dtype,
                           parameter_shapes if is_entry else None)
        for node in ast.walk(function):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not function:
                raise context.refuse(node, "a nested function")
            if isinstance(node, ast.Name) and node.id in imported - _SPELLED_HELPERS \
                    and isinstance(node.ctx, ast.Load):
                raise context.refuse(node, f"the runtime helper `{node.id}` (no numba version)")
        _type_prebound_integers(function)
        _split_stacks(context)
        _lower_reversed_loops(context)
        ranks = infer_ranks(function, context.shapes, context.parameter_shapes, mode)
        context.ranks, context.integers = ranks, integer_names(function)
        _Expressions(context, helpers).visit(function)
        if dtype == "float32":
            integers = integer_names(function)
            function.body = [statement if is_comment(statement) else
                             _Float32Constants(integers).visit(statement)
                             for statement in function.body]
            function.args.defaults = []           # the caller passes the seed, typed
        else:
            function.args.defaults = []
        if is_entry and parameter_shapes:
            _Dimensions(parameter_shapes, context.assigned).visit(function)
        _inline_single_uses(function)
        fewer_arrays(function, context.shapes, context.namer, ranks, helpers)
        unchanged = {name: shape for name, shape in context.parameter_shapes.items()
                     if context.assigned.get(name, 0) == 1}     # an argument never rebound
        vector_loops(function, {**unchanged, **context.shapes}, ranks, context.namer, helpers,
                     dtype, seeded=is_entry and mode == "gradient")
        function.decorator_list = [ast.parse(DECORATOR, mode="eval").body]
    if entry not in {f.name for f in functions}:
        raise LoweringError(f"internal error: no function {entry} in the generated code")
    header = [comment(f"Generated by s2s: {mode} mode{described}, lowered for numba."),
              comment(f"Compiled for {dtype} arguments of these ranks; valid for any sizes "
                      "with the same pattern of equal dimensions.")]
    imports: list[ast.stmt] = [ast.Import([ast.alias("numba")]),
                               ast.Import([ast.alias("numpy", "np")])]
    used = {node.id for f in functions for node in ast.walk(f) if isinstance(node, ast.Name)}
    helpers &= used                               # a rewrite may have dropped a call
    if helpers:
        imports.append(ast.ImportFrom("s2s.numba_runtime",
                                      [ast.alias(h) for h in sorted(helpers)], 0))
    lowered = ast.Module([*header, *imports, *functions], [])
    text = render(lowered)
    defined = {f.name for f in functions} | {"numba", "np"} | helpers
    reads = sorted({node.id for f in functions for node in ast.walk(f)
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
                   - _locals(functions) - defined - _BUILTINS)
    return Lowered(text, entry, tuple(reads), dtype)


_BUILTINS = {"range", "len", "min", "max", "abs", "float", "int", "bool", "True", "False",
             "None", "round", "sum", "enumerate", "zip", "print", "isinstance", "tuple", "list"}


def _locals(functions: list[ast.FunctionDef]) -> set[str]:
    names: set[str] = set()
    for function in functions:
        names |= {a.arg for a in function.args.args}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names
