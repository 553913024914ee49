"""Stage 5 (optimise).

Input: a :class:`~s2s.reverse.ReverseCode`.
Output: the same code, computing the same values, with

* constants folded and identities removed (``x ** (2 - 1)`` -> ``x``, ``g * 1`` -> ``g``);
* dead adjoint statements removed (an assignment whose target nothing reads later).

Multiplication by zero is never folded: ``0 * x`` has the shape of ``x``.

In code specialized to argument shapes (:mod:`s2s.shapes`), also

* shape queries of names of known shape folded (``np.size(_t2)`` -> ``4``);
* in the closure-free gradient, primal statements that only computed the value removed
  (``_return = np.mean(_t2)``), where they provably cannot raise: NumPy operations on
  operands of known, compatible shapes, never a division, an index or a user's call.
"""
from __future__ import annotations

import ast
import copy
import math
import operator
import numpy as np

from .normalize import is_index_expression
from .reverse import ReverseCode, comment, reads_of, views_of, walk_all
from .shapes import broadcast_shapes

_FOLDABLE = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.Pow: operator.pow}


def _number(node: ast.expr):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


_NUMPY_DEFAULTS = {"axis": None, "keepdims": False, "dtype": None, "out": None}


class _Simplifier(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right = _number(node.left), _number(node.right)
        op = type(node.op)
        if left is not None and right is not None and op in _FOLDABLE:
            if not (op is ast.Pow and abs(right) > 64) and not (op is ast.Div and right == 0):
                return ast.copy_location(ast.Constant(_FOLDABLE[op](left, right)), node)
        if op is ast.Pow and right == 1:
            return node.left
        if op is ast.Mult and right == 1:
            return node.left
        if op is ast.Mult and left == 1:
            return node.right
        if op is ast.Div and right == 1:
            return node.left
        if op in (ast.Add, ast.Sub) and right == 0 and not isinstance(node.left, ast.Constant):
            return node.left
        if op is ast.Add and left == 0 and not isinstance(node.right, ast.Constant):
            return node.right
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        """``t[np.s_[1:]]`` -> ``t[1:]``."""
        self.generic_visit(node)
        index = node.slice
        if is_index_expression(index):
            node.slice = index.slice
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        """``np.sum(t, axis=None, keepdims=False)`` -> ``np.sum(t)`` (NumPy's defaults)."""
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "np":
            node.keywords = [k for k in node.keywords
                             if not (k.arg in _NUMPY_DEFAULTS and isinstance(k.value, ast.Constant)
                                     and k.value.value is _NUMPY_DEFAULTS[k.arg])]
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
                return node.operand.operand
            value = _number(node.operand)
            if value is not None:
                return ast.copy_location(ast.Constant(-value), node)
        return node


def fold_constants(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``g * 2 * x ** (2 - 1)`` -> ``g * 2 * x``.

    Identities (``* 1``, ``+ 0``, ``** 1``) are removed only inside larger expressions:
    at the top of an assignment, ``y = x * 1.0`` makes a new array and ``y = x`` would
    not, so a later ``y[i] = ...`` would also change ``x``.
    """
    simplifier = _Simplifier()
    folded = []
    for statement in statements:
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            for name in ("test", "iter"):
                if hasattr(statement, name):
                    setattr(statement, name, simplifier.visit(getattr(statement, name)))
            statement.body = fold_constants(statement.body)
            statement.orelse = fold_constants(statement.orelse)
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp):
            value = statement.value
            value.left = simplifier.visit(value.left)
            value.right = simplifier.visit(value.right)
            if _number(value.left) is not None and _number(value.right) is not None:
                statement.value = simplifier.visit(value)     # constants only: safe
        else:
            statement = simplifier.visit(statement)
        folded.append(statement)
    return folded


def _impure(node: ast.AST) -> bool:
    """Calls that change state: ``lst.pop()``, ``_saved.append(v)``."""
    return any(isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
               and child.func.attr in ("pop", "append") for child in ast.walk(node))


class _ShapeFolder(ast.NodeTransformer):
    """``np.size(x)``, ``np.shape(x)``, ``np.ndim(x)``, ``x.shape``... -> constants."""

    def __init__(self, shapes: dict[str, tuple], allocate: bool = True):
        self.shapes = shapes
        self.allocate = allocate        # False for arrays NumPy dispatches to (Dask, CuPy)

    def _known(self, node: ast.expr) -> tuple | None:
        return self.shapes.get(node.id) if isinstance(node, ast.Name) else None

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        function, args = node.func, node.args
        if node.keywords:
            return node
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
                and function.value.id == "np" and len(args) == 1:
            shape = self._known(args[0])
            if shape is not None and function.attr in ("size", "shape", "ndim"):
                return ast.copy_location(ast.Constant(_query(shape, function.attr)), node)
        if not isinstance(function, ast.Name):
            return node
        if function.id == "broadcast_like" and len(args) == 2 and self.allocate:
            shape = self._known(args[1])     # a new array: np.broadcast_to's view costs more
            if shape:                        # to make, and a gradient returned must be copied
                return ast.copy_location(_np_call("full", ast.Constant(tuple(shape)),
                                                  args[0]), node)
        if function.id in ("matmul_adjoint_x", "matmul_adjoint_y") and len(args) == 3:
            product = _matmul_adjoint(function.id[-1], *args, self._known(args[1]),
                                      self._known(args[2]))
            if product is not None:
                return ast.copy_location(product, node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        shape = self._known(node.value)
        if shape is not None and isinstance(node.ctx, ast.Load) \
                and node.attr in ("size", "shape", "ndim") and shape != ():
            return ast.copy_location(ast.Constant(_query(shape, node.attr)), node)
        return node


def _np_call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), name, ast.Load()), list(args), [])


def _matmul_adjoint(which: str, g: ast.expr, x: ast.expr, y: ast.expr,
                    x_shape: tuple | None, y_shape: tuple | None) -> ast.expr | None:
    """``matmul_adjoint_x(g, x, y)`` as the one product it computes for these shapes (the
    same NumPy call, so the same bits): ``g @ y.T``, ``x.T @ g``, an outer product."""
    if x_shape is None or y_shape is None:
        return None
    dims = (len(x_shape), len(y_shape))

    def transposed(node: ast.expr) -> ast.expr:
        return ast.Attribute(node, "T", ast.Load())

    def product(a: ast.expr, b: ast.expr) -> ast.expr:
        return ast.BinOp(a, ast.MatMult(), b)

    def outer(a: ast.expr, b: ast.expr) -> ast.expr:
        outer_function = ast.Attribute(ast.Attribute(ast.Name("np", ast.Load()), "multiply",
                                                     ast.Load()), "outer", ast.Load())
        return ast.Call(outer_function, [a, b], [])

    if dims == (2, 2):
        return product(g, transposed(y)) if which == "x" else product(transposed(x), g)
    if dims == (2, 1):
        return outer(g, y) if which == "x" else product(transposed(x), g)
    if dims == (1, 2):
        return product(y, g) if which == "x" else outer(x, g)
    return None


def _query(shape: tuple, attribute: str):
    return {"size": math.prod(shape), "shape": tuple(shape), "ndim": len(shape)}[attribute]


def fold_known_shapes(statements: list[ast.stmt], shapes: dict[str, tuple],
                      allocate: bool = True) -> list[ast.stmt]:
    """Shape queries of names whose shape the specialization proved, as constants.
    ``allocate``: a scalar cotangent spread over a known shape may become a new NumPy array
    (``np.full``); not for arrays of another library (Dask, CuPy), where the runtime's
    ``broadcast_like`` makes it of the operand's type."""
    if not shapes:
        return statements
    folder = _ShapeFolder(shapes, allocate)
    return [folder.visit(statement) for statement in statements]


_ELEMENTWISE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def use_scalar_cotangents(statements: list[ast.stmt], shapes: dict[str, tuple]) -> list[ast.stmt]:
    """``n = np.full(S, v)`` then ``m = n / x`` with ``x`` of shape ``S``: use ``v``
    itself (``m = v / x``), the same numbers without a broadcast operand.  ``k = n * 3``
    is a broadcast of ``v * 3`` in turn.

    Only where ``n`` is bound once, ``v`` reads names never bound after ``n`` (so it means
    the same at every use: the pullback's seed, temporaries bound once before), and the use
    is arithmetic over names of known shapes, one of them of shape ``S``, the others
    broadcasting into it: the result keeps shape ``S``.
    """
    bindings = _binding_counts(statements)
    broadcasts: dict[str, tuple[ast.expr, tuple]] = {}
    bound_before: set[str] = set()          # bound once, by a top-level statement passed

    def unchanging(expression: ast.expr) -> bool:
        return all(bindings.get(name, 0) == 0 or bindings[name] == 1 and name in bound_before
                   for name in reads_of(expression))

    class Substitute(ast.NodeTransformer):
        def visit_Assign(self, node: ast.Assign) -> ast.Assign:
            for name in _names(node.value):
                if name in broadcasts and _names(node.value).count(name) == 1:
                    scalar, shape = broadcasts[name]
                    if _keeps_shape(node.value, name, shape, shapes):
                        node.value = _replace_name(node.value, name, scalar)
            return node

    def record(statement: ast.stmt) -> None:
        """A broadcast bound once at top level, by np.full or arithmetic on one."""
        if not isinstance(statement, ast.Assign) or not isinstance(statement.targets[0], ast.Name) \
                or bindings.get(statement.targets[0].id) != 1:
            return
        value = statement.value
        if _is_np_call(value, "full") and len(value.args) == 2 \
                and isinstance(value.args[0], ast.Constant) and unchanging(value.args[1]):
            broadcasts[statement.targets[0].id] = (value.args[1], value.args[0].value)
            return
        names = _names(value)
        if len(names) == 1 and names[0] in broadcasts and _is_arithmetic(value):
            scalar, shape = broadcasts[names[0]]
            broadcasts[statement.targets[0].id] = (_replace_name(value, names[0], scalar),
                                                   shape)

    out = []
    for statement in statements:
        if broadcasts:
            statement = Substitute().visit(statement)
        record(statement)
        if isinstance(statement, ast.Assign):
            bound_before.update(name for target in statement.targets for name in _names(target))
        out.append(statement)
    return out


def _names(expression: ast.expr) -> list[str]:
    return [node.id for node in ast.walk(expression) if isinstance(node, ast.Name)]


def _is_arithmetic(expression: ast.expr) -> bool:
    """Numbers and names combined by + - * / ** only (elementwise, shape-preserving)."""
    for node in ast.walk(expression):
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            if not isinstance(node.op, _ELEMENTWISE_OPERATORS + (ast.USub, ast.UAdd)):
                return False
        elif isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                return False
        elif not isinstance(node, (ast.Name, ast.operator, ast.unaryop, ast.expr_context)):
            return False
    return True


def _keeps_shape(expression: ast.expr, name: str, shape: tuple,
                 shapes: dict[str, tuple]) -> bool:
    """Is ``expression`` arithmetic over names of known shapes broadcasting into ``shape``,
    one of them (other than ``name``) of exactly ``shape``?"""
    if not _is_arithmetic(expression):
        return False
    exact = False
    for other in _names(expression):
        if other == name:
            continue
        known = shapes.get(other)
        if known is None or broadcast_shapes(known, shape) != shape:
            return False
        exact = exact or known == shape
    return exact


def _replace_name(expression: ast.expr, name: str, replacement: ast.expr) -> ast.expr:
    """A copy of ``expression`` with ``replacement`` for the name."""
    class Replace(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return copy.deepcopy(replacement) if node.id == name else node
    return Replace().visit(copy.deepcopy(expression))


def _is_np_call(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" \
        and node.func.attr == name and not node.keywords


def _binding_counts(statements: list[ast.stmt]) -> dict[str, int]:
    """How many statements bind each name (loop variables and restores included)."""
    from .reverse import Recompute, Restore

    counts: dict[str, int] = {}
    for statement in walk_all(statements):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.For, ast.AugAssign)):
            targets = [statement.target]
        elif isinstance(statement, Recompute):
            targets = statement.statement.targets
        elif isinstance(statement, Restore):
            counts[statement.name] = counts.get(statement.name, 0) + 1
        for name in {node.id for target in targets for node in ast.walk(target)
                     if isinstance(node, ast.Name)}:
            counts[name] = counts.get(name, 0) + 1
    return counts


def eliminate_dead_primal(code: ReverseCode, analysis) -> ReverseCode:
    """A closure-free gradient specialized to shapes: drop the primal statements nothing
    reads (the value itself, mostly), when they provably cannot raise."""
    numbers = frozenset(name for name, shape in analysis.shapes.items() if shape == ())
    viewed = set(views_of(code.forward, numbers))   # arrays another name may be a view of
    for statement in walk_all(code.forward):       # a mark survives the copies of loop bodies
        statement.s2s_keep = not _cannot_raise(statement, analysis) or (
            isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Subscript)
            and isinstance(statement.targets[0].value, ast.Name)
            and statement.targets[0].value.id in viewed)
    boundary = comment("reverse sweep")
    returned = set().union(*(reads_of(gradient) for gradient in code.gradients))
    epilogue = len(code.epilogue)
    kept, _ = _eliminate(code.forward + [boundary] + code.reverse + code.epilogue, returned)
    split = next(index for index, statement in enumerate(kept) if statement is boundary)
    forward = _drop_orphan_comments(kept[:split])
    reverse = _drop_orphan_comments(kept[split + 1:len(kept) - epilogue])
    return ReverseCode(forward, reverse, code.result, code.seed, code.gradients,
                       code.helpers, captured=code.captured, prebound=code.prebound,
                       saved=code.saved, stack=code.stack, epilogue=code.epilogue)


def _cannot_raise(statement: ast.stmt, analysis) -> bool:
    """An assignment of a NumPy operation, copy or constant whose result's shape is known
    (so its operands' shapes are compatible), and which is no scalar division or power
    (Python floats raise ZeroDivisionError) and no index (out of bounds raises)."""
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Subscript):
        # y[i] = v: one element of an array of known shape, in bounds, given a scalar
        target, value = statement.targets[0], statement.value
        shape = analysis.shapes.get(target.value.id) if isinstance(target.value, ast.Name) \
            else None
        parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
        return bool(shape) and len(parts) == len(shape) and _in_bounds(target, analysis) \
            and (isinstance(value, ast.Constant) and isinstance(value.value, float)
                 or isinstance(value, ast.Name) and analysis.shapes.get(value.id) == ())
    if not isinstance(statement, ast.Assign) or not isinstance(statement.targets[0], ast.Name) \
            or statement.targets[0].id not in analysis.shapes:
        return False
    value = statement.value
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Div, ast.FloorDiv, ast.Mod,
                                                              ast.Pow)) \
            and analysis.shapes[statement.targets[0].id] == ():
        return False                  # 1.0 / 0.0 raises on floats; an array warns instead
    operation = analysis.operations.get(id(statement))
    if operation is None:
        return False
    operands = [arg.id for arg in operation.args if isinstance(arg, ast.Name)]
    if any(name not in analysis.shapes or 0 in analysis.shapes[name] for name in operands):
        return False                 # unknown operands, or np.max of an empty array: raises
    if operation.kind in ("copy", "constant"):
        return True
    if operation.kind == "nondifferentiable":
        return isinstance(value, ast.Compare)
    if operation.kind == "rule" and operation.rule.name == "getitem":
        return _in_bounds(value, analysis)
    return operation.kind == "rule" and _is_numpy(operation.rule.primal)


