"""Stage 4 (reverse-mode generation).

Input: an :class:`~s2s.analysis.Analysis` of a normal form.
Output: a :class:`ReverseCode`: the *forward sweep* (the primal statements, plus the
bookkeeping the reverse sweep needs) and the *reverse sweep* (adjoint statements, last
primal statement first), with

* adjoints named ``<name>_b``, created only for active names; each adjoint's first
  contribution is *assigned* and later ones added, so no zeros are allocated only to be
  added to;
* rule bodies inlined from the registry, with ``unbroadcast`` only where the shape
  analysis cannot prove the shapes equal;
* loops reversed as loops: ``for i in reversed(range)`` for ``for`` loops (sliced to the
  recorded trip count when the loop can ``break``), ``for _ in range(trips)`` for
  ``while`` loops; branches reversed as branches on the same condition;
* the invariant that makes this work: *at each point of the reverse sweep, every primal
  name it reads holds the value it had at the matching point of the forward sweep*.
  Straight-line code never overwrites (the normal form renames), so only assignments in
  loops and branches can break it.  Each of those is preceded in the forward sweep by a
  :class:`Save` marker and followed in the reverse sweep by a :class:`Restore` marker;
  :func:`resolve_markers` turns a pair into ``_saved.append(v)`` / ``v = _stack.pop()``
  only when the reverse sweep reads ``v``, and drops it otherwise.  A loop that only
  accumulates (``s = s + x[i] * w[i]``) therefore saves nothing but what it must;
* a comment before each group of adjoint statements naming the primal line.

Adjoint state through control flow: ``live`` is the set of names whose adjoint variable
holds a value.  After a branch, a name live on one side only gets zeros on the other.
Around a loop, adjoints that cross iterations (upward-exposed reads of the body) are
materialised once before the reverse loop, and re-zeroed at the end of the body when an
iteration consumed them.  ``x[i] = v`` is reversed in place on ``x_b``, which the
generator first makes private (``np.copy``) unless it knows no other name shares it.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from .analysis import (Analysis, Operation, complex_guard, index_value, is_scalar_constant,
                       may_view)
from .errors import MissingRuleError, S2SError
from .inline import inline
from .naming import Namer
from .normalize import COMPOUND, assigned_in, is_index_expression, walk_statements

COMMENT_PREFIX = "s2s-comment: "


def comment(text: str) -> ast.Expr:
    """A statement that :mod:`s2s.emit` turns into ``# text``."""
    return ast.Expr(ast.Constant(COMMENT_PREFIX + text))


def is_comment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str) \
        and statement.value.value.startswith(COMMENT_PREFIX)


class Save(ast.stmt):
    """Forward-sweep marker: the value of ``name`` (or of ``name[index]``) may be saved here.
    ``mapping``: ``name`` is a dict, whose item write may add the key."""

    _fields = ("name", "index", "mapping")


class Restore(ast.stmt):
    """Reverse-sweep marker: the value saved by the matching :class:`Save` comes back here."""

    _fields = ("name", "index", "mapping")


class Recompute(ast.stmt):
    """Reverse-sweep marker: re-run a cheap forward statement instead of saving its value."""

    _fields = ("statement",)


def _name(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load())


def _store(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Store())


def _assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([_store(target)], value)


def _call(function: str, *arguments: ast.expr) -> ast.Call:
    if "." in function:
        base, attribute = function.split(".")
        func: ast.expr = ast.Attribute(_name(base), attribute, ast.Load())
    else:
        func = _name(function)
    return ast.Call(func, list(arguments), [])


def reads_of(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node)
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


@dataclass
class ReverseCode:
    forward: list[ast.stmt]
    reverse: list[ast.stmt]
    result: str                  # the primal output's name
    seed: str                    # the pullback's parameter: the output's cotangent
    gradients: list[ast.expr]    # one per wrt name
    helpers: set[str] = field(default_factory=set)
    captured: list[str] = field(default_factory=list)   # primal names the pullback rebinds
    prebound: list[str] = field(default_factory=list)   # bound to None at function entry
    epilogue: list[ast.stmt] = field(default_factory=list)  # run before the pullback returns
    saved: str = "_saved"        # the forward sweep's list of saved values
    stack: str = "_stack"        # the reverse sweep's copy of it


@dataclass
class _Loop:
    counter: str | None          # trip count, for while loops and loops that can break
    nested: bool                 # inside another loop: the counter is saved per execution


