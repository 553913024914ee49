"""An independent symbolic reference: a small NumPy function as a sympy expression.

:func:`symbolic` reads a function's source with :mod:`ast` (through
:func:`s2s.parse.parse_function`, which locates the code and resolves its globals) and
*interprets* the syntax tree over sympy values.  It shares no code with s2s's normaliser,
analysis or code generators, so a test comparing generated derivatives against it can fail.

Supported: arithmetic, comparisons, ``and``/``or``/``not``, calls to functions with a
derivative rule (mapped to the rule's ``sympy`` twin), a few NumPy functions that only move
or sum elements (run by NumPy itself on arrays of sympy objects), calls to other Python
functions (interpreted in turn), assignments of every plain kind, ``if``/``elif``/``else``
and conditional expressions (a ``sympy.Piecewise`` when the condition depends on the
inputs), ``for`` loops over constant ranges, ``while`` loops whose condition does not depend
on the inputs, and ``return``, ``break`` and ``continue`` anywhere.  Anything else raises
:class:`s2s.UnsupportedError` pointing at the construct, as does a loop whose unrolled
expressions grow past ``MAX_NODES`` (differentiating them would take minutes).

Control flow follows every path: a path carries a *guard*, the condition under which it
runs; an ``if`` on an input-dependent condition runs both branches and merges their variables
into ``Piecewise`` values, and returns (or loop exits) taken under a guard are combined into
one ordered ``Piecewise`` at the end.

While interpreting, a scalar is a Python ``int`` (loop counters, indices) or a sympy object;
float literals become exact rationals when they are short binary fractions (``0.5``) and
``np.pi``/``math.e`` become ``sympy.pi``/``sympy.E``.  An array is a NumPy array of dtype
``object`` holding sympy objects (integer and boolean arrays stay numeric, for indexing).
"""
from __future__ import annotations

import ast
import inspect
import math
import operator
from dataclasses import dataclass, field, fields
from fractions import Fraction
from functools import partial
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from ..errors import InputError, MissingRuleError, S2SError, UnsupportedError, WrtError
from ..parse import MISSING, ParsedFunction, parse_function
from ..rules import REGISTRY

Wrt = Union[int, str, Sequence[Union[int, str]]]

HINT = ("s2s.symbolic handles straight-line code, if/elif/else and loops with constant trip "
        "counts; use s2s.check (or s2s.verify.numerical_grad) for numerical checks")
LOOP_HINT = ("s2s.symbolic handles loops with constant trip counts; use s2s.check (or "
             "s2s.verify.numerical_grad) for numerical checks")
MAX_ITERATIONS = 10_000     # per loop: longer loops would build unreadably large expressions
MAX_CALL_DEPTH = 32         # nested calls to Python functions
MAX_NODES = 10_000          # expression tree size: differentiating larger trees takes minutes
SIZE_HINT = ("s2s.symbolic is a reference for small functions; use s2s.check (or "
             "s2s.verify.numerical_grad) for numerical checks")

_BREAK, _CONTINUE = "break", "continue"     # the kinds of loop exits
_DEAD = "dead"      # a block's signal: no path runs past its end (return, break, continue)
_END = object()     # no more items in a for loop


# --- the result -----------------------------------------------------------------------


@dataclass
class SymbolicDerivative:
    """A function and its derivative(s) as sympy expressions.

    ``derivative`` holds one entry per ``wrt`` parameter (a tuple when ``wrt`` was a tuple).
    For a scalar output and an array parameter it is a ``sympy.Array`` of partials shaped like
    the parameter; for an array output the Jacobian has the output's axes first, then the
    parameter's.  ``symbols`` maps each parameter to its symbol (a ``sympy.Array`` of element
    symbols ``x_0, x_1, ...`` for an array parameter).

    It is also usable as the derivative itself, the sympy expression it prints last:
    ``sympy.sympify(result)`` is ``result.derivative`` (a ``sympy.Tuple`` of them for a tuple
    ``wrt``), so ``sympy.simplify(result - expected)``, ``result == expected``, arithmetic and
    sympy's attributes and methods (``result.free_symbols``, ``result.subs(x, 2)``,
    ``result.diff(x)``) act on the derivative.
    """

    function: Any
    derivative: Any
    symbols: dict[str, Any]
    name: str = "f"
    params: tuple[str, ...] = ()
    wrt: str | tuple[str, ...] = ""
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    signature: inspect.Signature | None = field(default=None, repr=False, compare=False)

    def lambdify(self, what: str = "derivative") -> Callable[..., Any]:
        """A NumPy function computing the derivative (or, with ``what="function"``, f).

        It takes the arguments of the original function (parameters bound by ``constants=``
        may be omitted; their values are ignored) and returns floats for scalar results and
        float64 arrays otherwise, a tuple of them for a tuple ``wrt``.  Scalar parameters may
        be given arrays, which broadcast.
        """
        import sympy as sp

        if what not in ("derivative", "function"):
            raise ValueError(f"what must be 'derivative' or 'function', not {what!r}")
        free = [name for name in self.params if name not in self.constants]
        arguments = [symbol for name in free for symbol in _flat(self.symbols[name])]
        several = what == "derivative" and isinstance(self.wrt, tuple)
        target = self.derivative if what == "derivative" else self.function
        parts = tuple(target) if several else (target,)
        shapes = [tuple(part.shape) if isinstance(part, sp.NDimArray) else () for part in parts]
        compiled = sp.lambdify(arguments, [e for part in parts for e in _flat(part)], "numpy")
        shapes_in = self.shapes
        signature = self.signature

        def evaluate(*args: Any, **kwargs: Any) -> Any:
            if signature is not None:
                bound = signature.bind_partial(*args, **kwargs)
                bound.apply_defaults()
                given = bound.arguments
            else:
                given = dict(zip(self.params, args))
            values, batch = [], []
            for name in free:
                if name not in given:
                    raise TypeError(f"missing argument {name!r}")
                value = np.asarray(given[name], dtype=np.float64)
                if name in shapes_in:
                    if value.shape != shapes_in[name]:
                        raise ValueError(f"{name} has shape {value.shape}, the symbolic "
                                         f"derivative was built for {shapes_in[name]}")
                    values.extend(value.reshape(-1))
                else:
                    values.append(value)
                    batch.append(value.shape)
            outputs = compiled(*values)
            batch_shape = np.broadcast_shapes(*batch) if batch else ()
            results, start = [], 0
            for shape in shapes:
                size = math.prod(shape)
                chunk = [np.broadcast_to(np.asarray(o, dtype=np.float64), batch_shape)
                         for o in outputs[start:start + size]]
                start += size
                result = np.stack(chunk, axis=-1).reshape(batch_shape + shape)
                results.append(float(result) if result.ndim == 0 else result)
            return tuple(results) if several else results[0]

        return evaluate

    # --- the derivative as a sympy expression ---------------------------------------------

    def _sympy_(self) -> Any:
        """What ``sympy.sympify`` makes of the result: the derivative."""
        import sympy as sp

        derivative = self.__dict__["derivative"]
        return sp.Tuple(*derivative) if isinstance(derivative, tuple) else derivative

    def __getattr__(self, name: str) -> Any:
        """sympy's attributes and methods, of the derivative (``free_symbols``, ``subs``)."""
        if name.startswith("__") or "derivative" not in self.__dict__:
            raise AttributeError(name)
        try:
            return getattr(self._sympy_(), name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object (and its derivative) has no "
                                 f"attribute {name!r}") from None

    def __getitem__(self, index: Any) -> Any:
        """An entry of the derivative: one ``wrt`` parameter's, or one partial of an array."""
        return self.__dict__["derivative"][index]

    def __neg__(self) -> Any:
        return -self._sympy_()

    def __pos__(self) -> Any:
        return self._sympy_()

    def __add__(self, other: Any) -> Any:
        return self._sympy_() + _as_sympy(other)

    def __radd__(self, other: Any) -> Any:
        return _as_sympy(other) + self._sympy_()

    def __sub__(self, other: Any) -> Any:
        return self._sympy_() - _as_sympy(other)

    def __rsub__(self, other: Any) -> Any:
        return _as_sympy(other) - self._sympy_()

    def __mul__(self, other: Any) -> Any:
        return self._sympy_() * _as_sympy(other)

    def __rmul__(self, other: Any) -> Any:
        return _as_sympy(other) * self._sympy_()

    def __truediv__(self, other: Any) -> Any:
        return self._sympy_() / _as_sympy(other)

    def __rtruediv__(self, other: Any) -> Any:
        return _as_sympy(other) / self._sympy_()

    def __pow__(self, other: Any) -> Any:
        return self._sympy_() ** _as_sympy(other)

    def __rpow__(self, other: Any) -> Any:
        return _as_sympy(other) ** self._sympy_()

    def __eq__(self, other: Any) -> bool:
        """Structural equality, as sympy's ``==``: of the derivative against an expression."""
        if isinstance(other, SymbolicDerivative):
            return all(getattr(self, f.name) == getattr(other, f.name)
                       for f in fields(self) if f.compare)
        return self._sympy_() == _as_sympy(other)

    def __str__(self) -> str:
        names = self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)
        derivatives = self.derivative if isinstance(self.wrt, tuple) else (self.derivative,)
        lines = [f"{self.name}({', '.join(self.params)}) = {self.function}"]
        for name, derivative in zip(names, derivatives):
            lines.append(f"d{self.name}/d{name} = {derivative}")
        return "\n".join(lines)


