"""Pass 1a: comprehensions and the builtins that consume them become loops.

Before: ``ys = [w * x for x in xs if x > 0]``
After:  ``_list0 = []`` / ``for x_1 in xs:`` / ``if x_1 > 0: _list0.append(w * x_1)`` /
        ``ys = _list0``

Before: ``s = sum(x ** 2 for x in xs)``
After:  ``_sum0 = 0`` / ``for x_1 in xs: _sum0 = _sum0 + x_1 ** 2`` / ``s = _sum0``

``sum``, ``min``, ``max``, ``any`` and ``all`` of a comprehension (or of any iterable) are
loops of additions, comparisons and short-circuit tests, so they reverse as loops: ``max``
keeps the first of tied elements (``v > m``), as Python does, and its gradient goes there.
``max(a, b, c)`` is a chain of ``if`` statements.  ``map(f, xs)`` is ``(f(v) for v in xs)``.
Set and dict comprehensions build a list of elements (of ``(key, value)`` pairs) passed to
``set(...)`` / ``dict(...)``.  Comprehension variables get fresh names (they are local to
the comprehension in Python).  A comprehension is evaluated where its statement runs, before
the statement's other operands.
"""
from __future__ import annotations

import ast
import copy

from ..runtime import sort_order
from .core import COMPOUND, NormalState, assign, located, name
from .reassignments import Renamer

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_REDUCERS = ("sum", "min", "max", "any", "all")


def lower_comprehensions(state: NormalState) -> None:
    """Comprehensions and ``sum``/``min``/``max``/``any``/``all``/``map`` -> loops."""
    state.body = _lower_block(state, state.body)


def _lower_block(state: NormalState, body: list[ast.stmt]) -> list[ast.stmt]:
    lowered: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lowered.append(statement)        # a local function is lowered when it is derived
            continue
        hoister = _Hoister(state, statement)
        if isinstance(statement, ast.While):
            if _lowers(statement.test, state):
                raise state.source.unsupported(
                    statement.test, "a comprehension or sum/min/max/any/all in a while "
                                    "condition", hint="compute the condition before the loop "
                                    "and again at the end of its body: while flag: ...")
        elif isinstance(statement, ast.If):
            statement.test = hoister.visit(statement.test)
        elif isinstance(statement, ast.For):
            iterable = hoister.as_generator(statement.iter)
            statement.iter = hoister.collect(iterable, "_list") \
                if isinstance(iterable, ast.GeneratorExp) else hoister.visit(iterable)
        elif not isinstance(statement, COMPOUND) and not _is_lambda_assignment(statement):
            statement = hoister.visit(statement)
        if isinstance(statement, COMPOUND):
            statement.body = _lower_block(state, statement.body)
            statement.orelse = _lower_block(state, statement.orelse)
        lowered.extend(_lower_block(state, hoister.emitted) if hoister.emitted else [])
        lowered.append(statement)
    return lowered


def _is_lambda_assignment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda)


def _lowers(tree: ast.AST, state: NormalState) -> bool:
    """Does ``tree`` hold something this pass rewrites?"""
    return any(isinstance(node, _COMPREHENSIONS) or _reducer(node, state) or _map_call(node)
               for node in ast.walk(tree))