class ReverseGenerator:
    def __init__(self, analysis: Analysis, namer: Namer, callees: dict[int, str] | None = None,
                 fused: bool = False):
        self.analysis = analysis
        self.callees = callees or {}          # id(call operation) -> name of its vjp function
        self.fused = fused                    # callees are grad_ functions taking the seed
        self.pullbacks: dict[int, str] = {}   # id(call operation) -> name of its pullback
        self.namer = namer
        self.source = analysis.normal.parsed.source
        self.params = set(analysis.normal.parsed.params)
        self.adjoints: dict[str, str] = {}
        self.live: set[str] = set()        # names whose adjoint variable holds a value
        self.private: set[str] = set()     # ...and that value is an array no other name holds
        self.helpers: set[str] = set()
        self.loops: dict[int, _Loop] = {}
        self.out: list[ast.stmt] = []
        self.last_commented_line: int | None = None
        self.saved = namer.unique("_saved")
        self.stack = namer.unique("_stack")
        self.written_arrays = {op.target for op in analysis.operations.values()
                               if op.kind == "setitem"}
        # lists appended to or popped from: their adjoints are lists, changed in place
        self.sequences = {op.args[0].id for op in analysis.operations.values()
                          if op.kind in ("append", "pop") and isinstance(op.args[0], ast.Name)}
        self.lists = analysis.lists - self.sequences   # lists of a fixed length
        self.unsaved: set[int] = set()             # statements needing no Save/Restore
        self.recomputed: dict[int, list[ast.stmt]] = {}   # id(loop) -> statements to re-run
        self.enclosing: list[ast.For | ast.While] = []    # loops around the current point
        self.assignment_counts = analysis.assignment_counts

    def adjoint(self, name: str) -> str:
        if name not in self.adjoints:
            self.adjoints[name] = self.namer.unique(f"{name}_b")
        return self.adjoints[name]

    # --- emission helpers ---------------------------------------------------------------

    def emit(self, statement: ast.stmt, origin: ast.stmt | None = None) -> None:
        line = getattr(origin, "lineno", None)
        if line is not None and line != self.last_commented_line:
            text = self.source.line(line).strip()
            self.out.append(comment(f"grad of line {line}: {text}"))
            self.last_commented_line = line
        self.out.append(statement)

    def block(self, generate) -> list[ast.stmt]:
        """Run ``generate()`` collecting what it emits into a fresh list."""
        outer, outer_line = self.out, self.last_commented_line
        self.out, self.last_commented_line = [], None
        try:
            generate()
            return self.out
        finally:
            self.out, self.last_commented_line = outer, outer_line

    def accumulate(self, name: str, contribution: ast.expr, origin: ast.stmt) -> None:
        adjoint = self.adjoint(name)
        if name in self.live and _reads_an_element_of(contribution, name) \
                and self.selects_elements(name, contribution.args[2]):
            # x[i] read: x_b[i] += g, in O(size of x[i]), on an adjoint no other name holds
            self.make_private(name)
            target = ast.Subscript(_name(adjoint), _index_syntax(contribution.args[2]),
                                   ast.Store())
            added = contribution.args[0]
            if self.analysis.guard_complex:     # complex values may come: a real x_b too
                self.helpers.add("cotangent_for")
                added = _call("cotangent_for", added, _name(name))
            self.emit(ast.AugAssign(target, ast.Add(), added), origin)
            return
        if name in self.live and _reads_an_element_of(contribution, name) \
                and self.selects_list_item(name, contribution.args[2]):
            # xs[i] read from a list: xs_b[i] = xs_b[i] + g, on a list no other name holds
            # (a list appended to may hold None, a zero, in its adjoint: add_cotangents)
            self.make_private(name)
            index = contribution.args[2]
            item = ast.Subscript(_name(adjoint), copy.deepcopy(index), ast.Load())
            if name in self.sequences:
                self.helpers.add("add_cotangents")
                total = _call("add_cotangents", item, contribution.args[0])
            else:
                total = ast.BinOp(item, ast.Add(), contribution.args[0])
            self.emit(ast.Assign([ast.Subscript(_name(adjoint), copy.deepcopy(index),
                                                ast.Store())], total), origin)
            return
        if name in self.live and _reads_an_element_of(contribution, name):
            # lst[i] read: add at i in the adjoint as it stands at this point of the
            # reverse sweep; a list's length there need not be its final length
            self.helpers.add("index_accumulate")
            contribution = _call("index_accumulate", _name(adjoint), *contribution.args)
        elif name in self.live:
            contribution = ast.BinOp(_name(adjoint), ast.Add(), contribution)
        self.emit(_assign(adjoint, contribution), origin)
        self.live.add(name)
        if _is_fresh(contribution):
            self.private.add(name)
        else:
            self.private.discard(name)

    def selects_elements(self, name: str, index: ast.expr) -> bool:
        """Does ``name[index]`` read distinct elements of an array of known shape (integer
        and slice indices, never an index array that may repeat)?  Then its adjoint can
        be added in place."""
        shape = self.analysis.shapes.get(name)
        if not shape:                        # unknown, or a scalar
            return False
        if is_index_expression(index):
            index = index.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return len(parts) <= len(shape) and all(self._basic_index(part) for part in parts)

    def selects_one_element(self, name: str, index: ast.expr) -> bool:
        """Is ``name[index]`` one element (a NumPy scalar, not a view) of a known array?"""
        shape = self.analysis.shapes.get(name)
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return bool(shape) and len(parts) == len(shape) and all(
            not isinstance(part, ast.Slice) and not (isinstance(part, ast.Constant)
                                                     and part.value is None)
            and self._basic_index(part) for part in parts)

    def _basic_index(self, part: ast.expr) -> bool:
        if isinstance(part, ast.Constant):
            return type(part.value) is int or part.value is None
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
            return self._basic_index(part.operand)
        if isinstance(part, ast.Name):
            return part.id in self.analysis.integers
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Name) \
                and part.func.id == "slice" and not part.keywords:
            return all(self._basic_index(bound) for bound in part.args)
        if is_index_expression(part):          # np.s_[i:j, 0]
            inner = part.slice.elts if isinstance(part.slice, ast.Tuple) else [part.slice]
            return all(self._basic_index(item) for item in inner)
        return isinstance(part, ast.Slice) and all(
            bound is None or self._basic_index(bound)
            for bound in (part.lower, part.upper, part.step))

    def selects_list_item(self, name: str, index: ast.expr) -> bool:
        """Is ``name[index]`` one item of a list (an integer index)?"""
        return (name in self.lists or name in self.sequences) and (
            isinstance(index, ast.Name) and index.id in self.analysis.integers
            or isinstance(index, ast.Constant) and type(index.value) is int
            or isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant) and type(index.operand.value) is int)

    def in_place_reads(self, body: list[ast.stmt]) -> set[str]:
        """Arrays whose element reads in ``body`` accumulate their adjoint in place."""
        names = set()
        for statement in walk_statements(body):
            operation = self.analysis.operations.get(id(statement))
            if operation is not None and operation.kind == "rule" \
                    and operation.rule.name == "getitem" and operation.args \
                    and isinstance(operation.args[0], ast.Name) \
                    and isinstance(statement.value, ast.Subscript) \
                    and (self.selects_elements(operation.args[0].id, statement.value.slice)
                         or self.selects_list_item(operation.args[0].id,
                                                   statement.value.slice)):
                names.add(operation.args[0].id)
        return names

    def zero(self, name: str, like: str) -> ast.Assign:
        """``name_b = zeros_like(like)``: an explicit zero adjoint, owned by ``name``."""
        self.helpers.add("zeros_like")
        self.private.add(name)
        return _assign(self.adjoint(name), _call("zeros_like", _name(like)))

    def make_private(self, name: str) -> None:
        if name not in self.private:
            self.emit(self.copy(name))
            self.private.add(name)

    def copy(self, name: str) -> ast.Assign:
        """``name_b = np.copy(name_b)``: an adjoint no other name shares (a list's: a list)."""
        adjoint = self.adjoint(name)
        if name in self.sequences:
            self.helpers.add("adjoint_copy")
            return _assign(adjoint, _call("adjoint_copy", _name(adjoint)))
        if name in self.lists:              # zeros for its None entries: added to in place
            self.helpers.add("adjoint_copy")
            return _assign(adjoint, _call("adjoint_copy", _name(adjoint), _name(name)))
        return _assign(adjoint, _call("np.copy", _name(adjoint)))

    # --- the two sweeps -----------------------------------------------------------------

    def generate(self) -> ReverseCode:
        body = list(self.analysis.normal.body)
        returned = body.pop()
        result = self.analysis.result
        seed = self.adjoint(result)
        self.live.add(result)
        forward = self.forward_block(body, nested=False, loop_depth=0)
        reverse = self.block(lambda: self.reverse_block(body, nested=False))
        gradients = []
        for name in self.analysis.wrt:
            if name in self.live:
                gradients.append(_name(self.adjoint(name)))
            else:
                self.helpers.add("zeros_like")
                gradients.append(_call("zeros_like", _name(name)))
        del returned
        return ReverseCode(forward, reverse, result, seed, gradients, self.helpers,
                           saved=self.saved, stack=self.stack)

    def forward_block(self, body: list[ast.stmt], nested: bool, loop_depth: int) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            if isinstance(statement, ast.Assign):
                target = statement.targets[0]
                operation = self.analysis.operations.get(id(statement))
                if operation is not None and id(operation) in self.callees and not self.fused:
                    out.extend(self.forward_call(operation, nested))
                    continue
                if isinstance(target, ast.Subscript):
                    out.append(Save(target.value.id, target.slice,
                                    target.value.id in self.analysis.mappings))
                elif nested and not self.needs_no_save(statement, body):
                    out.append(Save(target.id, None))
                out.append(statement)
                guard = operation and complex_guard(self.analysis, operation,
                                                    self.analysis.active)
                if guard is not None:
                    self.helpers.add("refuse_complex")
                    out.append(guard)
                view_guards = self.analysis.view_guards.get(id(statement), ())
                if view_guards:
                    self.helpers.add("refuse_shared_view")
                    out.extend(copy.deepcopy(view_guards))
            elif isinstance(statement, ast.If):
                out.append(ast.If(statement.test,
                                  self.forward_block(statement.body, True, loop_depth) or
                                  [ast.Pass()],
                                  self.forward_block(statement.orelse, True, loop_depth)))
            elif isinstance(statement, (ast.For, ast.While)):
                out.extend(self.forward_loop(statement, loop_depth))
            else:
                out.append(statement)
        return out

    def needs_no_save(self, statement: ast.Assign, body: list[ast.stmt]) -> bool:
        """Loop-invariant values and cheap index reads are not saved per iteration.

        * invariant: the operands are assigned in no enclosing loop and the target only
          here, so every iteration computes the same value;
        * recomputed: ``v = x[i]`` (or integer arithmetic on loop variables) in a loop
          body, or in an ``if`` block inside it, where ``x`` is invariant and ``i`` a loop
          variable: the reverse loop (or the reverse of the block) re-runs it first.
        """
        if not self.enclosing:
            return False
        target = statement.targets[0].id
        if self.assignment_counts.get(target, 0) != 1:
            return False
        outermost = self.enclosing[0]
        varying = assigned_in(outermost.body) | {
            loop.target.id for loop in self.enclosing if isinstance(loop, ast.For)}
        varying |= {operation.args[0].id for inner in walk_statements(outermost.body)
                    if (operation := self.analysis.operations.get(id(inner))) is not None
                    and operation.kind in ("append", "pop", "setitem")}   # changed in place
        reads = reads_of(statement.value)
        if not reads & varying:
            self.unsaved.add(id(statement))
            return True
        innermost = self.enclosing[-1]
        if not any(statement is s for s in body):
            return False
        rebound = {loop.target.id for loop in self.enclosing if isinstance(loop, ast.For)}
        rebound |= {s.targets[0].id for loop in self.enclosing
                    for s in self.recomputed.get(id(loop), [])}
        if not (reads & varying) <= rebound:
            return False
        operation = self.analysis.operations.get(id(statement))
        cheap = operation is not None and (
            operation.kind == "rule" and operation.rule.name == "getitem"
            or operation.kind in ("nondifferentiable", "constant")
            or target not in self.analysis.varied and isinstance(statement.value, ast.BinOp)
            # d = x[i] - x[j] of recomputed reads: one operation again, instead of a value
            # saved per iteration (the reverse sweep of a double loop stays O(n) in memory)
            or operation.kind == "rule" and isinstance(statement.value, ast.BinOp)
            and isinstance(statement.value.op, (ast.Add, ast.Sub, ast.Mult))
            and self.analysis.shapes.get(target) == ())
        if not cheap:
            return False
        self.unsaved.add(id(statement))
        # keyed by the loop for its body, by the block for an if block inside it
        key = id(innermost) if body is innermost.body else id(body)
        self.recomputed.setdefault(key, []).append(statement)
        return True

    def forward_call(self, operation: Operation, nested: bool) -> list[ast.stmt]:
        """``y = helper(a, b)`` -> ``y, _pullback0 = vjp_helper(a, b)``."""
        pullback = self.pullbacks[id(operation)] = self.namer.fresh("_pullback")
        call = ast.Call(_name(self.callees[id(operation)]),
                        [copy.deepcopy(arg) for arg in operation.args], [])
        targets = ast.Tuple([_store(operation.target), _store(pullback)], ast.Store())
        statement = ast.copy_location(ast.Assign([targets], call), operation.statement)
        saves = [Save(operation.target, None), Save(pullback, None)] if nested else []
        return saves + [statement]

    def forward_loop(self, loop: ast.For | ast.While, loop_depth: int) -> list[ast.stmt]:
        can_break = any(isinstance(s, ast.Break) for s in _own_statements(loop.body))
        counter = None
        if isinstance(loop, ast.While) or can_break:
            counter = self.namer.fresh("_n")
        info = self.loops[id(loop)] = _Loop(counter, nested=loop_depth > 0)
        self.enclosing.append(loop)
        body = self.forward_block(loop.body, True, loop_depth + 1)
        self.enclosing.pop()
        out: list[ast.stmt] = []
        if counter:
            out.append(_assign(counter, ast.Constant(0)))
            body.insert(0, _assign(counter, ast.BinOp(_name(counter), ast.Add(),
                                                      ast.Constant(1))))
        if isinstance(loop, ast.For):
            out.append(Save(loop.target.id, None))
            out.append(ast.For(loop.target, loop.iter, body, [], None))
        else:
            out.append(ast.While(loop.test, body, []))
        if counter and info.nested:
            out.append(ast.Expr(_call(f"{self.saved}.append", _name(counter))))
        return out

    def reverse_block(self, body: list[ast.stmt], nested: bool) -> None:
        for statement in reversed(body):
            if isinstance(statement, ast.Assign):
                operation = self.analysis.operation(statement)
                if operation.kind == "setitem":
                    self.reverse_setitem(operation)
                    target = statement.targets[0]
                    self.out.append(Restore(target.value.id, target.slice,
                                            target.value.id in self.analysis.mappings))
                else:
                    self.reverse_assign(operation)
                    if nested and id(statement) not in self.unsaved:
                        # the reverse of the forward sweep's saving order
                        if id(operation) in self.pullbacks:
                            self.out.append(Restore(self.pullbacks[id(operation)], None))
                        self.out.append(Restore(operation.target, None))
            elif isinstance(statement, ast.Expr) and id(statement) in self.analysis.operations:
                self.reverse_append(self.analysis.operations[id(statement)])
            elif isinstance(statement, ast.If):
                self.reverse_if(statement)
            elif isinstance(statement, (ast.For, ast.While)):
                self.reverse_loop(statement)

    # --- simple statements --------------------------------------------------------------

    def reverse_assign(self, operation: Operation) -> None:
        target = operation.target
        if operation.kind == "pop":
            self.reverse_pop(operation)
            return
        if target not in self.live or target not in self.analysis.active:
            self.live.discard(target)
            return
        target_adjoint = _name(self.adjoint(target))
        self.live.discard(target)
        self.private.discard(target)
        if operation.kind == "copy":
            if operation.args[0].id in self.analysis.active:    # not a constant's copy
                self.accumulate(operation.args[0].id, target_adjoint, operation.statement)
            return
        if operation.kind == "pack":
            value = operation.statement.value
            keys = value.keys if isinstance(value, ast.Dict) else \
                [ast.Constant(index) for index in range(len(operation.args))]
            for key, element in zip(keys, operation.args):
                if isinstance(element, ast.Name) and element.id in self.analysis.active:
                    item = ast.Subscript(copy.deepcopy(target_adjoint), copy.deepcopy(key),
                                         ast.Load())
                    self.accumulate(element.id, item, operation.statement)
            return
        if operation.kind == "call":
            self.reverse_call(operation, target_adjoint)
            return
        if operation.kind != "rule":
            return
        contributions: dict[str, list[ast.expr]] = {}
        order: list[str] = []
        for name, expression in self.rule_contributions(operation, target_adjoint):
            if name not in contributions:
                order.append(name)
            contributions.setdefault(name, []).append(expression)
        for name in order:
            expressions = contributions[name]
            texts = {ast.unparse(expression) for expression in expressions}
            if len(expressions) == 2 and len(texts) == 1:
                expressions = [ast.BinOp(ast.Constant(2), ast.Mult(), expressions[0])]
            for expression in expressions:
                self.accumulate(name, expression, operation.statement)

    def reverse_call(self, operation: Operation, target_adjoint: ast.Name) -> None:
        """``y, _pullback0 = vjp_helper(a, b)`` -> ``_g0 = _pullback0(y_b)``; ``a_b += _g0[0]``...

        Fused (closure-free) code instead calls ``_g0 = grad_helper(a, b, y_b)`` here.
        """
        if id(operation) not in self.callees:
            return
        gradients = self.namer.fresh("_g")
        if self.fused:
            call = ast.Call(_name(self.callees[id(operation)]),
                            [copy.deepcopy(arg) for arg in operation.args] + [target_adjoint], [])
        else:
            call = ast.Call(_name(self.pullbacks[id(operation)]), [target_adjoint], [])
        self.emit(_assign(gradients, call), operation.statement)
        for index, position in enumerate(operation.active_positions(self.analysis.active)):
            item = ast.Subscript(_name(gradients), ast.Constant(index), ast.Load())
            self.accumulate(operation.args[position].id, item, operation.statement)

    def rule_contributions(self, operation: Operation, target_adjoint: ast.Name):
        rule = operation.rule
        parameter_names = list(rule.signature.parameters)
        bindings = {"g": target_adjoint, "ans": _name(operation.target)}
        for name, value in zip(parameter_names, operation.args):
            bindings[name] = value
        bindings.update(operation.params)
        for argument, vjp in zip(operation.args, rule.vjps):
            if not isinstance(argument, ast.Name) or argument.id not in self.analysis.active:
                continue
            if vjp is None:
                position = operation.args.index(argument)
                if rule.jvps[position] is None:
                    continue                     # an argument with no derivative at all
                raise self.source.unsupported(
                    operation.statement, f"'{rule.name}' has no reverse-mode rule for its "
                    f"argument {position + 1}", hint="use forward mode (s2s.jvp), or register a "
                    "VJP for it", error=MissingRuleError)
            inlined = inline(vjp, {key: copy.deepcopy(value) for key, value in bindings.items()},
                             self.namer)
            self.helpers |= inlined.helpers
            for statement in inlined.statements:
                self.emit(statement, operation.statement)
            value = inlined.value
            if rule.broadcasting and self.analysis.may_broadcast(operation, argument):
                summed = None
                if rule.name in SHAPED_LIKE_RESULT:
                    summed = sum_to_shape(value, self.analysis.shapes.get(operation.target),
                                          self.analysis.shapes.get(argument.id))
                if summed is None:
                    self.helpers.add("unbroadcast")
                    summed = _call("unbroadcast", value, _name(argument.id))
                value = summed
            yield argument.id, value

    def reverse_setitem(self, operation: Operation) -> None:
        """``x[index] = v``: ``v`` gets ``x_b[index]``; then ``x_b[index] = 0`` in place."""
        array, value = operation.args
        if array.id not in self.live or array.id not in self.analysis.active:
            return
        index = operation.statement.targets[0].slice      # slice syntax, as the user wrote it
        adjoint = self.adjoint(array.id)
        if isinstance(value, ast.Name) and value.id in self.analysis.active:
            if array.id in self.analysis.mappings:      # the entry may never have been read
                self.helpers.add("entry_cotangent")
                contribution = _call("entry_cotangent", _name(adjoint), copy.deepcopy(index),
                                     _name(value.id))
            elif self.selects_one_element(array.id, index) \
                    and self.analysis.shapes.get(value.id) == ():
                # a scalar read out of the adjoint is a copy already, of the value's shape
                contribution = ast.Subscript(_name(adjoint), copy.deepcopy(index), ast.Load())
            else:
                selected = ast.Subscript(_name(adjoint), copy.deepcopy(index), ast.Load())
                self.helpers.add("unbroadcast")
                contribution = _call("unbroadcast", _call("np.copy", selected),
                                     _name(value.id))
            self.accumulate(value.id, contribution, operation.statement)
        self.make_private(array.id)
        self.emit(ast.Assign([ast.Subscript(_name(adjoint), copy.deepcopy(index), ast.Store())],
                             ast.Constant(0.0)), operation.statement)

    def own_sequence_adjoint(self, name: str, origin: ast.stmt) -> None:
        """Before ``name_b`` changes in place: bind it (zeros, for the list's final state)
        if no later use did, and make sure no other adjoint shares it."""
        if name not in self.live:
            self.emit(self.zero(name, name), origin)
            self.live.add(name)
        self.make_private(name)

    def reverse_append(self, operation: Operation) -> None:
        """``lst.append(v)``: ``v`` gets the last entry of ``lst_b``, which is removed."""
        sequence, value = operation.args
        if sequence.id not in self.analysis.active:
            return
        self.own_sequence_adjoint(sequence.id, operation.statement)
        popped = _call(f"{self.adjoint(sequence.id)}.pop")
        if isinstance(value, ast.Name) and value.id in self.analysis.active:
            self.accumulate(value.id, popped, operation.statement)
        else:
            self.emit(ast.Expr(popped), operation.statement)

    def reverse_pop(self, operation: Operation) -> None:
        """``v = lst.pop()``: ``v_b`` goes back on top of ``lst_b`` (a zero if ``v_b`` is).

        The transpose of a pop is a push, so the reverse sweep of code that pops (generated
        gradient code popping its stack, differentiated again) rebuilds the list's adjoint
        entry by entry, for the matching ``lst.append`` to take back.
        """
        target, sequence = operation.target, operation.args[0]
        target_live = target in self.live and target in self.analysis.active
        self.live.discard(target)
        self.private.discard(target)
        if sequence.id not in self.analysis.active:
            return
        self.own_sequence_adjoint(sequence.id, operation.statement)
        if target_live:
            pushed: ast.expr = _name(self.adjoint(target))
        else:
            self.helpers.add("zeros_like")
            pushed = _call("zeros_like", _name(target))
        self.emit(ast.Expr(_call(f"{self.adjoint(sequence.id)}.append", pushed)),
                  operation.statement)

    # --- branches -------------------------------------------------------------------------

    def _branch(self, body: list[ast.stmt], live: set[str], private: set[str]):
        self.live, self.private = set(live), set(private)
        code = self.block(lambda: self.reverse_block(body, nested=True))
        code = [Recompute(copy.deepcopy(statement))
                for statement in self.recomputed.get(id(body), [])] + code
        return code, self.live, self.private

    def reverse_if(self, statement: ast.If) -> None:
        live_in, private_in = set(self.live), set(self.private)
        then_code, then_live, then_private = self._branch(statement.body, live_in, private_in)
        else_code, else_live, else_private = self._branch(statement.orelse, live_in, private_in)
        live_out = then_live | else_live
        for code, branch_live, branch_private in ((then_code, then_live, then_private),
                                                  (else_code, else_live, else_private)):
            for name in sorted(live_out - branch_live):
                self.private = branch_private
                code.append(self.zero(name, self.adjoint(name) if name in live_in else name))
        self.live = live_out
        self.private = then_private & else_private
        if not any(not is_comment(s) for s in then_code + else_code):
            return
        if not any(not is_comment(s) for s in then_code):
            then_code = then_code + [ast.Pass()]
        if not any(not is_comment(s) for s in else_code):
            else_code = []                     # only comments: no else at all
        # the normal form names a test, unless it is a constant (`a if False else b`)
        test = _name(statement.test.id) if isinstance(statement.test, ast.Name) \
            else ast.Constant(statement.test.value)
        self.emit(ast.If(test, then_code, else_code))

    # --- loops ----------------------------------------------------------------------------

    def reverse_loop(self, loop: ast.For | ast.While) -> None:
        info = self.loops[id(loop)]
        contributed = {name for s in walk_statements(loop.body)
                       if id(s) in self.analysis.operations
                       for name in self.analysis.operations[id(s)].input_names()
                       if name in self.analysis.active}
        carried = (contributed & upward_exposed(loop.body)) - self.live
        for name in sorted(carried):
            self.emit(self.zero(name, name))
        self.live |= carried
        for name in sorted(self.live & (((self.written_arrays | self.sequences)
                                         & assigned_in(loop.body))
                                        | self.in_place_reads(loop.body))):
            self.make_private(name)      # once before the loop, not once per iteration
        live_loop, private_loop = set(self.live), set(self.private)
        body_code, live_end, private_end = self._branch(loop.body, live_loop, private_loop)
        body_code = [Recompute(copy.deepcopy(statement))
                     for statement in self.recomputed.get(id(loop), [])] + body_code
        if not live_end <= live_loop:
            raise S2SError(f"internal error: adjoints {sorted(live_end - live_loop)} escape a "
                           "loop iteration; please report this function")
        self.private = private_end
        for name in sorted(live_loop - live_end):
            # the adjoint of the value this iteration's binding replaced: zeros of that
            # value's shape (restored from the stack), which may differ from this one's
            # (a layer loop's activations); a name of one proven shape needs no stack
            restored = self.analysis.shapes.get(name) is None and any(
                isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id == name and id(s) not in self.unsaved
                for s in walk_statements(loop.body))
            body_code.append(self.zero(name, name if restored else self.adjoint(name)))
        for name in sorted(private_loop - self.private):
            if name in live_loop:
                body_code.append(self.copy(name))
        self.live, self.private = live_loop, private_loop
        if info.counter and info.nested:
            self.emit(_assign(info.counter, _call(f"{self.stack}.pop")))
        if isinstance(loop, ast.For):
            sequence: ast.expr = _name(loop.iter.id)
            if info.counter:
                sequence = ast.Subscript(sequence, ast.Slice(None, _name(info.counter), None),
                                         ast.Load())
            reversed_loop = ast.For(_store(loop.target.id), _call("reversed", sequence),
                                    body_code or [ast.Pass()], [], None)
            origin = loop
        else:
            reversed_loop = ast.For(_store(self.namer.unique("_")),
                                    _call("range", _name(info.counter)),
                                    body_code or [ast.Pass()], [], None)
            origin = loop
        self.emit(reversed_loop, origin)
        if isinstance(loop, ast.For):
            self.out.append(Restore(loop.target.id, None))