def _as_sympy(value: Any) -> Any:
    """``value`` for arithmetic with a derivative: a SymbolicDerivative as its derivative,
    a tuple as a ``sympy.Tuple``, anything else unchanged (sympy converts numbers)."""
    import sympy as sp

    if isinstance(value, SymbolicDerivative):
        return value._sympy_()
    return sp.Tuple(*value) if isinstance(value, tuple) else value


def _flat(value: Any) -> list[Any]:
    import sympy as sp

    if isinstance(value, sp.NDimArray):
        return [value[index] for index in np.ndindex(*value.shape)]   # row-major, like NumPy
    return [value]


# --- the entry point ------------------------------------------------------------------


def symbolic(f: Callable[..., Any], wrt: Wrt = 0, simplify: bool = True, *,
             shapes: Mapping[str, int | Sequence[int]] | None = None,
             constants: Mapping[str, Any] | None = None) -> SymbolicDerivative:
    """Translate ``f`` into sympy and differentiate it with respect to ``wrt``.

    ``wrt`` takes parameter positions (negative too) or names, or a tuple of them.
    ``shapes`` gives array parameters a fixed shape (``{"x": (3,)}``): each element becomes a
    real symbol ``x_0, x_1, ...``.  ``constants`` binds parameters to concrete values (a loop
    count, say) instead of symbols.  Every other parameter is a real scalar symbol.
    ``simplify=True`` applies ``sympy.simplify`` to the derivative.
    """
    import sympy as sp

    parsed = parse_function(f)
    params = parsed.params
    shapes = _check_shapes(shapes or {}, params)
    constants = dict(constants or {})
    for name in constants:
        if name not in params:
            raise InputError(f"constants names {name!r}, which is not a parameter of "
                             f"{parsed.name} (parameters: {', '.join(params)})")
    names, several = _resolve_wrt(wrt, params)
    for name in names:
        if name in constants:
            raise InputError(f"cannot differentiate with respect to {name!r}: it is bound by "
                             f"constants=")

    translator = _Translator(parsed, sp)
    env: dict[str, Any] = {}
    symbols: dict[str, Any] = {}
    for name in params:
        if name in constants:
            env[name] = translator.from_python(constants[name])
        elif name in shapes:
            array = np.empty(shapes[name], dtype=object)
            for index in np.ndindex(*shapes[name]):
                label = "_".join(str(i) for i in index)
                array[index] = sp.Symbol(f"{name}_{label}", real=True)
            env[name] = array
            symbols[name] = sp.Array(array.tolist())
        else:
            env[name] = symbols[name] = sp.Symbol(name, real=True)

    output = translator.run(env, top_level=True)
    derivatives = tuple(_differentiate(sp, output, env[name], simplify) for name in names)
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):     # pragma: no cover - builtins have no source anyway
        signature = None
    return SymbolicDerivative(
        function=_to_sympy_output(sp, output),
        derivative=derivatives if several else derivatives[0],
        symbols=symbols,
        name=parsed.name,
        params=params,
        wrt=names if several else names[0],
        shapes=shapes,
        constants=constants,
        signature=signature,
    )


def _check_shapes(shapes: Mapping[str, Any], params: tuple[str, ...]) -> dict:
    checked = {}
    for name, shape in shapes.items():
        if name not in params:
            raise InputError(f"shapes names {name!r}, which is not a parameter "
                             f"(parameters: {', '.join(params)})")
        shape = (shape,) if isinstance(shape, int) else tuple(int(n) for n in shape)
        if shape:                       # shape () is a scalar parameter
            checked[name] = shape
    return checked


