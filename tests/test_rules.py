"""NumPy coverage: every rule of the registry, checked from the rule's own data.

For each differentiable rule of ``s2s.rules.REGISTRY`` and each of its ``examples``
(one call with NumPy's defaults if it declares none), inputs are drawn from the rule's
``domains`` (``Shaped`` fixes a shape, ``ArrayList`` gives a list argument, ``Invertible``
and ``SymmetricPositive`` give structured matrices) and the rule is checked in float64:

1. its VJP functions, called directly (unbroadcast for broadcasting rules) and through
   the tape (:func:`s2s.tape.vjp_with_tape`), against central finite differences of
   ``<g, f(x)>`` for a random cotangent ``g``;
2. its JVP against finite differences along a random tangent ``t``, and the transpose
   identity ``<g, jvp(t)> == <vjp(g), t>``;
3. with float32 inputs: float32 results within 1e-3 (relative) of float64 ones;
4. against its sympy twin, if it has one, at scalar points.

Values may be arrays or tuples/lists of arrays (tuple outputs such as ``svd``'s, list
outputs such as ``split``'s, list arguments such as ``concatenate``'s): the harness
works on their leaves, so no rule needs a test of its own.  Integer and boolean leaves of
an argument (the pivots of SciPy's ``(lu, piv)``) are not perturbed: their derivative is 0.
``EXTRA_SHAPES`` adds input shapes that one domain per argument cannot express (``diag``
of a vector...); the last part checks the conventions where derivatives do not exist
(subgradients).
"""
from __future__ import annotations

import ast
import inspect
import math
import operator
import warnings
import zlib

import warnings

import numpy as np
import pytest
import sympy

import s2s
from s2s.errors import MissingRuleError, UnsupportedError
from s2s.inline import inline
from s2s.rules.containers import CONTAINER_METHODS, CONTAINER_RULES
from s2s.naming import Namer
from s2s.rules import REGISTRY, Domain
from s2s.rules.domains import (Diagonalizable, Invertible, InvertibleTensor,
                               SymmetricPositive)
from s2s.runtime import unbroadcast
from s2s.tape import tensor, vjp_with_tape

EPS = 1e-6
RULES = [rule for rule in REGISTRY if not rule.nondifferentiable
         and rule.name not in CONTAINER_RULES]      # pytree reads: tests/test_pytrees.py
BROADCAST_SHAPES = ((3, 4), (4,), (3, 1))     # per position, for broadcasting rules
DEFAULT_SHAPE = (3, 4)

# Shapes one domain per argument cannot express: (rule name, per-argument spec, params).
# A spec is a shape (uniform in the rule's domain interval), a list of shapes (a list
# argument), a Domain, or None (the rule's own domain).
EXTRA_SHAPES = [
    ("diag", [(3,)], {}),
    ("diag", [(3,)], {"k": -1}),
    ("diagonal", [(2, 3, 4)], {"offset": 1, "axis1": 2, "axis2": 1}),
    ("trace", [(2, 3, 3)], {"axis1": 1, "axis2": 2}),
    ("matmul", [(4,), (4, 2)], {}),
    ("matmul", [(3, 4), (4,)], {}),
    ("matmul", [(4,), (4,)], {}),
    ("matmul", [(2, 3, 4), (1, 4, 2)], {}),
    ("dot", [(4,), (4,)], {}),
    ("dot", [(2, 4), (3, 4, 2)], {}),
    ("dot", [(), (3, 2)], {}),
    ("inner", [(3,), (3,)], {}),
    ("inner", [(), (2, 3)], {}),
    ("tensordot", [(3, 4), (4, 2)], {"axes": 1}),
    ("einsum", None, {"operands": ("i,ij->j", (3,), (3, 4))}),
    ("einsum", None, {"operands": ("...i,i->...", (2, 3, 4), (4,))}),
    ("einsum", None, {"operands": ("...i,...i->...", (1, 3), (4, 3))}),
    ("einsum", None, {"operands": ("ii,k->ik", (3, 3), (2,))}),
    ("norm", [(4,)], {}),
    ("norm", [(4,)], {"ord": 1}),
    ("norm", [(4,)], {"ord": 2}),
    ("norm", [(4,)], {"ord": np.inf}),
    ("norm", [(4,)], {"ord": -np.inf}),
    ("norm", [(4,)], {"ord": 3}),
    ("norm", [(2, 3, 4)], {"ord": 2, "axis": (2, 0)}),
    ("norm", [(2, 3, 4)], {"axis": 1, "keepdims": True}),
    ("solve", [None, (3,)], {}),
    ("solve", [None, (2, 3, 2)], {}),
    ("inv", [Invertible(shape=(2, 3, 3))], {}),
    ("det", [Invertible(shape=(2, 3, 3))], {}),
    ("slogdet", [Invertible(shape=(2, 3, 3))], {}),
    ("cholesky", [SymmetricPositive(shape=(2, 3, 3))], {}),
    ("eigh", [SymmetricPositive(shape=(2, 3, 3))], {"UPLO": "U"}),
    ("svd", [(3, 4)], {"full_matrices": False}),
    ("svd", [(3, 3)], {}),
    ("svd", [(2, 4, 3)], {"full_matrices": False}),
    ("pinv", [(3, 4)], {}),
    ("eigvalsh", [SymmetricPositive(shape=(2, 3, 3))], {}),
    ("eig", [Diagonalizable(shape=(2, 3, 3))], {}),
    ("eig", [Diagonalizable(shape=(2, 3, 3), pairs=True)], {}),
    ("eigvals", [Diagonalizable(shape=(4, 4))], {}),
    ("eigvals", [Diagonalizable(shape=(4, 4), pairs=True)], {}),
    ("qr", [(3, 3)], {"mode": "complete"}),
    ("qr", [(3, 5)], {}),
    ("qr", [(3, 5)], {"mode": "complete"}),
    ("qr", [(3, 5)], {"mode": "r"}),
    ("qr", [(2, 4, 3)], {}),
    ("lstsq", [(5, 3), (5, 2)], {"rcond": None}),
    ("lstsq", [(3, 3), (3,)], {"rcond": None}),
    ("lstsq", [(3, 5), (3,)], {"rcond": None}),
    ("matrix_power", [Invertible(shape=(2, 3, 3))], {"n": 2}),
    ("multi_dot", [[(3,), (3, 4), (4, 2)]], {}),
    ("multi_dot", [[(3,), (3, 4), (4,)]], {}),
    ("multi_dot", [[(2, 3), (3,)]], {}),
    ("tensorsolve", [InvertibleTensor(shape=(2, 3, 6), rows=2, axes=(0,)), (2, 3)],
     {"axes": (0,)}),
    ("tensorsolve", [InvertibleTensor(shape=(6, 2, 3), rows=1), (6,)], {}),
    ("tensorinv", [InvertibleTensor(shape=(6, 2, 3), rows=1)], {"ind": 1}),
    ("cond", [(4, 3)], {}),
    ("cond", [(3, 5)], {"p": -2}),
    ("cond", [Invertible(shape=(2, 3, 3))], {"p": 1}),
    ("sum", [(2, 3, 4)], {"axis": (0, 2)}),
    ("max", [(2, 3, 4)], {"axis": (2, 0), "keepdims": True}),
    ("prod", [(2, 3, 4)], {"axis": (2, 0)}),
    ("var", [(2, 3, 4)], {"axis": (0, 2), "ddof": 1}),
    ("cumsum", [(2, 3, 4)], {"axis": 1}),
    ("cumprod", [(2, 3, 4)], {"axis": 1}),
    ("power", [(3, 4), ()], {}),
    ("getitem", [(3, 4)], {"index": ([0, 0, 2], slice(1, 3))}),
    ("take", [(3, 4)], {"indices": 2}),
    ("repeat", [()], {"repeats": 3}),
    ("tile", [(4,)], {"reps": (2, 2)}),
    ("concatenate", [[(2,), (3,), ()]], {"axis": None}),
    ("stack", [[(), ()]], {}),
    ("hstack", [[(2,), (3,)]], {}),
    ("vstack", [[(3,), (3,)]], {}),
    ("column_stack", [[(3,), (3,)]], {}),
    ("split", [(4,)], {"indices_or_sections": [1, 1, 3]}),
    # assembled arrays, differences, statistics (s2s/rules/assembly.py, calculus.py,
    # descriptive.py)
    ("pad", [(2, 3, 2)], {"pad_width": ((1, 0), (2, 2), (0, 3)), "mode": "reflect"}),
    ("pad", [(4,)], {"pad_width": 3, "mode": "wrap"}),
    ("append", [(2, 3), (1, 3)], {"axis": 0}),
    ("append", [(2, 3), ()], {}),
    ("insert", [(3, 4), None, ()], {"obj": [1, 3]}),
    ("insert", [(3, 4), None, (3, 2)], {"obj": [1, 1], "axis": 1}),
    ("delete", [(2, 3, 4)], {"obj": [0, 2], "axis": 2}),
    ("kron", [(3,), (2, 2)], {}),
    ("kron", [(), (2, 3)], {}),
    ("diff", [(3, 4), None, None, (), (3, 1)], {"n": 2, "axis": -1}),
    ("diff", [(4,), None, None, (2,), ()], {"n": 1, "axis": 0}),
    ("trapezoid", [(3, 4), (4,), ()], {}),
    ("trapezoid", [(3, 4), (3,), ()], {"axis": 0}),
    ("cross", [(3,), (2, 3)], {}),
    ("cross", [(3, 4), (4, 3)], {"axisa": 0}),
    ("cross", [(3, 2), (3, 2)], {"axis": 0}),
    ("convolve", [(3,), (5,)], {"mode": "same"}),
    ("convolve", [(3,), (5,)], {"mode": "valid"}),
    ("convolve", [(4,), (4,)], {"mode": "same"}),
    ("correlate", [(3,), (5,)], {"mode": "same"}),
    ("correlate", [(2,), (6,)], {"mode": "same"}),
    ("correlate", [(3,), (5,)], {"mode": "valid"}),
    ("correlate", [(4,), (5,)], {"mode": "full"}),
    ("correlate", [(4,), (5,)], {"mode": "same"}),
    ("polyval", [(4,), ()], {}),
    ("polyval", [(1,), (3,)], {}),
    ("polyfit", [(6,), (6, 2)], {"deg": 2}),
    ("average", [(3, 4), None, (4,)], {"axis": 1}),
    ("average", [(3, 4), None, (3,)], {"axis": 0, "returned": True}),
    ("average", [(2, 3, 4), None, (4, 2)], {"axis": (2, 0)}),
    ("median", [(4,)], {}),
    ("median", [(2, 3, 4)], {"axis": (0, 2)}),
    ("quantile", [(5,)], {"q": 0.5}),
    ("cov", [(5,), (5,)], {}),
    ("cov", [(5, 3), (5,)], {"rowvar": False}),
    ("corrcoef", [(5,), (5,)], {}),
    ("ptp", [(2, 3, 4)], {"axis": (0, 2)}),
]


