"""Second order through every rule of the registry, from the rule's own data.

For each case of ``tests/test_rules.py`` (every differentiable rule, each of its examples,
``EXTRA_SHAPES`` and ``CALLS``; rules added to the registry join automatically) and each
argument with a VJP, a random scalarisation of the rule's result,

    s(x) = sum over the float results y of  sum(w * y + v * y * y / 2),

is written as a small function (the other arguments are constants), differentiated as
generated code (``fallback="error"``, ``mode == "source"``), and its Hessian-vector product
``s2s.hvp`` (forward mode over the generated gradient code) is compared with central finite
differences, in float64, of the gradient the rule's VJP gives directly (the chain rule of
``s`` by hand: the cotangent ``w + v * y``).  The quadratic term makes the product nonzero
for linear rules too, so the VJP's dependence on its cotangent is checked as well.

``KNOWN`` lists the few cases that cannot pass yet, each a strict xfail with its reason.
"""
from __future__ import annotations

import itertools
import linecache
import zlib

import numpy as np
import pytest

import s2s
from s2s.errors import MissingRuleError, UnsupportedError
from s2s.rules import REGISTRY
from s2s.runtime import unbroadcast
from test_rules import CASES, Case, case_id, is_float_leaf, leaves, random_like, tree_map

H = 1e-5

# rule name -> (the error raised, why)
KNOWN = {
    "astype": (UnsupportedError, "generated code refuses astype's dtype= argument (a cast to "
                                 "integers has no derivative): there is no first-order code "
                                 "to differentiate again"),
    "einsum_argument_adjoint": (MissingRuleError, "a helper of einsum's gradient code: its own "
                                "second order is einsum's third, and its VJPs call "
                                "einsum_argument_tangent and einsum_adjoint_cotangents, which "
                                "have no rules"),
}


def differentiable_position(argument) -> bool:
    """An argument s2s.hvp can take a direction for: a float array, or a list holding some."""
    return any(is_float_leaf(leaf) for leaf in leaves(argument))


def second_order_cases():
    for param in CASES:
        rule, specs, example = param.values
        case = Case(rule, specs, example)
        for position in case.positions:
            if not differentiable_position(case.args[position]):
                continue
            marks = list(param.marks)
            if rule.name in KNOWN:
                error, why = KNOWN[rule.name]
                marks = [pytest.mark.xfail(strict=True, raises=error, reason=why)]
            yield pytest.param(rule, specs, example, position, marks=marks,
                               id=f"{param.id}-arg{position}")


SECOND_ORDER_CASES = list(second_order_cases())

_files = itertools.count()


