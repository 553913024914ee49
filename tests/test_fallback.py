"""@differentiate falls back to the tape, with the reason recorded, when it must."""
import warnings

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient
from zoo import ZOO


def power_tower(x, n):
    if n == 0:
        return x
    return np.sin(power_tower(x, n - 1)) * x


def guarded_log(x):
    try:
        y = np.log(x)
    except FloatingPointError:
        y = x
    return np.sum(y * x)


def test_recursion_falls_back_with_correct_gradient():
    f = s2s.differentiate(power_tower)
    with pytest.warns(s2s.FallbackWarning, match="recursive call"):
        gradient = f.grad(0.7, 3)
    assert f.mode == "tape"
    assert "power_tower" in f.fallback_reason and "test_fallback.py:" in f.fallback_reason
    assert gradient == pytest.approx(numerical_gradient(power_tower, [0.7, 3], 0), rel=1e-7)
    assert "differentiated on the runtime tape" in f.source


def test_try_except_falls_back_once():
    f = s2s.differentiate(guarded_log)
    x = np.array([0.5, 1.5, 2.5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = f.grad(x)
        second = f.grad(x)
    assert len([w for w in caught if issubclass(w.category, s2s.FallbackWarning)]) == 1
    assert_close(first, numerical_gradient(guarded_log, [x], 0))
    np.testing.assert_array_equal(first, second)
    assert "Try" in f.fallback_reason


def test_fallback_error_raises_instead():
    f = s2s.differentiate(guarded_log, fallback="error")
    with pytest.raises(s2s.UnsupportedError, match="try/except"):
        f.grad(np.ones(3))


def test_source_mode_reports_source():
    f = s2s.differentiate(lambda_free_square)
    assert f.mode == "source" and f.fallback_reason is None


def lambda_free_square(x):
    return x * x


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
def test_tape_agrees_with_generated_code(case):
    """Where both can run, the tape and the generated code agree to rounding."""
    args = case.make(np.random.default_rng(11))
    source = s2s.differentiate(case.function, wrt=case.wrt, fallback="error")
    value, pullback = source.vjp(*args)
    cotangent = np.random.default_rng(12).normal(size=np.shape(value)) if case.cotangent \
        else 1.0
    from s2s.tape import vjp_with_tape
    try:
        tape_value, tape_pullback = vjp_with_tape(case.function, args, {}, case.wrt)
    except (s2s.S2SError, RuntimeError, ValueError) as error:
        # writing tensors into NumPy arrays (out[i] = t) is beyond any tape
        pytest.skip(f"the tape cannot run this function: {str(error).splitlines()[0]}")
    expected = source.vjp(*args)[1](cotangent)
    if not isinstance(expected, tuple):
        expected = (expected,)
    assert_close(tape_value, value, rtol=1e-12, atol=1e-12)
    for got, want in zip(tape_pullback(cotangent), expected):
        assert_close(got, want, rtol=1e-10, atol=1e-12)