# --- values: arrays, or lists and tuples of them --------------------------------------------


def leaves(value):
    """The arrays in ``value`` (an array or nested lists/tuples), None entries included; a
    list holding no floats (an einsum sublist, or its cotangent) is one None leaf."""
    if isinstance(value, (list, tuple)):
        found = [leaf for item in value for leaf in leaves(item)]
        if value and not any(is_float_leaf(leaf) or np.iscomplexobj(leaf) for leaf in found
                             if leaf is not None):
            return [None]
        return found
    return [value] if is_float_leaf(value) or value is None or isinstance(value, np.ndarray) \
        or isinstance(value, (complex, np.complexfloating)) else [None]


def tree_map(function, value, *others):
    """``function`` applied leaf by leaf; lists and tuples come back as lists."""
    if isinstance(value, (list, tuple)):
        return [tree_map(function, *items) for items in zip(value, *others)]
    return function(value, *others)


def inner(a, b) -> float:
    """Sum over leaves of the elementwise products (None leaves count as zero); the real
    part for complex leaves (a cotangent g of a complex value pairs as Re(g * f), see
    section 5)."""
    a_leaves, b_leaves = leaves(a), leaves(b)
    assert len(a_leaves) == len(b_leaves), "structures differ"
    return sum(float(np.real(np.sum(_float64(x) * _float64(y))))
               for x, y in zip(a_leaves, b_leaves) if x is not None and y is not None)


def _float64(value):
    return np.asarray(value, dtype=np.complex128 if np.iscomplexobj(value) else np.float64)


def random_like(value, rng):
    """Random normal values shaped like the float leaves of ``value`` (None elsewhere: a
    subscript, an integer such as lstsq's rank); complex for a complex leaf (the FFTs)."""
    def draw(leaf):
        if isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind == "c":
            return rng.normal(size=np.shape(leaf)) + 1j * rng.normal(size=np.shape(leaf))
        return rng.normal(size=np.shape(leaf)) if is_float_leaf(leaf) else None
    return tree_map(draw, value)