def _in_bounds(value: ast.expr, analysis) -> bool:
    """``x[i]`` or ``x[i, 2]`` with every index an integer provably inside ``x``'s shape."""
    if not isinstance(value, ast.Subscript) or not isinstance(value.value, ast.Name):
        return False
    shape = analysis.shapes.get(value.value.id)
    parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    if not shape or len(parts) > len(shape):
        return False
    for part, size in zip(parts, shape):
        if isinstance(part, ast.Constant) and type(part.value) is int:
            low = high = part.value
        elif isinstance(part, ast.Name) and part.id in analysis.index_bounds:
            low, high = analysis.index_bounds[part.id]
        else:
            return False
        if low < -size or high >= size:
            return False
    return True


def _is_numpy(function) -> bool:
    """NumPy's own functions (``math.log`` raises on a bad domain; ``np.log`` warns)."""
    return isinstance(function, np.ufunc) \
        or (getattr(function, "__module__", None) or "").startswith("numpy")


def eliminate_dead_code(statements: list[ast.stmt], live: set[str]) -> list[ast.stmt]:
    """Drop assignments nothing reads afterwards; ``live`` is what is read after the block.

    Works through branches and loops (a loop's body is solved to a fixpoint, since what
    one iteration reads the previous one must keep); markers and stack operations stay.
    """
    kept, _ = _eliminate(statements, set(live))
    return _drop_orphan_comments(kept)