# broadcasting rules whose VJPs give a cotangent of the result's shape, before it is summed
# down to an operand's shape
SHAPED_LIKE_RESULT = frozenset({
    "add", "subtract", "multiply", "divide", "power", "float_power", "maximum", "minimum",
    "fmax", "fmin", "where", "clip", "arctan2", "hypot", "logaddexp", "logaddexp2"})


def sum_to_shape(value: ast.expr, result: tuple | None, operand: tuple | None) -> ast.expr | None:
    """``unbroadcast(value, operand)`` spelled out for known shapes: the same ``np.sum``
    calls in the same order (so the same bits), without the shape tests at run time."""
    if result is None or operand is None or len(operand) > len(result):
        return None
    extra = len(result) - len(operand)
    if any(size != 1 and size != result[extra + axis] for axis, size in enumerate(operand)):
        return None
    if extra:
        value = _call("np.sum", value)
        value.keywords = [ast.keyword("axis", ast.Constant(tuple(range(extra))))]
    kept = tuple(axis for axis, size in enumerate(operand)
                 if size == 1 and result[extra + axis] != 1)
    if kept:
        value = _call("np.sum", value)
        value.keywords = [ast.keyword("axis", ast.Constant(kept)),
                          ast.keyword("keepdims", ast.Constant(True))]
    return value