def is_float(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f"


def is_float_leaf(value) -> bool:
    return is_float(value) or isinstance(value, float)


def zeros_or_none(value):
    """Zeros like a float leaf, None for anything else (None stands for zero)."""
    return np.zeros(np.shape(value)) if is_float_leaf(value) else None


def cast(value, dtype):
    """``value`` with its floating leaves cast to ``dtype`` (masks and indices unchanged)."""
    if isinstance(value, (list, tuple)):
        return type(value)(cast(item, dtype) for item in value)
    return np.asarray(value, dtype=dtype) if is_float(value) else value


def assert_tree_close(actual, expected, rtol=1e-5, atol=1e-6):
    actual_leaves, expected_leaves = leaves(actual), leaves(expected)
    assert len(actual_leaves) == len(expected_leaves)
    for got, want in zip(actual_leaves, expected_leaves):
        if want is None:                           # a subscript or an integer: no value
            continue
        if got is None:                            # None stands for a zero cotangent
            got = np.zeros(np.shape(want))
        assert np.shape(got) == np.shape(want)
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(_float64(got), want, rtol=rtol, atol=atol * scale)


# --- cases ------------------------------------------------------------------------------------


def case_id(rule, example, extra=None):
    items = ",".join(f"{key}={value.tolist() if isinstance(value, np.ndarray) else value!r}"
                     for key, value in example.items())
    suffix = "" if extra is None else f"-extra{extra}"
    return f"{rule.name}({items}){suffix}"


# Calls for rules whose record has no sampling data of its own (the rules of the runtime
# helpers that generated code calls, s2s/rules/generated.py): rule name -> [(specs, params)].
CALLS = {
    "unbroadcast": [([(3, 4), (4,)], {}), ([(2, 3, 1), (3, 1)], {})],
    "broadcast_like": [([(4,), (3, 4)], {})],
    "index_adjoint": [([(4,), (3, 4)], {"index": 1}),
                      ([(3, 3), (3, 4)], {"index": (slice(None), [0, 0, 2])})],
    "matmul_adjoint_x": [([(3, 2), (3, 4), (4, 2)], {})],
    "matmul_adjoint_y": [([(3, 2), (3, 4), (4, 2)], {})],
    "index_accumulate": [([(3, 4), (4,), (3, 4)], {"index": 1}),
                         ([(3, 4), (3, 3), (3, 4)], {"index": (slice(None), [0, 0, 2])})],
    "adjoint_read": [([(3, 4), (3, 4)], {"index": 1}),
                     ([(3, 3), (3, 4)], {"index": (slice(None), [0, 0, 2])})],
    "index_accumulate_tangent": [([(4,), (3, 4), (3, 4)], {"index": 1}),
                                 ([(3, 3), (3, 4), (3, 4)],
                                  {"index": (slice(None), [0, 0, 2])})],
    "adjoint_copy": [([(3, 4)], {"like": None}), ([[(3,), (2,)]], {"like": None}),
                     ([[(3,), (2,)], [(3,), (2,)]], {})],
    "array_adjoint": [([(2, 3), [(3,), (3,)]], {})],
    "array_tangent": [([[(3,), (3,)], [(3,), (3,)]], {})],
    "concatenate_adjoint": [([(5, 3), [(2, 3), (3, 3)]], {"axis": 0}),
                            ([(15,), [(2, 3), (3, 3)]], {"axis": None})],
    "stack_adjoint": [([(3, 2), [(3,), (3,)]], {"axis": 1})],
    "hstack_adjoint": [([(5,), [(2,), (3,)]], {})],
    "vstack_adjoint": [([(2, 3), [(3,), (3,)]], {})],
    "dstack_adjoint": [([(1, 3, 2), [(3,), (3,)]], {})],
    "column_stack_adjoint": [([(3, 2), [(3,), (3,)]], {})],
    "tile_adjoint": [([(2, 6), (2, 3)], {"reps": (1, 2)})],
    "repeat_adjoint": [([(6,), (3,)], {"repeats": 2}),
                       ([(2, 6), (2, 3)], {"repeats": 2, "axis": 1})],
    "diagonal_adjoint": [([(3,), (3, 4)], {}), ([(2,), (3, 4)], {"offset": -1})],
    "diag_adjoint": [([(3, 3), (3,)], {}), ([(3,), (3, 3)], {})],
    "take_adjoint": [([(3,), (4,)], {"indices": np.array([0, 2, 2])}),
                     ([(2, 3), (2, 4)], {"indices": np.array([3, 0, 3]), "axis": 1})],
    "take_along_axis_adjoint": [([(3, 2), (3, 4)], {"indices": np.array([[0, 3]] * 3),
                                                    "axis": 1})],
    "dot_adjoint": [([(3, 2), (3, 4), (4, 2)], {"which": 0}),
                    ([(3, 2), (3, 4), (4, 2)], {"which": 1})],
    "inner_adjoint": [([(3, 5), (3, 4), (5, 4)], {"which": 0}),
                      ([(3, 5), (3, 4), (5, 4)], {"which": 1})],
    "einsum_argument_adjoint": [
        ([(3, 2), ["ij,jk->ik", (3, 4), (4, 2)]], {"position": 1}),
        ([(3, 2), ["ij,jk->ik", (3, 4), (4, 2)]], {"position": 2}),
        ([(3,), ["ii->i", (3, 3)]], {"position": 1}),
        ([(2, 3), ["...j,jk->...k", (2, 4), (4, 3)]], {"position": 1}),
        ([(3, 2), [(3, 4), [0, 1], (4, 2), [1, 2], [0, 2]]], {"position": 0}),
        ([(3, 2), [(3, 4), [0, 1], (4, 2), [1, 2], [0, 2]]], {"position": 2})],
    "tensordot_adjoint": [([(3, 2), (3, 4), (4, 2)], {"axes": 1, "which": 0}),
                          ([(3, 2), (3, 4), (4, 2)], {"axes": 1, "which": 1})],
    "fit_to": [([(3, 5), (3, 4)], {"axes": (1,)}), ([(2, 3), (3, 4)], {"axes": (0, 1)})],
    "half_spectrum": [([(3, 3)], {"n": 4, "axis": 1}), ([(3, 4)], {"n": 7, "axis": -1}),
                      ([(2, 4)], {"n": 2, "axis": 0})],
    "double_spectrum": [([(3, 3)], {"n": 5, "axis": 1}), ([(4, 3)], {"n": 6, "axis": 0})],
    "cotangent_for": [([(3, 4), (3, 4)], {}), ([(2,), ()], {})],
}


def _scipy_at_least(version: str) -> bool:
    try:
        import scipy
    except ImportError:
        return False
    return tuple(int(part) for part in scipy.__version__.split(".")[:2]) >= \
        tuple(int(part) for part in version.split("."))


SCIPY_1_18 = _scipy_at_least("1.18")
def all_cases():
    for rule in RULES:
        if rule.name in CALLS:
            for specs, example in CALLS[rule.name]:
                yield pytest.param(rule, specs, example, id=case_id(rule, example))
            continue
        for example in rule.examples or ({},):
            yield pytest.param(rule, None, example, id=case_id(rule, example))
    for number, (name, specs, example) in enumerate(EXTRA_SHAPES):
        rule = REGISTRY.named(name)
        yield pytest.param(rule, specs, example, id=case_id(rule, example, number))


CASES = list(all_cases())


def positional_names(rule):
    return list(rule.signature.parameters)[:rule.arity]


def variadic_name(rule):
    """The name of the rule's ``*operands`` parameter (einsum's), or None."""
    return next((p.name for p in rule.signature.parameters.values()
                 if p.kind is p.VAR_POSITIONAL), None)


def default_shape(rule, position):
    # (rules with more than three arguments, scipy.stats's, give their shapes as domains)
    return BROADCAST_SHAPES[position % len(BROADCAST_SHAPES)] if rule.broadcasting \
        else DEFAULT_SHAPE


def sample(rule, position, spec, rng):
    domain = rule.domains[position]
    if isinstance(spec, Domain):
        return spec.sample(rng, ())
    if isinstance(spec, list):             # a tuple is the shape of an array, else a constant
        return [rng.uniform(domain.low, domain.high, size=item) if isinstance(item, tuple)
                else item for item in spec]
    if isinstance(spec, tuple):
        return rng.uniform(domain.low, domain.high, size=spec)
    return domain.sample(rng, default_shape(rule, position))


class Case:
    """One call of a rule's primal: arguments, parameters, value, and a random cotangent."""

    def __init__(self, rule, specs, example, dtype=np.float64):
        self.rule = rule
        names = positional_names(rule)
        rng = np.random.default_rng(zlib.crc32(f"{rule.name}{example!r}{specs!r}".encode()))
        args = []
        variadic = variadic_name(rule)
        if variadic:
            # einsum(*operands): the example lists the positional arguments, a tuple being
            # the shape of an operand to sample, anything else a constant (a subscript).
            names = [variadic]
            for position, item in enumerate(example[variadic]):
                args.append(cast(sample(rule, position, item, rng), np.float64)
                            if isinstance(item, tuple) else item)
        for position, name in enumerate(names if not variadic else ()):
            if name in example:
                args.append(example[name])
            else:
                spec = specs[position] if specs else None
                args.append(cast(sample(rule, position, spec, rng), np.float64))
        self.args = cast(args, dtype)
        self.params = {key: value for key, value in example.items() if key not in names}
        required = [p.name for p in list(rule.signature.parameters.values())[rule.arity:]
                    if p.default is inspect.Parameter.empty]
        self.extra = [self.params[name] for name in required]       # passed positionally
        self.keywords = {k: v for k, v in self.params.items() if k not in required}
        self.example_positions = [p for p, name in enumerate(names) if name in example]
        if variadic:
            self.example_positions = [p for p, item in enumerate(example[variadic])
                                      if not isinstance(item, tuple)]
        free = [p for p in range(min(rule.arity, len(args))) if p not in self.example_positions]
        self.positions = [p for p in free if rule.vjps[p] is not None]          # with a VJP
        self.jvp_positions = [p for p in free if rule.jvps[p] is not None]
        self.ans = self.f(*self.args)
        self.g = cast(random_like(self.ans, rng), dtype)
        self.tangents = {p: cast(random_like(self.args[p], rng), dtype)
                         for p in self.jvp_positions}

    def f(self, *args):
        return self.rule.primal(*args, *self.extra, **self.keywords)

    def vjp(self, position, g=None):
        g = self.g if g is None else g
        result = self.rule.vjps[position](g, self.ans, *self.args, **self.params)
        if self.rule.broadcasting:
            result = unbroadcast(result, self.args[position])
        return result

    def jvp(self, position, t=None):
        t = self.tangents[position] if t is None else t
        result = self.rule.jvps[position](t, self.ans, *self.args, **self.params)
        if self.rule.broadcasting:
            result = np.broadcast_to(result, np.shape(self.ans))
        return result

    def shifted(self, position, direction, step):
        """``f`` with argument ``position`` moved by ``step * direction`` (integer and
        boolean leaves stay: the pivots of ``(lu, piv)``, the flag of ``(c, lower)``)."""
        args = list(self.args)
        args[position] = tree_map(lambda x, d: x if d is None or np.asarray(x).dtype.kind in "iub"
                                  else x + step * d, args[position], direction)
        if isinstance(self.args[position], tuple):
            args[position] = tuple(args[position])
        return self.f(*args)


def numeric_vjp(case, position):
    """Central differences of ``<g, f>`` with respect to every element of one argument."""
    argument = case.args[position]
    gradient = tree_map(zeros_or_none, argument)
    gradient_leaves = leaves(gradient)
    for leaf_number, leaf in enumerate(leaves(argument)):
        if not is_float_leaf(leaf):
            continue
        for index in np.ndindex(np.shape(leaf)):
            direction = tree_map(zeros_or_none, argument)
            leaves(direction)[leaf_number][index] = 1.0
            plus = inner(case.g, case.shifted(position, direction, EPS))
            minus = inner(case.g, case.shifted(position, direction, -EPS))
            gradient_leaves[leaf_number][index] = (plus - minus) / (2 * EPS)
    return gradient


def numeric_jvp(case, position):
    direction = case.tangents[position]
    plus = case.shifted(position, direction, EPS)
    minus = case.shifted(position, direction, -EPS)
    return tree_map(lambda a, b: (_float64(a) - b) / (2 * EPS), plus, minus)


# --- 1. VJPs against finite differences ---------------------------------------------------


@pytest.mark.parametrize(("rule", "specs", "example"), CASES)
def test_vjp_against_finite_differences(rule, specs, example):
    case = Case(rule, specs, example)
    for position in case.positions:
        # the arguments are real: the real part of a complex cotangent counts (section 5)
        assert_tree_close(tree_map(np.real, case.vjp(position)), numeric_vjp(case, position))


def dispatched(primal) -> bool:
    """Whether NumPy hands calls of ``primal`` on tensors to the tape (and so to the rule)."""
    return isinstance(primal, np.ufunc) or hasattr(primal, "_implementation") \
        or primal is operator.getitem


def tape_refusal(case):
    """The error the tape raises for this call instead of recording it, if any."""
    if any(isinstance(case.args[p], (list, tuple)) for p in case.positions):
        return UnsupportedError          # the tape records arrays passed directly
    return None


@pytest.mark.parametrize(("rule", "specs", "example"), CASES)
def test_tape_against_finite_differences(rule, specs, example):
    case = Case(rule, specs, example)
    if not case.positions or not dispatched(rule.primal):
        return          # a forward-only rule, or one the tape never sees (np.array, list)
    # Every float argument is a tensor (NumPy dispatches np.full_like on its first argument
    # only); those without a VJP (full_like's array) must get a zero gradient.
    wrt = [p for p, arg in enumerate(case.args[:rule.arity])
           if (is_float(arg) or isinstance(arg, list)) and p not in case.example_positions]
    try:
        value, pullback = vjp_with_tape(case.f, tuple(case.args), {}, tuple(wrt))
        gradients = pullback(tree_map(lambda g: None if g is None else np.conj(g), case.g))
        # ^ the user's cotangent (section 5); None: no cotangent (lstsq's integer rank)
    except (UnsupportedError, MissingRuleError):
        # A clear error rather than a silently missing gradient, and only where expected.
        if tape_refusal(case) is None:
            raise
        return
    assert_tree_close(value, case.ans, rtol=1e-12, atol=1e-12)
    for position, gradient in zip(wrt, gradients):
        expected = numeric_vjp(case, position) if position in case.positions else \
            np.zeros(np.shape(case.args[position]))
        assert_tree_close(gradient, expected)


# --- 2. JVPs: finite differences and the transpose identity --------------------------------


@pytest.mark.parametrize(("rule", "specs", "example"), CASES)
def test_jvp_and_transpose_identity(rule, specs, example):
    case = Case(rule, specs, example)
    for position in case.jvp_positions:
        tangent = case.jvp(position)
        assert_tree_close(tangent, numeric_jvp(case, position))
        if position not in case.positions:
            continue
        forward = inner(case.g, tangent)
        backward = inner(case.vjp(position), case.tangents[position])
        assert forward == pytest.approx(backward, rel=1e-9, abs=1e-9)


# --- 3. float32 ---------------------------------------------------------------------------------


def relative_error(actual, expected) -> float:
    actual = _float64(actual)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-3))


