"""Pass 1, the fence: reject what s2s cannot differentiate, with file:line:col."""
from __future__ import annotations

import ast

from .core import BINARY_OPERATORS, NormalState, is_append, is_global_path, is_lambda_assignment
from .with_blocks import check_with

_SUPPORTED_EXPRESSIONS = (
    ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Subscript,
    ast.Tuple, ast.List, ast.Compare, ast.Slice, ast.keyword, ast.Load, ast.Store,
    ast.operator, ast.unaryop, ast.cmpop, ast.JoinedStr, ast.FormattedValue, ast.BoolOp,
    ast.boolop, ast.IfExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.Dict,
)

_STATEMENT_HINTS = {
    ast.Try: "try/except cannot be differentiated ahead of time; move it out of the "
             "differentiated function",
    ast.With: "with-blocks are not differentiated; move them out of the function",
    ast.AsyncWith: "async code cannot be differentiated",
    ast.Global: "the function may not write module globals; return the value instead",
    ast.Nonlocal: "the function may not write outer variables; return the value instead",
    ast.FunctionDef: "nested function definitions are not differentiated yet; define the "
                     "helper at module level",
    ast.AsyncFunctionDef: "async code cannot be differentiated",
    ast.ClassDef: "define classes outside the differentiated function",
    ast.Delete: "remove the del statement",
    ast.Import: "import at module level",
    ast.ImportFrom: "import at module level",
}

_EXPRESSION_HINTS = {
    ast.Lambda: "define the function with def at module level",
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
    _check_block(state, state.body, in_loop=False)
    if not _returns(state.body):
        node = state.body[-1] if state.body else state.parsed.node
        raise state.source.unsupported(node, "the function never returns a value",
                                       hint="return the value to differentiate")


def _returns(body: list[ast.stmt]) -> bool:
    """Is there a ``return`` in ``body`` (in its blocks and with-blocks, not in local
    functions)?"""
    for statement in body:
        if isinstance(statement, ast.Return):
            return True
        if isinstance(statement, (ast.If, ast.For, ast.While, ast.With)) and (
                _returns(statement.body) or _returns(getattr(statement, "orelse", []))):
            return True
    return False


def _check_block(state: NormalState, body: list[ast.stmt], in_loop: bool) -> None:
    source = state.source
    for statement in body:
        if isinstance(statement, ast.FunctionDef) and not statement.decorator_list \
                or is_lambda_assignment(statement):
            continue        # local functions are checked when they are derived
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
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                    and not is_global_path(call.func, state.local_names) \
                    and not (is_append(call) and len(call.args) == 1 and not call.keywords):
                raise source.unsupported(
                    statement, f"the in-place method call '{ast.unparse(statement)}'",
                    hint="s2s follows lists changed by .append(v) and v = xs.pop() and "
                         "arrays changed by item assignment; build a new value instead "
                         "(y = np.sort(x), np.concatenate(...), a new list with .append)")
            if not isinstance(call, (ast.Call, ast.Constant)):
                raise source.unsupported(
                    statement, f"an expression statement '{ast.unparse(statement)}' whose "
                               "value is discarded",
                    hint="assign the value to a name, or remove the statement")
            # other discarded calls run in the forward sweep; the analysis refuses those
            # that receive a differentiated value and might change it in place
        elif isinstance(statement, (ast.Assert, ast.Raise)):
            pass            # kept in the forward sweep, never differentiated
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
        elif isinstance(statement, ast.With):
            check_with(state, statement)
            for item in statement.items:
                _check_expression(state, item.context_expr)
            _check_block(state, statement.body, in_loop)
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





def _check_expression(state: NormalState, tree: ast.AST) -> None:
    source = state.source
    mapped = {id(node.args[0]) for node in ast.walk(tree)      # map(lambda v: ..., xs)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "map" and node.args and isinstance(node.args[0], ast.Lambda)}
    unpacked = {id(argument) for node in ast.walk(tree) if isinstance(node, ast.Call)
                for argument in node.args if isinstance(argument, ast.Starred)}  # f(*args)
    for node in _walk_checked(tree, mapped):
        if isinstance(node, ast.stmt) or id(node) in unpacked:
            continue
        if not isinstance(node, _SUPPORTED_EXPRESSIONS):
            hint = _EXPRESSION_HINTS.get(type(node), "rewrite it with NumPy operations")
            raise source.unsupported(
                node, f"'{type(node).__name__}' expressions are not supported", hint=hint)
        if isinstance(node, ast.BinOp) and not isinstance(node.op, BINARY_OPERATORS):
            raise source.unsupported(
                node, f"the operator '{_OP_SYMBOLS.get(type(node.op), '?')}' is not supported",
                hint="use the NumPy function instead")


def _walk_checked(tree: ast.AST, mapped: set[int]):
    """``ast.walk``, where a lambda mapped over a sequence yields its body instead."""
    pending = [tree]
    while pending:
        node = pending.pop(0)
        if id(node) in mapped:
            pending.append(node.body)
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _check_for(state: NormalState, loop: ast.For) -> None:
    _check_expression(state, loop.iter)
    pending = [loop.target]          # names, or tuples of them: for i, (W, b) in ...
    while pending:
        target = pending.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        elif not isinstance(target, ast.Name):
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
