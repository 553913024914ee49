"""Code specialized to argument shapes (s2s/shapes.py): the inferred shapes hold at run time,
specialized gradients equal generic ones bit for bit, and data-dependent shapes stay generic.
"""
from __future__ import annotations

import ast
import copy
import inspect

import numpy as np
import pytest

import s2s
from s2s.api import _MAX_SPECIALIZATIONS
from s2s.normalize import COMPOUND
from s2s.shapes import argument_shape

from reference import numerical_gradient
from zoo import ZOO


def _instrumented(function, normal):
    """The normal form as a function that records ``(name, shape)`` after every binding
    of a name (``None`` for a value that is not a number or NumPy array/scalar)."""
    def record_after(body: list[ast.stmt]) -> list[ast.stmt]:
        out = []
        for statement in body:
            statement = copy.deepcopy(statement)
            if isinstance(statement, COMPOUND):
                statement.body = record_after(statement.body)
                statement.orelse = record_after(statement.orelse)
            out.append(statement)
            targets = []
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                targets = [statement.targets[0].id]
            if isinstance(statement, ast.For) and isinstance(statement.target, ast.Name):
                statement.body[:0] = [_record(statement.target.id)]
            out.extend(_record(name) for name in targets)
        return out

    body = [copy.deepcopy(d) for d in normal.lifted.values()] + record_after(list(normal.body))
    arguments = ast.arguments([], [ast.arg(p) for p in normal.parsed.params], None, [], [],
                              None, [])
    definition = ast.FunctionDef("instrumented", arguments, body, [], None)
    module = ast.fix_missing_locations(ast.Module([definition], []))
    namespace = dict(function.__globals__)
    namespace.update(inspect.getclosurevars(function).nonlocals)
    records: list[tuple[str, object]] = []
    namespace["__record__"] = lambda name, value: records.append((name, _observed(value)))
    exec(compile(module, "<instrumented>", "exec"), namespace)
    return namespace["instrumented"], records


def _record(name: str) -> ast.stmt:
    return ast.Expr(ast.Call(ast.Name("__record__", ast.Load()),
                             [ast.Constant(name), ast.Name(name, ast.Load())], []))


def _observed(value):
    if isinstance(value, (bool, int, float, complex, np.generic)) \
            or type(value) is np.ndarray:
        return np.shape(value)
    return None


def _specialized(case, seed: int):
    """The case differentiated, its prepared arguments, and its specialized derivation."""
    differentiable = s2s.differentiate(case.function, wrt=case.wrt)
    values = differentiable._arguments(case.make(np.random.default_rng(seed)), {})
    derivation = differentiable.specialized_derivation(values)
    if derivation is None:
        pytest.skip("runs on the tape")
    return differentiable, values, derivation


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
def test_inferred_shapes_hold_at_run_time(case):
    _, values, derivation = _specialized(case, 7)
    inferred = derivation.analysis.shapes
    instrumented, records = _instrumented(case.function, derivation.normal)
    instrumented(*[copy.deepcopy(v) for v in values])
    for name, shape in records:
        if name in inferred:
            assert shape == inferred[name], (name, shape, inferred[name])
    for name, shape in zip(derivation.normal.parsed.params, map(argument_shape, values)):
        assert inferred.get(name) == shape or shape is None or name not in inferred


def _flat(gradient):
    return gradient if isinstance(gradient, tuple) else (gradient,)


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
def test_specialized_gradient_equals_generic_bit_for_bit(case):
    differentiable, values, specialized = _specialized(case, 11)
    generic = differentiable.derivation
    value, pullback = generic.module.function(*copy.deepcopy(values))
    special_value, special_pullback = specialized.module.function(*copy.deepcopy(values))
    cotangent = np.ones_like(value) if case.cotangent else 1.0
    if isinstance(value, tuple):
        cotangent = tuple(np.ones_like(v) for v in value)
    want = _flat(pullback(cotangent))
    for want_one, got in zip(want, _flat(special_pullback(cotangent))):
        assert np.shape(want_one) == np.shape(got)
        np.testing.assert_array_equal(got, want_one)
    if not case.cotangent and not isinstance(value, tuple):    # grad: the fused gradient
        fused = differentiable._gradient_function(values)
        if fused is not None and hasattr(fused, "derivation"):      # forward mode: other
            for want_one, got in zip(want, _flat(fused(*copy.deepcopy(values)))):  # order
                np.testing.assert_allclose(got, want_one, rtol=1e-12, atol=1e-300)
        elif fused is not None:
            for want_one, got in zip(want, _flat(fused(*copy.deepcopy(values)))):
                np.testing.assert_array_equal(got, want_one)


# --- what specialization leaves out, and what it keeps -------------------------------------

def logistic(r, x):
    for step in range(50):
        x = r * x * (1.0 - x)
    return x


def scale_and_shift(x, b):
    return np.sum(x * 2.0 + b)


def positive_part(x, w):
    y = x[x > 0] * w
    return np.sum(y * y)