def _eliminate(statements: list[ast.stmt], live: set[str],
               trim: bool = True) -> tuple[list[ast.stmt], set[str]]:
    """The statements kept and the names live before them; ``trim=False`` only computes
    (nested blocks stay as they are), for the fixpoint of a loop's live names."""
    kept: list[ast.stmt] = []
    live = set(live)
    for statement in reversed(statements):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            target = statement.targets[0].id
            if target not in live and not _impure(statement.value) \
                    and not getattr(statement, "s2s_keep", False):
                continue
            live.discard(target)
            live |= reads_of(statement.value)
        elif isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Subscript) \
                and isinstance(statement.targets[0].value, ast.Name) \
                and statement.targets[0].value.id not in live \
                and getattr(statement, "s2s_keep", None) is False:
            continue            # an element written into an array nothing reads afterwards
        elif isinstance(statement, ast.If):
            body, live_body = _eliminate(statement.body, live, trim)
            orelse, live_else = _eliminate(statement.orelse, live, trim)
            if not _has_code(body) and not _has_code(orelse):
                continue
            if trim:
                statement.body = body if _has_code(body) else [ast.Pass()]
                statement.orelse = orelse if _has_code(orelse) else []
            live = live_body | live_else | reads_of(statement.test)
        elif isinstance(statement, (ast.For, ast.While)):
            target = statement.target.id if isinstance(statement, ast.For) else None
            header = set(live)
            if target is None:       # a while test is read before every iteration
                header |= reads_of(statement.test)
            while True:              # what one iteration reads, the previous one must keep
                body, live_body = _eliminate(statement.body, header, trim=False)
                widened = header | live_body
                if widened == header:
                    break
                header = widened
            if not _has_code(body):
                continue
            if trim:
                statement.body, _ = _eliminate(statement.body, header)
            live = (header - {target}) | reads_of(statement.iter if target else statement.test)
        else:
            live |= reads_of(statement)
        kept.append(statement)
    kept.reverse()
    return kept, live


