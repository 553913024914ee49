"""Stage 2 (normalise).

Input: a :class:`~s2s.parse.ParsedFunction`.
Output invariant (the *core grammar*, which every later stage relies on):

* statements are ``Assign`` to one ``Name`` or to ``name[index]``, ``Expr`` of a call kept
  for its side effects (``print``, ``lst.append(atom)``), ``If`` on a name,
  ``For name in name`` (the iterable is a ``range`` bound to a temporary),
  ``While name`` (the condition is recomputed at the end of the body), ``Break`` only as
  the last statement of a loop body (inside ``if flag: break``), ``Pass``, and exactly one
  ``Return`` of a name, as the last top-level statement;
* every assigned value is *simple*: an atom, or one operation whose operands are atoms
  (``BinOp``, ``UnaryOp``, ``Call``, ``Attribute``, ``Subscript``, ``Compare``,
  ``Tuple``/``List`` of atoms);
* an *atom* is a ``Name``, a ``Constant``, a tuple or list of constants, or a dotted global
  path such as ``np.pi``;
* outside compound statements no name is assigned twice (later assignments get fresh
  names ``y_1``, ``y_2``), so straight-line code never overwrites a value; inside compound
  statements no operation reads its own target (``s = s * x`` becomes ``_t0 = s * x`` /
  ``s = _t0``);
* every node keeps the line and column of the user's statement it came from.

Passes, in order (:data:`PASSES`); each is a function ``pass(state) -> None``:

1. ``check_supported``               reject what s2s cannot differentiate, with file:line:col
   ``lift_local_functions``          nested ``def``/lambda -> separate function, captures as
                                     parameters: ``scale(x)`` -> ``scale(x, w)``
2. ``lower_augmented_assignments``   ``y += e``         -> ``y = y + e``
3. ``lower_multiple_assignments``    ``a, b = e1, e2``  -> ``_t0 = e1; _t1 = e2; a = _t0; b = _t1``
4. ``lower_for_loops``               ``for v in X``     -> ``for _i0 in range(len(X)): v = X[_i0]``
5. ``lower_jumps``                   ``return``/``break``/``continue`` -> flags and guards
6. ``lower_to_three_address``        ``z = y * y * 3``  -> ``_t0 = y * y; z = _t0 * 3``
7. ``split_self_updates``            ``s = s * x`` in a loop -> ``_t0 = s * x; s = _t0``
8. ``rename_reassignments``          ``y = f(y)``       -> ``y_1 = f(y)`` (top level only)
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .naming import Namer, names_in
from .parse import ParsedFunction

BINARY_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
                    ast.FloorDiv, ast.Mod)
UNARY_OPERATORS = (ast.USub, ast.UAdd, ast.Not)
COMPOUND = (ast.If, ast.For, ast.While)


@dataclass
class NormalState:
    """What the passes share: the function being rewritten and its name supply."""

    parsed: ParsedFunction
    body: list[ast.stmt]
    namer: Namer
    local_names: set[str] = field(default_factory=set)
    lifted: dict[str, ast.FunctionDef] = field(default_factory=dict)

    @property
    def source(self):
        return self.parsed.source

    def fresh(self, stem: str) -> str:
        name = self.namer.fresh(stem)
        self.local_names.add(name)
        return name

    def unique(self, stem: str) -> str:
        name = self.namer.unique(stem)
        self.local_names.add(name)
        return name


@dataclass(frozen=True)
class NormalForm:
    """The function in the core grammar (see the module docstring)."""

    parsed: ParsedFunction
    body: tuple[ast.stmt, ...]
    namer: Namer
    local_names: frozenset[str] = frozenset()
    lifted: dict = field(default_factory=dict)   # name -> ast.FunctionDef (lambda-lifted)

    @property
    def result(self) -> str:
        return self.body[-1].value.id

    def dump(self) -> str:
        """The normal form as Python text, for inspection and golden tests."""
        return "\n".join(ast.unparse(statement) for statement in self.body)


def normalize(parsed: ParsedFunction) -> NormalForm:
    body = [ast.fix_missing_locations(statement) for statement in parsed.node.body]
    namer = Namer(names_in(parsed.node) | set(parsed.params))
    state = NormalState(parsed, body, namer, _assigned_names(parsed), dict(parsed.siblings))
    for normalization_pass in PASSES:
        normalization_pass(state)
    return NormalForm(parsed, tuple(state.body), namer, frozenset(state.local_names),
                      dict(state.lifted))


def _assigned_names(parsed: ParsedFunction) -> set[str]:
    names = set(parsed.params)
    for node in ast.walk(parsed.node):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def is_global_path(node: ast.expr, local_names: set[str]) -> bool:
    """``np.linalg.norm`` or ``math.pi``: a dotted name rooted outside the function."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in local_names


def _keep_marks(new: ast.stmt, old: ast.stmt) -> ast.stmt:
    """Carry what a pass noted on a statement (``s2s_augmented``) to its rewritten form."""
    if getattr(old, "s2s_augmented", False):
        new.s2s_augmented = True                  # type: ignore[attr-defined]
    return new


def _located(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(node, like))


def name(identifier: str, like: ast.AST, store: bool = False) -> ast.Name:
    return _located(ast.Name(identifier, ast.Store() if store else ast.Load()), like)