def test_scalar_loop_has_no_unbroadcast_once_specialized():
    f = s2s.differentiate(logistic, wrt=0)
    assert "unbroadcast" in f.source
    special = f.source_for(2.8, 0.3)
    assert "unbroadcast" not in special
    assert "# Specialized to the argument shapes r: (), x: ()." in special
    eps = 1e-6
    want = (logistic(2.8 + eps, 0.3) - logistic(2.8 - eps, 0.3)) / (2 * eps)
    assert f.grad(2.8, 0.3) == pytest.approx(want, rel=1e-6)


def test_broadcast_operand_is_summed_without_shape_tests():
    f = s2s.differentiate(scale_and_shift, wrt=(0, 1))
    assert "b_b = unbroadcast(_t1_b, b)" in f.source
    special = f.source_for(np.ones(4), 0.5)
    assert "unbroadcast" not in special and "b_b = np.sum(_t1_b, axis=(0,))" in special
    assert "_t0_b = _t1_b\n" in special                # x * 2.0 has the shape of x + b
    gx, gb = f.grad(np.ones(4), 0.5)
    np.testing.assert_array_equal(gx, np.full(4, 2.0))
    assert gb == 4.0


def test_data_dependent_shapes_are_not_specialized():
    """``x[x > 0]`` has as many elements as x has positive ones: the shape is unknown,
    so two inputs of one shape but different masks share code that stays generic."""
    f = s2s.differentiate(positive_part, wrt=(0, 1))
    for x in (np.array([1.0, -2.0, 3.0, 0.5]), np.array([-1.0, -2.0, 3.0, -0.5])):
        w = 1.5
        gx, gw = f.grad(x, w)
        want_x = numerical_gradient(positive_part, (x, w), 0)
        want_w = numerical_gradient(positive_part, (x, w), 1)
        np.testing.assert_allclose(gx, want_x, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gw, want_w, rtol=1e-6, atol=1e-8)
    derivation = f.specialized_derivation([np.ones(4), 1.5])
    assert "y" not in derivation.analysis.shapes


def test_each_shape_gets_its_own_code_up_to_a_limit():
    s2s.api._DERIVATIONS.pop(scale_and_shift, None)
    f = s2s.differentiate(scale_and_shift, wrt=0)
    for n in range(1, _MAX_SPECIALIZATIONS + 5):
        x = np.linspace(0.0, 1.0, n)
        np.testing.assert_array_equal(f.grad(x, 0.5), np.full(n, 2.0))
    sources = {f.source_for(np.ones(n), 0.5) for n in range(1, _MAX_SPECIALIZATIONS + 5)}
    assert f.source in sources                     # past the limit: the generic code
    assert len(sources) == _MAX_SPECIALIZATIONS + 1


def test_arguments_without_a_shape_use_generic_code():
    s2s.api._DERIVATIONS.pop(scale_and_shift, None)
    f = s2s.differentiate(scale_and_shift, wrt=0)
    special = f.source_for(np.ones(3), [0.5, 0.5, 0.5])
    assert "x: (3,), b: ?." in special and "unbroadcast(_t1_b, _t0)" in special
    class Subclass(np.ndarray):                       # np.matrix, say: * is a matrix product
        pass
    assert argument_shape(np.ones(2).view(Subclass)) is None
    assert argument_shape([1.0]) is None and argument_shape(None) is None
    assert argument_shape(np.float32(1.0)) == () and argument_shape(3) == ()


def test_one_scalar_input_takes_forward_mode():
    """d/dr of a scalar loop: one forward sweep (jvp code, tangent 1.0), no stack."""
    f = s2s.differentiate(logistic, wrt=0)
    gradient = f._gradient_function(f._arguments((2.8, 0.3), {}))
    assert "def jvp_logistic(r, x, r_d):" in gradient.derivation.source
    assert "_saved" not in gradient.derivation.source
    assert "broadcast_like" not in gradient.derivation.source
    value, pullback = f.vjp(2.8, 0.3)
    assert f.grad(2.8, 0.3) == pytest.approx(pullback(1.0), rel=1e-13)
    g = s2s.differentiate(scale_and_shift, wrt=0)        # an array input: reverse mode
    assert not hasattr(g._gradient_function(g._arguments((np.ones(3), 0.5), {})),
                       "derivation")


def test_specialized_code_is_deterministic():
    first = s2s.differentiate(logistic, wrt=0).source_for(2.8, 0.3)
    s2s.api._DERIVATIONS.clear()
    assert s2s.differentiate(logistic, wrt=0).source_for(2.8, 0.3) == first


def maximum_of_empty(x, e):
    m = np.max(e)                  # raises for an empty e; the gradient does not need m
    return np.sum(x * 2.0)


def test_value_only_statements_that_can_raise_still_run():
    f = s2s.differentiate(maximum_of_empty, wrt=0)
    np.testing.assert_array_equal(f.grad(np.ones(3), np.ones(2)), np.full(3, 2.0))
    with pytest.raises(ValueError):
        f.grad(np.ones(3), np.zeros(0))


def test_dead_primal_statements_are_left_out_only_when_safe():
    from s2s.api import _derivation
    shapes = ((3,), (2,))
    source = _derivation(maximum_of_empty, ("x",), True, "gradient", shapes).source
    assert "np.max(e)" not in source                 # dead, and cannot raise for shape (2,)
    source = _derivation(maximum_of_empty, ("x",), True, "gradient", ((3,), (0,))).source
    assert "np.max(e)" in source                     # an empty array: it raises, keep it
