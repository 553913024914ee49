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

Then fewer arrays per pass of a loop (numba allocates each array a loop makes anew; for
small arrays the allocations cost more than the arithmetic), each rewrite keeping every value
and the order of every operation, from each name's rank (:func:`infer_ranks`):

* a name bound once to another name, or a temporary bound once to one elementwise ``+ - *
  /`` of names and numbers and read only as an operand of elementwise arithmetic, replaced
  by its value where it is read (:func:`_forward_substitute`), so it is fused too;
* ``a + -expand_dims(s, 0)`` of a number ``s`` and an array ``a`` as ``a - s``, and a sum
  over every axis of a value of known rank as ``np.sum(x)`` (:class:`_ScalarsBroadcast`);
* elementwise arithmetic of values a top-level loop never changes, bound once in it,
  computed once before it (:func:`_hoist_invariants`);
* the arrays of one proven shape a top-level loop over a range saves, as rows of one array
  (``stack_like``) and a count, instead of a list (:func:`_preallocate_stacks`);
* ``y = y + a`` (``-``, ``*``) where no other name ever holds ``y``'s array and ``a`` would
  be no array of its own, as ``y = add_into(y, a)``, which adds into ``y`` where ``a``
  broadcasts to its shape and the dtype stays (:func:`_accumulate_in_place`).

Anything else numba is known not to compile (another runtime helper, ``scipy``, axis
reductions other than ``sum``/``mean``) is a :class:`LoweringError`; what numba itself
then refuses is reported by :mod:`s2s.numba_backend`, mapped back the same way.
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass

import numpy as np

from .emit import render
from .errors import UnsupportedError
from .naming import Namer, names_in
from .reverse import COMMENT_PREFIX, comment

__all__ = ["Lowered", "LoweringError", "lower", "user_line"]

DECORATOR = "numba.njit(cache=True, error_model='numpy', boundscheck=True)"
_SPELLED_HELPERS = {"zeros_like", "broadcast_like", "unbroadcast"}   # with a numba version
_COMMENT = re.compile(r"^(\s*)# (.*)$")
_GRAD_OF_LINE = re.compile(r"#\s*grad of line (\d+): (.*)$")
_SHAPE_BUILDERS = {"full", "zeros", "ones", "empty", "broadcast_to"}


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


def _is_comment(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str) and node.value.value.startswith(COMMENT_PREFIX)


def _np(attribute: str) -> ast.Attribute:
    return ast.Attribute(ast.Name("np", ast.Load()), attribute, ast.Load())


def _call(function: ast.expr, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    return ast.Call(function, list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def _int(value: int) -> ast.expr:
    return ast.Constant(value) if value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-value))


def _np_call_name(node: ast.AST) -> str | None:
    """``np.sum(...)`` -> ``"sum"``; ``np.multiply.outer(...)`` -> ``"multiply.outer"``."""
    if not isinstance(node, ast.Call):
        return None
    parts = []
    function = node.func
    while isinstance(function, ast.Attribute):
        parts.append(function.attr)
        function = function.value
    if isinstance(function, ast.Name) and function.id == "np" and parts:
        return ".".join(reversed(parts))
    return None


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
        self.assigned = _assignment_counts(function)
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


def _assignment_counts(function: ast.FunctionDef) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.For)):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    counts[name.id] = counts.get(name.id, 0) + 1
    for argument in function.args.args:
        counts[argument.arg] = counts.get(argument.arg, 0) + 1
    return counts


# --- stacks: one per saved name ------------------------------------------------------------

def _slot_of_push(value: ast.expr) -> str | None:
    if isinstance(value, ast.Name):
        return value.id
    if _np_call_name(value) == "copy" and len(value.args) == 1 \
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
                out.append(ast.Expr(_call(ast.Attribute(ast.Name(stack_for(slot), ast.Load()),
                                                        "append", ast.Load()), value)))
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
    while start < len(body) and (_is_comment(body[start]) or _is_prebinding(body[start])):
        start += 1
    created = [ast.Assign([ast.Name(names[slot], ast.Store())], ast.List([], ast.Load()))
               for slot in sorted(names)]
    function.body = body[:start] + created + body[start:]