def assign(target: str, value: ast.expr, like: ast.AST) -> ast.Assign:
    return _located(ast.Assign([name(target, like, store=True)], value), like)


def _map_blocks(body: list[ast.stmt],
                rewrite: Callable[[ast.stmt], list[ast.stmt]]) -> list[ast.stmt]:
    """Apply ``rewrite`` to every statement, recursing into compound statements first."""
    result = []
    for statement in body:
        if isinstance(statement, COMPOUND):
            statement.body = _map_blocks(statement.body, rewrite)
            statement.orelse = _map_blocks(statement.orelse, rewrite)
        result.extend(rewrite(statement))
    return result


def walk_statements(body) -> Iterator[ast.stmt]:
    """Every statement of a block, nested ones included, in program order."""
    for statement in body:
        yield statement
        if isinstance(statement, COMPOUND):
            yield from walk_statements(statement.body)
            yield from walk_statements(statement.orelse)


def assigned_in(body) -> set[str]:
    """Names a block may assign (targets, loop variables, subscript-written arrays)."""
    names = set()
    for statement in walk_statements(body):
        if isinstance(statement, ast.Assign):
            target = statement.targets[0]
            names.add(target.id if isinstance(target, ast.Name) else target.value.id)
        elif isinstance(statement, ast.For):
            names.add(statement.target.id)
        elif isinstance(statement, ast.Expr) and _is_append(statement.value):
            names.add(statement.value.func.value.id)
    return names


def rebound_in(body) -> set[str]:
    """Names a block may bind to a new object (not those only changed in place)."""
    names = set()
    for statement in walk_statements(body):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            if not getattr(statement, "s2s_augmented", False):   # y += e: in place on arrays
                names.add(statement.targets[0].id)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
        elif isinstance(statement, ast.Assign):
            names |= {node.id for target in statement.targets for node in ast.walk(target)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        elif isinstance(statement, ast.For):
            names |= {node.id for node in ast.walk(statement.target)
                      if isinstance(node, ast.Name)}
    return names


def _is_append(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "append" and isinstance(node.func.value, ast.Name)


# --- pass 1: the fence ------------------------------------------------------------------

_SUPPORTED_EXPRESSIONS = (
    ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Subscript,
    ast.Tuple, ast.List, ast.Compare, ast.Slice, ast.keyword, ast.Load, ast.Store,
    ast.operator, ast.unaryop, ast.cmpop, ast.JoinedStr, ast.FormattedValue, ast.BoolOp,
    ast.boolop, ast.IfExp, ast.Dict,
)

_STATEMENT_HINTS = {
    ast.Try: "try/except cannot be differentiated ahead of time; move it out of the "
             "differentiated function",
    ast.With: "with-blocks are not differentiated; move them out of the function",
    ast.Global: "the function may not write module globals; return the value instead",
    ast.Nonlocal: "the function may not write outer variables; return the value instead",
    ast.FunctionDef: "nested function definitions are not differentiated yet; define the "
                     "helper at module level",
    ast.AsyncFunctionDef: "async code cannot be differentiated",
    ast.ClassDef: "define classes outside the differentiated function",
    ast.Delete: "remove the del statement",
    ast.Raise: "raise outside the differentiated function",
    ast.Assert: "check inputs before calling the differentiated function",
    ast.Import: "import at module level",
    ast.ImportFrom: "import at module level",
}

_EXPRESSION_HINTS = {
    ast.Lambda: "define the function with def at module level",
    ast.ListComp: "build the result with NumPy operations or a for loop with .append",
    ast.GeneratorExp: "build the result with NumPy operations or a for loop",
    ast.SetComp: "build the result with a for loop",
    ast.DictComp: "build the result with a for loop",
    ast.Set: "sets are not differentiated",
    ast.Yield: "generators cannot be differentiated; return the value instead",
    ast.YieldFrom: "generators cannot be differentiated; return the value instead",
    ast.Await: "async code cannot be differentiated",
    ast.NamedExpr: "assign with '=' on a line of its own",
    ast.Starred: "pass the arguments explicitly",
}

_OP_SYMBOLS = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
               ast.RShift: ">>"}


def check_supported(state: NormalState) -> None:
    """Reject every construct outside what s2s differentiates, naming file, line and col."""
    body = []
    for statement in state.body:     # local functions are checked when they are derived
        if isinstance(statement, ast.FunctionDef) and not statement.decorator_list:
            continue
        if _is_lambda_assignment(statement):
            continue
        body.append(statement)
    _check_block(state, body, in_loop=False)
    if not any(isinstance(s, ast.Return) for s in walk_statements(state.body)):
        node = state.body[-1] if state.body else state.parsed.node
        raise state.source.unsupported(node, "the function never returns a value",
                                       hint="return the value to differentiate")


def _check_block(state: NormalState, body: list[ast.stmt], in_loop: bool) -> None:
    source = state.source
    for statement in body:
        if isinstance(statement, ast.Return):
            if statement.value is None:
                raise source.unsupported(statement, "a 'return' without a value",
                                         hint="return the value to differentiate")
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                _check_target(state, target)
        elif isinstance(statement, ast.Expr):
            call = statement.value
            if not (isinstance(call, ast.Call) and (
                    isinstance(call.func, ast.Name) and call.func.id == "print"
                    or _is_append(call) and len(call.args) == 1 and not call.keywords)):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                    raise source.unsupported(
                        statement, f"the in-place method call '{ast.unparse(statement)}'",
                        hint="s2s follows lists changed by .append(v) and v = xs.pop() and "
                             "arrays changed by item assignment; build a new value instead "
                             "(y = np.sort(x), np.concatenate(...), a new list with .append)")
                raise source.unsupported(
                    statement, f"an expression statement '{ast.unparse(statement)}' whose "
                               "value is discarded",
                    hint="assign the value to a name, or remove the statement")
        elif isinstance(statement, (ast.Pass,)):
            continue
        elif isinstance(statement, (ast.Break, ast.Continue)):
            if not in_loop:
                raise source.unsupported(statement, "'break' or 'continue' outside a loop")
            continue
        elif isinstance(statement, ast.If):
            _check_expression(state, statement.test)
            _check_block(state, statement.body, in_loop)
            _check_block(state, statement.orelse, in_loop)
            continue
        elif isinstance(statement, ast.While):
            _check_expression(state, statement.test)
            _check_block(state, statement.body, True)
            _check_block(state, statement.orelse, in_loop)
            continue
        elif isinstance(statement, ast.For):
            _check_for(state, statement)
            _check_block(state, statement.body, True)
            _check_block(state, statement.orelse, in_loop)
            continue
        else:
            hint = _STATEMENT_HINTS.get(type(statement), "rewrite it with assignments")
            raise source.unsupported(
                statement, f"'{type(statement).__name__}' statements are not supported", hint=hint)
        _check_expression(state, statement)


def _is_lambda_assignment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
        and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Lambda)


