"""Pass 9: a frozen ``scipy.stats`` distribution's method calls the distribution's method
with the frozen parameters.

Before: ``d = st.norm(mu, s)`` / ``y = d.logpdf(x)``
After:  ``d = st.norm(mu, s)`` / ``y = st.norm.logpdf(x, mu, s)``

(``st.norm(mu, s).logpdf(x)`` reaches this pass as ``_t0 = st.norm(mu, s)`` / ``_t1 =
_t0.logpdf(x)``.)  The rewritten call is the same computation, and its rule sees ``mu``
and ``s`` as the arguments they are, so they get adjoints and tangents.  It is made only
where it provably reads the same values:

* ``d`` is bound once, to a call of a ``scipy.stats`` distribution written as a global path
  (``st.norm``, ``norm``, ``scipy.stats.multivariate_normal``), with plain arguments (no
  ``*args`` or ``**options``; SciPy's ``seed=`` is dropped, the methods do not take it);
* the method call runs after the freezing call in the same execution of its block (it is
  in that block, later, or nested in a later statement of it);
* each local name the freezing call reads is bound once, before it, in its block or an
  enclosing one, or is a parameter never re-bound, or the variable of a loop around it:
  nothing re-binds it between the two calls.

Any other use of a frozen distribution is left as written: the analysis refuses it
(:class:`s2s.MissingRuleError`) if a differentiated value reaches its parameters or its
method, and never treats it as a constant.
"""
from __future__ import annotations

import ast
import copy

from .. import library
from .core import NormalState, is_global_path, keep_marks, located, walk_statements


def resolve_frozen_distributions(state: NormalState) -> None:
    """Rewrite ``d.method(x)`` to ``dist.method(x, *params)`` where ``d = dist(*params)``."""
    local_names = state.local_names | set(state.parsed.params)
    paths = _block_paths(state.body)
    statements = list(walk_statements(state.body))
    frozen = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, ast.Call) \
                and is_global_path(statement.value.func, local_names) \
                and library.is_distribution(state.parsed.scope.resolve_path(
                    statement.value.func)):
            frozen[statement.targets[0].id] = statement
    if not frozen:
        return
    sites = _binding_sites(statements)
    for statement in statements:
        value = getattr(statement, "value", None)
        if not (isinstance(statement, ast.Assign) and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Name)):
            continue
        binding = frozen.get(value.func.value.id)
        if binding is None or len(sites.get(value.func.value.id, ())) != 1 \
                or value.func.value.id in state.parsed.params \
                or not _unchanged(state, binding, statement, paths, sites, local_names):
            continue
        construction = binding.value
        if any(isinstance(argument, ast.Starred) for argument in construction.args) \
                or any(keyword.arg is None for keyword in construction.keywords):
            continue
        call = ast.Call(
            located(ast.Attribute(copy.deepcopy(construction.func), value.func.attr,
                                  ast.Load()), value.func),
            [*value.args, *(copy.deepcopy(argument) for argument in construction.args)],
            [*(copy.deepcopy(keyword) for keyword in construction.keywords
               if keyword.arg != "seed"), *value.keywords])
        statement.value = keep_marks(located(call, value), value)


def _block_paths(body) -> dict[int, tuple[tuple[int, int], ...]]:
    """For every statement: its path from the function body, ((block, index), ...), a
    block being the ``id`` of a statement list (a body or an ``orelse``)."""
    paths: dict[int, tuple[tuple[int, int], ...]] = {}

    def visit(block, prefix) -> None:
        for index, statement in enumerate(block):
            path = prefix + ((id(block), index),)
            paths[id(statement)] = path
            if isinstance(statement, (ast.If, ast.For, ast.While)):
                visit(statement.body, path)
                visit(statement.orelse, path)
    visit(body, ())
    return paths


def _binding_sites(statements) -> dict[str, list[ast.stmt]]:
    """name -> the statements that bind it (assignments, loop heads)."""
    sites: dict[str, list[ast.stmt]] = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            sites.setdefault(statement.targets[0].id, []).append(statement)
        elif isinstance(statement, ast.For):
            for node in ast.walk(statement.target):
                if isinstance(node, ast.Name):
                    sites.setdefault(node.id, []).append(statement)
    return sites


def _unchanged(state: NormalState, binding: ast.Assign, use: ast.stmt, paths, sites,
               local_names) -> bool:
    """Do the names ``binding`` reads hold, at ``use``, the values they held at ``binding``?
    (The sufficient conditions of the module docstring.)"""
    made, used = paths[id(binding)], paths[id(use)]
    depth = len(made) - 1
    if used[:depth] != made[:depth] or len(used) <= depth or used[depth][0] != made[depth][0] \
            or used[depth][1] <= made[depth][1]:
        return False
    read = {node.id for node in ast.walk(binding.value)
            if isinstance(node, ast.Name) and node.id in local_names}
    for name in read:
        bound = sites.get(name, [])
        if name in state.parsed.params:
            if bound:
                return False                   # a parameter re-bound somewhere
            continue
        if len(bound) != 1:
            return False
        site = paths[id(bound[0])]
        if isinstance(bound[0], ast.For):      # bound before each run of its body
            if not (len(made) > len(site) and made[:len(site)] == site):
                return False
            continue
        level = len(site) - 1
        if not (len(made) > level and made[:level] == site[:level]
                and made[level][0] == site[level][0] and site[level][1] < made[level][1]):
            return False
    return True