def _own_statements(body: list[ast.stmt]):
    """Statements of a loop body, not descending into nested loops."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _own_statements(statement.body)
            yield from _own_statements(statement.orelse)


def _is_fresh(expression: ast.expr) -> bool:
    """Does evaluating this create a new array that nothing else references?"""
    if isinstance(expression, ast.BinOp):
        return True
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name):
        return expression.func.id in ("zeros_like", "index_adjoint", "index_accumulate")
    return False


def _statement_reads(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.Assign):
        target = statement.targets[0]
        names = reads_of(statement.value)
        if isinstance(target, ast.Subscript):
            names |= reads_of(target.slice) | {target.value.id}
        return names
    if isinstance(statement, (ast.If, ast.While)):
        return reads_of(statement.test)
    if isinstance(statement, ast.For):
        return reads_of(statement.iter)
    return reads_of(statement)


def _definitely_assigned(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            names.add(statement.targets[0].id)
        elif isinstance(statement, ast.If):
            names |= _definitely_assigned(statement.body) & _definitely_assigned(statement.orelse)
    return names


def upward_exposed(body: list[ast.stmt], defined: set[str] | None = None) -> set[str]:
    """Names a block may read before assigning them itself (values from before the block)."""
    defined = set(defined or ())
    exposed: set[str] = set()
    for statement in body:
        exposed |= _statement_reads(statement) - defined
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            defined.add(statement.targets[0].id)
        elif isinstance(statement, ast.If):
            exposed |= upward_exposed(statement.body, defined)
            exposed |= upward_exposed(statement.orelse, defined)
            defined |= _definitely_assigned(statement.body) & \
                _definitely_assigned(statement.orelse)
        elif isinstance(statement, ast.For):
            exposed |= upward_exposed(statement.body, defined | {statement.target.id})
        elif isinstance(statement, ast.While):
            exposed |= upward_exposed(statement.body, defined)
    return exposed


# --- markers --------------------------------------------------------------------------


def resolve_markers(code: ReverseCode, params: set[str], fused: bool = False,
                    numbers: frozenset[str] = frozenset()) -> ReverseCode:
    """Turn Save/Restore pairs into stack operations where the reverse sweep needs them.

    The pullback rebinds every primal name it restores (and loop variables it iterates
    over); those become keyword defaults of the pullback so each call starts from the
    forward sweep's final values, and names that may be unbound at the end of the forward
    sweep are bound to ``None`` at entry.
    """
    needed = set()
    for statement in walk_all(code.reverse):
        if not isinstance(statement, (Save, Restore, Recompute)):
            needed |= _reads_in(statement)
    recomputes = [s for s in walk_all(code.reverse) if isinstance(s, Recompute)]
    for marker in reversed(recomputes):     # a kept recompute reads its own operands
        if marker.statement.targets[0].id in needed:
            needed |= reads_of(marker.statement.value)
    needed |= set().union(*(reads_of(g) for g in code.gradients))
    # a name goes through the stack only if the reverse sweep reads a value it restores
    # (y in ``while ...: y = y * 2`` is read before the reverse loop, never after a pop)
    stacked = _restored_values_read(code.reverse, set().union(*(reads_of(g) for g in
                                                                code.gradients)),
                                    views_of(code.forward, numbers))

    saved_any = False
    rebinds: set[str] = set()
    item_restored: set[str] = set()

    def forward(body: list[ast.stmt]) -> list[ast.stmt]:
        nonlocal saved_any
        out = []
        for statement in body:
            if isinstance(statement, Save):
                if statement.name in stacked:
                    saved_any = True
                    value: ast.expr = _name(statement.name)
                    if statement.index is not None and getattr(statement, "mapping", False):
                        code.helpers.add("saved_entry")
                        value = _call("saved_entry", _name(statement.name),
                                      copy.deepcopy(index_value(statement.index)))
                    elif statement.index is not None:
                        value = _call("np.copy", ast.Subscript(_name(statement.name),
                                                               copy.deepcopy(statement.index),
                                                               ast.Load()))
                    out.append(ast.Expr(_call(f"{code.saved}.append", value)))
                continue
            if isinstance(statement, COMPOUND):
                statement.body = forward(statement.body) or [ast.Pass()]
                statement.orelse = forward(statement.orelse)
            elif isinstance(statement, ast.Expr) and _appends_to(statement, code.saved):
                saved_any = True
            out.append(statement)
        return out

    def reverse(body: list[ast.stmt]) -> list[ast.stmt]:
        out = []
        for statement in body:
            if isinstance(statement, Recompute):
                if statement.statement.targets[0].id in needed:
                    out.append(statement.statement)
                continue
            if isinstance(statement, Restore):
                if statement.name in stacked:
                    popped = _call(f"{code.stack}.pop")
                    if statement.index is None:
                        out.append(_assign(statement.name, popped))
                        rebinds.add(statement.name)
                    elif getattr(statement, "mapping", False):
                        item_restored.add(statement.name)
                        code.helpers.add("restore_entry")
                        out.append(ast.Expr(_call("restore_entry", _name(statement.name),
                                                  copy.deepcopy(index_value(statement.index)),
                                                  popped)))
                    else:
                        item_restored.add(statement.name)
                        out.append(ast.Assign([ast.Subscript(_name(statement.name),
                                                             copy.deepcopy(statement.index),
                                                             ast.Store())], popped))
                continue
            if isinstance(statement, COMPOUND):
                statement.body = reverse(statement.body) or [ast.Pass()]
                statement.orelse = reverse(statement.orelse)
                if isinstance(statement, ast.For) and isinstance(statement.target, ast.Name):
                    rebinds.add(statement.target.id)
            elif isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                    and _pops_from(statement.value, code.stack):
                rebinds.add(statement.targets[0].id)
            out.append(statement)
        return out

    element_written = {s.name for s in walk_all(code.reverse) if isinstance(s, Restore)
                       and s.index is not None}
    forward_code = prune_empty_blocks(forward(code.forward))
    reverse_code = prune_empty_blocks(reverse(code.reverse))
    prologue: list[ast.stmt] = []
    if saved_any:
        forward_code.insert(0, _assign(code.saved, ast.List([], ast.Load())))
        # a pullback may run again: it pops from a copy; a fused gradient runs once
        prologue.append(_assign(code.stack, _name(code.saved) if fused
                                else _call("list", _name(code.saved))))
    epilogue: list[ast.stmt] = []
    for name in sorted(item_restored if not fused else ()):   # a fused gradient runs once
        # Elements are restored in place, so that views of the array (y[:-1] taken before
        # y[1:] was written) see the right values at each step; the array's final state is
        # put back at the end, so the pullback can run again.
        final = f"_{name}_final"
        code.helpers |= {"snapshot", "restore"}
        prologue.append(_assign(final, _call("snapshot", _name(name))))
        epilogue.append(ast.Expr(_call("restore", _name(final))))
        rebinds.add(name)                 # read at entry: bound even if never written
    # an array written in place may be unbound when the forward sweep ends (an early
    # return before its first binding): the pullback takes it as a default, bound to None
    rebinds |= element_written
    rebinds -= {code.seed}
    top_level = {node.id for s in code.forward if isinstance(s, ast.Assign)
                 for node in ast.walk(s.targets[0]) if isinstance(node, ast.Name)}
    prebound = sorted(name for name in rebinds if name not in params and name not in top_level
                      and (name in needed or name in stacked or name in item_restored))
    captured = sorted(name for name in rebinds
                      if name in needed or name in stacked or name in item_restored)
    if prebound:      # names saved before their first assignment need a value to save
        forward_code.insert(0, ast.Assign([_store(name) for name in prebound],
                                          ast.Constant(None)))
    return ReverseCode(forward_code, prologue + reverse_code, code.result, code.seed,
                       code.gradients, code.helpers, captured=captured, prebound=prebound,
                       saved=code.saved, stack=code.stack, epilogue=epilogue)


def views_of(forward: list[ast.stmt],
             numbers: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """``{array: names that may be views or aliases of it}`` (``t = y[0:3]``, ``u = t``,
    ``r = y[i]``: a row of a matrix), but for ``numbers``, names whose specialized shape is
    ``()`` (an element of a vector is a copy)."""
    direct: dict[str, set[str]] = {}
    for statement in walk_all(forward):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id not in numbers:
            for base in may_view(statement):
                direct.setdefault(base, set()).add(statement.targets[0].id)
    views: dict[str, set[str]] = {}
    for base in direct:
        seen, pending = set(), list(direct[base])
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(direct.get(name, ()))
        views[base] = seen
    return views


def _restored_values_read(body: list[ast.stmt], live_out: set[str],
                          views: dict[str, set[str]] | None = None) -> set[str]:
    """The names some :class:`Restore` of ``body`` binds to a value read later (for an
    element restore ``x[i] = ...``: some later statement reads ``x``, or a view of it).

    A backward liveness pass: a whole-name restore defines its name, a recompute its target
    (and reads its operands only when that target is live); loops are solved to a fixpoint.
    """
    found: set[str] = set()
    # the names that may share memory with a name: its views, the arrays it may be a view
    # or alias of (``v0 = _t0``: writing ``v0[2]`` writes ``_t0``), and their other views
    sharing: dict[str, set[str]] = {}
    for base, viewing in (views or {}).items():
        sharing.setdefault(base, set()).update(viewing)
        for name in viewing:
            sharing.setdefault(name, set()).update({base} | viewing)

    def visit(statements: list[ast.stmt], live: set[str]) -> set[str]:
        live = set(live)
        for statement in reversed(statements):
            if isinstance(statement, Restore):
                if statement.name in live or statement.index is not None \
                        and (sharing.get(statement.name, set()) - {statement.name}) & live:
                    found.add(statement.name)
                if statement.index is None:
                    live.discard(statement.name)
                else:
                    live |= reads_of(statement.index)
            elif isinstance(statement, Recompute):
                target = statement.statement.targets[0].id
                if target in live:
                    live.discard(target)
                    live |= reads_of(statement.statement.value)
            elif isinstance(statement, ast.If):
                live = visit(statement.body, live) | visit(statement.orelse, live) \
                    | reads_of(statement.test)
            elif isinstance(statement, (ast.For, ast.While)):
                header = set(live) | set(visit(statement.orelse, live))
                if isinstance(statement, ast.While):
                    header |= reads_of(statement.test)
                while True:
                    widened = header | visit(statement.body, header)
                    if widened == header:
                        break
                    header = widened
                if isinstance(statement, ast.For):
                    header = (header - bound_names(statement.target)) | reads_of(statement.iter)
                live = header
            elif isinstance(statement, ast.Assign):
                reads = reads_of(statement)
                for target in statement.targets:
                    if isinstance(target, (ast.Name, ast.Tuple, ast.List)):
                        live -= bound_names(target)
                live |= reads
            else:                           # anything else: every name in it may be read
                live |= {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}
        return live

    visit(body, live_out)
    return found


def bound_names(target: ast.expr) -> set[str]:
    """The names an assignment target binds (``a``, ``a, b``; not ``a[i]``)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(bound_names(element) for element in target.elts))
    if isinstance(target, ast.Starred):
        return bound_names(target.value)
    return set()