def _reducer(node: ast.AST, state: NormalState) -> str | None:
    """``sum``/``min``/``max``/``any``/``all`` called as the builtin (not a local name)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _REDUCERS and node.func.id not in state.local_names \
            and _is_builtin(state, node.func.id) \
            and not any(isinstance(a, ast.Starred) for a in node.args):
        return node.func.id
    return None


def _is_builtin(state: NormalState, identifier: str) -> bool:
    import builtins

    return state.parsed.scope.resolve_path(ast.Name(identifier, ast.Load())) \
        is getattr(builtins, identifier)


def _map_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == "map" and len(node.args) >= 2 and not node.keywords \
        and not any(isinstance(a, ast.Starred) for a in node.args)


class _Hoister(ast.NodeTransformer):
    """Replaces comprehensions and reductions in one statement by names bound before it."""

    def __init__(self, state: NormalState, statement: ast.stmt):
        self.state = state
        self.statement = statement
        self.emitted: list[ast.stmt] = []

    # --- where evaluation is conditional, nothing may be hoisted -------------------------

    def _refuse_inside(self, node: ast.AST, parts: list[ast.AST], what: str) -> ast.AST:
        for part in parts:
            if _lowers(part, self.state):
                raise self.state.source.unsupported(
                    part, f"a comprehension or sum/min/max/any/all inside {what}",
                    hint="compute it on a line of its own (s2s lowers it to a loop)")
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        """``a or any(...)`` -> ``_b0 = a`` / ``if not _b0: _b0 = any(...)``: the later
        operands keep their short-circuit (the loop runs only when Python would run it)."""
        node.values[0] = self.visit(node.values[0])
        rest = node.values[1:]
        if not any(_lowers(part, self.state) for part in rest):
            return node
        flag = self.state.fresh("_b")
        self.emitted.append(assign(flag, node.values[0], node))
        test = name(flag, node) if isinstance(node.op, ast.And) \
            else located(ast.UnaryOp(ast.Not(), name(flag, node)), node)
        value = rest[0] if len(rest) == 1 else located(ast.BoolOp(node.op, rest), node)
        self.emitted.append(located(ast.If(test, [assign(flag, value, node)], []), node))
        return name(flag, node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        """``a if c else max(...)`` -> ``if c: _v0 = a`` / ``else: _v0 = max(...)``."""
        node.test = self.visit(node.test)
        if not (_lowers(node.body, self.state) or _lowers(node.orelse, self.state)):
            return node
        chosen = self.state.fresh("_v")
        self.emitted.append(located(ast.If(node.test, [assign(chosen, node.body, node)],
                                           [assign(chosen, node.orelse, node)]), node))
        return name(chosen, node)

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return self._refuse_inside(node, [node.body], "a lambda")

    # --- the constructs ------------------------------------------------------------------

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        return self.collect(node, "_list")

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        return self._call("set", self.collect(node, "_list"), node)

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        pair = located(ast.Tuple([node.key, node.value], ast.Load()), node)
        items = self.collect(located(ast.ListComp(pair, node.generators), node), "_items")
        return self._call("dict", items, node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        raise self.state.source.unsupported(
            node, "a generator expression outside sum/min/max/any/all/list/tuple/set or a "
                  "for loop", hint="use a list comprehension [...] instead")

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _map_call(node):
            node = self._map_as_generator(node)
            return self.visit(node)
        reducer = _reducer(node, self.state)
        if reducer is not None:
            return self._reduce(reducer, node)
        if isinstance(node.func, ast.Name) and node.func.id == "sorted" \
                and node.func.id not in self.state.local_names \
                and _is_builtin(self.state, "sorted"):
            return self._sorted(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "set",
                                                                "sorted", "enumerate",
                                                                "zip", "reversed") \
                and node.func.id not in self.state.local_names:
            arguments = [self.as_generator(a) for a in node.args]
            node.args = [self.collect(a, "_list") if isinstance(a, ast.GeneratorExp)
                         else self.visit(a) for a in arguments]
            node.keywords = [self.visit(k) for k in node.keywords]
            if node.func.id == "list" and len(node.args) == 1 and not node.keywords \
                    and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id.startswith("_list"):
                return node.args[0]          # list(generator) is the list it built
            return node
        return self.generic_visit(node)

    def _map_as_generator(self, node: ast.Call) -> ast.GeneratorExp:
        """``map(f, xs, ys)`` -> ``(f(a, b) for a, b in zip(xs, ys))``."""
        function, iterables = node.args[0], node.args[1:]
        variables = [self.state.fresh("_v") for _ in iterables]
        if isinstance(function, ast.Lambda) and len(function.args.args) == len(iterables) \
                and not (function.args.vararg or function.args.kwarg or function.args.kwonlyargs
                         or function.args.defaults or function.args.posonlyargs):
            mapping = {a.arg: v for a, v in zip(function.args.args, variables)}
            element = _Rename(mapping).visit(copy.deepcopy(function.body))
        else:
            element = located(ast.Call(function, [name(v, node) for v in variables], []), node)
        if len(iterables) == 1:
            target, iterable = name(variables[0], node, store=True), iterables[0]
        else:
            target = located(ast.Tuple([name(v, node, store=True) for v in variables],
                                       ast.Store()), node)
            iterable = self._call("zip", None, node, iterables)
        return located(ast.GeneratorExp(element, [ast.comprehension(target, iterable, [], 0)]),
                       node)

    def _call(self, function: str, argument, like, arguments=None) -> ast.Call:
        return located(ast.Call(name(function, like), arguments or [argument], []), like)

    # --- lowering ------------------------------------------------------------------------

    def _loops(self, node, inner: list[ast.stmt]) -> ast.stmt:
        """The nested ``for``/``if`` statements of a comprehension around ``inner``."""
        generators, element = self._renamed(node)
        body = inner(element) if callable(inner) else inner
        for generator in reversed(generators):
            for condition in reversed(generator.ifs):
                body = [located(ast.If(condition, body, []), condition)]
            body = [located(ast.For(generator.target, generator.iter, body, []), node)]
        return body[0]

    def _renamed(self, node):
        """The generators and element of ``node`` with fresh names for its variables."""
        generators = []
        mapping: dict[str, str] = {}
        for position, generator in enumerate(node.generators):
            if generator.is_async:
                raise self.state.source.unsupported(node, "async comprehensions cannot be "
                                                          "differentiated")
            iterable = generator.iter if position == 0 else \
                _Rename(mapping).visit(generator.iter)
            for target in ast.walk(generator.target):
                if isinstance(target, ast.Name):
                    mapping[target.id] = self.state.unique(target.id)
                elif not isinstance(target, (ast.Tuple, ast.List, ast.Store)):
                    raise self.state.source.unsupported(
                        target, "a comprehension variable must be a name or a tuple of names")
            rename = _Rename(dict(mapping))
            generators.append(ast.comprehension(rename.visit(generator.target), iterable,
                                                [rename.visit(c) for c in generator.ifs], 0))
        return generators, _Rename(mapping).visit(node.elt)

    def collect(self, node: ast.expr, stem: str) -> ast.Name:
        """``[e for ...]`` -> ``_list0 = []`` / loops appending ``e``."""
        result = self.state.fresh(stem)
        self.emitted.append(assign(result, located(ast.List([], ast.Load()), node),
                                   self.statement))

        def append(element):
            call = ast.Call(located(ast.Attribute(name(result, node), "append", ast.Load()),
                                    node), [element], [])
            return [located(ast.Expr(located(call, node)), node)]
        self.emitted.append(self._loops(node, append))
        return name(result, node)

    def as_generator(self, node: ast.expr) -> ast.expr:
        return self._map_as_generator(node) if _map_call(node) else node

    def _over(self, node: ast.expr):
        """An iterable as something with generators: a comprehension, or ``v for v in it``."""
        node = self.as_generator(node)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            return node
        if isinstance(node, (ast.SetComp, ast.DictComp)):
            return None
        variable = self.state.fresh("_v")
        return located(ast.GeneratorExp(name(variable, node), [ast.comprehension(
            name(variable, node, store=True), node, [], 0)]), node)

    def _reduce(self, reducer: str, node: ast.Call) -> ast.AST:
        keywords = {k.arg: k.value for k in node.keywords}
        if reducer in ("min", "max") and len(node.args) > 1:
            if keywords:
                return self._refuse_keywords(reducer, node)
            return self._extreme_of_arguments(reducer, [self.visit(a) for a in node.args], node)
        if len(node.args) != 1 or set(keywords) - {"sum": {"start"}, "min": {"default"},
                                                    "max": {"default"}}.get(reducer, set()):
            if reducer == "sum" and len(node.args) == 2 and not keywords:
                keywords = {"start": node.args[1]}
            else:
                return self._refuse_keywords(reducer, node)
        source = self._over(node.args[0])
        if source is None:                  # a set or dict: reduce the collection it builds
            source = self._over(self.visit(node.args[0]))
        keywords = {k: self.visit(v) for k, v in keywords.items()}
        if reducer == "sum":
            return self._sum(source, keywords.get("start"), node)
        if reducer in ("any", "all"):
            if len(source.generators) > 1:         # break leaves only the innermost loop
                return self._call(reducer, self.collect(source, "_list"), node)
            return self._any_all(reducer, source, node)
        return self._extreme(reducer, source, keywords.get("default"), node)

    def _sorted(self, node: ast.Call) -> ast.Name:
        """``sorted(xs)`` -> ``_list0`` (a copy of ``xs``) / ``_order0 = sort_order(_list0)`` /
        ``for _k0 in _order0: _sorted0.append(_list0[_k0])``: the elements themselves, in
        Python's order (stable; ``reverse=True`` too), so each gets the gradient of the place
        it was sorted to."""
        keywords = {k.arg: k.value for k in node.keywords}
        if "key" in keywords:
            raise self.state.source.unsupported(
                node, "sorted(..., key=...)", hint="sort the positions by the keys and "
                "gather: order = np.argsort(keys); [xs[i] for i in order]")
        if len(node.args) != 1 or set(keywords) - {"reverse"}:
            raise self.state.source.unsupported(node, "this call of sorted(...)",
                                                hint="call sorted(xs) or sorted(xs, reverse=...)")
        source = self._over(node.args[0])
        if source is None:                  # a set or dict: sort the collection it builds
            source = self._over(self.visit(node.args[0]))
        items = self.collect(source, "_list")
        reverse = self.visit(keywords.get("reverse", located(ast.Constant(False), node)))
        closure = self.state.parsed.scope.closure
        helper = next((key for key, value in closure.items() if value is sort_order), None) \
            or self.state.namer.unique("sort_order")
        closure[helper] = sort_order
        order, result, index = (self.state.fresh(stem) for stem in ("_order", "_sorted", "_k"))
        self.emitted.append(assign(order, self._call(helper, None, node, [items, reverse]),
                                   self.statement))
        self.emitted.append(assign(result, located(ast.List([], ast.Load()), node),
                                   self.statement))
        element = located(ast.Subscript(name(items.id, node), name(index, node), ast.Load()),
                          node)
        append = located(ast.Call(located(ast.Attribute(name(result, node), "append",
                                                        ast.Load()), node), [element], []), node)
        self.emitted.append(located(ast.For(name(index, node, store=True), name(order, node),
                                            [located(ast.Expr(append), node)], []), node))
        return name(result, node)

    def _refuse_keywords(self, reducer: str, node: ast.Call):
        raise self.state.source.unsupported(
            node, f"this call of {reducer}(...) (key=, or an unexpected argument)",
            hint=f"compute the {reducer} with a for loop, or with NumPy on an array")

    def _sum(self, source, start, node) -> ast.Name:
        """``_sum0 = start`` / loops of ``_sum0 = _sum0 + e``."""
        total = self.state.fresh("_sum")
        start = start if start is not None else located(ast.Constant(0), node)
        self.emitted.append(assign(total, start, self.statement))
        self.emitted.append(self._loops(source, lambda element: [assign(
            total, located(ast.BinOp(name(total, node), ast.Add(), element), node), node)]))
        return name(total, node)

    def _any_all(self, reducer: str, source, node) -> ast.Name:
        """``any``: ``_any0 = False`` / ``for ...: if e: _any0 = True; break``."""
        result = self.state.fresh(f"_{reducer}")
        found = reducer == "any"
        self.emitted.append(assign(result, located(ast.Constant(not found), node),
                                   self.statement))

        def test(element):
            if not found:
                element = located(ast.UnaryOp(ast.Not(), element), element)
            return [located(ast.If(element, [assign(result, located(ast.Constant(found), node),
                                                    node), located(ast.Break(), node)], []),
                            node)]
        self.emitted.append(self._loops(source, test))
        return name(result, node)

    def _extreme(self, reducer: str, source, default, node) -> ast.Name:
        """``max`` of an iterable: the first element greater than every one before it."""
        result = self.state.fresh(f"_{reducer}")
        empty = self.state.fresh("_empty")
        initial = default if default is not None else located(ast.Constant(None), node)
        self.emitted.append(assign(result, initial, self.statement))
        self.emitted.append(assign(empty, located(ast.Constant(True), node), self.statement))
        operator = ast.Gt() if reducer == "max" else ast.Lt()

        def keep(element):
            item = self.state.fresh("_item")
            better = located(ast.Compare(name(item, node), [operator], [name(result, node)]),
                             node)
            take = [assign(result, name(item, node), node)]
            return [assign(item, element, node),
                    located(ast.If(name(empty, node), take,
                                   [located(ast.If(better, copy.deepcopy(take), []), node)]),
                            node),
                    assign(empty, located(ast.Constant(False), node), node)]
        self.emitted.append(self._loops(source, keep))
        if default is None:
            message = located(ast.Constant(f"{reducer}() iterable argument is empty"), node)
            error = located(ast.Call(name("ValueError", node), [message], []), node)
            self.emitted.append(located(ast.If(name(empty, node), [
                located(ast.Raise(error, None), node)], []), node))
        return name(result, node)

    def _extreme_of_arguments(self, reducer: str, arguments, node) -> ast.Name:
        """``max(a, b)`` -> ``_max0 = a`` / ``if b > _max0: _max0 = b``."""
        result = self.state.fresh(f"_{reducer}")
        operator = ast.Gt() if reducer == "max" else ast.Lt()
        self.emitted.append(assign(result, arguments[0], self.statement))
        for argument in arguments[1:]:
            if not isinstance(argument, (ast.Name, ast.Constant)):
                item = self.state.fresh("_item")
                self.emitted.append(assign(item, argument, self.statement))
                argument = name(item, node)
            better = located(ast.Compare(copy.deepcopy(argument), [operator],
                                         [name(result, node)]), node)
            self.emitted.append(located(ast.If(better, [assign(result, argument, node)], []),
                                        node))
        return name(result, node)


class _Rename(Renamer):
    """Renames comprehension variables; an inner comprehension re-binding a name keeps it."""

    def _scope(self, node):
        bound = {n.id for g in node.generators for n in ast.walk(g.target)
                 if isinstance(n, ast.Name)}
        if bound & set(self.mapping):
            inner = _Rename({k: v for k, v in self.mapping.items() if k not in bound})
            node.generators[0].iter = self.visit(node.generators[0].iter)
            for generator in node.generators[1:]:
                generator.iter = inner.visit(generator.iter)
            for generator in node.generators:
                generator.ifs = [inner.visit(c) for c in generator.ifs]
            for field in ("elt", "key", "value"):
                if hasattr(node, field):
                    setattr(node, field, inner.visit(getattr(node, field)))
            return node
        return self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scope
