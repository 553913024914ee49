"""Forward mode: jvp against finite differences, and against reverse mode through the
dot-product identity <u, J v> = <J^T u, v> on every zoo function."""
import numpy as np
import pytest

import s2s
from reference import assert_close
from zoo import ZOO


def directional_derivative(function, args, positions, directions, epsilon=1e-6):
    def at(step):
        shifted = list(args)
        for position, direction in zip(positions, directions):
            shifted[position] = args[position] + step * direction
        return np.asarray(function(*shifted), dtype=np.float64)
    return (at(epsilon) - at(-epsilon)) / (2 * epsilon)


def random_like(value, rng):
    return float(rng.normal()) if isinstance(value, float) else rng.normal(size=np.shape(value))


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
@pytest.mark.parametrize("seed", (0, 1))
def test_jvp_against_finite_differences(case, seed):
    rng = np.random.default_rng(seed)
    args = case.make(rng)
    directions = [random_like(args[p], rng) for p in case.wrt]
    tangents = [None] * len(args)
    for position, direction in zip(case.wrt, directions):
        tangents[position] = direction
    f = s2s.differentiate(case.function, wrt=case.wrt, fallback="error")
    value, tangent = f.jvp(args, tangents)
    assert_close(value, case.function(*args), rtol=1e-12, atol=1e-12)
    if case.analytic is not None:         # finite differences cannot see stop_gradient
        expected = sum(np.sum(g * d) for g, d in zip(case.analytic(*args), directions))
    else:
        expected = directional_derivative(case.function, args, case.wrt, directions)
    assert np.shape(tangent) == np.shape(value)
    assert_close(tangent, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ZOO, ids=lambda case: case.name)
def test_forward_and_reverse_agree_through_the_dot_product_identity(case):
    rng = np.random.default_rng(5)
    args = case.make(rng)
    f = s2s.differentiate(case.function, wrt=case.wrt, fallback="error")
    directions = [random_like(args[p], rng) for p in case.wrt]
    value, tangent = f.jvp(args, directions)            # one tangent per wrt parameter
    u = random_like(value, rng) if np.ndim(value) else 1.0
    _, pullback = f.vjp(*args)
    cotangents = pullback(u)
    if not isinstance(cotangents, tuple):
        cotangents = (cotangents,)
    left = float(np.sum(np.asarray(u) * np.asarray(tangent)))
    right = sum(float(np.sum(c * d)) for c, d in zip(cotangents, directions))
    assert left == pytest.approx(right, rel=1e-10, abs=1e-12)


def test_forward_code_keeps_control_flow_and_names_tangents_d():
    from zoo_control import d2l_f
    source = s2s.differentiate(d2l_f).forward_source
    assert "def jvp_d2l_f(a, a_d):" in source
    assert "while _t1:" in source and "b_d = b_d * 2" in source   # copies merged
    assert "_saved" not in source                 # no stack in forward mode


def test_jvp_shape_errors_are_clear():
    def f(x):
        return np.sin(x)

    with pytest.raises(s2s.InputError, match="tangent for 'x' has shape"):
        s2s.jvp(f, (np.ones(3),), (np.ones(2),))
    with pytest.raises(s2s.InputError, match="every tangent is None"):
        s2s.jvp(f, (np.ones(3),), (None,))