def _check_expression(state: NormalState, tree: ast.AST) -> None:
    source = state.source
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            continue
        if not isinstance(node, _SUPPORTED_EXPRESSIONS):
            hint = _EXPRESSION_HINTS.get(type(node), "rewrite it with NumPy operations")
            raise source.unsupported(
                node, f"'{type(node).__name__}' expressions are not supported", hint=hint)
        if isinstance(node, ast.BinOp) and not isinstance(node.op, BINARY_OPERATORS):
            raise source.unsupported(
                node, f"the operator '{_OP_SYMBOLS.get(type(node.op), '?')}' is not supported",
                hint="use the NumPy function instead")
        if isinstance(node, ast.keyword) and node.arg is None:
            raise source.unsupported(node, "argument unpacking (**) is not supported",
                                     hint="pass the arguments explicitly")


def _check_for(state: NormalState, loop: ast.For) -> None:
    _check_expression(state, loop.iter)
    targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
    for target in targets:
        if not isinstance(target, ast.Name):
            raise state.source.unsupported(target, "a loop variable must be a plain name")


def _check_target(state: NormalState, target: ast.expr) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(state, element)
        return
    if isinstance(target, ast.Subscript):
        if not isinstance(target.value, ast.Name):
            raise state.source.unsupported(
                target, f"cannot differentiate an assignment to '{ast.unparse(target)}'",
                hint="write to an element of a named array: a[i] = ...")
        _check_expression(state, target.slice)
        return
    if isinstance(target, ast.Attribute):
        raise state.source.unsupported(
            target, "assignment to an attribute is not supported",
            hint="assign to a local name and return it")
    raise state.source.unsupported(target, f"cannot assign to '{ast.unparse(target)}'")


# --- pass 1b ----------------------------------------------------------------------------


def lift_local_functions(state: NormalState) -> None:
    """Nested ``def``s and lambdas become separate functions; what they capture, parameters.

    Before: ``def scale(y): return y * w`` / ``z = scale(x)``
    After:  (lifted) ``def scale(y, w): return y * w`` / ``z = scale(x, w)``

    The captured ``w`` is then an ordinary argument, so its gradient flows like any other.
    """
    lifted: dict[str, ast.FunctionDef] = {}
    body = []
    for statement in state.body:
        if isinstance(statement, ast.FunctionDef):
            lifted[statement.name] = statement
        elif _is_lambda_assignment(statement):
            function = statement.value
            definition = ast.FunctionDef(statement.targets[0].id, function.args,
                                         [_located(ast.Return(function.body), function.body)],
                                         [], None)
            lifted[definition.name] = _located(definition, statement)
        else:
            body.append(statement)
    if not lifted:
        return
    lifted = {**state.lifted, **lifted}
    outer = set(state.parsed.params) | {node.id for statement in body for node in ast.walk(statement)
                                        if isinstance(node, ast.Name)
                                        and isinstance(node.ctx, ast.Store)}
    captured = {name: _free_names(definition) & outer - set(lifted)
                for name, definition in lifted.items()}
    changed = True
    while changed:                       # a helper calling a helper captures what it captures
        changed = False
        for name, definition in lifted.items():
            for callee in _called_names(definition) & set(lifted):
                if not captured[callee] <= captured[name]:
                    captured[name] |= captured[callee]
                    changed = True
    order = {name: sorted(names) for name, names in captured.items()}
    rewrite = _CaptureArguments(order)
    state.body = [rewrite.visit(statement) for statement in body]
    for name, definition in lifted.items():
        definition = rewrite.visit(definition)
        definition.args.args = definition.args.args + [ast.arg(c) for c in order[name]]
        lifted[name] = definition
    for statement in state.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in lifted and not rewrite.is_call(node):
                raise state.source.unsupported(
                    node, f"the local function '{node.id}' is used as a value",
                    hint="call it directly; s2s differentiates calls, not function values")
    state.lifted = lifted