def _has_code(statements: list[ast.stmt]) -> bool:
    from .reverse import is_comment
    return any(not is_comment(s) and not isinstance(s, ast.Pass) for s in statements)


def _drop_orphan_comments(statements: list[ast.stmt]) -> list[ast.stmt]:
    """A comment whose statements were all removed says nothing: remove it too."""
    from .reverse import is_comment

    kept = []
    for index, statement in enumerate(statements):
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            statement.body = _drop_orphan_comments(statement.body) or [ast.Pass()]
            statement.orelse = _drop_orphan_comments(statement.orelse)
        following = statements[index + 1] if index + 1 < len(statements) else None
        if is_comment(statement) and (following is None or is_comment(following)):
            continue
        kept.append(statement)
    return kept


def optimize_forward(code, shapes: dict[str, tuple] | None = None, dispatched: bool = False):
    """Fold constants (and, specialized, shape queries) and drop tangents nothing reads in
    forward-mode code.  ``dispatched``: for arrays of another library (no NumPy allocation
    of a known shape)."""
    body = fold_constants(fold_known_shapes(code.body, shapes or {}, not dispatched))
    live = {code.result} | reads_of(code.tangent)
    code.body = propagate_copies(eliminate_dead_code(body, live),
                                 live | {code.result})
    return code