def _is_pop(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
        and value.func.attr == "pop" and isinstance(value.func.value, ast.Name) \
        and value.func.value.id.startswith(("_stack", "_saved"))


def _is_prebinding(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant) \
        and statement.value.value is None


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
    return _call(ast.Attribute(subscript, "copy", ast.Load()))


def _type_prebound_integers(function: ast.FunctionDef) -> None:
    """``_t5 = None`` bound before a loop that saves ``_t5`` before assigning it an integer
    (an index): bound to ``0`` instead, so numba types it an integer, not an optional (the
    saved first value is never read: it is restored after the last use)."""
    integers = _integer_names(function)
    body: list[ast.stmt] = []
    for statement in function.body:
        targets = [t for t in statement.targets if isinstance(t, ast.Name)] \
            if _is_prebinding(statement) else []
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
        name = _np_call_name(node)
        if isinstance(node.func, ast.Name) and node.func.id == "zeros_like" \
                and len(node.args) == 1:
            argument = node.args[0]
            rank = context.rank(argument)
            if rank == 0:
                return _typed_float(0.0, context.dtype)
            if rank is not None:
                return _call(_np("zeros_like"), argument)
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
            node = ast.copy_location(ast.Call(_np(method), [node.func.value], node.keywords),
                                     node)
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
            return _call(ast.Name("full", ast.Load()), *node.args)
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
            return _call(_np(name), node.args[0])
        axes = _constant_axes(axis)
        if axes is None:
            raise context.refuse(node, f"an axis that is not a constant (`{ast.unparse(node)}`)")
        x = node.args[0]
        rank = context.rank(x)
        if rank is None:
            inferred = expression_rank(x, context.ranks, context.integers)
            rank = inferred if isinstance(inferred, int) else None
        if rank and all(-rank <= a < rank for a in axes) \
                and sorted({a % rank for a in axes}) == list(range(rank)):
            # every axis: a number (faster in numba than an axis sum), kept as (1, ...)
            total = self._reduction(ast.copy_location(ast.Call(node.func, [x], []), node), name)
            if keep:
                self.helpers.add("expand_dims")
                for a in range(rank):
                    total = _call(ast.Name("expand_dims", ast.Load()), total, _int(a))
            return total
        if any(a < 0 for a in axes):
            if rank is None:
                raise context.refuse(node, f"a negative axis on a value of unknown rank "
                                     f"(`{ast.unparse(node)}`)")
            axes = tuple(a % rank for a in axes)
        axes = tuple(sorted(set(axes)))
        axis_node = _int(axes[0]) if len(axes) == 1 else ast.Tuple(
            [_int(a) for a in axes], ast.Load())
        result: ast.expr = _call(_np("sum"), x, axis=axis_node)
        if name == "mean":
            count: ast.expr = _shape_item(x, axes[0])
            for a in axes[1:]:
                count = ast.BinOp(count, ast.Mult(), _shape_item(x, a))
            result = ast.BinOp(result, ast.Div(), count)
        if keep:
            rank = context.rank(x)
            for a in axes:
                if rank is not None and len(axes) < rank:
                    result = _call(_np("expand_dims"), result, _int(a))
                else:                         # the sum may be a number: a numba helper
                    self.helpers.add("expand_dims")
                    result = _call(ast.Name("expand_dims", ast.Load()), result, _int(a))
        return result

    def _outer(self, node: ast.Call) -> ast.expr:
        a, b = node.args
        rank_a, rank_b = self.context.rank(a), self.context.rank(b)
        if rank_a == 1 and rank_b == 1:
            return _call(_np("outer"), a, b)
        if rank_a is None or rank_b is None:
            self.helpers.add("multiply_outer")      # chosen by the ranks at compile time
            return _call(ast.Name("multiply_outer", ast.Load()), a, b)
        if rank_a == 0 or rank_b == 0:
            return ast.BinOp(a, ast.Mult(), b)
        expanded = a
        for axis in range(rank_a, rank_a + rank_b):
            expanded = _call(_np("expand_dims"), expanded, _int(axis))
        return ast.BinOp(expanded, ast.Mult(), b)


def _shape_item(x: ast.expr, axis: int) -> ast.expr:
    return ast.Subscript(ast.Attribute(copy.deepcopy(x), "shape", ast.Load()), _int(axis),
                         ast.Load())


def _constant_axes(node: ast.expr) -> tuple[int, ...] | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return value
    return None


def _typed_float(value: float, dtype: str) -> ast.expr:
    constant = ast.Constant(float(value))
    return _call(_np("float32"), constant) if dtype == "float32" else constant


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
            node.iter = _call(ast.Name("range", ast.Load()),
                              _minus_one(copy.deepcopy(stop)), _minus_one(copy.deepcopy(start)),
                              _int(-1))
            continue
        # the general case: count down an index k and map it onto the range
        if name is None:
            raise context.refuse(node, f"`{ast.unparse(node.iter)}`")
        index = context.namer.unique("_k")
        length = count if count is not None else _call(ast.Name("len", ast.Load()),
                                                       ast.Name(name, ast.Load()))
        target = node.target
        node.target = ast.Name(index, ast.Store())
        node.iter = _call(ast.Name("range", ast.Load()), _minus_one(copy.deepcopy(length)),
                          _int(-1), _int(-1))
        value = ast.BinOp(ast.Attribute(ast.Name(name, ast.Load()), "start", ast.Load()),
                          ast.Add(),
                          ast.BinOp(ast.Name(index, ast.Load()), ast.Mult(),
                                    ast.Attribute(ast.Name(name, ast.Load()), "step",
                                                  ast.Load())))
        node.body.insert(0, ast.Assign([target], value))


def _minus_one(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return _int(node.value - 1)
    return ast.BinOp(node, ast.Sub(), ast.Constant(1))


# --- float32: typed constants ----------------------------------------------------------------

def _integer_names(function: ast.FunctionDef) -> set[str]:
    """Names that only ever hold integers: loop indices over ranges, lengths, counters,
    shape entries, and arithmetic of those (a small fixpoint)."""
    integers: set[str] = set()

    def is_int(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        if isinstance(node, ast.Name):
            return node.id in integers
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Div):
            return is_int(node.left) and is_int(node.right)
        if isinstance(node, ast.UnaryOp):
            return is_int(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id in ("len", "int")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            return node.value.attr == "shape"
        if isinstance(node, ast.Attribute):
            return node.attr in ("size", "ndim", "start", "step", "stop")
        return False

    bindings: dict[str, list[ast.expr]] = {}
    loops: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and (_is_prebinding(node) or _is_pop(node.value)):
            continue                  # the value before the first binding; a restored one
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            iterator = node.iter
            if isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) \
                    and iterator.func.id in ("range", "reversed"):
                loops.add(node.target.id)
            elif isinstance(iterator, ast.Name) or isinstance(iterator, ast.Subscript):
                loops.add(node.target.id)       # over a range variable (checked below)
            else:
                bindings.setdefault(node.target.id, []).append(iterator)
    ranges = {name for name, values in bindings.items()
              if all(isinstance(v, ast.Call) and isinstance(v.func, ast.Name)
                     and v.func.id == "range" for v in values)}
    for node in ast.walk(function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) \
                and node.target.id in loops:
            iterator = node.iter
            base = iterator.args[0] if isinstance(iterator, ast.Call) \
                and iterator.func.id == "reversed" else iterator
            if isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in ranges:
                loops.discard(node.target.id)
    integers |= loops
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name not in integers and all(is_int(v) for v in values) \
                    and name not in ranges:
                integers.add(name)
                changed = True
    return integers


class _Float32Constants(ast.NodeTransformer):
    """Float constants as ``np.float32(c)``; integer constants too where they meet a value
    that is not an integer in arithmetic (numba types ``float32 * 2`` as float64 for scalars)."""

    def __init__(self, integers: set[str]):
        self.integers = integers

    def _is_integer(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        if isinstance(node, ast.Name):
            return node.id in self.integers
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Div):
            return self._is_integer(node.left) and self._is_integer(node.right)
        if isinstance(node, ast.UnaryOp):
            return self._is_integer(node.operand)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            return node.value.attr == "shape"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id in ("len", "int")
        if isinstance(node, ast.Attribute):
            return node.attr in ("size", "ndim", "start", "step", "stop")
        return False

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        node.value = self.visit(node.value)
        return node                           # indices stay integers

    def visit_Call(self, node: ast.Call) -> ast.expr:
        name = node.func.id if isinstance(node.func, ast.Name) else _np_call_name(node)
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
            return _call(_np("float32"), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        if self._is_integer(node):
            return node                       # integer arithmetic (indices, counts)
        node.left, node.right = self.visit(node.left), self.visit(node.right)
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Constant) and isinstance(operand.value, int) \
                    and not isinstance(operand.value, bool):
                setattr(node, side, _call(_np("float32"), ast.Constant(float(operand.value))))
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
        name = _np_call_name(node)
        if isinstance(node.func, ast.Name) and node.func.id == "full":
            name = "full"
        position = 1 if name in ("broadcast_to", "reshape") else 0
        if name in _SHAPE_BUILDERS | {"reshape"} and len(node.args) > position:
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

_PURE_HELPERS = {"full", "expand_dims", "zeros_like", "unbroadcast", "broadcast_like",
                 "multiply_outer", "range", "len", "min", "max", "abs", "float", "int"}
_PURE_METHODS = {"copy", "sum", "reshape", "transpose", "astype", "dot"}


def _is_pure(node: ast.AST) -> bool:
    """Whether evaluating ``node`` only computes a value: arithmetic, NumPy functions (not
    ``np.random``), the numba runtime helpers, a few array methods; no stores."""
    for inner in ast.walk(node):
        if isinstance(inner, (ast.NamedExpr, ast.Lambda, ast.Yield, ast.Await)):
            return False
        if isinstance(inner, ast.Call):
            name = _np_call_name(inner)
            if name is not None:
                if name.startswith("random"):
                    return False
            elif isinstance(inner.func, ast.Name):
                if inner.func.id not in _PURE_HELPERS:
                    return False
            elif not (isinstance(inner.func, ast.Attribute)
                      and inner.func.attr in _PURE_METHODS):
                return False
    return True


def _loads(node: ast.AST) -> dict[str, int]:
    counts: dict[str, int] = {}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
            counts[inner.id] = counts.get(inner.id, 0) + 1
    return counts


class _Substitute(ast.NodeTransformer):
    def __init__(self, name: str, value: ast.expr):
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return copy.deepcopy(self.value)
        return node


def _harmless(statement: ast.stmt) -> bool:
    """A statement an expression may move across (no effect on its value): a comment, a
    push (``_saved_x.append(x)``), a binding of names to a pure value or a restored one."""
    if _is_comment(statement):
        return True
    if isinstance(statement, ast.Expr):
        call = statement.value
        return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
            and call.func.attr == "append" and isinstance(call.func.value, ast.Name) \
            and call.func.value.id.startswith("_saved") and _is_pure(ast.Tuple(
                call.args, ast.Load()))
    if isinstance(statement, ast.Assign):
        return all(isinstance(t, ast.Name) for t in statement.targets) and (
            _is_pure(statement.value) or _is_pop(statement.value))
    return False


def _inline_single_uses(function: ast.FunctionDef) -> None:
    """``_t2 = a * x; _t3 = np.sin(x); _t4 = _t2 + _t3`` as ``_t4 = a * x + np.sin(x)``: a
    temporary of the generated code bound once and read once, later in the same block,
    is replaced by its expression where nothing between rebinds a name it reads or has
    an effect; so is a value read only by the statement that binds its name again
    (``x_b = x_b + a; x_b = x_b + b`` as ``x_b = x_b + a + b``).  The values and their
    order of use are the same; numba then fuses the elementwise array operations of one
    expression into one loop, without an array per temporary (the generated code names
    every intermediate value)."""
    loads = _loads(function)
    stores = _assignment_counts(function)

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
            if not _is_pure(value) or _is_pop(value):
                index += 1
                continue
            once = name.startswith("_t") and stores.get(name) == 1 and loads.get(name) == 1
            reads = set(_loads(value))
            for later in range(index + 1, len(body)):
                other = body[later]
                count = _loads(other).get(name, 0)
                if count:
                    # the one read of a temporary; or the only read of this value: the
                    # statement reading it binds the name again (x_b = x_b + a), so no
                    # later statement, nor the next pass of a loop, sees this value
                    again = count == 1 and isinstance(other, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == name for t in other.targets)
                    if simple(other) and (once or again):
                        body[later] = _Substitute(name, value).visit(other)
                        del body[index]
                        index -= 1
                    break
                written = {t.id for node in ast.walk(other) if isinstance(node, ast.Name)
                           and isinstance(node.ctx, ast.Store) for t in [node]}
                if not _harmless(other) or written & reads:
                    break
            index += 1
        return body

    function.body = block(function.body)


# --- ranks of the lowered code's values ------------------------------------------------------
# A small abstract interpretation over the function's bindings, flow-insensitive: a name has a
# rank if every binding of it yields that one rank (the shape analysis gives the primal names;
# adjoints, tangents and temporaries get theirs here).  ``_PENDING`` is "not known yet" (the
# least element), ``None`` "no single rank"; an expression it does not model has no rank.

_PENDING = "pending"
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
        if not all(_is_integer(part, integers) for part in parts):
            return None
        base = rank(node.value)
        if base in (_PENDING, None):
            return base
        return base - len(parts) if len(parts) <= base else None
    if isinstance(node, ast.Call):
        return _call_rank(node, rank)
    return None


def _is_integer(node: ast.expr, integers: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return node.id in integers
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        return _is_integer(node.left, integers) and _is_integer(node.right, integers)
    return False


def _call_rank(node: ast.Call, rank):
    name = _np_call_name(node)
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
        axes = _constant_axes(keywords["axis"]) if "axis" in keywords else None
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
    if (name in _SHAPE_BUILDERS - {"broadcast_to"} or helper == "full") and arguments:
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
    if helper in ("len", "int") or name in ("float32", "float64"):
        return 0
    return None


def _sum_ranks(a, b):
    if a == _PENDING or b == _PENDING:
        return _PENDING
    if a is None or b is None:
        return None
    return a + b


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
    integers = _integer_names(function)
    bindings: dict[str, list] = {name: [None] for name in parameters if name not in fixed}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            if _is_pop(node.value) or _is_prebinding(node):
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
    ranks: dict = dict(fixed)
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name in fixed or name in integers:
                continue
            joined = _PENDING
            for value in values:
                joined = _join_ranks(joined, None if value is None
                                     else expression_rank(value, ranks, integers))
                if joined is None:
                    break
            if joined != ranks.get(name, _PENDING):      # monotone: pending, a rank, None
                ranks[name] = joined
                changed = True
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
    stores = _assignment_counts(function)

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
        loads = _loads(function)
        index = 0
        while index < len(body):
            statement = body[index]
            name = substitutable(statement)
            if name is None:
                index += 1
                continue
            value = statement.value
            alias = isinstance(value, ast.Name)
            reads = set(_loads(value))
            remaining = loads.get(name, 0)
            uses: list[int] = []
            for later in range(index + 1, len(body)):
                other = body[later]
                count = _loads(other).get(name, 0)
                if count:
                    if not isinstance(other, (ast.Assign, ast.Expr, ast.Return)):
                        break                 # read inside a block: left as it is
                    if not alias and (_elementwise_operands(other, name) != count
                                      or not _is_pure(other.value)):
                        break                 # read where numba would not fuse it
                    uses.append(later)
                    remaining -= count
                elif not alias and not _harmless(other):
                    break                     # it may change what the value reads
                if remaining == 0 or _written(other) & (reads | {name}):
                    break
            if alias and any(value.id in _written(other) for other in body[index + 1:]):
                remaining = -1                # keep a name for the value before it changes
            if remaining != 0 or not uses or not alias and len(uses) > 4:
                index += 1
                continue
            for later in uses:
                body[later] = _Substitute(name, value).visit(body[later])
            del body[index]
            loads = _loads(function)
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
    return _call(ast.Name("len", ast.Load()), copy.deepcopy(iterator))


def _pushes_in(body: list[ast.stmt]) -> list[tuple[list[ast.stmt], int]]:
    """The pushes ``_saved_y.append(y)`` of a loop body, through its ``if`` blocks (not in
    nested loops, which are not counted): (the block, the index)."""
    found = []
    for index, statement in enumerate(body):
        if isinstance(statement, ast.If):
            found += _pushes_in(statement.body) + _pushes_in(statement.orelse)
        elif _push_stack(statement) is not None:
            found.append((body, index))
    return found


def _push_stack(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
            and isinstance(statement.value.func, ast.Attribute) \
            and statement.value.func.attr == "append" \
            and isinstance(statement.value.func.value, ast.Name) \
            and statement.value.func.value.id.startswith("_saved"):
        return statement.value.func.value.id
    return None


def _preallocate_stacks(context: _Context, helpers: set[str]) -> None:
    """A stack of the arrays a top-level ``for`` loop over a range saves, each of one
    proven shape, as one array of a row per save (``stack_like(x, len(r))``) and a count,
    instead of a list: no list of arrays to grow, and the rows stay put.  ``x`` must be
    bound before the loop (its type and shape are those of every saved value)."""
    function = context.function
    pushes: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.stmt) and _push_stack(node) is not None:
            pushes[_push_stack(node)] = pushes.get(_push_stack(node), 0) + 1
    created = {node.targets[0].id: node for node in function.body
               if isinstance(node, ast.Assign) and len(node.targets) == 1
               and isinstance(node.targets[0], ast.Name) and node.targets[0].id in pushes
               and isinstance(node.value, ast.List) and not node.value.elts}
    bound: dict[str, ast.expr] = {}
    before: set[str] = {a.arg for a in function.args.args}
    chosen: dict[str, tuple[ast.expr, ast.expr]] = {}     # stack -> (saved name, length)
    places: dict[int, list[ast.stmt]] = {}                # id(loop) -> allocations
    for statement in function.body:
        if isinstance(statement, ast.For):
            length = _range_length(statement, bound)
            if any(isinstance(node, (ast.Break, ast.Return)) for node in ast.walk(statement)):
                length = None                # it may stop early: rows for every pass could
            found = _pushes_in(statement.body) if length is not None else []   # not fit
            per_pass: dict[str, int] = {}
            for block, index in found:
                stack = _push_stack(block[index])
                per_pass[stack] = per_pass.get(stack, 0) + 1
            for stack, count in sorted(per_pass.items()):
                call = next(block[index].value for block, index in found
                            if _push_stack(block[index]) == stack)
                value = call.args[0]
                if stack not in created or pushes[stack] != count \
                        or not isinstance(value, ast.Name) or value.id not in before \
                        or not context.shapes.get(value.id):
                    continue                 # a number, a shape not proven, saved elsewhere
                rows = length if count == 1 else ast.BinOp(copy.deepcopy(length), ast.Mult(),
                                                           _int(count))
                chosen[stack] = (value, rows)
                places.setdefault(id(statement), []).append(stack)
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    if not _is_prebinding(statement):
                        before.add(target.id)
                    bound[target.id] = statement.value
    if not chosen:
        return
    helpers.add("stack_like")
    counts = {stack: context.namer.unique("_count" + stack[len("_saved"):])
              for stack in sorted(chosen)}

    def count(stack: str, store: bool = False) -> ast.Name:
        return ast.Name(counts[stack], ast.Store() if store else ast.Load())

    def rewrite(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            for field in ("body", "orelse"):
                if isinstance(statement, (ast.For, ast.While, ast.If)):
                    setattr(statement, field, rewrite(getattr(statement, field)))
            stack = _push_stack(statement)
            if stack in chosen:
                out.append(ast.Assign([ast.Subscript(ast.Name(stack, ast.Load()),
                                                     count(stack), ast.Store())],
                                      statement.value.args[0]))
                out.append(ast.AugAssign(count(stack, True), ast.Add(), _int(1)))
                continue
            if isinstance(statement, ast.Assign) and _is_pop(statement.value) \
                    and statement.value.func.value.id in chosen:
                stack = statement.value.func.value.id
                out.append(ast.AugAssign(count(stack, True), ast.Sub(), _int(1)))
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
                    out.append(ast.Assign([ast.Name(stack, ast.Store())], _call(
                        ast.Name("stack_like", ast.Load()), copy.deepcopy(value), rows)))
                    out.append(ast.Assign([count(stack, True)], _int(0)))
            out.append(statement)
        return out

    function.body = rewrite(function.body)


def _hoist_invariants(context: _Context) -> None:
    """``_t1 = -k`` in a top-level loop that never rebinds ``k``, bound once: computed once,
    before the loop (elementwise arithmetic of values bound before it; it cannot raise)."""
    function = context.function
    stores = _assignment_counts(function)
    parameters = {a.arg for a in function.args.args}

    def invariant(node: ast.expr, rebound: set[str]) -> bool:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name):
                if inner.id in rebound:
                    return False
            elif isinstance(inner, ast.Call):
                if _np_call_name(inner) not in _UFUNCS or inner.keywords:
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
            if not all(_harmless(s) or isinstance(s, (ast.Assign, ast.If, ast.For, ast.While))
                       and all(_is_pure(n) for n in ast.walk(s) if isinstance(n, ast.Call))
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
        return _np_call_name(value) in _FRESH_NUMPY
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
            or any(name in _loads(term) for _, term in terms):
        return None
    return name, terms[::-1]


def _owned_arrays(function: ast.FunctionDef, ranks: dict, integers: set[str]) -> set[str]:
    """Names no other name ever shares an array with: every binding is a new array (or an
    accumulation into the name itself), and every read only computes from the value —
    arithmetic, a NumPy function that returns a new array, an element, a copy into another
    array, the return.  Writing into such a name's array changes no other value."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(function):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    names = {node.id for node in ast.walk(function)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    owned = names - {a.arg for a in function.args.args}
    for node in ast.walk(function):
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
        return _np_call_name(parent) in _FRESH_NUMPY
    if isinstance(parent, ast.Attribute):
        return parent.attr in ("shape", "size", "ndim", "dtype")
    if isinstance(parent, ast.Subscript):
        if isinstance(parent.ctx, ast.Store):
            return True                               # written into, in place
        parts = parent.slice.elts if isinstance(parent.slice, ast.Tuple) else [parent.slice]
        return parent.value is node and ranks.get(node.id) == len(parts) \
            and all(_is_integer(part, integers) for part in parts)   # one element
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
        return _np_call_name(term) in _UFUNCS
    return True


def _accumulate_in_place(function: ast.FunctionDef, ranks: dict, helpers: set[str]) -> None:
    """``y = y + a`` (and ``-``, ``*``, and chains of them) as ``y = add_into(y, a)`` for an
    array ``y`` no other name shares (:func:`_owned_arrays`): the numba helper adds into
    ``y``'s array where ``a`` broadcasts to its shape and the dtype stays, else makes the
    new array the expression would; the values are the same, without an array per pass."""
    integers = _integer_names(function)
    owned = _owned_arrays(function, ranks, integers)
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
            value = _call(ast.Name(helper, ast.Load()), value, term)
        node.value = value


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
        if _is_comment(statement):
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
        context.ranks, context.integers = ranks, _integer_names(function)
        _Expressions(context, helpers).visit(function)
        if dtype == "float32":
            integers = _integer_names(function)
            function.body = [statement if _is_comment(statement) else
                             _Float32Constants(integers).visit(statement)
                             for statement in function.body]
            function.args.defaults = []           # the caller passes the seed, typed
        else:
            function.args.defaults = []
        if is_entry and parameter_shapes:
            _Dimensions(parameter_shapes, context.assigned).visit(function)
        _inline_single_uses(function)
        # fewer arrays per pass of a loop: each of these keeps every value and its order
        function.body = [statement if _is_comment(statement) else
                         _ScalarsBroadcast(ranks, _integer_names(function)).visit(statement)
                         for statement in function.body]
        _forward_substitute(function)
        _hoist_invariants(context)
        _preallocate_stacks(context, helpers)
        _accumulate_in_place(function, ranks, helpers)
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