def _free_names(definition: ast.FunctionDef) -> set[str]:
    parameters = {a.arg for a in definition.args.posonlyargs + definition.args.args
                  + definition.args.kwonlyargs}
    stores = {node.id for node in ast.walk(definition)
              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    loads = {node.id for node in ast.walk(definition)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return loads - parameters - stores


def _called_names(definition: ast.FunctionDef) -> set[str]:
    return {node.func.id for node in ast.walk(definition)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


class _CaptureArguments(ast.NodeTransformer):
    """``scale(x)`` -> ``scale(x, w)`` for every lifted function that captured ``w``."""

    def __init__(self, captured: dict[str, list[str]]):
        self.captured = captured
        self.calls: set[int] = set()

    def is_call(self, node: ast.Name) -> bool:
        return id(node) in self.calls

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.captured:
            self.calls.add(id(node.func))
            extra = [_located(ast.Name(name, ast.Load()), node) for name in
                     self.captured[node.func.id]]
            node.args = node.args + extra
        return node


# --- pass 2 -----------------------------------------------------------------------------


def lower_augmented_assignments(state: NormalState) -> None:
    """``y += e`` -> ``y = y + e``; ``y: float = e`` -> ``y = e``."""
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if isinstance(statement, ast.AugAssign):
            target = statement.target
            load = copy.deepcopy(target)
            for node in ast.walk(load):
                if hasattr(node, "ctx"):
                    node.ctx = ast.Load()
            value = _located(ast.BinOp(load, statement.op, statement.value), statement)
            lowered = _located(ast.Assign([target], value), statement)
            # on an array, y += e changes y in place: names sharing y see the change
            lowered.s2s_augmented = True          # type: ignore[attr-defined]
            return [lowered]
        if isinstance(statement, ast.AnnAssign):
            if statement.value is None:
                return []
            return [_located(ast.Assign([statement.target], statement.value), statement)]
        return [statement]

    state.body = _map_blocks(state.body, rewrite)


# --- pass 3 -----------------------------------------------------------------------------


def lower_multiple_assignments(state: NormalState) -> None:
    """``a = b = e`` and ``a, b = e1, e2`` -> one assignment per name, in Python's order."""
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if not isinstance(statement, ast.Assign):
            return [statement]
        if len(statement.targets) == 1 and not isinstance(statement.targets[0], (ast.Tuple,
                                                                                 ast.List)):
            return [statement]
        lowered = []
        value = statement.value
        if len(statement.targets) > 1:
            temporary = state.fresh("_t")
            lowered.append(assign(temporary, value, statement))
            value = name(temporary, statement)
        for target in statement.targets:
            lowered.extend(_unpack(state, target, value, statement))
        return lowered

    state.body = _map_blocks(state.body, rewrite)


def _unpack(state: NormalState, target: ast.expr, value: ast.expr,
            statement: ast.stmt) -> list[ast.stmt]:
    if not isinstance(target, (ast.Tuple, ast.List)):
        return [_located(ast.Assign([target], value), statement)]
    elements = target.elts
    if isinstance(value, (ast.Tuple, ast.List)):
        if len(value.elts) != len(elements):
            raise state.source.unsupported(
                statement, f"cannot unpack {len(value.elts)} values into {len(elements)} names")
        staged, stores = [], []
        for element, item in zip(elements, value.elts):
            temporary = state.fresh("_t")
            staged.append(assign(temporary, item, statement))
            stores.extend(_unpack(state, element, name(temporary, statement), statement))
        return staged + stores
    # a value that is not written out: unpack by position (arrays and tuples alike)
    temporary = state.fresh("_t")
    lowered = [assign(temporary, value, statement)]
    for index, element in enumerate(elements):
        item = _located(ast.Subscript(name(temporary, statement), ast.Constant(index),
                                      ast.Load()), statement)
        lowered.extend(_unpack(state, element, item, statement))
    return lowered


# --- pass 4 -----------------------------------------------------------------------------


def _call_to(node: ast.expr, function: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == function and not node.keywords


def lower_for_loops(state: NormalState) -> None:
    """Every loop runs over a ``range``; elements are read by index.

    Before: ``for i, (a, b) in enumerate(zip(A, B)): ...``
    After:  ``for _i0 in range(min(len(A), len(B))): i = _i0; a = A[_i0]; b = B[_i0]; ...``
    """
    def rewrite(statement: ast.stmt) -> list[ast.stmt]:
        if not isinstance(statement, ast.For):
            return [statement]
        if _call_to(statement.iter, "range") and isinstance(statement.target, ast.Name):
            return [statement]
        before: list[ast.stmt] = []
        index = state.fresh("_i")
        # an array changed in place is iterated as it changes: read it, not a copy's name
        iterable = _bind_sequences(state, statement.iter, statement, before,
                                   rebound_in(statement.body))
        reads = _element_reads(state, statement.target, iterable, index, statement, before)
        length = _length(state, iterable, statement, before)
        loop = _located(ast.For(name(index, statement, store=True),
                                _located(ast.Call(name("range", statement), [length], []),
                                         statement),
                                reads + statement.body, statement.orelse), statement)
        return before + [loop]

    state.body = _map_blocks(state.body, rewrite)


def _bind_sequences(state, iterable, statement, before, rebound=frozenset()) -> ast.expr:
    """``enumerate(f(x))`` -> ``enumerate(_t0)`` with ``_t0 = f(x)`` before the loop.

    A name the loop body re-binds is bound to a temporary too: Python iterates over the
    object the name held when the loop began.
    """
    if _call_to(iterable, "enumerate") or _call_to(iterable, "zip"):
        arguments = list(iterable.args)
        arguments[0] = _bind_sequences(state, arguments[0], statement, before, rebound)
        if iterable.func.id == "zip":
            arguments = [_bind_sequences(state, a, statement, before, rebound)
                         for a in arguments]
        return _located(ast.Call(iterable.func, arguments, []), iterable)
    if isinstance(iterable, ast.Name) and iterable.id not in rebound \
            or _call_to(iterable, "range"):
        return iterable
    if isinstance(iterable, ast.Subscript) and isinstance(iterable.value, ast.Name) \
            and iterable.value.id not in rebound and _is_view_index(iterable.slice):
        return iterable      # x[::-1]: a view, read afresh each iteration like Python does
    if _call_to(iterable, "reversed") and len(iterable.args) == 1:   # reversed(s) -> s[::-1]
        iterable = _located(ast.Subscript(iterable.args[0], ast.Slice(None, None,
                                                                      ast.Constant(-1)),
                                          ast.Load()), iterable)
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) \
            and iterable.func.attr in ("items", "keys", "values") and not iterable.args:
        # a dict's view cannot be indexed: loop over a list of its entries
        iterable = _located(ast.Call(name("list", statement), [iterable], []), iterable)
    temporary = state.fresh("_t")
    before.append(assign(temporary, iterable, statement))
    return name(temporary, statement)


def _is_view_index(index: ast.expr) -> bool:
    """Slices, constants and ``None`` only: NumPy returns a view (lists and arrays copy)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(part, ast.Slice) and all(
                   bound is None or isinstance(bound, ast.Constant) or isinstance(bound,
                   ast.UnaryOp) and isinstance(bound.operand, ast.Constant)
                   for bound in (part.lower, part.upper, part.step))
               or isinstance(part, ast.Constant) for part in parts)


def _length(state, iterable, statement, before) -> ast.expr:
    if _call_to(iterable, "enumerate"):
        return _length(state, iterable.args[0], statement, before)
    if _call_to(iterable, "zip"):
        lengths = [_length(state, argument, statement, before) for argument in iterable.args]
        return _located(ast.Call(name("min", statement), lengths, []), statement) \
            if len(lengths) > 1 else lengths[0]
    if _call_to(iterable, "range"):
        return _located(ast.Call(name("len", statement), [iterable], []), statement)
    return _located(ast.Call(name("len", statement), [iterable], []), statement)


def _element_reads(state, target, iterable, index, statement, before) -> list[ast.stmt]:
    """Statements binding ``target`` to element ``index`` of ``iterable``."""
    position = name(index, statement)
    if _call_to(iterable, "enumerate"):
        counter, element = _pair(state, target, statement)
        start = iterable.args[1] if len(iterable.args) > 1 else None
        count = position if start is None else _located(ast.BinOp(position, ast.Add(), start),
                                                        statement)
        return [_located(ast.Assign([counter], count), statement)] + \
            _element_reads(state, element, iterable.args[0], index, statement, before)
    if _call_to(iterable, "zip"):
        elements = target.elts if isinstance(target, ast.Tuple) else None
        if elements is None or len(elements) != len(iterable.args):
            raise state.source.unsupported(target, "unpack zip(...) into one name per sequence")
        reads = []
        for element, sequence in zip(elements, iterable.args):
            reads.extend(_element_reads(state, element, sequence, index, statement, before))
        return reads
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) \
            and iterable.func.id in ("range", "sorted", "map", "filter", "iter"):
        if iterable.func.id != "range":
            raise state.source.unsupported(
                iterable, f"loops over {iterable.func.id}(...) are not supported",
                hint="loop over range(...) and index the sequence")
    item = _located(ast.Subscript(copy.deepcopy(iterable), position, ast.Load()), statement)
    return _unpack(state, target, item, statement)


def _pair(state, target, statement):
    if not isinstance(target, ast.Tuple) or len(target.elts) != 2:
        raise state.source.unsupported(target, "unpack enumerate(...) into two names: i, x")
    return target.elts


# --- pass 5 -----------------------------------------------------------------------------


@dataclass
class _Jumps:
    """Flag names for one function: ``_returned``, and per loop ``_break0``/``_continue0``."""

    state: NormalState
    returned: str | None = None
    result: str | None = None

    def returned_flag(self) -> str:
        if self.returned is None:
            self.returned = self.state.unique("_returned")
        return self.returned

    def result_name(self) -> str:
        if self.result is None:
            self.result = self.state.unique("_return")
        return self.result


def _flag_test(flags: list[str], like: ast.AST) -> ast.expr:
    """``not (f1 or f2)`` as an expression."""
    operand = name(flags[0], like) if len(flags) == 1 else \
        _located(ast.BoolOp(ast.Or(), [name(flag, like) for flag in flags]), like)
    return _located(ast.UnaryOp(ast.Not(), operand), like)


def _set_flag(flag: str, like: ast.AST, value: bool = True) -> ast.Assign:
    return assign(flag, _located(ast.Constant(value), like), like)


def lower_jumps(state: NormalState) -> None:
    """``return``, ``break`` and ``continue`` become flags; what follows them is guarded.

    Before: ``for i in range(n):`` / ``if x[i] < 0: break`` / ``s = s + x[i]``
    After:  ``_break0 = False`` / ``for i in range(n):`` / ``if x[i] < 0: _break0 = True``
            / ``if not _break0: s = s + x[i]`` / ``if _break0: break``

    A single ``return`` at the very end stays; any other ``return v`` becomes
    ``_return = v; _returned = True``, and the function ends with ``return _return``.
    """
    jumps = _Jumps(state)
    body = state.body
    last = body[-1] if body else None
    if isinstance(last, ast.Return) and not any(
            isinstance(s, ast.Return) for s in walk_statements(body[:-1])):
        state.body = _lower_block(state, jumps, body[:-1], loop=None) + [last]
        return
    lowered = _lower_block(state, jumps, body, loop=None)
    result = jumps.result_name()
    prologue = [_set_flag(jumps.returned_flag(), body[0], False),
                assign(result, _located(ast.Constant(None), body[0]), body[0])]
    end = body[-1]
    state.body = prologue + lowered + [_located(ast.Return(name(result, end)), end)]


@dataclass
class _Loop:
    break_flag: str | None = None
    continue_flag: str | None = None


def _lower_block(state, jumps: _Jumps, body: list[ast.stmt], loop: _Loop | None) -> list[ast.stmt]:
    """Lower one block; statements after a possible jump are guarded by the jump's flags."""
    lowered: list[ast.stmt] = []
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Return):
            lowered.append(assign(jumps.result_name(), statement.value, statement))
            lowered.append(_set_flag(jumps.returned_flag(), statement))
            return lowered
        if isinstance(statement, ast.Break):
            loop.break_flag = loop.break_flag or state.fresh("_break")
            lowered.append(_set_flag(loop.break_flag, statement))
            return lowered
        if isinstance(statement, ast.Continue):
            loop.continue_flag = loop.continue_flag or state.fresh("_continue")
            lowered.append(_set_flag(loop.continue_flag, statement))
            return lowered
        if isinstance(statement, ast.If):
            statement.body = _lower_block(state, jumps, statement.body, loop)
            statement.orelse = _lower_block(state, jumps, statement.orelse, loop)
            lowered.append(statement)
        elif isinstance(statement, (ast.For, ast.While)):
            produced = _lower_loop(state, jumps, statement, loop)
            lowered.extend(produced)
        else:
            lowered.append(statement)
            continue
        flags = _flags_set(lowered[-1] if isinstance(statement, ast.If) else
                           ast.If(ast.Constant(True), produced, []), jumps, loop)
        rest = body[index + 1:]
        if flags and rest:
            guarded = _lower_block(state, jumps, rest, loop)
            if guarded:
                lowered.append(_located(ast.If(_flag_test(flags, rest[0]), guarded, []), rest[0]))
            return lowered
    return lowered


def _flags_set(statement: ast.stmt, jumps: _Jumps, loop: _Loop | None) -> list[str]:
    """The flags of this scope that ``statement`` may set (in program order of creation)."""
    candidates = [jumps.returned]
    if loop is not None:
        candidates += [loop.break_flag, loop.continue_flag]
    candidates = [flag for flag in candidates if flag is not None]
    assigned = {s.targets[0].id for s in walk_statements([statement])
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)}
    return [flag for flag in candidates if flag in assigned]


def _lower_loop(state, jumps: _Jumps, statement: ast.For | ast.While,
                outer: _Loop | None = None) -> list[ast.stmt]:
    inner = _Loop()
    body = _lower_block(state, jumps, statement.body, inner)
    before, after = [], []
    exits = []
    if inner.continue_flag:
        body.insert(0, _set_flag(inner.continue_flag, statement, False))
    if inner.break_flag:
        before.append(_set_flag(inner.break_flag, statement, False))
        exits.append(inner.break_flag)
    returned = jumps.returned if jumps.returned in assigned_in(body) else None
    if returned:
        exits.append(returned)
    if exits:
        operand = name(exits[0], statement) if len(exits) == 1 else \
            _located(ast.BoolOp(ast.Or(), [name(flag, statement) for flag in exits]), statement)
        body.append(_located(ast.If(operand, [_located(ast.Break(), statement)], []), statement))
    # the else clause runs after the loop: break/continue there belong to the outer loop
    orelse = _lower_block(state, jumps, statement.orelse, outer) if statement.orelse else []
    statement.body = body
    statement.orelse = []
    if orelse and exits:     # for/while-else: runs unless the loop was left early
        after = [_located(ast.If(_flag_test(exits, statement), orelse, []), statement)]
    else:
        after = orelse
    return before + [statement] + after


# --- pass 6 -----------------------------------------------------------------------------


class _Flattener:
    """Turns one statement's nested expression into simple assignments to temporaries."""

    def __init__(self, state: NormalState, statement: ast.stmt):
        self.state = state
        self.statement = statement
        self.emitted: list[ast.stmt] = []

    def is_atom(self, node: ast.expr) -> bool:
        if isinstance(node, (ast.Name, ast.Constant)):
            return True
        if isinstance(node, ast.Attribute):
            return is_global_path(node, self.state.local_names)
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(isinstance(element, ast.Constant) for element in node.elts)
        return False

    def temporary(self, value: ast.expr) -> ast.Name:
        temporary = self.state.fresh("_t")
        self.emitted.append(assign(temporary, value, self.statement))
        return name(temporary, value)

    def atom(self, node: ast.expr) -> ast.expr:
        node = self.simple(node)
        if self.is_atom(node):
            return node
        return self.temporary(node)

    def simple(self, node: ast.expr) -> ast.expr:
        if self.is_atom(node):
            return node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) \
                and isinstance(node.operand.value, (int, float)) \
                and not isinstance(node.operand.value, bool):
            return _located(ast.Constant(-node.operand.value), node)
        if isinstance(node, ast.BinOp):
            left = self.atom(node.left)
            return _located(ast.BinOp(left, node.op, self.atom(node.right)), node)
        if isinstance(node, ast.UnaryOp):
            return _located(ast.UnaryOp(node.op, self.atom(node.operand)), node)
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) \
                    and not is_global_path(function, self.state.local_names):
                function = _located(ast.Attribute(self.atom(function.value), function.attr,
                                                  ast.Load()), function)
            arguments = [self.atom(argument) for argument in node.args]
            keywords = [ast.keyword(keyword.arg, self.atom(keyword.value))
                        for keyword in node.keywords]
            return _located(ast.Call(function, arguments, keywords), node)
        if isinstance(node, ast.Attribute):
            return _located(ast.Attribute(self.atom(node.value), node.attr, ast.Load()), node)
        if isinstance(node, ast.Subscript):
            value = self.atom(node.value)
            return _located(ast.Subscript(value, self.index(node.slice), ast.Load()), node)
        if isinstance(node, (ast.Tuple, ast.List)):
            return _located(type(node)([self.atom(element) for element in node.elts],
                                       ast.Load()), node)
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise self.state.source.unsupported(
                    node, "'**' inside a dict literal is not supported",
                    hint="write the entries out, or update the dict key by key")
            return _located(ast.Dict([self.atom(key) for key in node.keys],
                                     [self.atom(value) for value in node.values]), node)
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:        # a < b < c  ->  a < b and b < c, evaluated once each
                operands = [self.atom(node.left)] + [self.atom(c) for c in node.comparators]
                parts = [_located(ast.Compare(operands[i], [op], [operands[i + 1]]), node)
                         for i, op in enumerate(node.ops)]
                return self.simple(_located(ast.BoolOp(ast.And(), parts), node))
            left = self.atom(node.left)
            return _located(ast.Compare(left, node.ops,
                                        [self.atom(item) for item in node.comparators]), node)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
        if isinstance(node, ast.IfExp):
            return self.conditional(node)
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            return node
        raise self.state.source.unsupported(
            node, f"'{type(node).__name__}' expressions are not supported")

    def _branch(self, node: ast.expr, result: str) -> list[ast.stmt]:
        inner = _Flattener(self.state, self.statement)
        value = inner.simple(node)
        return inner.emitted + [assign(result, value, node)]

    def boolean(self, node: ast.BoolOp) -> ast.Name:
        """``a and b`` -> ``_t0 = a`` / ``if _t0: _t1 = b`` / ``else: _t1 = _t0``.

        Python's short circuit is kept, and the branch test ``_t0`` is never re-assigned
        inside its own branches (the reverse sweep branches on it again).
        """
        value = self.atom(node.values[0])
        for operand in node.values[1:]:
            test = value if isinstance(value, ast.Name) else self.temporary(value)
            result = self.state.fresh("_t")
            evaluate = self._branch(operand, result)
            keep = [assign(result, copy.deepcopy(test), node)]
            if isinstance(node.op, ast.And):
                branch = ast.If(test, evaluate, keep)
            else:
                branch = ast.If(test, keep, evaluate)
            self.emitted.append(_located(branch, node))
            value = name(result, node)
        return value

    def conditional(self, node: ast.IfExp) -> ast.Name:
        """``a if c else b`` -> ``if c: _t = a`` / ``else: _t = b``."""
        test = self.atom(node.test)
        result = self.state.fresh("_t")
        self.emitted.append(_located(ast.If(test, self._branch(node.body, result),
                                            self._branch(node.orelse, result)), node))
        return name(result, node)

    def index(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Slice):
            parts = [None if part is None else self.atom(part)
                     for part in (node.lower, node.upper, node.step)]
            return _located(ast.Slice(*parts), node)
        if isinstance(node, ast.Tuple):
            return _located(ast.Tuple([self.index(element) for element in node.elts],
                                      ast.Load()), node)
        return self.atom(node)