def _resolve_wrt(wrt: Wrt, params: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    several = isinstance(wrt, (tuple, list))
    names = []
    for item in (wrt if several else (wrt,)):
        if isinstance(item, str):
            if item not in params:
                raise WrtError(f"wrt={item!r}: the function has no parameter {item!r} "
                               f"(parameters: {', '.join(params)})")
            names.append(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise WrtError(f"wrt={item}: the function has {len(params)} parameters")
            names.append(params[item])
        else:
            raise InputError(f"wrt takes parameter positions or names, not {item!r}")
    if several and not names:
        raise WrtError("wrt=(): name at least one parameter")
    return tuple(names), several


def _differentiate(sp: Any, output: Any, variable: Any, simplify: bool) -> Any:
    outputs = np.asarray(output, dtype=object) if isinstance(output, np.ndarray) else None
    variables = variable if isinstance(variable, np.ndarray) else None
    if outputs is None and variables is None:
        result = sp.diff(sp.sympify(output), variable)
        return sp.simplify(result) if simplify else result
    out_shape = outputs.shape if outputs is not None else ()
    in_shape = variables.shape if variables is not None else ()
    out_flat = list(outputs.flat) if outputs is not None else [output]
    in_flat = list(variables.flat) if variables is not None else [variable]
    entries = []
    for value in out_flat:
        for symbol in in_flat:
            entry = sp.diff(sp.sympify(value), symbol)
            entries.append(sp.simplify(entry) if simplify else entry)
    return sp.Array(entries, out_shape + in_shape)


def _to_sympy_output(sp: Any, output: Any) -> Any:
    if isinstance(output, np.ndarray):
        return sp.Array([sp.sympify(v) for v in output.flat], output.shape)
    return sp.sympify(output)


# --- the interpreter ------------------------------------------------------------------


class _Conflict:
    """A variable whose value differs in kind between the branches of a symbolic ``if``."""

    def __init__(self, name: str):
        self.name = name


@dataclass
class _State:
    """The live path through a function: its variables and the condition under which it runs.

    ``returns`` and ``exits`` are shared by all paths of one function: the ``return`` values
    and the ``break``/``continue`` exits of the innermost loop, each with the condition of the
    path that took it, in execution order (so ``Piecewise`` over them is ordered as well).
    """

    env: dict[str, Any]
    guard: Any = True
    returns: list[tuple[Any, Any]] = field(default_factory=list)            # (guard, value)
    exits: list[tuple[Any, str, dict]] = field(default_factory=list)        # (guard, kind, env)

    def branch(self, condition: Any) -> "_State":
        return _State(_copy_env(self.env), _and(self.guard, condition), self.returns,
                      self.exits)


@dataclass(frozen=True)
class _BoundMethod:
    receiver: Any
    name: str


# NumPy functions that only move, multiply or add elements: NumPy runs them on object arrays.
_STRUCTURAL = {
    np.transpose, np.reshape, np.ravel, np.squeeze, np.expand_dims, np.stack, np.concatenate,
    np.hstack, np.vstack, np.copy, np.outer, np.dot, np.matmul, np.inner, np.trace, np.diag,
    np.diagonal, np.prod, np.cumsum, np.cumprod, np.flip, np.roll, np.sum, np.atleast_1d,
    np.swapaxes, np.moveaxis, np.tile, np.repeat, np.broadcast_to, np.kron, np.tensordot,
}
# Python functions from these packages are not interpreted: they need a derivative rule.
_LIBRARIES = {"numpy", "scipy", "sympy", "s2s", "jax", "torch"}
_VARARG_METHODS = {"reshape", "transpose"}
_ARRAY_METHODS = {
    "sum": np.sum, "mean": np.mean, "dot": np.dot, "reshape": np.reshape,
    "transpose": np.transpose, "ravel": np.ravel, "flatten": np.ravel, "copy": np.copy,
    "prod": np.prod, "cumsum": np.cumsum, "max": np.max, "min": np.min, "squeeze": np.squeeze,
    "trace": np.trace, "diagonal": np.diagonal,
}
_LIST_METHODS = {"append", "extend", "insert", "pop", "copy", "index", "count", "reverse"}
_COMPARISONS = {ast.Lt: "Lt", ast.LtE: "Le", ast.Gt: "Gt", ast.GtE: "Ge", ast.Eq: "Eq",
                ast.NotEq: "Ne"}
_PYTHON_COMPARISONS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
                       ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
                       ast.Is: operator.is_, ast.IsNot: operator.is_not,
                       ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_CONSTRUCTS = {
    "Try": "'try' statements", "TryStar": "'try' statements", "With": "'with' statements",
    "Raise": "'raise' statements", "FunctionDef": "nested 'def'", "Lambda": "lambdas",
    "ClassDef": "class definitions", "Global": "'global' declarations",
    "Nonlocal": "'nonlocal' declarations", "Delete": "'del' statements",
    "Import": "imports", "ImportFrom": "imports", "Yield": "'yield'", "Await": "'await'",
    "AsyncFunctionDef": "async functions", "AsyncFor": "'async for'", "Match": "'match'",
    "Dict": "dict literals", "Set": "set literals", "DictComp": "dict comprehensions",
    "SetComp": "set comprehensions", "JoinedStr": "f-strings", "NamedExpr": "':='",
}


class _Translator:
    """Interprets one function's syntax tree over sympy values."""

    def __init__(self, parsed: ParsedFunction, sp: Any, depth: int = 0):
        self.parsed = parsed
        self.source = parsed.source
        self.scope = parsed.scope
        self.sp = sp
        self.depth = depth
        self.builtins: dict[Any, Callable[..., Any]] = {
            range: self.call_range, len: self.call_len, enumerate: self.call_enumerate,
            zip: self.call_zip, reversed: self.call_reversed, list: self.call_list,
            tuple: self.call_tuple, sum: self.call_sum, min: partial(self.call_min_max, "Min"),
            max: partial(self.call_min_max, "Max"), float: self.call_float,
            int: self.call_int, bool: self.call_bool,
        }
        self.specials: dict[Any, Callable[..., Any]] = {
            np.mean: self.call_mean, np.linalg.norm: self.call_norm, np.where: self.call_where,
            np.max: partial(self.call_extremum, "Max"), np.min: partial(self.call_extremum, "Min"),
            np.amax: partial(self.call_extremum, "Max"),
            np.amin: partial(self.call_extremum, "Min"),
            np.array: self.call_array, np.asarray: self.call_array, np.clip: self.call_clip,
        }

    # -- errors and conversions --

    def error(self, node: ast.AST, message: str, hint: str = HINT,
              error: type[UnsupportedError] = UnsupportedError) -> UnsupportedError:
        return self.source.unsupported(node, message, hint, error)

    def number(self, value: float) -> Any:
        """A Python float as an exact sympy number where the float is one."""
        sp = self.sp
        if math.isnan(value):
            return sp.nan
        if math.isinf(value):
            return sp.oo if value > 0 else -sp.oo
        for constant, exact in ((math.pi, sp.pi), (math.e, sp.E), (math.tau, 2 * sp.pi)):
            if value == constant:
                return exact
        if value.is_integer():
            return sp.Integer(int(value))
        fraction = Fraction(value)
        if fraction.denominator <= 1024:
            return sp.Rational(fraction.numerator, fraction.denominator)
        return sp.Float(value)

    def from_python(self, value: Any) -> Any:
        """A value from outside the interpreter (globals, results of concrete calls)."""
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return self.number(float(value))
        if isinstance(value, list):
            return [self.from_python(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.from_python(item) for item in value)
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biu":
                return value.copy()
            if value.dtype.kind in "fO":
                converted = np.empty(value.shape, dtype=object)
                for index in np.ndindex(*value.shape):
                    converted[index] = self.from_python(value[index])
                return converted
        return value

    def to_python(self, value: Any) -> Any:
        """A concrete interpreter value as plain Python/NumPy, for calling real functions."""
        sp = self.sp
        if isinstance(value, sp.Basic):
            if isinstance(value, sp.logic.boolalg.BooleanAtom):
                return bool(value)
            if isinstance(value, sp.Integer):
                return int(value)
            return float(value)
        if isinstance(value, list):
            return [self.to_python(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.to_python(item) for item in value)
        if isinstance(value, np.ndarray) and value.dtype == object:
            items = [self.to_python(item) for item in value.flat]
            kind = int if all(isinstance(i, (int, bool)) for i in items) else float
            return np.array(items, dtype=kind).reshape(value.shape)
        return value

    def is_symbolic(self, value: Any) -> bool:
        if isinstance(value, self.sp.Basic):
            return bool(value.free_symbols)
        if isinstance(value, np.ndarray):
            return value.dtype == object and any(self.is_symbolic(v) for v in value.flat)
        if isinstance(value, (list, tuple)):
            return any(self.is_symbolic(v) for v in value)
        return False

    def numeric(self, value: Any) -> Any:
        """A condition used as a number: 1 where it holds, 0 elsewhere."""
        sp = self.sp
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, sp.logic.boolalg.BooleanAtom):
            return int(bool(value))
        if _is_condition(value):
            return sp.Piecewise((1, value), (0, True))
        return value

    def as_array(self, value: Any) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, (list, tuple)):
            return np.array([self.as_array(v) for v in value], dtype=object) if any(
                isinstance(v, (list, tuple, np.ndarray)) for v in value
            ) else _object_vector(value)
        array = np.empty((), dtype=object)
        array[()] = value
        return array

    def elementwise(self, function: Callable[..., Any], args: Sequence[Any]) -> Any:
        if not any(isinstance(a, (np.ndarray, list, tuple)) for a in args):
            return function(*args)
        arrays = [self.as_array(a) for a in args]
        result = np.frompyfunc(function, len(arrays), 1)(*arrays)
        return _unwrap(result)

    # -- running a function --

    def run(self, env: dict[str, Any], top_level: bool = False) -> Any:
        node = self.parsed.node
        state = _State(dict(env))
        if self.block(node.body, state) != _DEAD:
            raise self.error(node.body[-1], f"'{self.parsed.name}' can reach its end without "
                             "returning a value", hint="return a value on every path")
        # Every path returns, so the last return needs no condition.
        returns = state.returns[:-1] + [(True, state.returns[-1][1])]
        value = self.select_many(returns, node)
        if top_level:
            if _tree_size([value], MAX_NODES) > MAX_NODES:
                raise self.error(node, f"the result is an expression of more than {MAX_NODES} "
                                 "nodes, too large to differentiate symbolically",
                                 hint=SIZE_HINT)
            if isinstance(value, (tuple, list)) or value is None:
                raise self.error(node, f"'{self.parsed.name}' returns a {type(value).__name__}; "
                                 "s2s.symbolic needs a scalar or an array",
                                 hint="return one value (np.stack several into an array)")
            if isinstance(value, np.ndarray):
                value = np.vectorize(self.numeric, otypes=[object])(value) if value.size \
                    else value
            else:
                value = self.numeric(value)
        return value

    def block(self, statements: Sequence[ast.stmt], state: _State) -> str | None:
        for statement in statements:
            handler = getattr(self, f"stmt_{type(statement).__name__}", None)
            if handler is None:
                raise self.error(statement, f"{_describe(statement)} are not supported by "
                                 "s2s.symbolic")
            signal = handler(statement, state)
            if signal is not None:
                return signal
        return None

    # -- statements --

    def stmt_Assign(self, node: ast.Assign, state: _State) -> None:
        value = self.expr(node.value, state.env)
        for target in node.targets:
            self.assign(target, value, state.env)

    def stmt_AnnAssign(self, node: ast.AnnAssign, state: _State) -> None:
        if node.value is not None:
            self.assign(node.target, self.expr(node.value, state.env), state.env)

    def stmt_AugAssign(self, node: ast.AugAssign, state: _State) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            current = self.expr(ast.copy_location(ast.Name(target.id, ast.Load()), target),
                                state.env)
        elif isinstance(target, ast.Subscript):
            current = self.expr_Subscript(target, state.env)
        else:
            raise self.error(target, "augmented assignment to an attribute is not supported")
        value = self.binary(node.op, current, self.expr(node.value, state.env), node)
        self.assign(target, value, state.env)

    def stmt_Expr(self, node: ast.Expr, state: _State) -> None:
        value = node.value
        if isinstance(value, ast.Constant):
            return None                     # a docstring or a bare constant
        if isinstance(value, ast.Call) and self.resolve_callee(value.func, state.env) is print:
            return None                     # printing has no mathematical effect
        self.expr(value, state.env)
        return None

    def stmt_Pass(self, node: ast.Pass, state: _State) -> None:
        return None

    def stmt_Assert(self, node: ast.Assert, state: _State) -> None:
        return None                         # assertions do not change the value

    def stmt_Break(self, node: ast.Break, state: _State) -> str:
        state.exits.append((state.guard, _BREAK, state.env))
        return _DEAD

    def stmt_Continue(self, node: ast.Continue, state: _State) -> str:
        state.exits.append((state.guard, _CONTINUE, state.env))
        return _DEAD

    def stmt_Return(self, node: ast.Return, state: _State) -> str:
        if node.value is None:
            raise self.error(node, "'return' without a value", hint="return the function's value")
        state.returns.append((state.guard, self.expr(node.value, state.env)))
        return _DEAD

    def stmt_If(self, node: ast.If, state: _State) -> str | None:
        condition = self.condition(node.test, state.env)
        if isinstance(condition, bool):
            return self.block(node.body if condition else node.orelse, state)
        then, other = state.branch(condition), state.branch(self.sp.Not(condition))
        then_signal, other_signal = self.block(node.body, then), self.block(node.orelse, other)
        if then_signal is not None and other_signal is not None:
            return _DEAD
        if then_signal is not None:
            state.guard, state.env = other.guard, other.env
        elif other_signal is not None:
            state.guard, state.env = then.guard, then.env
        else:
            state.env = self.merge([(condition, then.env), (True, other.env)], node)
        return None

    def stmt_For(self, node: ast.For, state: _State) -> str | None:
        items = iter(self.iterate(node.iter, state.env))

        def advance(state: _State) -> bool:
            item = next(items, _END)
            if item is _END:
                return False
            self.assign(node.target, item, state.env)
            return True

        return self.loop(node, state, advance)

    def stmt_While(self, node: ast.While, state: _State) -> str | None:
        def advance(state: _State) -> bool:
            condition = self.condition(node.test, state.env)
            if not isinstance(condition, bool):
                raise self.error(node, "a 'while' loop whose condition depends on the inputs "
                                 f"({ast.unparse(node.test)})", hint=LOOP_HINT)
            return condition

        return self.loop(node, state, advance)

    def loop(self, node: ast.For | ast.While, state: _State,
             advance: Callable[[_State], bool]) -> str | None:
        """Unroll a loop; ``advance`` binds the next item (or tests the condition)."""
        outer_exits, breaks = state.exits, []
        start_guard, start_returns = state.guard, len(state.returns)
        iteration = 0
        while True:
            if not advance(state):
                state.exits = outer_exits
                finished = [] if self.block(node.orelse, state) else [(state.guard, state.env)]
                break
            iteration += 1
            if iteration > MAX_ITERATIONS:
                raise self.error(node, f"a loop running more than {MAX_ITERATIONS} iterations",
                                 hint=LOOP_HINT)
            guard, returned = state.guard, len(state.returns)
            state.exits = []
            signal = self.block(node.body, state)
            exits, state.exits = state.exits, outer_exits
            breaks += [(g, env) for g, kind, env in exits if kind == _BREAK]
            going_on = [(g, env) for g, kind, env in exits if kind == _CONTINUE]
            if signal is None:
                going_on.append((state.guard, state.env))
            if not going_on:            # every path broke out or returned: no else clause
                finished = []
                break
            stopped = [g for g, _ in state.returns[returned:]]
            stopped += [g for g, kind, _ in exits if kind == _BREAK]
            state.guard = _and(guard, *[self.sp.Not(g) for g in stopped])
            state.env = self.merge(going_on, node)
            self.check_size(state, node, iteration)
        paths = breaks + finished
        if not paths:
            return _DEAD
        stopped = [g for g, _ in state.returns[start_returns:]]
        state.guard = _and(start_guard, *[self.sp.Not(g) for g in stopped])
        state.env = self.merge(paths, node)
        return None

    def check_size(self, state: _State, node: ast.AST, iteration: int) -> None:
        """Stop a loop whose unrolled expressions grow too large to differentiate."""
        values = [*state.env.values(), *(value for _, value in state.returns)]
        size = _tree_size(values, MAX_NODES)
        if size > MAX_NODES:
            raise self.error(node, f"after {iteration} iterations this loop has built "
                             f"expressions of more than {MAX_NODES} nodes, too large to "
                             "differentiate symbolically", hint=SIZE_HINT)

    # -- assignment --

    def assign(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.error(target, "starred assignment targets are not supported")
            items = self.unpack(value, target)
            if len(items) != len(target.elts):
                raise self.error(target, f"cannot unpack {len(items)} values into "
                                 f"{len(target.elts)} names", hint="")
            for element, item in zip(target.elts, items):
                self.assign(element, item, env)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            name = target.value.id
            container = env.get(name, MISSING)
            if container is MISSING:
                raise self.error(target, f"'{name}' is not a local variable", hint="")
            index = self.index(target.slice, env)
            if isinstance(container, list):
                container[index] = value
            elif isinstance(container, np.ndarray):
                if container.dtype != object:
                    container = env[name] = self.from_python(container).astype(object)
                container[index] = value
            else:
                raise self.error(target, f"cannot assign to an element of '{name}'", hint="")
        else:
            raise self.error(target, f"assignment to '{ast.unparse(target)}' is not supported")

    def unpack(self, value: Any, node: ast.AST) -> list[Any]:
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, np.ndarray) and value.ndim > 0:
            return [_unwrap(item) for item in value]
        raise self.error(node, "cannot unpack a scalar", hint="")

    def merge(self, paths: list[tuple[Any, dict]], node: ast.AST) -> dict:
        """The variables of several paths joining: ``Piecewise`` where they differ.

        The conditions are tried in order and the last one is taken as ``True``.
        """
        if len(paths) == 1:
            return paths[0][1]
        paths = paths[:-1] + [(True, paths[-1][1])]
        names = list(dict.fromkeys(name for _, env in paths for name in env))
        merged: dict[str, Any] = {}
        for name in names:
            if not all(name in env for _, env in paths):
                merged[name] = _Conflict(name)
                continue
            value = self.select_many([(c, env[name]) for c, env in paths], node, strict=False)
            merged[name] = _Conflict(name) if value is None else value
        return merged

    def select_many(self, pairs: list[tuple[Any, Any]], node: ast.AST,
                    strict: bool = True) -> Any:
        """``Piecewise`` over (condition, value) pairs, elementwise for arrays and tuples."""
        sp = self.sp
        values = [value for _, value in pairs]
        if len(pairs) == 1 or all(_same(values[0], v) for v in values[1:]):
            return values[0]
        if all(isinstance(v, (list, tuple)) for v in values):
            if len({len(v) for v in values}) == 1 and len({type(v) for v in values}) == 1:
                parts = [self.select_many([(c, v[i]) for c, v in pairs], node, strict)
                         for i in range(len(values[0]))]
                if all(p is not None for p in parts):
                    return type(values[0])(parts)
        elif any(isinstance(v, np.ndarray) for v in values) and all(
                _is_data(v) for v in values):
            try:
                arrays = np.broadcast_arrays(*[self.as_array(v) for v in values])
            except ValueError:
                arrays = None
            if arrays is not None:
                result = np.empty(arrays[0].shape, dtype=object)
                for index in np.ndindex(*result.shape):
                    result[index] = self.select_many(
                        [(c, a[index]) for (c, _), a in zip(pairs, arrays)], node, strict)
                return result
        elif all(_is_data(v) for v in values):
            return sp.Piecewise(*[(self.numeric(v), c) for c, v in pairs])
        if strict:
            raise self.error(node, "the values on different paths through an 'if' whose "
                             "condition depends on the inputs differ in kind or shape")
        return None

    # -- conditions --

    def condition(self, node: ast.expr, env: dict[str, Any]) -> Any:
        """A Python bool when the condition is decided, else a sympy Boolean."""
        return self.truth(self.expr(node, env), node)

    def truth(self, value: Any, node: ast.AST) -> Any:
        sp = self.sp
        if isinstance(value, np.ndarray):
            if value.size == 1 and value.ndim == 0:
                return self.truth(value[()], node)
            raise self.error(node, "the truth value of an array is ambiguous",
                             hint="use np.where for elementwise choices")
        if isinstance(value, sp.logic.boolalg.BooleanAtom):
            return bool(value)
        if _is_condition(value):
            if value.free_symbols:
                return value
            try:
                return bool(value)
            except TypeError:
                return value
        if isinstance(value, sp.Expr):
            if value.free_symbols:
                return self.relation(sp.Ne, value, 0)
            return bool(value != 0)
        if isinstance(value, sp.Basic):
            raise self.error(node, f"cannot use {value} as a condition", hint="")
        return bool(value)

    def concrete_truth(self, node: ast.expr, env: dict[str, Any], what: str) -> bool:
        condition = self.condition(node, env)
        if not isinstance(condition, bool):
            raise self.error(node, f"{what} whose condition depends on the inputs")
        return condition

    # -- expressions --

    def expr(self, node: ast.expr, env: dict[str, Any]) -> Any:
        handler = getattr(self, f"expr_{type(node).__name__}", None)
        if handler is None:
            raise self.error(node, f"{_describe(node)} are not supported by s2s.symbolic")
        try:
            return handler(node, env)
        except S2SError:
            raise
        except (TypeError, ValueError, IndexError, KeyError, AttributeError,
                ZeroDivisionError) as exc:     # Python's own error, located in the source
            raise self.error(node, f"cannot evaluate '{ast.unparse(node)}' symbolically "
                             f"({type(exc).__name__}: {exc})") from exc

    def expr_Constant(self, node: ast.Constant, env: dict[str, Any]) -> Any:
        value = node.value
        if isinstance(value, float):
            return self.number(value)
        if isinstance(value, complex):
            raise self.error(node, "complex numbers are not supported", hint="")
        return value

    def expr_Name(self, node: ast.Name, env: dict[str, Any]) -> Any:
        if node.id in env:
            value = env[node.id]
            if isinstance(value, _Conflict):
                raise self.error(node, f"'{node.id}' is assigned on only some paths, or to "
                                 "values of different kinds, through an 'if' whose condition "
                                 "depends on the inputs",
                                 hint="assign it on every branch, with values of one shape")
            return value
        value = self.scope.resolve(node.id)
        if value is MISSING:
            raise self.error(node, f"name '{node.id}' is not defined", hint="")
        return self.from_python(value)

    def expr_Attribute(self, node: ast.Attribute, env: dict[str, Any]) -> Any:
        base = self.expr(node.value, env)
        name = node.attr
        if isinstance(base, np.ndarray):
            if name == "T":
                return np.transpose(base)
            if name in ("shape", "ndim", "size"):
                return getattr(base, name)
            if name in _ARRAY_METHODS or name in REGISTRY.methods or name in (
                    "astype", "item", "tolist"):
                return _BoundMethod(base, name)
            raise self.error(node, f"the array attribute '.{name}' is not supported")
        if isinstance(base, list) and name in _LIST_METHODS:
            return _BoundMethod(base, name)
        if isinstance(base, (self.sp.Basic, int, float, tuple, list)):
            kind = type(base).__name__ if isinstance(base, (tuple, list)) else "scalar"
            raise self.error(node, f"the attribute '.{name}' of a {kind} is not supported")
        value = getattr(base, name, MISSING)
        if value is MISSING:
            raise self.error(node, f"'{ast.unparse(node.value)}' has no attribute '{name}'",
                             hint="")
        return self.from_python(value)

    def expr_BinOp(self, node: ast.BinOp, env: dict[str, Any]) -> Any:
        return self.binary(node.op, self.expr(node.left, env), self.expr(node.right, env), node)

    def binary(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        kind = type(op)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and kind is ast.Add \
                and type(a) is type(b):
            return a + b
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            raise self.error(node, "arithmetic on Python lists or tuples",
                             hint="make an array with np.array first")
        if kind is ast.MatMult:
            if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
                raise self.error(node, "'@' needs two arrays", hint="")
            return _unwrap(np.matmul(self.as_array(a), self.as_array(b)))
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return self.elementwise(lambda p, q: self.scalar_binary(kind, p, q, node),
                                    [self.as_array(a), self.as_array(b)])
        return self.scalar_binary(kind, a, b, node)

    def scalar_binary(self, kind: type, a: Any, b: Any, node: ast.AST) -> Any:
        sp = self.sp
        a, b = self.numeric(a), self.numeric(b)
        integers = _is_int(a) and _is_int(b)
        if kind is ast.Add:
            return a + b
        if kind is ast.Sub:
            return a - b
        if kind is ast.Mult:
            return a * b
        if kind is ast.Div:
            if integers:
                if b == 0:
                    raise ZeroDivisionError("division by zero")
                return sp.Rational(int(a), int(b))
            return a / b
        if kind is ast.Pow:
            if integers and b < 0:
                return sp.Integer(a) ** int(b)
            return a ** b
        if kind is ast.FloorDiv:
            return a // b if integers else sp.floor(a / b)
        if kind is ast.Mod:
            return a % b if integers else sp.Mod(a, b)
        raise self.error(node, f"the operator '{_operator_text(kind)}' is not supported")

    def expr_UnaryOp(self, node: ast.UnaryOp, env: dict[str, Any]) -> Any:
        operand = self.expr(node.operand, env)
        if isinstance(node.op, ast.Not):
            truth = self.truth(operand, node.operand)
            return (not truth) if isinstance(truth, bool) else self.sp.Not(truth)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            return self.elementwise(lambda v: -self.numeric(v), [operand])
        raise self.error(node, "the operator '~' is not supported")

    def expr_BoolOp(self, node: ast.BoolOp, env: dict[str, Any]) -> Any:
        sp = self.sp
        is_and = isinstance(node.op, ast.And)
        pending = []
        value = None
        for operand in node.values:
            value = self.expr(operand, env)
            truth = self.truth(value, operand)
            if isinstance(truth, bool):
                if truth != is_and:             # False in an 'and', True in an 'or' decides
                    return value if not pending else truth
            else:
                pending.append(truth)
        if not pending:
            return value                        # Python's own result: the last operand
        return sp.And(*pending) if is_and else sp.Or(*pending)

    def expr_Compare(self, node: ast.Compare, env: dict[str, Any]) -> Any:
        sp = self.sp
        left = self.expr(node.left, env)
        results = []
        for op, comparator in zip(node.ops, node.comparators):
            right = self.expr(comparator, env)
            results.append(self.compare(type(op), left, right, node))
            left = right
        if len(results) == 1:
            return results[0]
        if any(isinstance(r, np.ndarray) for r in results):
            raise self.error(node, "chained comparisons of arrays are not supported", hint="")
        truths = [self.truth(r, node) for r in results]
        if any(t is False for t in truths):
            return False
        symbolic = [t for t in truths if not isinstance(t, bool)]
        return sp.And(*symbolic) if symbolic else True

    def compare(self, kind: type, a: Any, b: Any, node: ast.AST) -> Any:
        if kind in (ast.Is, ast.IsNot, ast.In, ast.NotIn):
            if self.is_symbolic(a) or self.is_symbolic(b):
                raise self.error(node, "'is' and 'in' tests on values that depend on the "
                                 "inputs are not supported")
            return _PYTHON_COMPARISONS[kind](a, b)
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return self.elementwise(lambda p, q: self.compare(kind, p, q, node),
                                    [self.as_array(a), self.as_array(b)])
        if not isinstance(a, self.sp.Basic) and not isinstance(b, self.sp.Basic):
            return _PYTHON_COMPARISONS[kind](a, b)
        return self.relation(getattr(self.sp, _COMPARISONS[kind]), self.numeric(a),
                             self.numeric(b))

    def relation(self, relational: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
        """``relational(a, b)`` with any ``Piecewise`` operand expanded into logic.

        ``max_so_far > Piecewise((p, c), (q, True))`` becomes
        ``(c & (max_so_far > p)) | (~c & (max_so_far > q))``: conditions free of
        ``Piecewise`` keep sympy's code printers (``lambdify``) fast.
        """
        sp = self.sp
        for side, value in enumerate((a, b)):
            if not (isinstance(value, sp.Basic) and value.has(sp.Piecewise)):
                continue
            folded = sp.piecewise_fold(value)
            if not isinstance(folded, sp.Piecewise):
                continue
            terms, excluded = [], sp.true
            for piece, condition in folded.args:
                inner = (self.relation(relational, piece, b) if side == 0
                         else self.relation(relational, a, piece))
                terms.append(sp.And(excluded, condition, inner))
                excluded = sp.And(excluded, sp.Not(condition))
            return sp.Or(*terms)
        return relational(a, b)

    def expr_IfExp(self, node: ast.IfExp, env: dict[str, Any]) -> Any:
        condition = self.condition(node.test, env)
        if isinstance(condition, bool):
            return self.expr(node.body if condition else node.orelse, env)
        return self.select_many([(condition, self.expr(node.body, env)),
                                 (True, self.expr(node.orelse, env))], node)

    def expr_Tuple(self, node: ast.Tuple, env: dict[str, Any]) -> tuple:
        return tuple(self.elements(node.elts, env))

    def expr_List(self, node: ast.List, env: dict[str, Any]) -> list:
        return self.elements(node.elts, env)

    def elements(self, nodes: Sequence[ast.expr], env: dict[str, Any]) -> list:
        values = []
        for element in nodes:
            if isinstance(element, ast.Starred):
                values.extend(self.items(self.expr(element.value, env), element))
            else:
                values.append(self.expr(element, env))
        return values

    def expr_Subscript(self, node: ast.Subscript, env: dict[str, Any]) -> Any:
        value = self.expr(node.value, env)
        index = self.index(node.slice, env)
        if isinstance(value, (list, tuple, str, range)):
            return value[index]
        if isinstance(value, np.ndarray):
            return _unwrap(value[index])
        if isinstance(value, dict):
            return self.from_python(value[index])
        raise self.error(node, f"cannot index '{ast.unparse(node.value)}', a scalar", hint="")

    def index(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.Slice):
            parts = [None if p is None else self.index(p, env)
                     for p in (node.lower, node.upper, node.step)]
            return slice(*parts)
        if isinstance(node, ast.Tuple):
            return tuple(self.index(element, env) for element in node.elts)
        value = self.expr(node, env)
        if self.is_symbolic(value):
            raise self.error(node, "an index that depends on the inputs",
                             hint="use np.where, or index with loop counters and constants")
        if isinstance(value, self.sp.Basic) or (isinstance(value, (list, np.ndarray))
                                                and not isinstance(value, str)):
            return self.to_python(value)
        return value

    def expr_ListComp(self, node: ast.ListComp, env: dict[str, Any]) -> list:
        return self.comprehension(node, env)

    def expr_GeneratorExp(self, node: ast.GeneratorExp, env: dict[str, Any]) -> list:
        return self.comprehension(node, env)

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp, env: dict[str, Any]) -> list:
        results: list[Any] = []

        def loop(generators: list[ast.comprehension], local: dict[str, Any]) -> None:
            if not generators:
                results.append(self.expr(node.elt, local))
                return
            generator = generators[0]
            for item in self.iterate(generator.iter, local):
                inner = dict(local)
                self.assign(generator.target, item, inner)
                if all(self.concrete_truth(test, inner, "a comprehension filter")
                       for test in generator.ifs):
                    loop(generators[1:], inner)

        loop(list(node.generators), env)
        return results

    def iterate(self, node: ast.expr, env: dict[str, Any]) -> list[Any]:
        items = self.items(self.expr(node, env), node)
        if len(items) > MAX_ITERATIONS:
            raise self.error(node, f"a loop of more than {MAX_ITERATIONS} iterations",
                             hint=LOOP_HINT)
        return items

    def items(self, value: Any, node: ast.AST) -> list[Any]:
        if isinstance(value, (list, tuple, range, str)):
            return list(value)
        if isinstance(value, np.ndarray) and value.ndim > 0:
            return [_unwrap(item) if value.dtype == object else self.from_python(item)
                    for item in value]
        raise self.error(node, "a loop over a value that depends on the inputs",
                         hint=LOOP_HINT)

    # -- calls --

    def resolve_callee(self, node: ast.expr, env: dict[str, Any]) -> Any:
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id not in env:
            return self.scope.resolve_path(node)
        return MISSING

    def expr_Call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        function = self.expr(node.func, env)
        if function is print:
            return None
        args = self.elements(node.args, env)
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.error(keyword.value, "'**' arguments are not supported")
            kwargs[keyword.arg] = self.expr(keyword.value, env)
        return self.call(function, args, kwargs, node)

    def call(self, function: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        sp = self.sp
        if isinstance(function, _BoundMethod):
            return self.call_method(function, args, kwargs, node)
        try:
            builtin = self.builtins.get(function) or self.specials.get(function)
        except TypeError:                   # an unhashable callable
            builtin = None
        if builtin is not None:
            return builtin(args, kwargs, node)
        symbolic = any(self.is_symbolic(v) for v in [*args, *kwargs.values()])
        if _hashable(function) and function in _STRUCTURAL:
            return self.call_structural(function, args, kwargs)
        rule = REGISTRY.lookup(function)
        label = _label(function, node)
        if rule is not None and rule.sympy is not None and not kwargs:
            twin = rule.sympy
            try:
                if rule.elementwise:
                    return self.elementwise(lambda *xs: twin(sp, *map(self.numeric, xs)), args)
                if not any(isinstance(a, (np.ndarray, list, tuple)) for a in args):
                    return twin(sp, *map(self.numeric, args))
            except TypeError as exc:
                raise self.error(node, f"cannot call the sympy twin of {label} with these "
                                 f"arguments ({exc})") from None
        if not symbolic:
            result = function(*self.to_python(args), **self.to_python(kwargs))
            return self.from_python(result)
        if rule is not None:
            if rule.nondifferentiable:
                raise self.error(node, f"{label} is not differentiable (its derivative is zero "
                                 "wherever it exists) and has no sympy twin")
            raise self.error(node, f"the rule for {label} has no sympy twin for these arguments",
                             hint="give the rule a sympy= twin in s2s/rules, or use s2s.check "
                                  "(or s2s.verify.numerical_grad) for numerical checks")
        target = _unwrapped(function)
        library = getattr(target, "__module__", None) or ""
        if inspect.isfunction(target) and library.partition(".")[0] not in _LIBRARIES:
            return self.inline(target, args, kwargs, node)   # the user's code, maybe decorated
        raise self.error(node, f"no derivative rule for {label}",
                         hint="define a rule with a sympy= twin in s2s/rules, or use s2s.check "
                              "(or s2s.verify.numerical_grad) for numerical checks",
                         error=MissingRuleError)

    def call_structural(self, function: Callable[..., Any], args: list, kwargs: dict) -> Any:
        arrays = [self.as_array(a) if isinstance(a, self.sp.Basic) else a for a in args]
        return _unwrap(function(*arrays, **self.to_python(kwargs)))

    def call_method(self, method: _BoundMethod, args: list, kwargs: dict,
                    node: ast.Call) -> Any:
        receiver, name = method.receiver, method.name
        if isinstance(receiver, list):
            return getattr(receiver, name)(*args, **kwargs)
        if name == "astype":
            return receiver if receiver.dtype == object else self.from_python(
                receiver.astype(*self.to_python(args)))
        if name == "item":
            if receiver.size != 1:
                raise self.error(node, "item() of an array with more than one element", hint="")
            return _unwrap(receiver.reshape(-1)[0])
        if name == "tolist":
            return [_unwrap(item) for item in receiver] if receiver.ndim else _unwrap(receiver)
        rule = REGISTRY.methods.get(name)
        function = _ARRAY_METHODS.get(name) or rule.primal
        if name in _VARARG_METHODS and (len(args) > 1 or (args and isinstance(args[0], int))):
            args = [tuple(args)]
        return self.call(function, [receiver, *args], kwargs, node)

    def inline(self, function: Callable[..., Any], args: list, kwargs: dict,
               node: ast.Call) -> Any:
        if self.depth >= MAX_CALL_DEPTH:
            raise self.error(node, f"calls nested more than {MAX_CALL_DEPTH} deep", hint="")
        try:
            parsed = parse_function(function)
            bound = inspect.signature(function).bind(*args, **kwargs)
        except UnsupportedError as exc:
            raise self.error(node, f"cannot read {_label(function, node)}: {exc.message}",
                             hint=exc.hint) from None
        except TypeError as exc:
            raise self.error(node, f"bad call of {_label(function, node)}: {exc}",
                             hint="") from None
        given = dict(bound.arguments)
        bound.apply_defaults()
        env = {name: value if name in given else self.from_python(value)
               for name, value in bound.arguments.items()}
        return _Translator(parsed, self.sp, self.depth + 1).run(env)

    # -- builtins and NumPy functions handled here --

    def concrete_ints(self, args: list, node: ast.Call, what: str) -> list[int]:
        if any(self.is_symbolic(a) for a in args):
            raise self.error(node, f"{what} whose bounds depend on the inputs", hint=LOOP_HINT)
        values = self.to_python(args)
        if not all(isinstance(v, int) for v in values):
            raise self.error(node, f"{what} needs integers", hint="")
        return values

    def call_range(self, args: list, kwargs: dict, node: ast.Call) -> range:
        return range(*self.concrete_ints(args, node, "range()"))

    def call_len(self, args: list, kwargs: dict, node: ast.Call) -> int:
        value = args[0]
        if isinstance(value, (list, tuple, range, str, np.ndarray)):
            return len(value)
        raise self.error(node, "len() of a scalar", hint="")

    def call_enumerate(self, args: list, kwargs: dict, node: ast.Call) -> list:
        start = self.concrete_ints([kwargs.get("start", args[1] if len(args) > 1 else 0)],
                                   node, "enumerate()")[0]
        return list(enumerate(self.items(args[0], node), start))

    def call_zip(self, args: list, kwargs: dict, node: ast.Call) -> list:
        return list(zip(*[self.items(a, node) for a in args]))

    def call_reversed(self, args: list, kwargs: dict, node: ast.Call) -> list:
        return list(reversed(self.items(args[0], node)))

    def call_list(self, args: list, kwargs: dict, node: ast.Call) -> list:
        return self.items(args[0], node) if args else []

    def call_tuple(self, args: list, kwargs: dict, node: ast.Call) -> tuple:
        return tuple(self.items(args[0], node)) if args else ()

    def call_sum(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        total = kwargs.get("start", args[1] if len(args) > 1 else 0)
        for item in self.items(args[0], node):
            total = self.binary(ast.Add(), total, item, node)
        return total

    def call_min_max(self, name: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        values = self.items(args[0], node) if len(args) == 1 else args
        if kwargs or any(isinstance(v, (np.ndarray, list, tuple)) for v in values):
            raise self.error(node, f"{name.lower()}() of arrays or with keywords",
                             hint=f"use np.{name.lower()}imum or np.{name.lower()}")
        if not any(self.is_symbolic(v) for v in values):
            return (max if name == "Max" else min)(values)
        return getattr(self.sp, name)(*map(self.numeric, values))

    def call_float(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        value = self.numeric(args[0]) if args else 0
        if isinstance(value, (self.sp.Basic, np.ndarray)):
            return value
        return self.number(float(value))

    def call_int(self, args: list, kwargs: dict, node: ast.Call) -> int:
        if args and self.is_symbolic(args[0]):
            raise self.error(node, "int() of a value that depends on the inputs", hint="")
        return int(self.to_python(args[0])) if args else 0

    def call_bool(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        return self.truth(args[0], node) if args else False

    def call_mean(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        array = self.as_array(args[0])
        total = self.call_structural(np.sum, [array, *args[1:]], kwargs)
        count = array.size // max(np.size(total), 1)
        return self.binary(ast.Div(), total, count, node)

    def call_norm(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        options = {**dict(zip(("ord", "axis", "keepdims"), args[1:])), **kwargs}
        if any(options.get(k) not in (None, False) for k in ("axis", "keepdims")) or \
                options.get("ord") not in (None, 2, "fro"):
            raise self.error(node, "np.linalg.norm with ord, axis or keepdims",
                             hint="write the norm out, e.g. np.sqrt(np.sum(x ** 2))")
        array = self.as_array(args[0])
        return self.sp.sqrt(sum((self.numeric(v) ** 2 for v in array.flat), self.sp.Integer(0)))

    def call_where(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        if len(args) != 3 or kwargs:
            raise self.error(node, "np.where needs three arguments here", hint="")

        def choose(condition: Any, a: Any, b: Any) -> Any:
            truth = self.truth(condition, node)
            if isinstance(truth, bool):
                return a if truth else b
            return self.select_many([(truth, a), (True, b)], node)

        return self.elementwise(choose, [self.as_array(a) for a in args])

    def call_extremum(self, name: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        is_max = name == "Max"
        if len(args) > 1 or kwargs:
            raise self.error(node, "np.max/np.min with an axis", hint="")
        values = list(self.as_array(args[0]).flat)
        if not any(self.is_symbolic(v) for v in values):
            return self.from_python((np.max if is_max else np.min)(self.to_python(args[0])))
        return (self.sp.Max if is_max else self.sp.Min)(*map(self.numeric, values))

    def call_array(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        if not self.is_symbolic(args[0]):
            return self.from_python(np.array(self.to_python(args[0]),
                                             **self.to_python(kwargs)))
        array = self.as_array(args[0])
        return array.copy() if isinstance(args[0], np.ndarray) else array

    def call_clip(self, args: list, kwargs: dict, node: ast.Call) -> Any:
        sp = self.sp
        low, high = [kwargs.get(k, args[i] if len(args) > i else None)
                     for i, k in ((1, "a_min"), (2, "a_max"))]

        def clip(x: Any, lo: Any, hi: Any) -> Any:
            x = self.numeric(x)
            x = x if lo is None else sp.Max(x, lo)
            return x if hi is None else sp.Min(x, hi)

        return self.elementwise(clip, [args[0], low, high])


# --- small helpers --------------------------------------------------------------------


def _object_vector(values: Sequence[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def _unwrap(value: Any) -> Any:
    """A 0-d array or NumPy scalar as a plain scalar; other values unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_data(value: Any) -> bool:
    import sympy as sp

    return isinstance(value, (int, float, bool, np.number, np.bool_, np.ndarray, sp.Basic))


def _tree_size(values: Sequence[Any], limit: int) -> int:
    """The number of nodes of the sympy trees in ``values`` (shared subtrees counted each
    time they appear), stopping early once past ``limit``."""
    import sympy as sp

    sizes: dict[Any, int] = {}

    def size(expression: Any) -> int:
        known = sizes.get(expression)
        if known is None:
            known = 1
            for argument in expression.args:
                known += size(argument)
                if known > limit:
                    break
            sizes[expression] = known
        return known

    total = 0
    for value in values:
        if isinstance(value, sp.Basic):
            try:
                total += size(value)
            except RecursionError:      # a tree this deep is too large anyway
                return limit + 1
        elif isinstance(value, np.ndarray) and value.dtype == object:
            total += _tree_size(list(value.flat), limit - total)
        elif isinstance(value, (list, tuple)):
            total += _tree_size(list(value), limit - total)
        if total > limit:
            break
    return total


def _and(*conditions: Any) -> Any:
    """The conjunction, without importing sympy when every condition is plain True."""
    rest = [c for c in conditions if c is not True]
    if not rest:
        return True
    import sympy as sp

    return sp.And(*rest)


def _is_condition(value: Any) -> bool:
    """A sympy Boolean that is not also an expression (a symbol is both)."""
    import sympy as sp

    return isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr)


def _unwrapped(function: Any) -> Any:
    """The function behind decorators that set ``__wrapped__`` (functools.wraps)."""
    try:
        return inspect.unwrap(function)
    except ValueError:                  # a cycle of __wrapped__
        return function


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and all(_same(x, y) for x, y in zip(a.flat, b.flat)))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    if not (_is_data(a) and _is_data(b)):
        return False
    try:
        return bool(a == b)
    except TypeError:
        return False


def _copy_env(env: dict[str, Any]) -> dict[str, Any]:
    """A copy deep enough that one branch's element assignments do not leak into the other."""
    def copy(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.copy()
        if isinstance(value, list):
            return [copy(item) for item in value]
        return value

    return {name: copy(value) for name, value in env.items()}


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    return _CONSTRUCTS.get(name, f"'{name}' constructs")


def _operator_text(kind: type) -> str:
    return {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
            ast.RShift: ">>"}.get(kind, kind.__name__)


def _label(function: Any, node: ast.Call) -> str:
    if isinstance(node.func, (ast.Name, ast.Attribute)):
        return ast.unparse(node.func)
    return getattr(function, "__name__", repr(function))