class Scalarised:
    """``s(x)``: the rule's primal with ``x`` at ``position``, then the random form above."""

    def __init__(self, case: Case, position: int):
        self.case, self.position = case, position
        rng = np.random.default_rng(zlib.crc32(f"{case_id(case.rule, case.params)}"
                                               f"{position}".encode()))
        self.outputs = leaves(case.ans)
        self.several = isinstance(case.ans, (list, tuple))
        self.weights = {i: (rng.normal(size=np.shape(y)), rng.normal(size=np.shape(y)))
                        for i, y in enumerate(self.outputs) if is_float_leaf(y)}
        # complex results (numpy.fft of a real signal): Re(conj(c) y) + v |y|^2 / 2, with c
        # complex; its cotangent is c + v y in the user's convention (conjugated: registry)
        self.complex_outputs = {i for i, y in enumerate(self.outputs)
                                if isinstance(y, np.ndarray) and y.dtype.kind == "c"}
        for i in sorted(self.complex_outputs):
            shape = np.shape(self.outputs[i])
            self.weights[i] = (rng.normal(size=shape) + 1j * rng.normal(size=shape),
                               rng.normal(size=shape))
        self.direction = random_like(case.args[position], rng)
        self.function = self._compile()

    def _compile(self):
        """The function as source text (s2s reads it through linecache)."""
        case, names, call = self.case, {"np": np, "primal": self.case.rule.primal}, []
        for p, argument in enumerate(case.args):
            if p == self.position:
                call.append("x")
            else:
                names[f"c{p}"] = argument
                call.append(f"c{p}")
        for i, value in enumerate(case.extra):
            names[f"e{i}"] = value
            call.append(f"e{i}")
        for key, value in case.keywords.items():
            names[f"k_{key}"] = value
            call.append(f"{key}=k_{key}")
        body = [f"    out = primal({', '.join(call)})"]
        terms = []
        for i, (w, v) in self.weights.items():
            names[f"w{i}"], names[f"v{i}"] = w, v
            body.append(f"    y{i} = out[{i}]" if self.several else f"    y{i} = out")
            if i in self.complex_outputs:
                terms.append(f"np.sum(np.real(np.conj(w{i}) * y{i}) + 0.5 * v{i} * "
                             f"np.real(y{i} * np.conj(y{i})))")
            else:
                terms.append(f"np.sum(w{i} * y{i} + 0.5 * v{i} * y{i} * y{i})")
        body.append("    return " + " + ".join(terms))
        source = "def scalarised(x):\n" + "\n".join(body) + "\n"
        filename = f"<second-order-rule-{next(_files)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), names)       # noqa: S102 - our own text
        return names["scalarised"]

    def rule_gradient(self, x):
        """ds/dx from the rule's VJP, called directly (no generated code)."""
        case, rule = self.case, self.case.rule
        args = list(case.args)
        args[self.position] = x
        ans = case.f(*args)
        results = leaves(ans)
        cotangents = [None if i not in self.weights
                      else np.conj(self.weights[i][0] + self.weights[i][1] * results[i])
                      if i in self.complex_outputs
                      else self.weights[i][0] + self.weights[i][1] * results[i]
                      for i in range(len(results))]
        cotangent = cotangents if self.several else cotangents[0]
        gradient = rule.vjps[self.position](cotangent, ans, *args, **case.params)
        if rule.broadcasting:
            gradient = unbroadcast(gradient, args[self.position])
        # a real argument's gradient is the real part of its cotangent (registry.py): a
        # rule may leave an imaginary part there (rfftn's transpose, an irfftn)
        return tree_map(lambda d, a: d if d is None or np.iscomplexobj(a) else np.real(d),
                        gradient, args[self.position])

    def shifted(self, step):
        point = tree_map(lambda x, d: x if d is None else x + step * d,
                         self.case.args[self.position], self.direction)
        return tuple(point) if isinstance(self.case.args[self.position], tuple) else point


def assert_leaves_close(actual, expected):
    expected_leaves = [leaf for leaf in leaves(expected)]
    actual_leaves = leaves(actual)
    assert len(actual_leaves) == len(expected_leaves)
    for got, want in zip(actual_leaves, expected_leaves):
        if want is None:
            continue
        got = np.zeros(np.shape(want)) if got is None else np.asarray(got, dtype=np.float64)
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * scale)


@pytest.mark.parametrize(("rule", "specs", "example", "position"), SECOND_ORDER_CASES)
def test_hessian_vector_product_against_finite_differences(rule, specs, example, position):
    scalarised = Scalarised(Case(rule, specs, example), position)
    differentiable = s2s.differentiate(scalarised.function, fallback="error")
    assert differentiable.mode == "source"
    product = s2s.hvp(differentiable, scalarised.case.args[position], scalarised.direction)
    plus = scalarised.rule_gradient(scalarised.shifted(H))
    minus = scalarised.rule_gradient(scalarised.shifted(-H))
    expected = tree_map(lambda a, b: None if a is None or b is None
                        else (np.asarray(a, dtype=np.float64) - b) / (2 * H), plus, minus)
    assert_leaves_close(product, expected)


def test_every_differentiable_rule_has_a_second_order_case():
    """No rule escapes the test above by lacking sample data."""
    covered = {param.values[0].name for param in SECOND_ORDER_CASES}
    rules = {param.values[0].name for param in CASES
             if any(vjp is not None for vjp in param.values[0].vjps)}
    assert rules - covered == set()
    assert set(KNOWN) <= rules


@pytest.mark.parametrize("helper", REGISTRY.from_source, ids=lambda helper: helper.__name__)
def test_helpers_read_from_source_generate_code(helper):
    """Each helper declared define_from_source is in the subset s2s reads: forward and reverse
    code are generated for it (the cases above run them where the rules call them)."""
    differentiable = s2s.differentiate(helper, fallback="error")
    assert differentiable.mode == "source"
    assert f"def vjp_{helper.__name__}(" in differentiable.source
    assert f"def jvp_{helper.__name__}(" in differentiable.forward_source