def lower_to_three_address(state: NormalState) -> None:
    """One operation per statement: nested operands move to temporaries ``_t0, _t1, ...``.

    Before: ``z = y * y * 3``          After: ``_t0 = y * y`` / ``z = _t0 * 3``
    Before: ``return z.mean()``        After: ``_return = z.mean()`` / ``return _return``
    Before: ``while norm(b) < 1000:``  After: ``_t1 = norm(b)`` / ``_t2 = _t1 < 1000`` /
            ``while _t2:`` ... (the two assignments repeated at the end of the body)
    """
    state.body = _three_address_block(state, state.body)


def _three_address_block(state: NormalState, body: list[ast.stmt]) -> list[ast.stmt]:
    lowered: list[ast.stmt] = []
    for statement in body:
        flattener = _Flattener(state, statement)
        if isinstance(statement, ast.Assign):
            target = statement.targets[0]
            if isinstance(target, ast.Subscript):
                value = flattener.atom(statement.value)
                array = target.value
                index = flattener.index(target.slice)
                target = _located(ast.Subscript(array, index, ast.Store()), target)
            else:
                value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            lowered.append(_keep_marks(_located(ast.Assign([target], value), statement),
                                       statement))
        elif isinstance(statement, ast.Return):
            value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            if not isinstance(value, ast.Name) or value.id not in state.local_names:
                result = state.unique("_return")
                lowered.append(assign(result, value, statement))
                value = name(result, statement)
            lowered.append(_located(ast.Return(value), statement))
        elif isinstance(statement, ast.Expr):
            call = statement.value
            function = call.func
            if isinstance(function, ast.Attribute):
                function = _located(ast.Attribute(flattener.atom(function.value),
                                                  function.attr, ast.Load()), function)
            arguments = [flattener.atom(argument) for argument in call.args]
            lowered.extend(flattener.emitted)
            lowered.append(_located(ast.Expr(_located(ast.Call(function, arguments,
                                                               call.keywords), call)),
                                    statement))
        elif isinstance(statement, ast.If):
            test = flattener.atom(statement.test)
            if not isinstance(test, ast.Name) or \
                    test.id in assigned_in(statement.body + statement.orelse):
                test = flattener.temporary(test)     # the branches must not re-bind the test
            lowered.extend(flattener.emitted)
            statement.test = test
            statement.body = _three_address_block(state, statement.body) or [ast.Pass()]
            statement.orelse = _three_address_block(state, statement.orelse)
            lowered.append(statement)
        elif isinstance(statement, ast.While):
            test = flattener.atom(statement.test)
            if not isinstance(test, ast.Name):
                test = flattener.temporary(test)
            condition = flattener.emitted
            lowered.extend(condition)
            body = _three_address_block(state, statement.body)
            statement.test = test
            exit_check = []
            if body and isinstance(body[-1], ast.If) and body[-1].body \
                    and isinstance(body[-1].body[0], ast.Break):
                exit_check = [body.pop()]      # recompute the condition in every iteration
            statement.body = body + copy.deepcopy(condition) + exit_check
            lowered.append(statement)
        elif isinstance(statement, ast.For):
            iterable = flattener.temporary(flattener.simple(statement.iter))
            lowered.extend(flattener.emitted)
            statement.iter = iterable
            statement.body = _three_address_block(state, statement.body) or [ast.Pass()]
            lowered.append(statement)
        else:
            lowered.append(statement)
    return lowered


