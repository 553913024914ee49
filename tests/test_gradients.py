"""Every zoo function against finite differences (float64) and, where scalar, sympy."""
import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient, numerical_vjp, sympy_gradient
from zero_audit import assert_zeros_are_true
from zoo import ZOO

SEEDS = (0, 1, 2)


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_against_finite_differences(case, seed):
    rng = np.random.default_rng(seed)
    args = case.make(rng)
    differentiable = s2s.differentiate(case.function, wrt=case.wrt)
    if case.cotangent:
        value, pullback = differentiable.vjp(*args)
        cotangent = rng.normal(size=np.shape(value))
        gradients = pullback(cotangent)
        expected = [numerical_vjp(case.function, args, p, cotangent) for p in case.wrt]
    elif case.analytic is not None:
        gradients = differentiable.grad(*args)
        expected = case.analytic(*args)
    else:
        gradients = differentiable.grad(*args)
        expected = [numerical_gradient(case.function, args, p) for p in case.wrt]
    if not isinstance(gradients, tuple):
        gradients = (gradients,)
    for gradient, reference, position in zip(gradients, expected, case.wrt):
        assert np.shape(gradient) == np.shape(args[position])
        assert_close(gradient, reference, rtol=1e-5, atol=1e-6)
        if not case.cotangent:
            assert_zeros_are_true(case.function, list(args), position, gradient, case.name)


SYMBOLIC = [case for case in ZOO if case.sympy is not None]


@pytest.mark.parametrize("case", SYMBOLIC, ids=lambda case: case.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_against_sympy(case, seed):
    args = case.make(np.random.default_rng(seed))
    gradients = s2s.differentiate(case.function, wrt=case.wrt).grad(*args)
    if not isinstance(gradients, tuple):
        gradients = (gradients,)
    expected = sympy_gradient(case.sympy, args)
    for gradient, position in zip(gradients, case.wrt):
        assert isinstance(gradient, float)
        assert_close(gradient, expected[position], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in ZOO if "scalar" not in c.tags and not c.cotangent],
                         ids=lambda case: case.name)
def test_float32_in_float32_out(case):
    args64 = case.make(np.random.default_rng(7))
    args32 = tuple(np.asarray(a, dtype=np.float32) for a in args64)
    differentiable = s2s.differentiate(case.function, wrt=case.wrt)
    gradients32 = differentiable.grad(*args32)
    gradients64 = differentiable.grad(*args64)
    if not isinstance(gradients32, tuple):
        gradients32, gradients64 = (gradients32,), (gradients64,)
    for g32, g64 in zip(gradients32, gradients64):
        assert g32.dtype == np.float32
        assert_close(g32, g64, rtol=2e-3, atol=2e-4)
