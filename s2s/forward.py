"""Stage 4' (forward-mode generation).

Input: an :class:`~s2s.analysis.Analysis` of a normal form (its ``wrt`` are the inputs
that carry tangents).
Output: a :class:`ForwardCode`: the primal statements with, after each statement whose
target is *varied*, the statements computing its tangent ``<name>_d`` — the rules' JVP
bodies inlined from the same registry the reverse mode uses, one contribution per varied
argument, summed.  Control flow stays as written: branches and loops need no stack,
because each tangent is computed right after its primal value.

A varied name assigned a value that does not depend on the inputs gets a zero tangent
(``zeros_like``), so that tangents exist wherever loops and branches read them.  A
tangent written in place (``x[i] = v`` -> ``x_d[i] = v_d``) is first made private.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from .analysis import Analysis, Operation, complex_guard
from .inline import inline
from .naming import Namer
from .normalize import assigned_in
from .reverse import _assign, _call, _is_fresh, _name, _store, comment

ZERO_KINDS = ("constant", "nondifferentiable", "unknown")


@dataclass
class ForwardCode:
    body: list[ast.stmt]
    result: str
    tangent: ast.expr               # the result's tangent
    tangent_params: list[str]       # one per wrt name, in order
    helpers: set[str] = field(default_factory=set)


class ForwardGenerator:
    def __init__(self, analysis: Analysis, namer: Namer, callees: dict[int, str] | None = None):
        self.analysis = analysis
        self.namer = namer
        self.callees = callees or {}
        self.source = analysis.normal.parsed.source
        self.varied = analysis.varied
        self.tangents: dict[str, str] = {}
        self.private: set[str] = set()
        self.helpers: set[str] = set()
        self.written_arrays = {op.target for op in analysis.operations.values()
                               if op.kind == "setitem"}

    def tangent(self, name: str) -> str:
        if name not in self.tangents:
            self.tangents[name] = self.namer.unique(f"{name}_d")
        return self.tangents[name]

    def own(self, name: str) -> ast.Assign:
        """``x_d = np.copy(x_d)`` before writes into ``x_d`` (``dict(d_d)`` for a dict, a
        list copy for a list)."""
        tangent = self.tangent(name)
        copier = "dict" if name in self.analysis.mappings else "np.copy"
        if name in self.analysis.lists:
            self.helpers.add("sequence_copy")
            copier = "sequence_copy"
        return _assign(tangent, _call(copier, _name(tangent)))

    def zero(self, name: str) -> ast.Assign:
        self.helpers.add("zeros_like")
        self.private.add(name)
        return _assign(self.tangent(name), _call("zeros_like", _name(name)))

    def generate(self) -> ForwardCode:
        body = list(self.analysis.normal.body)
        body.pop()                                  # the final return
        parameters = [self.tangent(name) for name in self.analysis.wrt]
        # a parameter without a tangent that a loop later re-binds to varied values
        entry = [self.zero(name) for name in self.analysis.normal.parsed.params
                 if name in self.varied and name not in self.analysis.wrt]
        code = [comment("primal and tangent, statement by statement")] + entry + self.block(body)
        result = self.analysis.result
        if result in self.varied:
            tangent: ast.expr = _name(self.tangent(result))
        else:
            self.helpers.add("zeros_like")
            tangent = _call("zeros_like", _name(result))
        return ForwardCode(code, result, tangent, parameters, self.helpers)

    # --- statements -----------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            if isinstance(statement, ast.Assign):
                operation = self.analysis.operation(statement)
                statements = self.assign(operation)
                guard = complex_guard(self.analysis, operation, self.varied)
                if guard is not None:       # right after the primal statement
                    self.helpers.add("refuse_complex")
                    statements.insert(1 if statements[0] is statement else 0, guard)
                view_guards = self.analysis.view_guards.get(id(statement), ())
                if view_guards:             # right after the primal statement, too
                    self.helpers.add("refuse_shared_view")
                    at = 1 if statements[0] is statement else 0
                    statements[at:at] = copy.deepcopy(view_guards)
                out.extend(statements)
            elif isinstance(statement, ast.Expr) and id(statement) in self.analysis.operations:
                out.extend(self.append(self.analysis.operations[id(statement)]))
            elif isinstance(statement, ast.If):
                private_in = set(self.private)
                then_code = self.block(statement.body)
                then_private, self.private = self.private, set(private_in)
                else_code = self.block(statement.orelse)
                self.private &= then_private
                out.append(ast.If(statement.test, then_code or [ast.Pass()], else_code))
            elif isinstance(statement, (ast.For, ast.While)):
                out.extend(self.loop(statement))
            else:
                out.append(statement)
        return out

    def loop(self, loop: ast.For | ast.While) -> list[ast.stmt]:
        before: list[ast.stmt] = []
        written = self.written_arrays & assigned_in(loop.body) & self.varied
        for name in sorted(written - self.private):    # writes in place: own the tangent
            tangent = self.tangent(name)
            before.append(self.own(name))
            self.private.add(name)
        private_loop = set(self.private)
        body = self.block(loop.body)
        if isinstance(loop, ast.For) and loop.target.id in self.varied:
            body.insert(0, self.zero(loop.target.id))     # a loop variable has no tangent
        for name in sorted((private_loop - self.private) & written):
            tangent = self.tangent(name)
            body.append(self.own(name))
        self.private = private_loop
        if isinstance(loop, ast.For):
            return before + [ast.For(loop.target, loop.iter, body or [ast.Pass()], [], None)]
        return before + [ast.While(loop.test, body or [ast.Pass()], [])]

    def assign(self, operation: Operation) -> list[ast.stmt]:
        statement = operation.statement
        target = operation.target
        if operation.kind == "setitem":
            return [statement] + self.setitem(operation)
        if id(operation) in self.callees:
            return [self.call(operation)]
        if target not in self.varied:
            return [statement]
        self.private.discard(target)
        if operation.kind in ZERO_KINDS:
            return [statement, self.zero(target)]
        if operation.kind == "copy":
            source = operation.args[0].id
            if source not in self.varied:
                return [statement, self.zero(target)]
            return [statement, _assign(self.tangent(target), _name(self.tangent(source)))]
        if operation.kind == "pack":
            elements = []
            for element in operation.args:
                if isinstance(element, ast.Name) and element.id in self.varied:
                    elements.append(_name(self.tangent(element.id)))
                else:
                    self.helpers.add("zeros_like")
                    elements.append(_call("zeros_like", copy.deepcopy(element)))
            if isinstance(statement.value, ast.Dict):
                tangent = ast.Dict([copy.deepcopy(key) for key in statement.value.keys], elements)
            elif isinstance(statement.value, ast.List):
                tangent = ast.List(elements, ast.Load())
            else:
                tangent = ast.Tuple(elements, ast.Load())
            return [statement, _assign(self.tangent(target), tangent)]
        if operation.kind == "call":       # no varied argument: the callee runs as it is
            return [statement, self.zero(target)]
        if operation.kind == "pop":        # the tangent list mirrors the list
            sequence = operation.args[0].id
            popped = _call(f"{self.tangent(sequence)}.pop")
            return [statement, _assign(self.tangent(target), popped)]
        return [statement] + self.rule(operation)

    def rule(self, operation: Operation) -> list[ast.stmt]:
        rule = operation.rule
        parameter_names = list(rule.signature.parameters)
        bindings = {"ans": _name(operation.target)}
        for name, value in zip(parameter_names, operation.args):
            bindings[name] = value
        bindings.update(operation.params)
        statements: list[ast.stmt] = []
        total: ast.expr | None = None
        for argument, jvp in zip(operation.args, rule.jvps):
            if jvp is None or not isinstance(argument, ast.Name) \
                    or argument.id not in self.varied:
                continue
            arguments = {key: copy.deepcopy(value) for key, value in bindings.items()}
            arguments["t"] = _name(self.tangent(argument.id))
            inlined = inline(jvp, arguments, self.namer)
            self.helpers |= inlined.helpers
            statements.extend(inlined.statements)
            if total is None:
                total = inlined.value
            elif rule.several_outputs:        # np.divmod, np.meshgrid: entry by entry
                self.helpers.add("add_output_tangents")
                total = _call("add_output_tangents", total, inlined.value)
            else:
                total = ast.BinOp(total, ast.Add(), inlined.value)
        if total is None:
            return [self.zero(operation.target)]
        if rule.broadcasting and self._single_narrow(operation):
            self.helpers.add("broadcast_like")
            total = _call("broadcast_like", total, _name(operation.target))
        if _is_fresh(total):
            self.private.add(operation.target)
        return statements + [_assign(self.tangent(operation.target), total)]

    def _single_narrow(self, operation: Operation) -> bool:
        """Could the summed contributions be smaller than the result (broadcasting)?"""
        varied = [a for a in operation.args if isinstance(a, ast.Name) and a.id in self.varied]
        names = [a for a in operation.args if isinstance(a, ast.Name)]
        if len(varied) == len(names):          # every operand contributes: the sum is full size
            return False
        return any(self.analysis.may_broadcast(operation, argument) for argument in varied)

    def setitem(self, operation: Operation) -> list[ast.stmt]:
        """``x[i] = v``: ``x_d[i] = v_d`` (or ``0.0``), on a tangent ``x_d`` it owns."""
        array, value = operation.args
        if array.id not in self.varied:
            return []
        out: list[ast.stmt] = []
        tangent = self.tangent(array.id)
        if array.id not in self.private:
            out.append(self.own(array.id))
            self.private.add(array.id)
        index = operation.statement.targets[0].slice
        new = _name(self.tangent(value.id)) if isinstance(value, ast.Name) \
            and value.id in self.varied else ast.Constant(0.0)
        out.append(ast.Assign([ast.Subscript(_name(tangent), copy.deepcopy(index), ast.Store())],
                              new))
        return out

    def append(self, operation: Operation) -> list[ast.stmt]:
        sequence, value = operation.args
        out: list[ast.stmt] = [operation.statement]
        if sequence.id in self.varied:
            if isinstance(value, ast.Name) and value.id in self.varied:
                item: ast.expr = _name(self.tangent(value.id))
            else:
                self.helpers.add("zeros_like")
                item = _call("zeros_like", copy.deepcopy(value))
            out.append(ast.Expr(_call(f"{self.tangent(sequence.id)}.append", item)))
        return out

    def call(self, operation: Operation) -> ast.Assign:
        """``y = helper(a, b)`` -> ``y, y_d = jvp_helper(a, b, a_d)`` (varied arguments only)."""
        tangents = [_name(self.tangent(operation.args[position].id))
                    for position in operation.active_positions(self.varied)]
        call = ast.Call(_name(self.callees[id(operation)]),
                        [copy.deepcopy(arg) for arg in operation.args] + tangents, [])
        self.private.discard(operation.target)
        targets = ast.Tuple([_store(operation.target), _store(self.tangent(operation.target))],
                            ast.Store())
        return ast.copy_location(ast.Assign([targets], call), operation.statement)


def generate_forward(analysis: Analysis, namer: Namer,
                     callees: dict[int, str] | None = None) -> ForwardCode:
    return ForwardGenerator(analysis, namer, callees).generate()