@pytest.mark.parametrize(("rule", "specs", "example"), CASES)
def test_float32_in_float32_out(rule, specs, example):
    if rule.name in ("scipy.special.gammainc", "scipy.special.gammaincc") and SCIPY_1_18:
        pytest.xfail("SciPy 1.18's functions in these VJPs return float64 for float32")
    case32 = Case(rule, specs, example, dtype=np.float32)
    case64 = Case(rule, specs, example, dtype=np.float32)
    case64.args = cast(case32.args, np.float64)
    case64.ans = case64.f(*case64.args)
    case64.g = cast(case32.g, np.float64)
    case64.tangents = {p: cast(t, np.float64) for p, t in case32.tangents.items()}
    single = all(np.result_type(leaf) == np.float32 for leaf in leaves(case32.ans))
    pairs = [(f"vjp {p}", case32.vjp(p), case64.vjp(p), case32.args[p])
             for p in case32.positions] \
        + [(f"jvp {p}", case32.jvp(p), case64.jvp(p), case32.ans) for p in case32.jvp_positions]
    for which, result32, result64, like in pairs:
        kinds = leaf_kinds(like)
        for index, (leaf32, leaf64) in enumerate(zip(leaves(result32), leaves(result64))):
            kind = kinds[index] if index < len(kinds) else "f"
            if leaf64 is None:                     # a subscript's cotangent
                assert leaf32 is None, which
                continue
            assert relative_error(leaf32, leaf64) < 1e-3, which
            if single and kind in "fc":    # not an integer leaf's zero (lu's pivots); single
                assert np.result_type(leaf32) in (np.float32, np.complex64), which   # or FFTs


def leaf_kinds(value):
    """The dtype kind of each leaf of ``value`` ("f" for floats, "i", "b"...)."""
    return [np.asarray(leaf).dtype.kind for leaf in leaves(value)]


# --- 4. sympy twins -------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [rule for rule in RULES if rule.sympy is not None],
                         ids=lambda rule: rule.name)
def test_against_sympy(rule):
    symbols = sympy.symbols(f"x0:{rule.arity}", real=True)
    expression = rule.sympy(sympy, *symbols)
    rng = np.random.default_rng(zlib.crc32(rule.name.encode()))
    for _ in range(3):
        values = [rng.uniform(domain.low, domain.high) for domain in rule.domains]
        args = [np.float64(value) for value in values]
        ans = rule.primal(*args)
        substitution = dict(zip(symbols, values))
        for position, (vjp, jvp) in enumerate(zip(rule.vjps, rule.jvps)):
            if vjp is None:
                continue
            expected = float(sympy.diff(expression, symbols[position]).subs(substitution))
            assert float(vjp(1.0, ans, *args)) == pytest.approx(expected, rel=1e-9, abs=1e-12)
            assert float(jvp(1.0, ans, *args)) == pytest.approx(expected, rel=1e-9, abs=1e-12)


# --- 5. complex values ------------------------------------------------------------------------
# The registry carries the cotangent of a complex value as 2 dL/dz = dL/dRe - i dL/dIm (the
# conjugate of the gradient s2s returns; s2s/rules/registry.py): a VJP maps the cotangent g
# of the output to that of an argument, L being Re(sum(g * f)) (g is the conjugate of the
# user's cotangent); a real argument's cotangent is the real part of what the VJP returns.


