"""Stage 4 (reverse-mode generation).

Input: an :class:`~s2s.analysis.Analysis` of a normal form.
Output: a :class:`ReverseCode`: the *forward sweep* (the primal statements) and the
*reverse sweep* (adjoint statements, last primal statement first), with

* adjoints named ``<name>_b``, created only for active names;
* each adjoint's first contribution *assigned* and later ones added, so no zeros are
  allocated only to be added to;
* rule bodies inlined from the registry, with ``unbroadcast`` only where the shape
  analysis cannot prove the shapes equal;
* a comment before each group of adjoint statements naming the primal line.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from .analysis import Analysis, Operation
from .inline import inline
from .naming import Namer

COMMENT_PREFIX = "s2s-comment: "


def comment(text: str) -> ast.Expr:
    """A statement that :mod:`s2s.emit` turns into ``# text``."""
    return ast.Expr(ast.Constant(COMMENT_PREFIX + text))


@dataclass
class ReverseCode:
    forward: list[ast.stmt]
    reverse: list[ast.stmt]
    result: str                  # the primal output's name
    seed: str                    # the pullback's parameter: the output's cotangent
    gradients: list[ast.expr]    # one per wrt name
    helpers: set[str] = field(default_factory=set)


class ReverseGenerator:
    def __init__(self, analysis: Analysis, namer: Namer):
        self.analysis = analysis
        self.namer = namer
        self.source = analysis.normal.parsed.source
        self.adjoints: dict[str, str] = {}
        self.live: set[str] = set()        # names whose adjoint variable holds a value
        self.helpers: set[str] = set()
        self.reverse: list[ast.stmt] = []
        self.last_commented_line: int | None = None

    def adjoint(self, name: str) -> str:
        if name not in self.adjoints:
            self.adjoints[name] = self.namer.unique(f"{name}_b")
        return self.adjoints[name]

    # --- emission helpers ---------------------------------------------------------------

    def emit(self, statement: ast.stmt, origin: ast.stmt) -> None:
        line = getattr(origin, "lineno", None)
        if line is not None and line != self.last_commented_line:
            text = self.source.line(line).strip()
            self.reverse.append(comment(f"grad of line {line}: {text}"))
            self.last_commented_line = line
        self.reverse.append(statement)

    def accumulate(self, name: str, contribution: ast.expr, origin: ast.stmt) -> None:
        adjoint = self.adjoint(name)
        if name in self.live:
            contribution = ast.BinOp(ast.Name(adjoint, ast.Load()), ast.Add(), contribution)
        self.emit(ast.Assign([ast.Name(adjoint, ast.Store())], contribution), origin)
        self.live.add(name)

    # --- statements ---------------------------------------------------------------------

    def generate(self) -> ReverseCode:
        body = list(self.analysis.normal.body)
        result = self.analysis.result
        seed = self.adjoint(result)
        self.live.add(result)
        for statement in reversed(body):
            if isinstance(statement, ast.Assign):
                self.reverse_assign(self.analysis.operation(statement))
        gradients = []
        for name in self.analysis.wrt:
            if name in self.live:
                gradients.append(ast.Name(self.adjoint(name), ast.Load()))
            else:
                self.helpers.add("zeros_like")
                gradients.append(ast.Call(ast.Name("zeros_like", ast.Load()),
                                          [ast.Name(name, ast.Load())], []))
        forward = [statement for statement in body if not isinstance(statement, ast.Return)]
        return ReverseCode(forward, self.reverse, result, seed, gradients, self.helpers)

    def reverse_assign(self, operation: Operation) -> None:
        target = operation.target
        if target not in self.live or target not in self.analysis.active:
            self.live.discard(target)
            return
        target_adjoint = ast.Name(self.adjoint(target), ast.Load())
        self.live.discard(target)
        if operation.kind == "copy":
            self.accumulate(operation.args[0].id, target_adjoint, operation.statement)
            return
        if operation.kind != "rule":
            return
        contributions: dict[str, list[ast.expr]] = {}
        order: list[str] = []
        for contribution_name, expression in self.rule_contributions(operation, target_adjoint):
            if contribution_name not in contributions:
                order.append(contribution_name)
            contributions.setdefault(contribution_name, []).append(expression)
        for name in order:
            expressions = contributions[name]
            texts = {ast.unparse(expression) for expression in expressions}
            if len(expressions) == 2 and len(texts) == 1:
                expressions = [ast.BinOp(ast.Constant(2), ast.Mult(), expressions[0])]
            for expression in expressions:
                self.accumulate(name, expression, operation.statement)

    def rule_contributions(self, operation: Operation, target_adjoint: ast.Name):
        rule = operation.rule
        parameter_names = list(rule.signature.parameters)
        bindings = {"g": target_adjoint, "ans": ast.Name(operation.target, ast.Load())}
        for name, value in zip(parameter_names, operation.args):
            bindings[name] = value
        bindings.update(operation.params)
        for argument, vjp in zip(operation.args, rule.vjps):
            if vjp is None or not isinstance(argument, ast.Name) \
                    or argument.id not in self.analysis.active:
                continue
            inlined = inline(vjp, {key: copy.deepcopy(value) for key, value in bindings.items()},
                             self.namer)
            self.helpers |= inlined.helpers
            for statement in inlined.statements:
                self.emit(statement, operation.statement)
            value = inlined.value
            if rule.broadcasting and not self.analysis.same_shape(argument.id, operation.target):
                self.helpers.add("unbroadcast")
                value = ast.Call(ast.Name("unbroadcast", ast.Load()),
                                 [value, ast.Name(argument.id, ast.Load())], [])
            yield argument.id, value


def generate_reverse(analysis: Analysis, namer: Namer) -> ReverseCode:
    return ReverseGenerator(analysis, namer).generate()