def prune_empty_blocks(body: list[ast.stmt]) -> list[ast.stmt]:
    """Drop ``if c: pass`` and loops whose bodies hold nothing but comments."""
    kept = []
    for statement in body:
        if isinstance(statement, COMPOUND):
            statement.body = prune_empty_blocks(statement.body)
            statement.orelse = prune_empty_blocks(statement.orelse)
            if not any(not is_comment(s) for s in statement.body + statement.orelse):
                while kept and is_comment(kept[-1]):
                    kept.pop()
                continue
            if not any(not is_comment(s) for s in statement.body):
                statement.body = statement.body + [ast.Pass()]
            if not any(not is_comment(s) for s in statement.orelse):
                statement.orelse = []          # an else of comments only is no else
        elif isinstance(statement, ast.Pass):
            continue
        kept.append(statement)
    return kept


def walk_all(body: list[ast.stmt]):
    for statement in body:
        yield statement
        if isinstance(statement, COMPOUND):
            yield from walk_all(statement.body)
            yield from walk_all(statement.orelse)


def _reads_in(statement: ast.stmt) -> set[str]:
    if isinstance(statement, COMPOUND):
        return _statement_reads(statement)
    return reads_of(statement)


def _index_syntax(index: ast.expr) -> ast.expr:
    """``slice(a, b, None)`` or ``np.s_[a:b]`` -> ``a:b``, inside tuples too: the index as a
    person writes it."""
    if is_index_expression(index):
        return copy.deepcopy(index.slice)
    if isinstance(index, ast.Tuple):
        return ast.Tuple([_index_syntax(part) for part in index.elts], ast.Load())
    if isinstance(index, ast.Call) and isinstance(index.func, ast.Name) \
            and index.func.id == "slice" and not index.keywords and len(index.args) <= 3:
        bounds = list(index.args)
        if len(bounds) == 1:
            bounds = [ast.Constant(None)] + bounds
        bounds += [ast.Constant(None)] * (3 - len(bounds))
        lower, upper, step = (None if isinstance(b, ast.Constant) and b.value is None
                              else copy.deepcopy(b) for b in bounds)
        return ast.Slice(lower, upper, step)
    return copy.deepcopy(index)


def _reads_an_element_of(contribution: ast.expr, name: str) -> bool:
    """``index_adjoint(g, name, index)``: the cotangent of a read ``name[index]``."""
    return isinstance(contribution, ast.Call) and isinstance(contribution.func, ast.Name) \
        and contribution.func.id == "index_adjoint" and len(contribution.args) == 3 \
        and isinstance(contribution.args[1], ast.Name) and contribution.args[1].id == name


def _appends_to(statement: ast.Expr, saved: str) -> bool:
    call = statement.value
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
        and isinstance(call.func.value, ast.Name) and call.func.value.id == saved


def _pops_from(value: ast.expr, stack: str) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
        and isinstance(value.func.value, ast.Name) and value.func.value.id == stack \
        and value.func.attr == "pop"


def generate_reverse(analysis: Analysis, namer: Namer, callees: dict[int, str] | None = None,
                     fused: bool = False) -> ReverseCode:
    return ReverseGenerator(analysis, namer, callees, fused).generate()