def complex_inner(a, b) -> float:
    """Re of the sum over leaves of the elementwise products (no conjugation)."""
    a_leaves, b_leaves = leaves(a), leaves(b)
    assert len(a_leaves) == len(b_leaves), "structures differ"
    return sum(float(np.real(np.sum(np.asarray(x) * np.asarray(y))))
               for x, y in zip(a_leaves, b_leaves) if x is not None and y is not None)


def complex_random_like(value, rng):
    return tree_map(lambda leaf: rng.normal(size=np.shape(leaf)) + 1j * rng.normal(
        size=np.shape(leaf)) if np.iscomplexobj(leaf) else rng.normal(size=np.shape(leaf)),
        value)


def complexified(case, positions, rng):
    """``case`` with the arguments at ``positions`` given imaginary parts in (-0.5, 0.5)."""
    args = list(case.args)
    for position in positions:
        args[position] = tree_map(
            lambda leaf: leaf + 1j * rng.uniform(-0.5, 0.5, size=np.shape(leaf))
            if is_float(leaf) else leaf, args[position])
        if isinstance(case.args[position], tuple):
            args[position] = tuple(args[position])
    case.args = args
    case.ans = case.f(*args)
    case.g = complex_random_like(case.ans, rng)
    case.tangents = {p: complex_random_like(case.args[p], rng) for p in case.jvp_positions}
    return case


def complex_numeric_vjp(case, position):
    """``dL/dRe - i dL/dIm`` of ``L = Re(sum(g * f))`` per element (``dL/dRe`` if real)."""
    argument = case.args[position]
    gradient = tree_map(lambda leaf: np.zeros(np.shape(leaf), dtype=complex), argument)
    gradient_leaves = leaves(gradient)
    for leaf_number, leaf in enumerate(leaves(argument)):
        units = (1.0, 1j) if np.iscomplexobj(leaf) else (1.0,)
        for index in np.ndindex(np.shape(leaf)):
            for unit in units:
                direction = tree_map(lambda x: np.zeros(np.shape(x), dtype=complex), argument)
                leaves(direction)[leaf_number][index] = unit
                plus = complex_inner(case.g, case.shifted(position, direction, EPS))
                minus = complex_inner(case.g, case.shifted(position, direction, -EPS))
                gradient_leaves[leaf_number][index] += np.conj(unit) * (plus - minus) / (2 * EPS)
    return gradient


def complex_numeric_jvp(case, position):
    direction = case.tangents[position]
    plus = case.shifted(position, direction, EPS)
    minus = case.shifted(position, direction, -EPS)
    return tree_map(lambda a, b: (np.asarray(a, dtype=complex) - b) / (2 * EPS), plus, minus)


def assert_complex_close(actual, expected, real, rtol=1e-5, atol=1e-6):
    """Leaf by leaf; ``real``: only the real parts count (a real argument's cotangent)."""
    actual_leaves, expected_leaves = leaves(actual), leaves(expected)
    assert len(actual_leaves) == len(expected_leaves)
    for got, want in zip(actual_leaves, expected_leaves):
        assert np.shape(got) == np.shape(want)
        got, want = np.asarray(got, dtype=complex), np.asarray(want, dtype=complex)
        if real:
            got, want = got.real, want.real
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale)


def complex_variants(case):
    """Which free arguments to make complex: all of them, and (with several) only the last,
    so that real arguments meet complex ones."""
    free = [p for p in sorted(set(case.positions) | set(case.jvp_positions))
            if any(is_float(leaf) for leaf in leaves(case.args[p]))
            and not case.rule.domains[p].integer]
    if not free:
        return []
    return [free] + ([free[-1:]] if len(free) > 1 else [])


COMPLEX_CASES = [param for param in CASES if param.values[0].complex_ok]


@pytest.mark.parametrize(("rule", "specs", "example"), COMPLEX_CASES)
def test_complex_values(rule, specs, example):
    """A rule marked complex_ok, on complex arguments: its VJPs against finite differences
    of the real and imaginary parts, its JVPs against finite differences along complex
    tangents, the transpose identity, and the tape (the user's convention: conjugates)."""
    rng = np.random.default_rng(zlib.crc32(f"complex {rule.name}{example!r}".encode()))
    variants = complex_variants(Case(rule, specs, example))
    # casts to real dtypes (astype(float), full_like of a real array) drop imaginary parts
    warnings.simplefilter("ignore", getattr(np, "exceptions", np).ComplexWarning)  # pytest restores
    assert variants or not (rule.vjps or rule.jvps), "no argument to make complex"
    for positions in variants:
        try:
            case = complexified(Case(rule, specs, example), positions, rng)
        except TypeError:
            continue              # NumPy refuses complex values there (rfft: a real signal)
        for position in case.positions:
            assert_complex_close(case.vjp(position), complex_numeric_vjp(case, position),
                                 real=position not in positions)
        for position in case.jvp_positions:
            tangent = case.jvp(position)
            assert_complex_close(tangent, complex_numeric_jvp(case, position), real=False)
            if position in case.positions:
                forward = complex_inner(case.g, tangent)
                backward = complex_inner(case.vjp(position), case.tangents[position])
                assert forward == pytest.approx(backward, rel=1e-9, abs=1e-9)
        if not case.positions or not dispatched(rule.primal) or tape_refusal(case):
            continue
        # every float argument a tensor, as in test_tape_against_finite_differences
        wrt = [p for p, arg in enumerate(case.args[:rule.arity])
               if is_float(arg) or isinstance(arg, np.ndarray) and arg.dtype.kind == "c"
               and p not in case.example_positions]
        value, pullback = vjp_with_tape(case.f, tuple(case.args), {}, tuple(wrt))
        user = tree_map(np.conj, case.g)         # the user's cotangent: the conjugate
        for position, gradient in zip(wrt, pullback(user)):
            expected = tree_map(np.conj, complex_numeric_vjp(case, position)) \
                if position in case.positions else np.zeros(np.shape(case.args[position]))
            assert_complex_close(gradient, expected, real=position not in positions)
            if position not in positions:
                assert not np.iscomplexobj(gradient), "a real argument's gradient is real"


HOLOMORPHIC = [rule for rule in RULES if rule.holomorphic and rule.elementwise]


