"""Stage 2 (normalise).

Input: a :class:`~s2s.parse.ParsedFunction`.
Output invariant (the *core grammar*, which every later stage relies on):

* the body holds only ``Assign`` with one ``Name`` target, ``Expr`` of a call kept for
  its side effects (``print``), ``Pass``, and one ``Return`` of an atom as the last
  statement;
* every assigned value is *simple*: an atom, or one operation whose operands are atoms
  (``BinOp``, ``UnaryOp``, ``Call``, ``Attribute``, ``Subscript``, ``Compare``,
  ``Tuple``/``List`` of atoms);
* an *atom* is a ``Name``, a ``Constant``, a tuple or list of constants, or a dotted global path
  such as ``np.pi``;
* outside compound statements no name is assigned twice (later assignments get fresh
  names ``y_1``, ``y_2``), so straight-line code never overwrites a value;
* every node keeps the line and column of the user's statement it came from.

Passes, in order (:data:`PASSES`); each is a function ``pass(state) -> None``:

1. ``check_supported``      reject what s2s cannot differentiate, with file:line:col
2. ``lower_augmented_assignments``   ``y += e``        -> ``y = y + e``
3. ``lower_multiple_assignments``    ``a, b = e1, e2`` -> ``_t0 = e1; _t1 = e2; a = _t0; b = _t1``
4. ``lower_to_three_address``        ``z = y * y * 3`` -> ``_t0 = y * y; z = _t0 * 3``
5. ``rename_reassignments``          ``y = f(y)``      -> ``y_1 = f(y)`` (top level only)
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .naming import Namer, names_in
from .parse import MISSING, ParsedFunction

BINARY_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
                    ast.FloorDiv, ast.Mod)
UNARY_OPERATORS = (ast.USub, ast.UAdd, ast.Not)


@dataclass
class NormalState:
    """What the passes share: the function being rewritten and its name supply."""

    parsed: ParsedFunction
    body: list[ast.stmt]
    namer: Namer
    local_names: set[str] = field(default_factory=set)

    @property
    def source(self):
        return self.parsed.source


@dataclass(frozen=True)
class NormalForm:
    """The function in the core grammar (see the module docstring)."""

    parsed: ParsedFunction
    body: tuple[ast.stmt, ...]
    namer: Namer

    def dump(self) -> str:
        """The normal form as Python text, for inspection and golden tests."""
        return "\n".join(ast.unparse(statement) for statement in self.body)


def normalize(parsed: ParsedFunction) -> NormalForm:
    body = [ast.fix_missing_locations(statement) for statement in parsed.node.body]
    namer = Namer(names_in(parsed.node) | set(parsed.params))
    state = NormalState(parsed, body, namer, _assigned_names(parsed))
    for normalization_pass in PASSES:
        normalization_pass(state)
    return NormalForm(parsed, tuple(state.body), namer)


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


def _located(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(node, like))


# --- pass 1: the fence ------------------------------------------------------------------

_SUPPORTED_EXPRESSIONS = (
    ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Subscript,
    ast.Tuple, ast.List, ast.Compare, ast.Slice, ast.keyword, ast.Load, ast.Store,
    ast.operator, ast.unaryop, ast.cmpop, ast.JoinedStr, ast.FormattedValue,
)

_STATEMENT_HINTS = {
    ast.If: "branches are not differentiated yet; rewrite with np.where, or use the tape",
    ast.For: "loops are not differentiated yet; vectorise, or use the tape",
    ast.While: "loops are not differentiated yet; vectorise, or use the tape",
    ast.Try: "try/except cannot be differentiated ahead of time; move it out of the "
             "differentiated function",
    ast.With: "with-blocks are not differentiated; move them out of the function",
    ast.Global: "the function may not write module globals; return the value instead",
    ast.Nonlocal: "the function may not write outer variables; return the value instead",
    ast.FunctionDef: "nested function definitions are not differentiated yet; define the "
                     "helper at module level",
    ast.ClassDef: "define classes outside the differentiated function",
    ast.Delete: "remove the del statement",
    ast.Raise: "raise outside the differentiated function",
    ast.Assert: "check inputs before calling the differentiated function",
    ast.Import: "import at module level",
    ast.ImportFrom: "import at module level",
}

_EXPRESSION_HINTS = {
    ast.Lambda: "define the function with def at module level",
    ast.IfExp: "conditional expressions are not differentiated yet; use np.where",
    ast.BoolOp: "'and'/'or' are only meaningful in conditions, which are not supported yet",
    ast.ListComp: "build the result with NumPy operations instead of a comprehension",
    ast.GeneratorExp: "build the result with NumPy operations instead of a generator",
    ast.Yield: "generators cannot be differentiated; return the value instead",
    ast.Await: "async code cannot be differentiated",
    ast.NamedExpr: "assign with '=' on a line of its own",
}


def check_supported(state: NormalState) -> None:
    """Reject every construct outside what s2s differentiates, naming file, line and col."""
    source = state.source
    body = state.body
    for index, statement in enumerate(body):
        last = index == len(body) - 1
        if isinstance(statement, ast.Return):
            if not last:
                raise source.unsupported(statement, "a 'return' before the end of the function",
                                         hint="early returns are not supported yet; compute "
                                              "the result and return it once, at the end")
            if statement.value is None:
                raise source.unsupported(statement, "the function returns nothing",
                                         hint="return the value to differentiate")
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                _check_target(state, target)
            if isinstance(statement, ast.AnnAssign) and statement.value is None:
                continue
        elif isinstance(statement, ast.Expr):
            if not (isinstance(statement.value, ast.Call)
                    and isinstance(statement.value.func, ast.Name)
                    and statement.value.func.id == "print"):
                raise source.unsupported(
                    statement, f"an expression statement '{ast.unparse(statement)}' whose "
                               "value is discarded",
                    hint="assign the value to a name, or remove the statement")
        elif isinstance(statement, ast.Pass):
            continue
        else:
            hint = _STATEMENT_HINTS.get(type(statement), "rewrite it with assignments")
            raise source.unsupported(
                statement, f"'{type(statement).__name__}' statements are not supported", hint=hint)
        for node in ast.walk(statement):
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
            if isinstance(node, ast.Starred) or isinstance(node, ast.keyword) and node.arg is None:
                raise source.unsupported(node, "argument unpacking (* or **) is not supported",
                                         hint="pass the arguments explicitly")
    if not body or not isinstance(body[-1], ast.Return):
        node = body[-1] if body else state.parsed.node
        raise source.unsupported(node, "the function does not end with a 'return'",
                                 hint="return the value to differentiate at the end")


_OP_SYMBOLS = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
               ast.RShift: ">>"}


def _check_target(state: NormalState, target: ast.expr) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(state, element)
        return
    if isinstance(target, ast.Subscript):
        raise state.source.unsupported(
            target, "assignment to an element or slice is not supported yet",
            hint="build the array with np.where, np.concatenate or np.stack")
    if isinstance(target, ast.Attribute):
        raise state.source.unsupported(
            target, "assignment to an attribute is not supported",
            hint="assign to a local name and return it")
    raise state.source.unsupported(target, f"cannot assign to '{ast.unparse(target)}'")


# --- pass 2 -----------------------------------------------------------------------------


def lower_augmented_assignments(state: NormalState) -> None:
    """``y += e`` -> ``y = y + e``; ``y: float = e`` -> ``y = e``."""
    lowered = []
    for statement in state.body:
        if isinstance(statement, ast.AugAssign):
            load = ast.Name(statement.target.id, ast.Load())
            value = ast.BinOp(_located(load, statement.target), statement.op, statement.value)
            statement = _located(ast.Assign([ast.Name(statement.target.id, ast.Store())],
                                            _located(value, statement)), statement)
        elif isinstance(statement, ast.AnnAssign):
            if statement.value is None:
                continue
            statement = _located(ast.Assign([statement.target], statement.value), statement)
        lowered.append(statement)
    state.body = lowered


# --- pass 3 -----------------------------------------------------------------------------


def lower_multiple_assignments(state: NormalState) -> None:
    """``a = b = e`` and ``a, b = e1, e2`` -> one assignment per name, in Python's order."""
    lowered = []
    for statement in state.body:
        if not isinstance(statement, ast.Assign):
            lowered.append(statement)
            continue
        if len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            lowered.append(statement)
            continue
        value = statement.value
        if len(statement.targets) > 1:
            temporary = state.namer.fresh("_t")
            lowered.append(_located(ast.Assign([ast.Name(temporary, ast.Store())], value),
                                    statement))
            value = _located(ast.Name(temporary, ast.Load()), statement)
        for target in statement.targets:
            lowered.extend(_unpack(state, target, value, statement))
    state.body = lowered


