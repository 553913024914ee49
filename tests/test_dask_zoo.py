"""The zoo's array functions on Dask arrays: the gradient s2s returns is a lazy Dask array,
computed by nobody before the test's ``.compute()``, and equal to finite differences of the
NumPy function (float64).

A zoo function that Dask itself cannot run lazily (a Python ``if`` or ``while`` on a value,
``float()`` of an element, a NumPy function Dask does not implement) computes in the
function's own code; the test runs the function alone first, under the scheduler that
raises, and skips it then with that reason: s2s computes nothing the function does not.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from lazy_dask import Computed, refuse_to_compute
import zoo_calls  # noqa: F401  (registers its cases in ZOO)
import zoo_control  # noqa: F401
from reference import assert_close, numerical_gradient, numerical_vjp
from zoo import ZOO

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


_refuse = refuse_to_compute


def _chunked(value):
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.dtype.kind == "f":
        return da.from_array(value, chunks=tuple(max(1, (n + 1) // 2) for n in value.shape))
    return value


# Refused on Dask arrays with an s2s error naming them (README, "Large data").
REFUSED_ON_DASK = {
    "masked_and_repeated": "x[x > 0]: the gradient of an index held in a Dask array",
}
# Not run: Dask's own limits, not s2s's (README, "Large data").
NOT_RUN = {
    "euler_recurrence": "1,000 time steps build a graph deeper than Dask's task-spec recursion "
                        "(RecursionError in dask._task_spec after 80 s): compute or persist "
                        "per step",
}

ARRAY_CASES = [case for case in ZOO
               if any(isinstance(value, np.ndarray) and value.ndim >= 1
                      for position, value in enumerate(case.make(np.random.default_rng(0)))
                      if position in case.wrt)]


@pytest.mark.parametrize("case", ARRAY_CASES, ids=lambda case: case.name)
def test_zoo_gradients_on_dask_arrays_are_lazy_and_right(case):
    if case.name in NOT_RUN:
        pytest.skip(NOT_RUN[case.name])
    rng = np.random.default_rng(7)
    args = case.make(rng)
    dask_args = tuple(_chunked(value) for value in args)
    with dask.config.set(scheduler=_refuse):
        try:
            case.function(*dask_args)
        except Exception as error:          # noqa: BLE001  (Dask, or the function, refuses)
            pytest.skip(f"the function itself is not lazy on Dask: {type(error).__name__}: "
                        f"{str(error)[:120]}")
        differentiable = s2s.differentiate(case.function, wrt=case.wrt)
        if case.name in REFUSED_ON_DASK:
            with pytest.raises(s2s.MissingRuleError, match="another library"):
                differentiable.grad(*dask_args)
            return
        if case.cotangent:
            value, pullback = differentiable.vjp(*dask_args)
            cotangent = np.random.default_rng(8).normal(size=np.shape(value))
            gradients = pullback(cotangent)
        else:
            gradients = differentiable.grad(*dask_args)
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    assert differentiable.mode == "source"
    for gradient, position in zip(gradients, case.wrt):
        if isinstance(dask_args[position], da.Array):
            assert isinstance(gradient, da.Array), type(gradient)
            assert gradient.shape == args[position].shape
        if case.cotangent:
            expected = numerical_vjp(case.function, args, position, cotangent)
        elif case.analytic is not None:
            expected = case.analytic(*args)[case.wrt.index(position)]
        else:
            expected = numerical_gradient(case.function, args, position)
        computed = gradient.compute() if isinstance(gradient, da.Array) else gradient
        assert_close(computed, expected, rtol=1e-5, atol=1e-6)