@pytest.mark.parametrize("rule", HOLOMORPHIC, ids=lambda rule: rule.name)
def test_holomorphic_rules_are_the_complex_derivative(rule):
    """``JVP(t) = f'(z) t`` and ``VJP(g) = g f'(z)``, with ``f'(z)`` from complex finite
    differences (along the real axis: for a holomorphic f every direction agrees, which
    the second difference, along the imaginary axis, checks)."""
    rng = np.random.default_rng(zlib.crc32(f"holomorphic {rule.name}".encode()))
    shape = (5,)
    args = [domain.sample(rng, shape) + 1j * rng.uniform(-0.3, 0.3, size=shape)
            for domain in rule.domains]
    ans = rule.primal(*args)
    for position in range(rule.arity):
        def moved(step):
            shifted = list(args)
            shifted[position] = args[position] + step
            return rule.primal(*shifted)
        h = 1e-6
        derivative = (moved(h) - moved(-h)) / (2 * h)
        along_imaginary = (moved(1j * h) - moved(-1j * h)) / (2j * h)
        np.testing.assert_allclose(along_imaginary, derivative, rtol=1e-6, atol=1e-8)
        t = rng.normal(size=shape) + 1j * rng.normal(size=shape)
        g = rng.normal(size=shape) + 1j * rng.normal(size=shape)
        np.testing.assert_allclose(rule.jvps[position](t, ans, *args), derivative * t,
                                   rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(rule.vjps[position](g, ans, *args), g * derivative,
                                   rtol=1e-6, atol=1e-8)


def complex_refusing_cases():
    for param in CASES:
        rule, specs, example = param.values
        if rule.refuses_complex and dispatched(rule.primal):
            yield param


@pytest.mark.parametrize(("rule", "specs", "example"), list(complex_refusing_cases()))
def test_rules_without_complex_support_refuse_complex_values_on_the_tape(rule, specs, example):
    """A rule not marked complex_ok whose primal takes complex values refuses them."""
    rng = np.random.default_rng(0)
    warnings.simplefilter("ignore", getattr(np, "exceptions", np).ComplexWarning)  # np.interp
    case = Case(rule, specs, example)
    variants = complex_variants(case)
    if not variants or not case.positions or tape_refusal(case):
        return
    positions = variants[0]
    args = list(case.args)
    for position in positions:
        args[position] = args[position] + 0.1j * rng.uniform(size=np.shape(args[position]))
    try:
        case.f(*args)
    except (TypeError, ValueError, np.linalg.LinAlgError):
        return                                   # NumPy (or SciPy) refuses them itself
    with pytest.raises(MissingRuleError, match="complex"):
        vjp_with_tape(case.f, tuple(args), {}, tuple(positions))


# --- tuple and list values: None stands for zero ---------------------------------------------


def has_sequences(param) -> bool:
    case = Case(*param.values)
    return isinstance(case.ans, (list, tuple)) or any(isinstance(a, list) for a in case.args)


@pytest.mark.parametrize(("rule", "specs", "example"), [c for c in CASES if has_sequences(c)])
def test_none_entries_mean_zero(rule, specs, example):
    case = Case(rule, specs, example)
    if isinstance(case.ans, (list, tuple)):        # a cotangent per output
        for keep in range(len(case.ans)):
            sparse = [g if i == keep else None for i, g in enumerate(case.g)]
            dense = [g if i == keep else tree_map(zeros_or_none, g)
                     for i, g in enumerate(case.g)]
            for position in case.positions:
                assert_tree_close(case.vjp(position, sparse), case.vjp(position, dense))
    for position in case.jvp_positions:            # a tangent per element of a list argument
        tangent = case.tangents[position]
        if isinstance(tangent, list):
            sparse = [None] + tangent[1:]
            dense = [tree_map(zeros_or_none, case.args[position][0])] + tangent[1:]
            assert_tree_close(case.jvp(position, sparse), case.jvp(position, dense))


# --- the registry's records -------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_rule_record_is_complete_and_inlinable(rule):
    """A JVP for every VJP, one parameter list, examples naming parameters, inlinable.

    Rule bodies are inlined into generated code, so they document themselves in comments.
    """
    parameters = list(rule.signature.parameters)
    for vjp, jvp in zip(rule.vjps, rule.jvps):
        if any(rule.vjps):                  # forward-only rules (second order) have no VJP
            assert (vjp is None) == (jvp is None)
        for function in (vjp, jvp):
            if function is None:
                continue
            assert list(inspect.signature(function).parameters)[2:] == parameters
            assert function.__doc__ is None, "a docstring would be inlined: use a comment"
            names = list(inspect.signature(function).parameters)
            inline(function, {name: ast.Name(name, ast.Load()) for name in names}, Namer(names))
    for example in rule.examples:
        assert set(example) <= set(parameters)
    assert len(rule.domains) == rule.arity


def test_every_rule_is_reached_by_its_name():
    """Two rules with one name would hide the second from REGISTRY (and these tests)."""
    for rule in REGISTRY._by_primal.values():
        main = REGISTRY.named(rule.name)
        assert (rule.vjps, rule.nondifferentiable) == (main.vjps, main.nondifferentiable)


def numpy_parameters(primal):
    try:
        return inspect.signature(primal).parameters
    except (TypeError, ValueError):
        return None


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.1.0",
                    reason="older NumPy names some parameters differently (reshape's newshape)")
@pytest.mark.parametrize("rule", [rule for rule in RULES if numpy_parameters(rule.primal)],
                         ids=lambda rule: rule.name)
def test_rule_parameters_are_numpys(rule):
    """Keyword arguments bind as in NumPy: same names, same positions."""
    if rule.name == "scipy.linalg.sqrtm" and SCIPY_1_18:
        pytest.xfail("SciPy 1.18 dropped sqrtm's disp= and blocksize= (the rule keeps them)")
    numpy_names = numpy_parameters(rule.primal)
    if any(p.kind == p.VAR_POSITIONAL for p in numpy_names.values()):
        return                                  # einsum(*operands, ...)
    ordered = list(numpy_names)
    keywords = any(p.kind == p.VAR_KEYWORD for p in numpy_names.values())  # np.pad's **kwargs
    for position, name in enumerate(list(rule.signature.parameters)):
        if position < rule.arity or keywords and name not in numpy_names:
            continue
        assert name in numpy_names, f"{name!r} is not a parameter of {rule.name}"
        if numpy_names[name].kind == inspect.Parameter.POSITIONAL_OR_KEYWORD:
            assert ordered.index(name) == position


def registered_aliases():
    """(alias rule, its main rule) for every alias (math.sin for np.sin...)."""
    pairs = []
    for rule in REGISTRY._by_primal.values():      # aliases are not iterated by REGISTRY
        main = REGISTRY.named(rule.name)
        if rule.primal is not main.primal and not rule.nondifferentiable:
            pairs.append(pytest.param(rule, main, id=f"{rule.name}:{rule.primal!r}"))
    return pairs


@pytest.mark.parametrize(("alias", "main"), registered_aliases())
def test_aliases_compute_the_same_values(alias, main):
    rng = np.random.default_rng(0)
    values = [float(rng.uniform(d.low, d.high)) for d in main.domains]
    try:
        expected = main.primal(*[np.float64(v) for v in values])
    except ValueError:          # trapz for trapezoid (NumPy 2.0-2.3) needs an array
        values = [rng.uniform(main.domains[0].low, main.domains[0].high, size=5)]
        expected = main.primal(*values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        aliased = alias.primal(*values)
    np.testing.assert_allclose(np.asarray(aliased, dtype=float),
                               np.asarray(expected, dtype=float), rtol=1e-12)


def method_cases():
    for name, rule in sorted(REGISTRY.methods.items()):
        if name not in CONTAINER_METHODS:            # a dict's: tests/test_pytrees.py
            yield pytest.param(name, rule, id=name)


@pytest.mark.parametrize(("name", "rule"), list(method_cases()))
def test_methods_match_ndarray_methods(name, rule):
    """``x.name(...)`` on an array, ``np.f(x, ...)`` and ``x.name(...)`` on a tensor agree."""
    if rule.nondifferentiable:
        x = np.random.default_rng(0).normal(size=(3, 4))
        assert np.array_equal(getattr(x, name)(), rule.primal(x))
        assert np.array_equal(np.asarray(getattr(tensor(x), name)()), rule.primal(x))
        return
    case = Case(rule, None, (rule.examples or ({},))[0])
    args, keywords = case.args[1:] + case.extra, case.keywords
    expected = getattr(case.args[0], name)(*args, **keywords)
    assert_tree_close(case.f(*case.args), expected, rtol=1e-12, atol=0)
    x = tensor(case.args[0], requires_grad=True)
    result = getattr(x, name)(*args, **keywords)
    assert_tree_close(result.data, expected, rtol=1e-12, atol=0)
    result.backward(case.g)
    assert_tree_close(x.grad.data, case.vjp(0), rtol=1e-12, atol=1e-12)


# --- the functions the coverage promises ------------------------------------------------------

DIFFERENTIABLE = [
    # elementwise
    np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.power, np.float_power,
    np.negative, np.positive, np.reciprocal, np.square, np.sqrt, np.cbrt, np.exp, np.exp2,
    np.expm1, np.log, np.log2, np.log10, np.log1p, np.sin, np.cos, np.tan, np.arcsin,
    np.arccos, np.arctan, np.arctan2, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh,
    np.arctanh, np.hypot, abs, np.abs, np.absolute, np.fabs, np.maximum, np.minimum, np.fmax,
    np.fmin, np.clip, np.where, np.logaddexp, np.logaddexp2, np.sinc, np.deg2rad, np.rad2deg,
    np.real, np.imag, np.conj, math.asin, math.atan2, math.hypot, math.log10, math.log2,
    math.log1p, math.expm1, math.sinh, math.pow,
    # reductions
    np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std, np.cumsum,
    np.cumprod, np.linalg.norm,
    # shape and indexing
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.expand_dims, np.squeeze,
    np.broadcast_to, np.concatenate, np.stack, np.hstack, np.vstack, np.split, np.tile,
    np.repeat, np.flip, np.roll, np.diag, np.diagonal, np.trace, np.triu, np.tril, np.outer,
    np.inner, np.tensordot, np.einsum, np.take, operator.getitem,
    # linear algebra
    np.dot, np.vdot, np.matmul, np.linalg.inv, np.linalg.solve, np.linalg.det,
    np.linalg.slogdet, np.linalg.cholesky, np.linalg.eigh, np.linalg.svd, np.linalg.pinv,
    np.linalg.eig, np.linalg.eigvals, np.linalg.eigvalsh, np.linalg.qr, np.linalg.lstsq,
    np.linalg.matrix_power, np.linalg.multi_dot, np.linalg.tensorsolve, np.linalg.tensorinv,
    np.linalg.cond,
    # complex values and numpy.fft
    np.angle, np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft, np.fft.hfft, np.fft.ihfft,
    np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft2, np.fft.irfft2,
    np.fft.rfftn, np.fft.irfftn, np.fft.fftshift, np.fft.ifftshift, np.fft.fftfreq,
    np.fft.rfftfreq,
]
NONDIFFERENTIABLE = [
    np.shape, np.ndim, np.size, len, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc,
    np.sign, np.argmax, np.argmin, np.argsort, np.greater, np.less, np.equal, np.not_equal,
    np.greater_equal, np.less_equal, np.logical_and, np.logical_or, np.logical_not, np.isnan,
    np.isfinite, np.isinf, np.zeros_like, np.ones_like, np.empty_like, np.nonzero,
    np.count_nonzero, np.all, np.any,
]
METHODS = ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "dot",
           "reshape", "transpose", "ravel", "flatten", "squeeze", "swapaxes", "clip", "copy"]


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=repr)
def test_promised_function_has_vjp_and_jvp(function):
    rule = REGISTRY.lookup(function)
    assert rule is not None and not rule.nondifferentiable
    assert any(vjp is not None for vjp in rule.vjps)
    assert all((vjp is None) == (jvp is None) for vjp, jvp in zip(rule.vjps, rule.jvps))


