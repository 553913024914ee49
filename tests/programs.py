"""Random, valid NumPy programs for testing s2s (issue 5: random-program testing).

:func:`programs` is a hypothesis strategy drawing the source text of a module holding
``def f(x, y):`` (``x`` a float64 array of shape (3,), ``y`` a Python float, a scalar
result) and the helper functions it calls.  The grammar covers what README.md lists as
supported: straight-line arithmetic, elementwise functions, reductions, element and slice
reads and writes, ``if``/``elif``/``else``, conditional expressions, ``for`` loops over
ranges (constant and data-dependent trip counts), arrays, ``enumerate`` and ``zip``,
``while`` loops, ``break``/``continue``, loop ``else`` clauses, early returns, calls to
module-level helpers (also with tuple returns and keyword arguments), nested ``def``s and
lambdas closing over local values; and (issue 13) ``%``, ``//``, ``divmod``/``np.divmod``,
``np.s_`` indices, every ``np.einsum`` calling form, attribute reads (``x.T``, ``x.real``,
``x.shape[0]``...), array methods with rules, integers mixed into float expressions and
complex intermediates with real results (``np.exp(1j * x)``, ``np.abs``, ``np.conj``,
``np.fft.fft``/``ifft``/``rfft``/``irfft``).

:func:`refused_programs` draws such a program with one construct s2s has no rule for
(``REFUSED``: ``np.r_``, ``np.c_``, ``x.tobytes()``, ``x.flat``, ``np.unwrap``...) on a
differentiated value, for the test that s2s refuses it.

Programs stay numerically tame: the generator tracks a bound on the magnitude of every
value and squashes with ``np.tanh`` where the bound would grow past a limit; divisions
are guarded (``a / (1.0 + b * b)``), ``exp`` and ``log`` only see safe arguments, ``std``
sees a spread of at least 0.4 and ``prod`` bounded factors.  ``%`` and ``//`` jump: some
forms keep every reachable argument inside one period (``PERIODS``), the others may meet a
jump, which the finite differences then detect (the example is rejected, never failed).  Inside
loops, values carried from one iteration to the next keep a bound of ``LOOP_BOUND``.
Arrays are written into only when the program made them itself, so the caller's inputs
are never mutated and no two names alias one array.

:func:`check_program` runs the gradient checks shared by tests/test_random_programs.py
and tests/test_regressions.py: the generated code (``fallback="error"``) against central
finite differences in float64 and against the runtime tape.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import itertools
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

import s2s
from s2s.runtime import SharedViewError
from s2s.tape import vjp_with_tape

SCALAR, VECTOR, PAIR = "s", "v", "sv"
CONSTANTS = ("0.5", "1.5", "-0.3", "2.0", "0.7", "-1.2", "0.25")
THRESHOLDS = ("0.3", "-0.2", "0.9", "-1.1", "1.7", "0.05", "-0.6")
LIMIT = 50.0          # straight-line values above this bound get squashed with np.tanh
LOOP_BOUND = 4.0      # values carried around a loop stay below this bound
MAX_TRIPS = 5         # no loop runs more than this many times
MAX_STATEMENTS = 20   # statements in f, helpers included
ARGUMENT_BOUND = 4.0  # helpers and nested functions assume arguments this large at most

# Grammar features to leave out: statement forms ("closure", "while", "pair call",
# "divmod"...) and "closure in block", "boolop", "jump in loop else", "write in block",
# "ifexp in while", "rebind iterated" (a loop over an array rebinding the array's name),
# "globals in closure" (nested functions calling math.* or module-level helpers), and the
# wider grammar of issue 13: "%", "//", "np.s_", "einsum" (string and sublist forms),
# "attribute" (x.T, x.real, x.imag, x.shape[0], x.size, x.ndim), "method" (x.sum(),
# x.cumsum(), x.reshape(...), x.std()...), "zero method" (x.round(), declared zero),
# "divmod by a variable" (a divmod statement whose divisor depends on the inputs),
# "int mix" (len(x), int(2.0), x * 2, True * x) and "complex" (complex intermediates, real
# results).
DISABLED: set[str] = set()

# ``a % d`` and ``a // d`` jump where a / d is an integer.  With |a| <= 2, ``(a + o) % d``
# and ``(a + o) // d`` for these (o, d) stay at least 0.5 inside one period: no jump is
# reachable (the other forms can reach one; finite differences then reject the example).
PERIODS = (("10.0", "7.5"), ("3.0", "6.0"), ("-3.0", "6.5"), ("3.0", "-6.0"))
DIVISORS = ("0.7", "1.5", "2.0", "-1.5")
# Constructs with no rule and no declared zero: s2s must refuse them when they meet a
# differentiated value (``refused_programs``).  Each is a format of ``a`` (a differentiated
# vector) and ``b`` (any vector); the statement ``u = ...`` binds a scalar.
REFUSED = {
    "np.r_": "np.sum(np.r_['0,2', {a}, {b}])",       # np.r_[a, b] is np.concatenate
    "np.c_": "np.sum(np.c_['1,2,0', {a}, {b}])",
    "tobytes": "np.sum(np.frombuffer(({a}).tobytes()))",
    "flat": "({a}).flat[{i}]",
    "unwrap": "np.sum(np.unwrap({a}))",
    "tolist": "np.sum(np.array(({a}).tolist()))",
}


@dataclass
class Var:
    name: str
    kind: str
    bound: float
    owned: bool = False      # an array this function made itself: it may be written into


@dataclass
class Func:
    name: str
    params: tuple[str, ...]  # kinds
    returns: str
    bound: float
    keyword: str | None = None


@dataclass
class Scope:
    """What the generator knows at one point of a function body."""

    vars: dict[str, Var]
    funcs: dict[str, Func]
    loop_indices: list[tuple[str, int]] = field(default_factory=list)   # (name, largest)
    loops: int = 0           # enclosing loops
    returns: str = SCALAR    # kind this function returns
    readonly: frozenset = frozenset()   # closed-over names (a nested def cannot rebind)

    def copy(self) -> "Scope":
        return Scope({k: Var(v.name, v.kind, v.bound, v.owned) for k, v in self.vars.items()},
                     dict(self.funcs), list(self.loop_indices), self.loops, self.returns,
                     self.readonly)

    def of(self, kind: str) -> list[Var]:
        return [v for v in self.vars.values() if v.kind == kind]


def _clip(bound: float) -> float:
    return min(bound, 1e12)


def _may_share_memory(node: ast.AST) -> bool:
    """Whether an expression may evaluate to an existing array or a view of one."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):                  # x.T, x.real
        return node.attr in ("T", "real")
    if isinstance(node, ast.Subscript):                  # x[::-1], x[np.s_[1:]], A[:, 0]
        return not isinstance(node.slice, ast.List)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("ravel", "reshape", "einsum")   # einsum('i->i', x) too
    return False


def freshen(e: str) -> str:
    """A vector expression that builds a new array (not a name or a view of one)."""
    if _may_share_memory(ast.parse(e, mode="eval").body):
        return f"{e} * 1.0"
    return e


