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

Passes, in order (:data:`PASSES`), one module each; each is a function
``pass(state) -> None`` over the :class:`~s2s.normalize.core.NormalState` they share
(``core.py`` also holds the AST helpers):

1. ``lower_dispatch_tables`` (``dispatch_tables.py``): a call through a local dict of
   functions -> branches: ``acts[k](x)`` -> ``if k == 'tanh': _call0 = np.tanh(x) elif ...``
   ``lower_piecewise`` (``piecewise.py``): ``y = np.piecewise(x, conds, [f, g])`` ->
   ``_pw_y0 = np.zeros_like(x)`` / ``_pw_y0[m0] = f(x[m0])`` / ``_pw_y0[m1] = g(x[m1])``
   ``check_supported`` (``fence.py``): reject what s2s cannot differentiate, with file:line:col
   ``lower_with_blocks`` (``with_blocks.py``): ``with np.errstate(...): body`` ->
   ``_with0 = np.errstate(...)`` / ``_with0.__enter__()`` / body / ``_with0.__exit__(...)``
   ``lower_comprehensions`` (``comprehensions.py``): comprehensions, ``map`` and
   ``sum``/``min``/``max``/``any``/``all`` -> loops: ``s = sum(x ** 2 for x in xs)`` ->
   ``_sum0 = 0`` / ``for x_1 in xs: _sum0 = _sum0 + x_1 ** 2`` / ``s = _sum0``
   ``lift_local_functions`` (``local_functions.py``): nested ``def``/lambda -> separate
   function, captures as parameters: ``scale(x)`` -> ``scale(x, w)``
2. ``lower_augmented_assignments`` (``augmented_assignments.py``):
   ``y += e``  ->  ``y = y + e``
3. ``lower_multiple_assignments`` (``multiple_assignments.py``):
   ``a, b = e1, e2``  ->  ``_t0 = e1; _t1 = e2; a = _t0; b = _t1``
4. ``lower_for_loops`` (``for_loops.py``):
   ``for v in X``  ->  ``for _i0 in range(len(X)): v = X[_i0]``
5. ``lower_jumps`` (``jumps.py``): ``return``/``break``/``continue`` -> flags and guards:
   ``if c: break``  ->  ``if c: _break0 = True`` / ``if not _break0: ...`` / ``if _break0: break``
6. ``lower_to_three_address`` (``three_address.py``):
   ``z = y * y * 3``  ->  ``_t0 = y * y; z = _t0 * 3``
   ``lower_index_tricks`` (``index_tricks.py``): ``y = np.r_[a, b]``  ->
   ``_t0 = np.atleast_1d(a)`` / ``_t1 = np.atleast_1d(b)`` / ``_t2 = [_t0, _t1]`` /
   ``y = np.concatenate(_t2, axis=0)`` (and ``np.c_`` along the last axis)
7. ``split_self_updates`` (``self_updates.py``):
   ``s = s * x`` in a loop  ->  ``_t0 = s * x; s = _t0``
8. ``rename_reassignments`` (``reassignments.py``):
   ``y = f(y)``  ->  ``y_1 = f(y)`` (top level only)
9. ``resolve_frozen_distributions`` (``frozen_distributions.py``):
   ``d = st.norm(mu, s)`` / ``y = d.logpdf(x)``  ->  ``y = st.norm.logpdf(x, mu, s)``
10. ``merge_common_reads`` (``common_reads.py``): a temporary recomputing a value of its
    block is that value: ``_t3 = x[i]`` / ``_t4 = x[i]`` / ``_t3 * _t4``  ->  ``_t3 * _t3``
"""
from __future__ import annotations

import ast

from ..naming import Namer, names_in
from ..parse import ParsedFunction
from .augmented_assignments import lower_augmented_assignments
from .common_reads import merge_common_reads
from .comprehensions import lower_comprehensions
from .dispatch_tables import lower_dispatch_tables
from .core import (BINARY_OPERATORS, COMPOUND, UNARY_OPERATORS, NormalForm, NormalState,
                   assign, assigned_in, is_global_path, is_index_expression, name, rebound_in,
                   walk_statements)
from .fence import check_supported
from .for_loops import lower_for_loops
from .frozen_distributions import resolve_frozen_distributions
from .index_tricks import lower_index_tricks
from .jumps import lower_jumps
from .local_functions import lift_local_functions
from .multiple_assignments import lower_multiple_assignments
from .piecewise import lower_piecewise
from .reassignments import rename_reassignments
from .self_updates import split_self_updates
from .three_address import lower_to_three_address
from .with_blocks import MANAGERS, lower_with_blocks

__all__ = ["BINARY_OPERATORS", "COMPOUND", "MANAGERS", "PASSES", "UNARY_OPERATORS", "NormalForm",
           "NormalState", "assign", "assigned_in", "is_global_path", "is_index_expression", "name",
           "normalize",
           "rebound_in", "walk_statements"]

PASSES = (
    lower_dispatch_tables,      # before the fence, which accepts lambdas only when assigned
    lower_piecewise,            # before the fence too: it assigns the lambdas it is given
    check_supported,
    lower_with_blocks,
    lower_comprehensions,
    lift_local_functions,
    lower_augmented_assignments,
    lower_multiple_assignments,
    lower_for_loops,
    lower_jumps,
    lower_to_three_address,
    lower_index_tricks,
    split_self_updates,
    rename_reassignments,
    resolve_frozen_distributions,
    merge_common_reads,
)


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