@pytest.mark.parametrize("function", NONDIFFERENTIABLE, ids=repr)
def test_promised_function_is_known_nondifferentiable(function):
    rule = REGISTRY.lookup(function)
    assert rule is not None and rule.nondifferentiable


def test_promised_methods():
    assert set(METHODS) <= set(REGISTRY.methods)
    for name in ("argmax", "argmin", "argsort", "round", "all", "any", "nonzero"):
        assert REGISTRY.methods[name].nondifferentiable


def test_unknown_function_on_the_tape_raises_missing_rule_error():
    candidates = [np.i0, np.convolve, np.spacing, np.nextafter]
    unknown = [function for function in candidates if REGISTRY.lookup(function) is None]
    assert unknown, "every candidate got a rule: pick other functions for this test"
    x = tensor(np.array([0.5, 1.5, 2.5]), requires_grad=True)
    for function in unknown:
        arguments = (x, x) if isinstance(function, np.ufunc) and function.nin == 2 \
            or function is np.convolve else (x,)
        name = function.__name__
        with pytest.raises(s2s.MissingRuleError, match=f"numpy.{name}"):
            function(*arguments)


def test_svd_with_full_matrices_needs_a_square_matrix():
    a = np.random.default_rng(0).normal(size=(4, 3))
    u, s, vh = np.linalg.svd(a)
    rule = REGISTRY.lookup(np.linalg.svd)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        rule.vjps[0]((u, s, vh), (u, s, vh), a)


# --- logsumexp written in NumPy -------------------------------------------------------------


def logsumexp(x, axis=None):
    top = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)), axis)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_logsumexp_in_numpy_on_the_tape(axis):
    x = np.random.default_rng(3).normal(size=(3, 4))
    x[1, 2] = x[1, 3] = x.max() + 1.0               # a tie for the maximum: no effect
    value, pullback = vjp_with_tape(logsumexp, (x,), {"axis": axis}, (0,))
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    softmax = shifted / np.sum(shifted, axis=axis, keepdims=True)
    g = np.ones_like(value)
    (gradient,) = pullback(g)
    assert_tree_close(gradient, softmax, rtol=1e-12)
    np.testing.assert_allclose(value, np.log(np.sum(np.exp(x), axis=axis)), rtol=1e-12)


def logsumexp_rows(x):
    top = np.max(x, axis=1, keepdims=True)
    return np.sum(top + np.log(np.sum(np.exp(x - top), axis=1, keepdims=True)))


def test_logsumexp_in_numpy_in_generated_code():
    x = np.random.default_rng(4).normal(size=(3, 4))
    x[0, 1] = x[0, 3] = x.max() + 1.0
    differentiable = s2s.differentiate(logsumexp_rows)
    shifted = np.exp(x - np.max(x, axis=1, keepdims=True))
    assert_tree_close(differentiable.grad(x), shifted / shifted.sum(axis=1, keepdims=True),
                      rtol=1e-12)
    assert "split_evenly" in differentiable.source         # the max rule, inlined


# --- conventions where no derivative exists ---------------------------------------------------


def vjp_of(function, *args, position=0, g=1.0, **params):
    rule = REGISTRY.lookup(function)
    ans = function(*args, **params)
    result = rule.vjps[position](g, ans, *args, **params)
    return unbroadcast(result, args[position]) if rule.broadcasting else result