def _unpack(state: NormalState, target: ast.expr, value: ast.expr,
            statement: ast.stmt) -> list[ast.stmt]:
    if isinstance(target, ast.Name):
        return [_located(ast.Assign([target], value), statement)]
    elements = target.elts
    if isinstance(value, (ast.Tuple, ast.List)):
        if len(value.elts) != len(elements):
            raise state.source.unsupported(
                statement, f"cannot unpack {len(value.elts)} values into {len(elements)} names")
        staged, stores = [], []
        for element, item in zip(elements, value.elts):
            temporary = state.namer.fresh("_t")
            staged.append(_located(ast.Assign([ast.Name(temporary, ast.Store())], item), statement))
            stores.extend(_unpack(state, element, _located(ast.Name(temporary, ast.Load()),
                                                           statement), statement))
        return staged + stores
    raise state.source.unsupported(
        statement, "unpacking a value that is not a tuple written out in the statement",
        hint="index the parts explicitly (a = t[0]; b = t[1]) or return a tuple literal")


# --- pass 4 -----------------------------------------------------------------------------


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

    def atom(self, node: ast.expr) -> ast.expr:
        node = self.simple(node)
        if self.is_atom(node):
            return node
        temporary = self.state.namer.fresh("_t")
        self.emitted.append(_located(ast.Assign([ast.Name(temporary, ast.Store())], node),
                                     self.statement))
        return _located(ast.Name(temporary, ast.Load()), node)

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
        if isinstance(node, ast.Compare):
            left = self.atom(node.left)
            return _located(ast.Compare(left, node.ops,
                                        [self.atom(item) for item in node.comparators]), node)
        if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            return node
        raise self.state.source.unsupported(
            node, f"'{type(node).__name__}' expressions are not supported")

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
    """
    lowered = []
    for statement in state.body:
        flattener = _Flattener(state, statement)
        if isinstance(statement, ast.Assign):
            value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            lowered.append(_located(ast.Assign(statement.targets, value), statement))
        elif isinstance(statement, ast.Return):
            value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            if not isinstance(value, ast.Name) or value.id not in state.local_names:
                name = state.namer.unique("_return")
                state.local_names.add(name)
                lowered.append(_located(ast.Assign([ast.Name(name, ast.Store())], value),
                                        statement))
                value = _located(ast.Name(name, ast.Load()), statement)
            lowered.append(_located(ast.Return(value), statement))
        elif isinstance(statement, ast.Expr):
            call = statement.value
            arguments = [flattener.atom(argument) for argument in call.args]
            lowered.extend(flattener.emitted)
            lowered.append(_located(ast.Expr(ast.Call(call.func, arguments, call.keywords)),
                                    statement))
        else:
            lowered.append(statement)
        state.local_names.update(
            target.id for node in flattener.emitted for target in node.targets)
    state.body = lowered


# --- pass 5 -----------------------------------------------------------------------------


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
    """
    mapping: dict[str, str] = {}
    assigned = set(state.parsed.params)
    renamed = []
    for statement in state.body:
        if isinstance(statement, ast.Assign):
            value = _Renamer(mapping).visit(statement.value)
            name = statement.targets[0].id
            if name in assigned:
                fresh = state.namer.unique(name)
                state.local_names.add(fresh)
                mapping[name] = fresh
                name = fresh
            else:
                mapping.pop(name, None)
            assigned.add(name)
            statement = _located(ast.Assign([ast.Name(name, ast.Store())], value), statement)
        else:
            statement = _Renamer(mapping).visit(statement)
        renamed.append(statement)
    state.body = renamed


PASSES = (
    check_supported,
    lower_augmented_assignments,
    lower_multiple_assignments,
    lower_to_three_address,
    rename_reassignments,
)
