"""Pass 6: one operation per statement, operands that are atoms."""
from __future__ import annotations

import ast
import copy

from .core import NormalState, assign, assigned_in, is_global_path, keep_marks, located, name

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
            return located(ast.Constant(-node.operand.value), node)
        if isinstance(node, ast.BinOp):
            left = self.atom(node.left)
            return located(ast.BinOp(left, node.op, self.atom(node.right)), node)
        if isinstance(node, ast.UnaryOp):
            return located(ast.UnaryOp(node.op, self.atom(node.operand)), node)
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) \
                    and not is_global_path(function, self.state.local_names):
                function = located(ast.Attribute(self.atom(function.value), function.attr,
                                                  ast.Load()), function)
            arguments = [located(ast.Starred(self.atom(argument.value), ast.Load()), argument)
                         if isinstance(argument, ast.Starred) else self.atom(argument)
                         for argument in node.args]
            keywords = [ast.keyword(keyword.arg, self.atom(keyword.value))
                        for keyword in node.keywords]
            return located(ast.Call(function, arguments, keywords), node)
        if isinstance(node, ast.Attribute):
            return located(ast.Attribute(self.atom(node.value), node.attr, ast.Load()), node)
        if isinstance(node, ast.Subscript):
            value = self.atom(node.value)
            return located(ast.Subscript(value, self.index(node.slice), ast.Load()), node)
        if isinstance(node, (ast.Tuple, ast.List)):
            return located(type(node)([self.atom(element) for element in node.elts],
                                       ast.Load()), node)
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise self.state.source.unsupported(
                    node, "'**' inside a dict literal is not supported",
                    hint="write the entries out, or update the dict key by key")
            return located(ast.Dict([self.atom(key) for key in node.keys],
                                    [self.atom(value) for value in node.values]), node)
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:        # a < b < c  ->  a < b and b < c, evaluated once each
                operands = [self.atom(node.left)] + [self.atom(c) for c in node.comparators]
                parts = [located(ast.Compare(operands[i], [op], [operands[i + 1]]), node)
                         for i, op in enumerate(node.ops)]
                return self.simple(located(ast.BoolOp(ast.And(), parts), node))
            left = self.atom(node.left)
            return located(ast.Compare(left, node.ops,
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
            self.emitted.append(located(branch, node))
            value = name(result, node)
        return value

    def conditional(self, node: ast.IfExp) -> ast.Name:
        """``a if c else b`` -> ``if c: _t = a`` / ``else: _t = b``."""
        test = self.atom(node.test)
        result = self.state.fresh("_t")
        self.emitted.append(located(ast.If(test, self._branch(node.body, result),
                                            self._branch(node.orelse, result)), node))
        return name(result, node)

    def index(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Slice):
            parts = [None if part is None else self.atom(part)
                     for part in (node.lower, node.upper, node.step)]
            return located(ast.Slice(*parts), node)
        if isinstance(node, ast.Tuple):
            return located(ast.Tuple([self.index(element) for element in node.elts],
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
                target = located(ast.Subscript(array, index, ast.Store()), target)
            else:
                value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            lowered.append(keep_marks(located(ast.Assign([target], value), statement),
                                       statement))
        elif isinstance(statement, ast.Return):
            value = flattener.simple(statement.value)
            lowered.extend(flattener.emitted)
            if not isinstance(value, ast.Name) or value.id not in state.local_names:
                result = state.unique("_return")
                lowered.append(assign(result, value, statement))
                value = name(result, statement)
            lowered.append(located(ast.Return(value), statement))
        elif isinstance(statement, ast.Expr):
            call = statement.value
            function = call.func
            if isinstance(function, ast.Attribute):
                function = located(ast.Attribute(flattener.atom(function.value),
                                                  function.attr, ast.Load()), function)
            # f-strings stay whole: a discarded call (print) is never differentiated
            arguments = [argument if isinstance(argument, ast.JoinedStr)
                         else flattener.atom(argument) for argument in call.args]
            lowered.extend(flattener.emitted)
            lowered.append(located(ast.Expr(located(ast.Call(function, arguments,
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