def test_subgradient_abs_and_fabs_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(vjp_of(np.abs, x, g=np.ones(3)), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(vjp_of(np.fabs, x, g=np.ones(3)), [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("function", [np.maximum, np.minimum, np.fmax, np.fmin])
def test_subgradient_ties_of_two_arguments_split_half(function):
    x, y = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    gx = vjp_of(function, x, y, position=0, g=np.ones(2))
    gy = vjp_of(function, x, y, position=1, g=np.ones(2))
    assert gx[0] == gy[0] == 0.5
    assert gx[1] + gy[1] == 1.0


def test_fmax_and_fmin_ignore_nan():
    x, y = np.array([np.nan, 1.0]), np.array([2.0, np.nan])
    for function in (np.fmax, np.fmin):
        np.testing.assert_array_equal(vjp_of(function, x, y, position=0, g=np.ones(2)), [0, 1])
        np.testing.assert_array_equal(vjp_of(function, x, y, position=1, g=np.ones(2)), [1, 0])


@pytest.mark.parametrize("function", [np.max, np.min])
def test_subgradient_reduction_ties_share_evenly(function):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = x if function is np.max else -x
    np.testing.assert_allclose(vjp_of(function, x, axis=1, g=np.ones(2)),
                               [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(vjp_of(function, x), [[0, 0.5, 0.5], [0, 0, 0]])


NORM_ORDERS = [({}, (3,)), ({"ord": 1}, (3,)), ({"ord": 2}, (3,)), ({"ord": np.inf}, (3,)),
               ({"ord": -np.inf}, (3,)), ({"ord": 0}, (3,)), ({"ord": 3}, (3,)),
               ({"ord": 0.5}, (3,)), ({"ord": "fro"}, (2, 3)), ({"ord": "nuc"}, (2, 3)),
               ({"ord": 1}, (2, 3)), ({"ord": -1}, (2, 3)), ({"ord": 2}, (2, 3)),
               ({"ord": -2}, (2, 3)), ({"ord": np.inf}, (2, 3)), ({"ord": -np.inf}, (2, 3)),
               ({"axis": 1}, (2, 3)), ({"ord": 1, "axis": 0, "keepdims": True}, (2, 3))]


@pytest.mark.parametrize(("params", "shape"), NORM_ORDERS, ids=repr)
def test_subgradient_norm_at_zero_is_zero(params, shape):
    x = np.zeros(shape)
    ans = np.linalg.norm(x, **params)
    rule = REGISTRY.lookup(np.linalg.norm)
    gradient = rule.vjps[0](np.ones_like(ans), ans, x, **params)
    np.testing.assert_array_equal(gradient, np.zeros(shape))
    tangent = rule.jvps[0](np.ones(shape), ans, x, **params)
    np.testing.assert_array_equal(tangent, np.zeros_like(ans))


@pytest.mark.parametrize("function", [np.sqrt, np.cbrt])
def test_roots_at_zero_are_infinite(function):
    with np.errstate(divide="ignore"):
        assert vjp_of(function, np.array([0.0]), g=np.ones(1))[0] == np.inf


def test_clip_passes_the_gradient_at_the_bounds():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(vjp_of(np.clip, x, -0.5, 0.5, g=np.ones(5)), [0, 1, 1, 1, 0])
    assert vjp_of(np.clip, x, -0.5, 0.5, position=1, g=np.ones(5)) == 1.0
    assert vjp_of(np.clip, x, -0.5, 0.5, position=2, g=np.ones(5)) == 1.0


def test_other_conventions_without_nan():
    assert vjp_of(np.hypot, np.array(0.0), np.array(0.0)) == 0.0
    assert vjp_of(np.arctan2, np.array(0.0), np.array(0.0)) == 0.0
    assert vjp_of(np.sinc, np.array(0.0)) == 0.0
    np.testing.assert_array_equal(vjp_of(np.std, np.ones(3)), np.zeros(3))
    np.testing.assert_array_equal(vjp_of(np.power, np.array([0.0, -1.0]), 2.0, position=1,
                                         g=np.ones(2)), 0.0)


def test_products_with_zeros_are_exact():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(vjp_of(np.prod, x, axis=1, g=np.ones(2)),
                                  [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(vjp_of(np.cumprod, np.array([2.0, 0.0, 3.0]), g=np.ones(3)),
                                  [1.0, 8.0, 0.0])
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(vjp_of(np.linalg.det, singular), [[4.0, -2.0], [-2.0, 1.0]],
                               atol=1e-12)


# --- the README's coverage table says what the registry holds ---------------------------------


def test_readme_coverage_table_lists_every_rule():
    """Each user-facing rule is named in the README's coverage section (and nothing there is
    missing from the registry), so the table stays true as rules are added."""
    import pathlib
    import re
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## NumPy coverage", 1)[1].split("\n## ", 1)[0]
    section = "\n".join(line for line in section.splitlines()      # checked below
                         if not line.startswith("| `scipy."))
    section = "\n\n".join(paragraph for paragraph in section.split("\n\n")   # SciPy's own
                           if not paragraph.startswith("SciPy's"))              # names
    listed = set(re.findall(r"`([a-z_0-9.]+)`", section))
    helpers = {rule.name for rule in REGISTRY
               if any(f is not None and f.__module__ == "s2s.rules.generated"
                      for f in rule.vjps + rule.jvps)
               or getattr(rule.primal, "__module__", None) == "s2s.runtime"}
    public = {rule.name for rule in REGISTRY if "." not in rule.name   # not users' rules
              and not rule.nondifferentiable}     # zeros: counted by tests/test_inventory.py
    public -= helpers | {"list", "getitem"} | CONTAINER_RULES
    zeros = {rule.name for rule in REGISTRY if rule.nondifferentiable}
    missing = sorted(name for name in public if name not in listed and name not in AWAITING_README)
    assert not missing, f"rules missing from the README's coverage table: {missing}"
    listed_now = sorted(AWAITING_README & listed)
    assert not listed_now, f"the README lists {listed_now} now: delete them from AWAITING_README"
    unknown = sorted(name for name in listed
                     if "." not in name and name not in public | zeros
                     and name not in README_EXTRAS)
    assert not unknown, f"names in the README's coverage table with no rule: {unknown}"


# Rules added on a branch whose README rows come with its report (the README is edited
# where branches meet, one at a time): none now.
AWAITING_README: set[str] = set()

# names in the coverage section that are not rule names: aliases, methods, indexing forms
README_EXTRAS = {"absolute", "true_divide", "amax", "amin", "flatten", "logsumexp", "ord",
                 "axis", "keepdims", "fro", "nuc", "inf", "x", "a", "b", "g", "t", "ans",
                 "float", "bool", "int", "range", "len", "math", "heaviside", "arange",
                 "zeros", "ones", "eye", "identity", "tri", "sign", "floor_divide",
                 # parameters and spellings named in the rows of issue 15's NumPy functions
                 "constant", "empty", "edge", "reflect", "symmetric", "wrap", "start", "stop",
                 "n", "prepend", "weights", "returned", "method", "fp", "trapz", "edge_order",
                 "r_", "c_",
                 # parameters the conventions paragraph names as not differentiated
                 "constant_values", "q", "xp", "left", "right", "period", "w", "fweights",
                 "aweights", "piecewise",
                 # modes and orders named in the numpy.linalg row
                 "complete", "p", "r", "reduced",
                 # the parameters the numpy.fft row names (the transforms' lengths, spacing)
                 "s", "axes", "norm", "d"}


# per SciPy module: names in its row that are parameters or aliases, not rules
SCIPY_ROW_EXTRAS = {
    "scipy.special": {"psi", "jn", "axis", "b", "keepdims", "return_sign", "gammasgn"},
    "scipy.linalg": {"trans", "lower", "unit_diagonal", "assume_a", "transposed",
                     "eigvals_only", "b", "driver"},
    "scipy.signal": {"mode", "method"},
}


@pytest.mark.parametrize("module", sorted(SCIPY_ROW_EXTRAS))
def test_readme_coverage_table_lists_every_scipy_rule(module):
    """The table's row for a SciPy module (``scipy.special``...) names each of its rules by
    SciPy's name (``expit`` for ``scipy.special.expit``), and nothing else."""
    import pathlib
    import re
    pytest.importorskip(module)
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## NumPy coverage", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(f"| `{module}`")]
    if not rows and module != "scipy.special":
        pytest.xfail(f"the README's coverage section has no {module} row yet")
    assert rows, f"the README's coverage section has no {module} row"
    listed = set(re.findall(r"`([a-z_0-9]+)`", rows[0].split("|")[2]))
    rules = {rule.name.rsplit(".", 1)[1] for rule in REGISTRY
             if rule.name.startswith(f"{module}.")}
    assert not sorted(rules - listed), f"{module} rules missing from the README's row"
    extras = SCIPY_ROW_EXTRAS[module]
    assert not sorted(listed - rules - extras), f"names in the {module} row with no rule"


def test_readme_coverage_table_lists_every_scipy_stats_rule():
    """The table's ``scipy.stats`` row names every distribution and method of
    s2s/rules/scipy_stats.py (``norm`` and ``logpdf`` for ``scipy.stats.norm.logpdf``), and
    nothing else but the parameters it mentions."""
    import pathlib
    import re
    pytest.importorskip("scipy.stats")
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## NumPy coverage", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `scipy.stats`")]
    if not rows:
        pytest.skip("the README's coverage table has no scipy.stats row yet")
    listed = set(re.findall(r"`([a-z_0-9]+)`", rows[0].split("|")[2]))
    parts = {part for rule in REGISTRY if rule.name.startswith("scipy.stats.")
             for part in rule.name.split(".")[2:]}
    assert not sorted(parts - listed), "scipy.stats rules missing from the README's row"
    extras = {"x", "k", "loc", "scale", "mean", "cov", "alpha", "df", "a", "b", "s", "mu",
              "n", "p"}
    assert not sorted(listed - parts - extras), "names in the scipy.stats row with no rule"