class Generator:
    """Draws one program; ``draw`` is hypothesis' draw function (or any stand-in)."""

    def __init__(self, draw: Callable[[Any], Any], refuse: str | None = None):
        self.draw = draw
        self.refuse = refuse       # a construct of REFUSED to place in f (refused_programs)
        self.refused_term: str | None = None   # added to f's results once it is placed
        self.keep_going = False    # no top-level `if` whose branches all return
        self.counter = itertools.count()
        self.budget = MAX_STATEMENTS
        self.lines: list[str] = []
        self.helpers: dict[str, Func] = {}
        self.no_jumps = 0          # > 0 while generating a loop's else clause
        self.no_ifexp = 0          # > 0 while generating a while loop's condition
        self.returned = False      # an early return has been generated
        self.no_globals = 0        # > 0 while generating a nested function's body

    # --- choices -------------------------------------------------------------------------

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def number(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def chance(self, percent: int) -> bool:
        """True with roughly this probability; shrinks towards False."""
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    @staticmethod
    def enabled(*features: str) -> list[str]:
        return [feature for feature in features if feature not in DISABLED]

    # --- expressions ---------------------------------------------------------------------

    def squash(self, text: str, bound: float, limit: float) -> tuple[str, float]:
        if bound <= limit:
            return text, bound
        return f"np.tanh({text})", 1.0

    def expr(self, scope: Scope, kind: str, depth: int) -> tuple[str, float]:
        """An expression of ``kind`` and a bound on its magnitude."""
        if depth <= 0 or self.number(0, 2) == 0:
            return self.leaf(scope, kind, depth)
        if kind == SCALAR:
            return self.scalar_node(scope, depth)
        return self.vector_node(scope, depth)

    def leaf(self, scope: Scope, kind: str, depth: int) -> tuple[str, float]:
        if kind == VECTOR:
            vectors = scope.of(VECTOR)
            form = self.pick(["name", "name", "reversed", "fancy", "array"]
                             + self.enabled("np.s_", "attribute", "method", "einsum",
                                            "zero method")
                             if depth > 0 else
                             ["name", "reversed", "fancy"] + self.enabled("np.s_", "attribute"))
            v = self.pick(vectors)
            if form == "name":
                return v.name, v.bound
            if form == "np.s_":
                index = self.pick(["np.s_[::-1]", "np.s_[[2, 0, 1]]", "np.s_[:]"])
                return f"{v.name}[{index}]", v.bound
            if form == "attribute":
                how = self.pick(["{0}.T", "{0}.real", "({0}.imag + {0})"])
                return how.format(v.name), v.bound
            if form == "method":
                return self.vector_method(scope, depth)
            if form == "einsum":
                return self.vector_einsum(scope, depth)
            if form == "zero method":        # piecewise constant times a smooth value
                w = self.pick(vectors)
                return f"({v.name}.round() * {w.name})", (v.bound + 1) * w.bound
            if form == "reversed":
                return f"{v.name}[::-1]", v.bound
            if form == "fancy":
                index = self.pick(["[0, 0, 2]", "[2, 1, 0]", "[1, 1, 1]", "[0, 2, 2]"])
                return f"{v.name}[{index}]", v.bound
            parts = [self.leaf(scope, SCALAR, 0) for _ in range(3)]
            return f"np.array([{', '.join(p for p, _ in parts)}])", max(b for _, b in parts)
        options = ["name", "constant", "element"]
        if scope.loop_indices:
            options.append("loop element")
        options += self.enabled("int mix", "attribute")
        if depth > 0:
            options += ["sum", "slice sum", "product"] + self.enabled("method", "einsum", "np.s_")
        form = self.pick(options)
        scalars = scope.of(SCALAR)
        if form == "name" and scalars:
            v = self.pick(scalars)
            return v.name, v.bound
        if form == "constant":
            c = self.pick(CONSTANTS)
            return c, abs(float(c))
        v = self.pick(scope.of(VECTOR))
        if form == "int mix":
            return self.pick([f"len({v.name})", "int(2.0)", "int(-1.7)", f"(len({v.name}) - 2)",
                              f"(len({v.name}) // 2)", "(3 * 2 - 5)"]), 3.0
        if form == "attribute":
            return self.pick([f"{v.name}.shape[0]", f"{v.name}.size", f"{v.name}.ndim",
                              f"({v.name}.shape[0] - 1)"]), 3.0
        if form == "method":
            return self.scalar_method(scope, depth)
        if form == "einsum":
            return self.scalar_einsum(scope, depth)
        if form == "np.s_":
            if self.chance(50):
                return f"{v.name}[np.s_[{self.pick(['0', '1', '-1'])}]]", v.bound
            piece = self.pick(["1:", ":2", "::2", "-2:"])
            return f"np.sum({v.name}[np.s_[{piece}]])", 3 * v.bound
        if form == "loop element":
            i, largest = self.pick(scope.loop_indices)
            index = self.pick([f"{i}", f"{i} % 3", f"({i} + 1) % 3", f"-1 - {i} % 3"])
            if index == i and largest > 2:
                index = f"{i} % 3"
            return f"{v.name}[{index}]", v.bound
        if form == "sum":
            e, b = self.expr(scope, VECTOR, depth - 1)
            how = self.pick(["np.sum({})", "np.mean({})", "({}).sum()", "({}).mean()"])
            return how.format(e), b * (3 if "sum" in how else 1)
        if form == "slice sum":
            piece = self.pick(["0:2", "1:", ":2", "1:3", "::2", "-2:", "0:3:2"])
            return f"np.sum({v.name}[{piece}])", 3 * v.bound
        if form == "product":
            w = self.pick(scope.of(VECTOR))
            how = self.pick(["np.dot({}, {})", "({} @ {})", "np.dot({}[0:2], {}[1:3])",
                             "np.linalg.norm({} - 0.5 * {})"])
            return how.format(v.name, w.name), 3 * v.bound * w.bound
        index = self.pick(["0", "1", "2", "-1"])
        return f"{v.name}[{index}]", v.bound

    def vector_method(self, scope: Scope, depth: int) -> tuple[str, float]:
        e, b = self.expr(scope, VECTOR, depth - 1)
        how = self.pick(["({}).cumsum()", "({}).clip(-0.5, 0.8)", "({}).reshape(3)",
                         "({}).reshape(-1)", "({}).reshape(1, 3)[0]", "({}).reshape(3, 1)[:, 0]",
                         "({}).ravel()", "({}).copy()"])
        if "cumsum" in how:
            return how.format(e), 3 * b
        return how.format(e), (0.8 if "clip" in how else b)

    def scalar_method(self, scope: Scope, depth: int) -> tuple[str, float]:
        e, b = self.expr(scope, VECTOR, depth - 1)
        w = self.pick(scope.of(VECTOR))
        how = self.pick(["sum", "mean", "max", "min", "prod", "var", "std", "dot"])
        if how == "prod":           # bounded factors: the product stays tame
            return f"(1.0 + 0.5 * np.tanh({e})).prod()", 1.5 ** 3
        if how == "std":            # a spread of at least 0.4: std is smooth there
            return f"(0.3 * np.tanh({e}) + np.array([0.0, 1.0, 2.0])).std()", 2.3
        if how == "dot":
            return f"({e}).dot({w.name})", 3 * b * w.bound
        bounds = {"sum": 3 * b, "var": b * b}
        return f"({e}).{how}()", bounds.get(how, b)

    def operands(self, scope: Scope, depth: int, count: int) -> list[tuple[str, float]]:
        """Vector operands: an expression, then names."""
        first = self.expr(scope, VECTOR, depth - 1)
        rest = [(v.name, v.bound) for v in (self.pick(scope.of(VECTOR)) for _ in range(count - 1))]
        return [first] + rest

    def vector_einsum(self, scope: Scope, depth: int) -> tuple[str, float]:
        (v, bv), (w, bw), (u, bu) = self.operands(scope, depth, 3)
        form = self.pick(["'i->i'", "sublist i->i", "'i,i->i'", "'ij,j->i'", "'ji,j->i'",
                          "sublist ij,j->i"])
        if form == "'i->i'":
            return f"np.einsum('i->i', {v})", bv
        if form == "sublist i->i":
            return f"np.einsum({v}, [0], [0])", bv
        if form == "'i,i->i'":
            return f"np.einsum('i,i->i', {v}, {w})", bv * bw
        if form == "sublist ij,j->i":
            return f"np.einsum(np.outer({v}, {w}), [0, 1], {u}, [1], [0])", 3 * bv * bw * bu
        return f"np.einsum({form}, np.outer({v}, {w}), {u})", 3 * bv * bw * bu

    def scalar_einsum(self, scope: Scope, depth: int) -> tuple[str, float]:
        (v, bv), (w, bw), (u, bu) = self.operands(scope, depth, 3)
        form = self.pick(["'i,i->'", "'i,i'", "sublist i,i->", "'i,i,i->'", "'i->'", "'ii'",
                          "sublist ii"])
        if form in ("'i,i->'", "'i,i'"):
            return f"np.einsum({form}, {v}, {w})", 3 * bv * bw
        if form == "sublist i,i->":
            return f"np.einsum({v}, [0], {w}, [0], [])", 3 * bv * bw
        if form == "'i,i,i->'":
            return f"np.einsum('i,i,i->', {v}, {w}, {u})", 3 * bv * bw * bu
        if form == "'i->'":
            return f"np.einsum('i->', {v})", 3 * bv
        if form == "'ii'":
            return f"np.einsum('ii', np.outer({v}, {w}))", 3 * bv * bw
        return f"np.einsum(np.outer({v}, {w}), [0, 0], [])", 3 * bv * bw

    def complex_value(self, scope: Scope, kind: str, depth: int) -> tuple[str, float]:
        """A real value computed through complex intermediates."""
        a, ba = self.expr(scope, kind, depth - 1)
        b, bb = self.expr(scope, self.pick([SCALAR, kind]), depth - 1)
        form = self.pick(["real exp", "imag exp", "abs", "conj", "imag scale"]
                         + (["fft", "rfft"] if kind == VECTOR else ["spectrum"]))
        if form == "fft":
            return f"np.real(np.fft.ifft(np.fft.fft({a}) * (1.0 + 0.5j * {b})))", \
                ba * (1 + 0.5 * bb)
        if form == "rfft":           # 3 samples: 2 bins, no Nyquist bin (an odd length)
            return f"np.fft.irfft(np.fft.rfft({a}, norm='ortho') * (0.5 - 1j), 3, " \
                   "norm='ortho')", 3 * ba
        if form == "spectrum":
            v, bv = self.expr(scope, VECTOR, depth - 1)
            return f"np.sum(np.abs(np.fft.rfft({v})) ** 2 * np.array([0.5, 1.0]))", 9 * bv * bv
        if form == "real exp":
            return f"np.real(np.exp(1j * {a}) * {b})", bb
        if form == "imag exp":
            return f"np.imag(np.exp(1j * {a}) * {b})", bb
        if form == "abs":           # |a + i(1 + b^2)| >= 1: away from abs's kink at zero
            return f"np.abs({a} + 1j * (1.0 + {b} * {b}))", ba + 1 + bb * bb
        if form == "conj":
            return f"(({a} + 1j * {b}) * np.conj({a} + 1j * {b})).real", ba * ba + bb * bb
        return f"({a} * (1.0 + 2.0j)).imag", 2 * ba

    def integer_scale(self, scope: Scope, kind: str, depth: int) -> tuple[str, float]:
        """Integers mixed into a float expression: ``x * 2``, ``True * x``, ``x + len(v)``."""
        e, b = self.expr(scope, kind, depth - 1)
        k = self.pick(["2", "3", "True", "-1", f"len({self.pick(scope.of(VECTOR)).name})"])
        form = self.pick(["right", "left", "add"])
        if form == "add":
            return f"({e} + {k})", b + 3
        return (f"({e} * {k})" if form == "right" else f"({k} * {e})"), 3 * b

    def remainder(self, left: tuple[str, float], right: tuple[str, float]) -> tuple[str, float]:
        (a, ba), (b, bb) = left, right
        form = self.pick(["guarded", "constant", "period"])
        if form == "guarded":
            return f"({a} % (1.5 + {b} * {b}))", 1.5 + bb * bb
        # the other operand is added: the result keeps the kind of the pair (a vector)
        if form == "constant":
            c = self.pick(DIVISORS)
            return f"(({a} % {c}) + {b})", abs(float(c)) + bb
        a, _ = self.squash(a, ba, 2.0)
        offset, d = self.pick(PERIODS)
        return f"((({a} + {offset}) % {d}) + {b})", abs(float(d)) + bb

    def quotient(self, left: tuple[str, float], right: tuple[str, float]) -> tuple[str, float]:
        """``a // d`` (piecewise constant) times a smooth value."""
        (a, ba), (b, bb) = left, right
        form = self.pick(["guarded", "constant", "period"])
        if form == "guarded":
            return f"(({a} // (1.5 + {b} * {b})) * {b})", (ba / 1.5 + 1) * bb
        if form == "constant":
            c = self.pick(DIVISORS)
            return f"(({a} // {c}) * {b})", (ba / abs(float(c)) + 1) * bb
        a, _ = self.squash(a, ba, 2.0)
        offset, d = self.pick(PERIODS)
        quotient = (abs(float(offset)) + 2) / abs(float(d)) + 1
        return f"((({a} + {offset}) // {d}) * {b})", quotient * bb

    def unary(self, e: str, b: float) -> tuple[str, float]:
        form = self.pick(["np.tanh", "np.sin", "np.cos", "-", "np.exp", "np.log", "np.sqrt",
                          "np.abs", "square", "cube", "guarded"])
        if form == "-":
            return f"(-{e})", b
        if form == "np.exp":
            return f"np.exp(np.tanh({e}))", math.e
        if form == "np.log":
            return f"np.log(1.0 + {e} * {e})", math.log1p(b * b)
        if form == "np.sqrt":
            return f"np.sqrt(1.0 + {e} * {e})", math.sqrt(1 + b * b)
        if form == "square":
            return f"{e} ** 2", b * b
        if form == "cube":
            return f"{e} ** 3", b ** 3
        if form == "guarded":
            return f"{e} / (2.0 + np.cos({e}))", b
        if form == "np.abs":
            return f"np.abs({e})", b
        return f"{form}({e})", 1.0

    def binary(self, left: tuple[str, float], right: tuple[str, float]) -> tuple[str, float]:
        (a, ba), (b, bb) = left, right
        op = self.pick(["+", "*", "-", "/", "max", "min"] + self.enabled("%", "//"))
        if op == "%":
            return self.remainder(left, right)
        if op == "//":
            return self.quotient(left, right)
        if op == "+" or op == "-":
            return f"({a} {op} {b})", ba + bb
        if op == "*":
            return f"({a} * {b})", ba * bb
        if op == "/":
            return f"({a} / (1.0 + {b} * {b}))", ba
        return f"np.{op}imum({a}, {b})", max(ba, bb)

    def scalar_node(self, scope: Scope, depth: int) -> tuple[str, float]:
        options = ["unary", "binary", "binary", "math"] + self.enabled("complex", "int mix")
        if not self.no_ifexp:
            options.append("ifexp")
        if self.no_globals:
            options.remove("math")
        calls = [g for g in self.callable(scope) if g.returns == SCALAR]
        if calls:
            options.append("call")
        form = self.pick(options)
        if form == "unary":
            return self.unary(*self.expr(scope, SCALAR, depth - 1))
        if form == "binary":
            return self.binary(self.expr(scope, SCALAR, depth - 1),
                               self.expr(scope, SCALAR, depth - 1))
        if form == "math":
            e, b = self.expr(scope, SCALAR, depth - 1)
            how = self.pick(["math.sin", "math.cos", "math.tanh", "math.exp", "abs"])
            if how == "math.exp":
                return f"math.exp(math.tanh({e}))", math.e
            return f"{how}({e})", (b if how == "abs" else 1.0)
        if form == "ifexp":
            return self.ifexp(scope, SCALAR, depth)
        if form == "complex":
            return self.complex_value(scope, SCALAR, depth)
        if form == "int mix":
            return self.integer_scale(scope, SCALAR, depth)
        return self.call(scope, self.pick(calls), depth)

    def vector_node(self, scope: Scope, depth: int) -> tuple[str, float]:
        options = ["unary", "binary", "binary", "mixed", "where"] + self.enabled("complex",
                                                                                 "int mix")
        if not self.no_ifexp:
            options.append("ifexp")
        calls = [g for g in self.callable(scope) if g.returns == VECTOR]
        if calls:
            options.append("call")
        form = self.pick(options)
        if form == "unary":
            return self.unary(*self.expr(scope, VECTOR, depth - 1))
        if form == "binary":
            return self.binary(self.expr(scope, VECTOR, depth - 1),
                               self.expr(scope, VECTOR, depth - 1))
        if form == "mixed":
            pair = [self.expr(scope, VECTOR, depth - 1), self.expr(scope, SCALAR, depth - 1)]
            if self.chance(50):
                pair.reverse()
            return self.binary(*pair)
        if form == "where":
            v = self.pick(scope.of(VECTOR))
            a, ba = self.expr(scope, VECTOR, depth - 1)
            b, bb = self.expr(scope, self.pick([VECTOR, SCALAR]), depth - 1)
            return f"np.where({v.name} > {self.pick(THRESHOLDS)}, {a}, {b})", max(ba, bb)
        if form == "ifexp":
            return self.ifexp(scope, VECTOR, depth)
        if form == "complex":
            return self.complex_value(scope, VECTOR, depth)
        if form == "int mix":
            return self.integer_scale(scope, VECTOR, depth)
        return self.call(scope, self.pick(calls), depth)

    def callable(self, scope: Scope) -> list[Func]:
        return [g for g in scope.funcs.values()
                if not (self.no_globals and g.name in self.helpers)]

    def ifexp(self, scope: Scope, kind: str, depth: int) -> tuple[str, float]:
        a, ba = self.expr(scope, kind, depth - 1)
        b, bb = self.expr(scope, kind, depth - 1)
        if kind == VECTOR:
            a, b = freshen(a), freshen(b)
        return f"({a} if {self.condition(scope, 1)} else {b})", max(ba, bb)

    def call(self, scope: Scope, g: Func, depth: int) -> tuple[str, float]:
        args = [self.squash(*self.expr(scope, kind, depth - 1), ARGUMENT_BOUND)[0]
                for kind in g.params]
        if g.keyword is not None and self.chance(50):
            args.append(f"{g.keyword}={self.pick(CONSTANTS)}")
        return f"{g.name}({', '.join(args)})", g.bound

    def condition(self, scope: Scope, depth: int) -> str:
        e, _ = self.expr(scope, SCALAR, depth)
        test = f"{e} {self.pick(['>', '<'])} {self.pick(THRESHOLDS)}"
        form = self.pick(["plain", "plain", "plain", "not"] if "boolop" in DISABLED
                         else ["plain", "plain", "plain", "and", "or", "not"])
        if form == "not":
            return f"not {test}"
        if form in ("and", "or"):
            other, _ = self.expr(scope, SCALAR, 0)
            return f"{test} {form} {other} {self.pick(['>', '<'])} {self.pick(THRESHOLDS)}"
        return test

    # --- statements ----------------------------------------------------------------------

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def value(self, scope: Scope, kind: str, limit: float) -> tuple[str, float]:
        """A right-hand side: fresh (never a bare name or a view) and within ``limit``."""
        e, b = self.expr(scope, kind, self.number(1, 3))
        e, b = self.squash(e, b, limit)
        return (freshen(e) if kind == VECTOR else e), b

    def limit(self, scope: Scope) -> float:
        return LOOP_BOUND if scope.loops else LIMIT

    def block(self, scope: Scope, indent: int, depth: int, count: int) -> bool:
        """Statements at ``indent``; True when the block ends in a jump (return/break)."""
        for _ in range(count):
            if self.budget <= 0:
                break
            if self.statement(scope, indent, depth):
                return True
        return False

    def body(self, scope: Scope, indent: int, depth: int) -> tuple[Scope, bool]:
        inner = scope.copy()
        start = len(self.lines)
        jumped = self.block(inner, indent, depth, self.number(1, 3))
        if len(self.lines) == start:
            self.emit(indent, "pass")
        return inner, jumped

    def merge(self, scope: Scope, branches: list[Scope], loop: bool = False) -> None:
        """After a block: names assigned in it keep a bound valid on every path."""
        for name, v in scope.vars.items():
            for other in branches:
                w = other.vars[name]
                bound = w.bound
                if loop and bound > v.bound:
                    bound = v.bound + (bound - v.bound) * MAX_TRIPS * MAX_TRIPS
                v.bound = _clip(max(v.bound, bound))
                v.owned = v.owned and w.owned

    def assignable(self, scope: Scope, kind: str) -> list[Var]:
        return [v for v in scope.of(kind) if v.name not in scope.readonly
                and not any(v.name == i for i, _ in scope.loop_indices)
                and (not scope.loops or v.bound <= LOOP_BOUND)]

    def statement(self, scope: Scope, indent: int, depth: int) -> bool:
        self.budget -= 1
        options = ["assign", "assign", "reassign", "augment", "write", "unpack", "divmod"]
        if depth > 0 and self.budget > 2:
            options += ["if", "for", "iterate", "while", "fill"]
            if indent == 1 or "closure in block" not in DISABLED:
                options.append("closure")
        if scope.loops:
            options += ["jump", "jump"]
        if indent > 1 or scope.loops:
            options.append("return")
        if any(g.returns == PAIR for g in scope.funcs.values()):
            options.append("pair call")
        if "jump in loop else" in DISABLED and self.no_jumps:
            options = [o for o in options if o not in ("jump", "return")]
        if "write in block" in DISABLED and (indent > 1 or self.returned):
            options = [o for o in options if o not in ("write", "fill")]
        options = [o for o in options if o not in DISABLED]
        form = self.pick(options)
        return getattr(self, "s_" + form.replace(" ", "_"))(scope, indent, depth)

    def s_assign(self, scope: Scope, indent: int, depth: int) -> bool:
        kind = self.pick([SCALAR, VECTOR])
        e, b = self.value(scope, kind, self.limit(scope))
        name = self.fresh("s" if kind == SCALAR else "v")
        self.emit(indent, f"{name} = {e}")
        scope.vars[name] = Var(name, kind, b, owned=kind == VECTOR)
        return False

    def s_reassign(self, scope: Scope, indent: int, depth: int) -> bool:
        kind = self.pick([SCALAR, VECTOR])
        targets = self.assignable(scope, kind)
        if not targets:
            return self.s_assign(scope, indent, depth)
        v = self.pick(targets)
        e, b = self.value(scope, kind, self.limit(scope))
        self.emit(indent, f"{v.name} = {e}")
        v.bound, v.owned = b, kind == VECTOR
        return False

    def s_augment(self, scope: Scope, indent: int, depth: int) -> bool:
        kind = self.pick([SCALAR, VECTOR])
        targets = [v for v in self.assignable(scope, kind) if kind == SCALAR or v.owned]
        if not targets:
            return self.s_assign(scope, indent, depth)
        v = self.pick(targets)
        op = self.pick(["+=", "-=", "*="])
        e, b = self.expr(scope, self.pick([SCALAR, kind]), self.number(0, 2))
        if scope.loops:
            e, b = self.squash(e, b, 1.0)
        if op == "*=":
            e, b = self.squash(e, b, 1.0 if scope.loops else 3.0)
            v.bound = _clip(v.bound * b)
        else:
            v.bound = _clip(v.bound + b)
        self.emit(indent, f"{v.name} {op} {e}")
        return False

    def owned_vector(self, scope: Scope, indent: int) -> Var:
        targets = [v for v in self.assignable(scope, VECTOR) if v.owned]
        if targets and self.chance(80):
            return self.pick(targets)
        source = self.pick(scope.of(VECTOR))
        name = self.fresh("z")
        self.emit(indent, f"{name} = {source.name} * 1.0")
        v = scope.vars[name] = Var(name, VECTOR, source.bound, owned=True)
        return v

    def s_write(self, scope: Scope, indent: int, depth: int) -> bool:
        z = self.owned_vector(scope, indent)
        limit = self.limit(scope)
        form = self.pick(["element", "element", "slice", "slice add", "element add"])
        if form.startswith("element"):
            if scope.loop_indices and self.chance(50):
                i, _ = self.pick(scope.loop_indices)
                index = f"{i} % 3"
            else:
                index = self.pick(["0", "1", "2", "-1"])
            e, b = self.squash(*self.expr(scope, SCALAR, self.number(0, 2)),
                               limit if form == "element" else 1.0)
            op = "=" if form == "element" else self.pick(["+=", "-=", "*="])
        else:
            index = self.pick(["0:2", "1:3", "1:", ":2", "::2"])
            size = len(range(3)[slice(*[int(p) if p else None for p in index.split(":")])])
            if self.chance(50):
                e, b = self.expr(scope, SCALAR, self.number(0, 2))
            else:
                w = self.pick(scope.of(VECTOR))
                start = self.number(0, 3 - size)
                e, b = f"{w.name}[{start}:{start + size}]", w.bound
                if self.chance(50):
                    e, b = self.unary(e, b)
            e, b = self.squash(e, b, limit if form == "slice" else 1.0)
            op = "=" if form == "slice" else self.pick(["+=", "-="])
        self.emit(indent, f"{z.name}[{index}] {op} {e}")
        z.bound = _clip(max(z.bound, b) if op == "=" else z.bound * max(b, 1.0) + b)
        return False

    def s_unpack(self, scope: Scope, indent: int, depth: int) -> bool:
        kinds = [self.pick([SCALAR, VECTOR]) for _ in range(2)]
        values = [self.value(scope, kind, self.limit(scope)) for kind in kinds]
        names = [self.fresh("s" if k == SCALAR else "v") for k in kinds]
        self.emit(indent, f"{names[0]}, {names[1]} = {values[0][0]}, {values[1][0]}")
        for name, kind, (_, b) in zip(names, kinds, values):
            scope.vars[name] = Var(name, kind, b, owned=kind == VECTOR)
        return False

    def s_divmod(self, scope: Scope, indent: int, depth: int) -> bool:
        """``q, r = divmod(a, d)`` or ``np.divmod``: q piecewise constant, r = a - q * d."""
        kind = self.pick([SCALAR, VECTOR])
        a, ba = self.expr(scope, kind, self.number(0, 2))
        form = self.pick(["constant", "period"] + ["guarded"] * ("divmod by a variable"
                                                                 not in DISABLED))
        divisor_kind = SCALAR
        if form == "guarded":
            divisor_kind = self.pick([SCALAR, kind])
            b, bb = self.expr(scope, divisor_kind, self.number(0, 1))
            divisor, bound_q, bound_r = f"1.5 + {b} * {b}", ba / 1.5 + 1, 1.5 + bb * bb
        elif form == "constant":
            divisor = self.pick(DIVISORS)
            bound_q, bound_r = ba / abs(float(divisor)) + 1, abs(float(divisor))
        else:
            a, _ = self.squash(a, ba, 2.0)
            offset, divisor = self.pick(PERIODS)
            a = f"{a} + {offset}"
            bound_q = (abs(float(offset)) + 2) / abs(float(divisor)) + 1
            bound_r = abs(float(divisor))
        how = self.pick(["divmod", "np.divmod"])
        kind = VECTOR if VECTOR in (kind, divisor_kind) else SCALAR
        prefix = "s" if kind == SCALAR else "v"
        q, r = self.fresh(prefix), self.fresh(prefix)
        self.emit(indent, f"{q}, {r} = {how}({a}, {divisor})")
        scope.vars[q] = Var(q, kind, _clip(bound_q), owned=kind == VECTOR)
        scope.vars[r] = Var(r, kind, _clip(bound_r), owned=kind == VECTOR)
        return False

    def s_pair_call(self, scope: Scope, indent: int, depth: int) -> bool:
        g = self.pick([g for g in scope.funcs.values() if g.returns == PAIR])
        call, b = self.call(scope, g, 2)
        names = [self.fresh("s"), self.fresh("v")]
        self.emit(indent, f"{names[0]}, {names[1]} = {call}")
        scope.vars[names[0]] = Var(names[0], SCALAR, b)
        scope.vars[names[1]] = Var(names[1], VECTOR, b, owned=False)
        return False

    def s_if(self, scope: Scope, indent: int, depth: int) -> bool:
        self.emit(indent, f"if {self.condition(scope, self.number(0, 2))}:")
        branches = []
        inner, jumps = self.body(scope, indent + 1, depth - 1)
        branches.append(inner)
        all_jump = jumps
        for _ in range(self.number(0, 1)):
            self.emit(indent, f"elif {self.condition(scope, self.number(0, 1))}:")
            inner, jumps = self.body(scope, indent + 1, depth - 1)
            branches.append(inner)
            all_jump = all_jump and jumps
        if self.chance(50) and not (self.keep_going and indent == 1):
            self.emit(indent, "else:")
            inner, jumps = self.body(scope, indent + 1, depth - 1)
            branches.append(inner)
            all_jump = all_jump and jumps
        else:
            all_jump = False
        self.merge(scope, branches)
        return all_jump

    def loop_body(self, scope: Scope, indent: int, depth: int, index=None, element=None,
                  iterated=()):
        inner = scope.copy()
        inner.loops += 1
        if index is not None:
            inner.loop_indices.append(index)
        for name, bound in element or ():
            inner.vars[name] = Var(name, SCALAR, bound)
        readonly = set(inner.readonly) | {name for name, _ in element or ()}
        if "rebind iterated" in DISABLED:
            readonly |= {name for name in iterated if name.isidentifier()}
        inner.readonly = frozenset(readonly)
        start = len(self.lines)
        self.block(inner, indent + 1, depth - 1, self.number(1, 4))
        if len(self.lines) == start:
            self.emit(indent + 1, "pass")
        inner.loops -= 1
        self.merge(scope, [inner], loop=True)
        if self.chance(15):
            self.emit(indent, "else:")
            self.no_jumps += 1
            other, _ = self.body(scope, indent + 1, 0)
            self.no_jumps -= 1
            self.merge(scope, [other])

    def s_for(self, scope: Scope, indent: int, depth: int) -> bool:
        i = self.fresh("i")
        form = self.pick(["constant", "constant", "data", "start"])
        if form == "constant":
            trips = self.number(1, MAX_TRIPS)
            self.emit(indent, f"for {i} in range({trips}):")
            largest = trips - 1
        elif form == "start":
            trips = self.number(2, MAX_TRIPS)
            self.emit(indent, f"for {i} in range(1, {trips}):")
            largest = trips - 1
        else:
            e, _ = self.expr(scope, SCALAR, self.number(0, 2))
            self.emit(indent, f"for {i} in range(int(abs({e})) % 3 + 1):")
            largest = 2
        self.loop_body(scope, indent, depth, index=(i, largest))
        return False

    def s_iterate(self, scope: Scope, indent: int, depth: int) -> bool:
        t = self.fresh("t")
        v, bound = self.expr(scope, VECTOR, self.number(0, 1))
        form = self.pick(["plain", "enumerate", "zip"])
        if form == "plain":
            self.emit(indent, f"for {t} in {v}:")
            self.loop_body(scope, indent, depth, element=[(t, bound)], iterated=[v])
        elif form == "enumerate":
            i = self.fresh("i")
            self.emit(indent, f"for {i}, {t} in enumerate({v}):")
            self.loop_body(scope, indent, depth, index=(i, 2), element=[(t, bound)],
                           iterated=[v])
        else:
            u = self.fresh("t")
            w, other = self.expr(scope, VECTOR, 0)
            self.emit(indent, f"for {t}, {u} in zip({v}, {w}):")
            self.loop_body(scope, indent, depth, element=[(t, bound), (u, other)],
                           iterated=[v, w])
        return False

    def s_while(self, scope: Scope, indent: int, depth: int) -> bool:
        n = self.fresh("n")
        trips = self.number(1, MAX_TRIPS)
        self.emit(indent, f"{n} = 0")
        self.no_ifexp += "ifexp in while" in DISABLED
        condition = self.condition(scope, 1)
        self.no_ifexp -= "ifexp in while" in DISABLED
        if self.chance(50) and "boolop" not in DISABLED:
            self.emit(indent, f"while {n} < {trips} and ({condition}):")   # bounded
            self.emit(indent + 1, f"{n} += 1")
        else:
            self.emit(indent, f"while {condition}:")
            self.emit(indent + 1, f"{n} += 1")
            self.emit(indent + 1, f"if {n} > {trips}:")
            self.emit(indent + 2, "break")
        self.loop_body(scope, indent, depth)
        return False

    def s_fill(self, scope: Scope, indent: int, depth: int) -> bool:
        out, i = self.fresh("out"), self.fresh("i")
        self.emit(indent, f"{out} = np.zeros(3)")
        self.emit(indent, f"for {i} in range(3):")
        inner = scope.copy()
        inner.loops += 1
        inner.loop_indices.append((i, 2))
        e, b = self.squash(*self.expr(inner, SCALAR, self.number(1, 2)), LOOP_BOUND)
        self.emit(indent + 1, f"{out}[{i}] = {e}")
        scope.vars[out] = Var(out, VECTOR, b, owned=True)
        return False

    def s_jump(self, scope: Scope, indent: int, depth: int) -> bool:
        word = self.pick(["break", "continue"])
        if self.chance(80):
            self.emit(indent, f"if {self.condition(scope, self.number(0, 1))}:")
            self.emit(indent + 1, word)
            return False
        self.emit(indent, word)
        return True

    def s_return(self, scope: Scope, indent: int, depth: int) -> bool:
        self.returned = True
        guarded = self.chance(85)
        if guarded:
            self.emit(indent, f"if {self.condition(scope, self.number(0, 1))}:")
        self.emit(indent + guarded, f"return {self.result(scope)}")
        return not guarded

    def s_closure(self, scope: Scope, indent: int, depth: int) -> bool:
        name = self.fresh("g")
        param = self.fresh("p")
        kind, returns = self.pick([SCALAR, VECTOR]), self.pick([SCALAR, VECTOR])
        inner = scope.copy()
        inner.readonly = frozenset(inner.vars) | inner.readonly
        for v in inner.vars.values():
            v.owned = False
        inner.vars[param] = Var(param, kind, ARGUMENT_BOUND)
        inner.loops, inner.loop_indices, inner.returns = 0, [], returns
        self.no_globals += "globals in closure" in DISABLED
        if self.chance(40):
            e, b = self.expr(inner, returns, self.number(1, 2))
            e, b = self.squash(e, b, LIMIT)
            if returns == VECTOR:
                e = freshen(e)
            self.emit(indent, f"{name} = lambda {param}: {e}")
        else:
            self.emit(indent, f"def {name}({param}):")
            saved_budget = self.budget
            self.budget = min(self.budget, 2)
            self.block(inner, indent + 1, 0, self.number(0, 2))
            self.budget = saved_budget - 1
            e, b = self.value(inner, returns, LIMIT)
            self.emit(indent + 1, f"return {e}")
        self.no_globals -= "globals in closure" in DISABLED
        scope.funcs[name] = Func(name, (kind,), returns, b)
        return False

    def result(self, scope: Scope) -> str:
        """A scalar built from a few live values (the function's return value)."""
        if scope.returns == VECTOR:
            return self.value(scope, VECTOR, LIMIT)[0]
        if scope.returns == PAIR:
            return f"{self.value(scope, SCALAR, LIMIT)[0]}, {self.value(scope, VECTOR, LIMIT)[0]}"
        names = list(scope.vars.values())[::-1][:4]     # the most recent names first
        chosen = [self.pick(names) for _ in range(self.number(1, 3))]
        terms = []
        for v in chosen:
            terms.append(f"np.sum({v.name})" if v.kind == VECTOR else v.name)
        if self.chance(30):
            terms.append(self.expr(scope, SCALAR, 2)[0])
        if self.refused_term is not None:
            terms.append(self.refused_term)
        return " + ".join(terms)

    # --- functions -----------------------------------------------------------------------

    def helper(self, index: int) -> None:
        name = f"h{index}"
        returns = self.pick([SCALAR, VECTOR, PAIR])
        keyword = "c" if self.chance(30) else None
        params = "a, b" + (", c=0.5" if keyword else "")
        scope = Scope({"a": Var("a", VECTOR, ARGUMENT_BOUND), "b": Var("b", SCALAR, ARGUMENT_BOUND)},
                      dict(self.helpers), returns=returns)
        if keyword:
            scope.vars["c"] = Var("c", SCALAR, 2.0)
        self.emit(0, f"def {name}({params}):")
        saved_budget = self.budget
        self.budget = 5
        self.block(scope, 1, 1, self.number(0, 3))
        self.budget = saved_budget - (5 - max(self.budget, 0))
        self.emit(1, f"return {self.result(scope)}")
        self.emit(0, "")
        self.emit(0, "")
        bound = max(v.bound for v in scope.vars.values())
        self.helpers[name] = Func(name, (VECTOR, SCALAR), returns, _clip(max(bound, LIMIT)),
                                  keyword)

    def program(self) -> str:
        self.emit(0, "import math")
        self.emit(0, "")
        self.emit(0, "import numpy as np")
        self.emit(0, "")
        self.emit(0, "")
        for index in range(self.number(0, 2)):
            self.helper(index)
        scope = Scope({"x": Var("x", VECTOR, 2.0), "y": Var("y", SCALAR, 2.0)},
                      dict(self.helpers))
        self.emit(0, "def f(x, y):")
        if self.refuse is not None:
            self.refused(scope)
        jumped = self.block(scope, 1, 2, self.number(1, 12))
        if not jumped:
            self.emit(1, f"return {self.result(scope)}")
        return "\n".join(self.lines) + "\n"

    def refused(self, scope: Scope) -> None:
        """Top-level statements of f, then ``u = <the construct>`` on a differentiated value;
        every later result of f adds ``u``.  x and y are never rebound, so ``x * y``-like
        operands are differentiated with respect to either input."""
        scope.readonly = scope.readonly | {"x", "y"}
        self.keep_going = True
        self.block(scope, 1, 2, self.number(0, 4))
        self.keep_going = False
        v = self.pick(scope.of(VECTOR))
        a = self.pick(["x * y", f"{v.name} * y", f"x * y + {v.name}", "np.sin(x) * y"])
        b, _ = self.squash(*self.expr(scope, VECTOR, 1), LIMIT)
        u = self.fresh("u")
        self.emit(1, f"{u} = {REFUSED[self.refuse].format(a=a, b=b, i=self.number(0, 2))}")
        self.refused_line = len(self.lines)
        scope.vars[u] = Var(u, SCALAR, 1e12)
        scope.readonly = scope.readonly | {u}     # never rebound: its value reaches f's result
        self.refused_term = u


@st.composite
def programs(draw) -> str:
    """The source text of a module defining ``f(x, y)`` (and its helpers)."""
    return Generator(draw).program()


@st.composite
def refused_programs(draw) -> tuple[str, int, str]:
    """A program of :func:`programs` whose f also uses a construct s2s has no rule for
    (REFUSED) on a differentiated value: the source, the construct's line and its name."""
    construct = draw(st.sampled_from([c for c in REFUSED if c not in DISABLED]))
    generator = Generator(draw, refuse=construct)
    source = generator.program()
    return source, generator.refused_line, construct


def executed_lines(function: Callable, *args) -> set[int]:
    """The line numbers of ``function``'s file that run during ``function(*args)``."""
    filename, lines = function.__code__.co_filename, set()

    def trace(frame, event, arg):
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            lines.add(frame.f_lineno)
        return trace

    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return lines


# Irrational offsets keep shrunk inputs (0.0, 1.0...) off the thresholds in conditions.
OFFSETS = (0.0137 * math.sqrt(2), -0.0211 * math.sqrt(3), 0.0173 * math.sqrt(5),
           0.0119 * math.sqrt(7))


@st.composite
def inputs(draw) -> tuple[np.ndarray, float]:
    values = [draw(st.integers(-1500, 1500)) / 1000 + offset for offset in OFFSETS]
    return np.array(values[:3]), float(values[3])


# --- loading and checking -----------------------------------------------------------------

_modules = itertools.count()


def load(source: str, directory: str, stem: str = "prog") -> Any:
    """Write ``source`` to a module file in ``directory`` and import it as a new module.

    The file is named after a hash of the source, so the same program always gets the
    same file name (and s2s the same generated file names: hypothesis sees the same
    failure when it replays an example); each call imports a fresh module object.
    """
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    path = os.path.join(directory, f"{stem}_{digest}.py")
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(source)
    name = f"_s2s_{stem}_{digest}_{next(_modules)}"
    module = load_file(path, name)
    del sys.modules[name]           # thousands of programs: let each go once it is checked
    return module


def load_file(path: str, name: str | None = None) -> Any:
    name = name or "_s2s_file_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Rejected(Exception):
    """The example cannot be judged by finite differences (a branch flips, a kink)."""


def _perturbed(function, x, y, position, index, step):
    if position == 0:
        shifted = x.copy()
        shifted[index] += step
        return float(function(shifted, y))
    return float(function(x.copy(), y + step))


def finite_differences(function, x, y) -> tuple[np.ndarray, float]:
    """Central differences at two step sizes; :class:`Rejected` where f is not smooth."""
    coordinates = [(0, i) for i in range(3)] + [(1, None)]
    result = []
    for position, index in coordinates:
        at = lambda step: _perturbed(function, x, y, position, index, step)  # noqa: E731
        f0 = at(0.0)
        plus6, minus6, plus7, minus7 = at(1e-6), at(-1e-6), at(1e-7), at(-1e-7)
        central6 = (plus6 - minus6) / 2e-6
        central7 = (plus7 - minus7) / 2e-7
        scale = max(abs(central6), abs(central7), 1.0)
        if abs(central6 - central7) > 1e-4 * scale:
            raise Rejected(f"finite differences disagree: {central6} vs {central7}")
        forward, backward = (plus6 - f0) / 1e-6, (f0 - minus6) / 1e-6
        if abs(forward - backward) > 1e-3 * max(abs(forward), abs(backward), 1.0):
            raise Rejected(f"one-sided differences disagree: {forward} vs {backward}")
        result.append(central6)
    return np.array(result[:3]), result[3]


TAPE_CANNOT = (RuntimeError, ValueError, s2s.S2SError)


def check_program(f, x: np.ndarray, y: float, note: Callable[[str], None] = print) -> None:
    """Generated code vs finite differences (rtol 1e-5, atol 1e-6), vs the tape (1e-9), and
    code specialized to the argument shapes vs generic code (bit for bit).

    Raises :class:`Rejected` when the program is not smooth at ``(x, y)`` or its value is
    not tame; AssertionError (or the error s2s raised) when s2s is wrong.
    """
    x = np.array(x, dtype=np.float64)
    y = float(y)
    x_before = x.copy()
    value = f(x.copy(), y)
    if np.ndim(value) != 0:
        raise AssertionError(f"generator bug: f returned shape {np.shape(value)}")
    value = float(value)
    if not math.isfinite(value) or abs(value) > 1e6:
        raise Rejected(f"value not tame: {value}")

    # Errors of s2s are bugs wherever f is smooth or not: look for them first.
    differentiable = s2s.differentiate(f, wrt=(0, 1), fallback="error")
    got_value, (gx, gy) = differentiable.value_and_grad(x, y)
    assert np.array_equal(x, x_before), "the generated code mutated its input"
    np.testing.assert_allclose(got_value, value, rtol=1e-12, atol=1e-12,
                               err_msg="value of the generated code")
    assert np.shape(gx) == (3,) and isinstance(gy, float), (np.shape(gx), type(gy))
    # grad ran code specialized to the shapes (3,) and (); the generic code must agree
    # bit for bit (specialization only leaves out unbroadcast where shapes provably match)
    try:
        _, generic_pullback = differentiable.derivation.module.function(x.copy(), y)
    except SharedViewError as error:
        # a known over-refusal of the generic code (tests/test_soundness.py,
        # test_generic_code_refuses_a_chain_of_maybe_views_only_one_of_which_shares): it
        # guards each maybe-view of a chain alone, where the specialized code knows that
        # an element of a vector is a number
        note(f"generic code refused: {error}")
    else:
        generic_x, generic_y = generic_pullback(1.0)
        # the raw cotangent of a real input may carry an imaginary part from complex
        # intermediates; the gradient is its real part (s2s/rules/registry.py).  Carried
        # along, it makes NumPy sum complex arrays, whose pairwise grouping of the real
        # parts differs from a real array's: the same numbers to a few ulps, not bit for bit
        carried = np.iscomplexobj(generic_x) or np.iscomplexobj(generic_y)
        generic_x, generic_y = np.real(generic_x), np.real(generic_y)
        if carried:
            np.testing.assert_allclose(generic_x, gx, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(float(generic_y), gy, rtol=1e-13, atol=1e-15)
        else:
            assert np.array_equal(generic_x, gx) and float(generic_y) == gy, \
                f"specialized {gx!r}, {gy!r} vs generic {generic_x!r}, {generic_y!r}"
    # grad alone runs the closure-free gradient, without the statements only the value needs
    fast_x, fast_y = differentiable.grad(x.copy(), y)
    assert np.array_equal(fast_x, gx) and fast_y == gy, \
        f"grad {fast_x!r}, {fast_y!r} vs value_and_grad {gx!r}, {gy!r}"
    # d/dy alone: one scalar input, so grad runs forward mode (jvp code)
    forward_y = s2s.differentiate(f, wrt=1, fallback="error").grad(x.copy(), y)
    np.testing.assert_allclose(forward_y, gy, rtol=1e-9, atol=1e-12,
                               err_msg="d/dy: forward mode (grad, one scalar) vs reverse")

    expected_x, expected_y = finite_differences(f, x, y)
    note(f"s2s gradient: {gx!r}, {gy!r}\nfinite differences: {expected_x!r}, {expected_y!r}")
    np.testing.assert_allclose(gx, expected_x, rtol=1e-5, atol=1e-6,
                               err_msg="d/dx: generated code vs finite differences")
    np.testing.assert_allclose(gy, expected_y, rtol=1e-5, atol=1e-6,
                               err_msg="d/dy: generated code vs finite differences")
    # the zero audit: an exactly-zero entry must be a true zero (a hole shows up as one)
    from zero_audit import assert_zeros_are_true
    assert_zeros_are_true(f, [x.copy(), y], 0, gx, "random program")
    assert_zeros_are_true(f, [x.copy(), y], 1, gy, "random program")

    try:
        tape_value, pullback = vjp_with_tape(f, (x.copy(), y), {}, (0, 1))
        tx, ty = pullback()
    except TAPE_CANNOT as error:
        note(f"the tape cannot run this program: {type(error).__name__}: {error}")
        return
    np.testing.assert_allclose(tape_value, value, rtol=1e-12, atol=1e-12,
                               err_msg="value on the tape")
    np.testing.assert_allclose(gx, tx, rtol=1e-9, atol=1e-12,
                               err_msg="d/dx: generated code vs tape")
    np.testing.assert_allclose(gy, ty, rtol=1e-9, atol=1e-12,
                               err_msg="d/dy: generated code vs tape")


def regression_module(source: str, x: np.ndarray, y: float, xfail: str | None = None) -> str:
    """The text of a tests/regressions/ file: the program, its INPUT and the known bug."""
    header = ['"""A program found by tests/test_random_programs.py (see tests/programs.py)."""']
    body = source.rstrip("\n").split("\n")
    rest = [line for line in body if not line.startswith(("import ", "from "))]
    while rest and not rest[0]:
        rest = rest[1:]
    lines = header + ["import math", "", "import numpy as np", ""]
    if xfail:
        lines += ["# Remove XFAIL once the bug is fixed; tests/test_regressions.py then checks",
                  "# that the program passes.", f"XFAIL = {xfail!r}", ""]
    lines += ["", *rest, "", "",
              f"INPUT = (np.array({[float(v) for v in x]!r}), {float(y)!r})", ""]
    return "\n".join(lines)