def propagate_copies(statements: list[ast.stmt], protected: set[str]) -> list[ast.stmt]:
    """``t = a + b`` directly followed by ``s = t``, with ``t`` read nowhere else: ``s = a + b``
    (the normal form's temporaries for ``s = s + b``, and their tangents)."""
    loads: dict[str, int] = {}
    stores: dict[str, int] = {}
    for node in ast.walk(ast.Module(statements, [])):
        if isinstance(node, ast.Name):
            counts = loads if isinstance(node.ctx, ast.Load) else stores
            counts[node.id] = counts.get(node.id, 0) + 1

    def merge(block: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in block:
            for field in ("body", "orelse"):
                if isinstance(getattr(statement, field, None), list):
                    setattr(statement, field, merge(getattr(statement, field)))
            if _is_name_copy(statement):
                temporary, name = statement.value.id, statement.targets[0].id
                if loads.get(temporary) == 1 and stores.get(temporary) == 1 \
                        and temporary not in protected:
                    definition = _definition_before(out, temporary, name)
                    if definition is not None:       # nothing between reads or binds name
                        definition.targets = statement.targets
                        continue
            out.append(statement)
        return out

    return merge(statements)


def _definition_before(block: list[ast.stmt], temporary: str, name: str) -> ast.Assign | None:
    """The statement of ``block`` binding ``temporary``, if those after it never mention
    ``name``."""
    for statement in reversed(block):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id == temporary:
            return statement
        if any(isinstance(node, ast.Name) and node.id in (name, temporary)
               for node in ast.walk(statement)):
            return None
    return None


def _is_name_copy(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
        and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Name)


def optimize(code: ReverseCode, shapes: dict[str, tuple] | None = None,
             dispatched: bool = False) -> ReverseCode:
    """``shapes``: the names of known shape, in code specialized to argument shapes.
    ``dispatched``: the code is for arrays of another library (Dask, CuPy) that NumPy's
    functions dispatch to, so it allocates no NumPy array of a known shape."""
    reverse = fold_constants(fold_known_shapes(code.reverse, shapes or {}, not dispatched))
    if shapes:
        reverse = use_scalar_cotangents(reverse, shapes)
    returned = set().union(*(reads_of(gradient) for gradient in code.gradients))
    reverse = eliminate_dead_code(reverse, returned)
    return ReverseCode(code.forward, reverse, code.result, code.seed, code.gradients,
                       code.helpers, captured=code.captured, prebound=code.prebound,
                       saved=code.saved, stack=code.stack, epilogue=code.epilogue)