# --- pass 7 -----------------------------------------------------------------------------


def split_self_updates(state: NormalState) -> None:
    """Inside loops and branches, no operation reads its own target.

    Before: ``s = s * x``        After: ``_t0 = s * x`` / ``s = _t0``

    The reverse sweep then finds the old ``s`` (an operand) and the new one (the result)
    under different names.
    """
    def split(body: list[ast.stmt], nested: bool) -> list[ast.stmt]:
        result = []
        for statement in body:
            if isinstance(statement, COMPOUND):
                statement.body = split(statement.body, True)
                statement.orelse = split(statement.orelse, True)
            elif nested and isinstance(statement, ast.Assign) \
                    and isinstance(statement.targets[0], ast.Name) \
                    and not isinstance(statement.value, ast.Name):
                target = statement.targets[0].id
                reads = {n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)}
                if target in reads:
                    temporary = state.fresh("_t")
                    result.append(assign(temporary, statement.value, statement))
                    statement = assign(target, name(temporary, statement), statement)
            result.append(statement)
        return result

    state.body = split(state.body, False)


# --- pass 8 -----------------------------------------------------------------------------


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.mapping:
            return _located(ast.Name(self.mapping[node.id], node.ctx), node)
        return node


def rename_reassignments(state: NormalState) -> None:
    """Give every top-level re-assignment a fresh name, so no value is overwritten.

    Before: ``y = x * 2`` / ``y = np.sin(y)`` / ``return y``
    After:  ``y = x * 2`` / ``y_1 = np.sin(y)`` / ``return y_1``

    Names assigned inside loops and branches keep one name there (the reverse sweep saves
    what those overwrite); a later top-level assignment to such a name is renamed too.
    """
    mapping: dict[str, str] = {}
    assigned = set(state.parsed.params)
    renamed = []
    for statement in state.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            value = _Renamer(mapping).visit(statement.value)
            target = statement.targets[0].id
            if target in assigned:
                fresh = state.unique(target)
                mapping[target] = fresh
                target = fresh
            else:
                mapping.pop(target, None)
            assigned.add(target)
            statement = _keep_marks(_located(ast.Assign([name(target, statement, store=True)],
                                                    value), statement), statement)
        else:
            statement = _Renamer(mapping).visit(statement)
            assigned |= assigned_in([statement])
        renamed.append(statement)
    state.body = renamed


PASSES = (
    check_supported,
    lift_local_functions,
    lower_augmented_assignments,
    lower_multiple_assignments,
    lower_for_loops,
    lower_jumps,
    lower_to_three_address,
    split_self_updates,
    rename_reassignments,
)
