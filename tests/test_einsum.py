"""``np.einsum`` in every calling form, in generated reverse code, forward mode and on the tape.

Each case is a scalar function ``sum(sin(einsum(...)))`` (the ``sin`` makes the cotangent
of the einsum non-uniform) checked in float64 against central finite differences
(tests/reference.py): the gradient of generated reverse code (no tape fallback), the
tangent of forward mode (``s2s.jvp``) along a random direction, and the gradient on the
runtime tape (:func:`s2s.tape.vjp_with_tape`).
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from s2s.errors import UnsupportedError
from s2s.tape import vjp_with_tape
from tests.reference import assert_close, numerical_gradient


def matmul(a, b):
    return np.sum(np.sin(np.einsum("ij,jk->ik", a, b)))


def trace(a):
    return np.sum(np.sin(np.einsum("ii", a)))


def diagonal(a):
    return np.sum(np.sin(np.einsum("ii->i", a)))


def outer(a, b):
    return np.sum(np.sin(np.einsum("i,j->ij", a, b)))


def batched(a, b):
    return np.sum(np.sin(np.einsum("bij,bjk->bik", a, b)))


def three_operands(a, b, c):
    return np.sum(np.sin(np.einsum("ij,jk,kl->il", a, b, c)))


def four_operands(a, b, c, d):
    return np.sum(np.sin(np.einsum("i,ij,jk,k->", a, b, c, d)))


def ellipsis(a, b):
    return np.sum(np.sin(np.einsum("...ij,...jk", a, b)))


def ellipsis_broadcast(a, b):
    return np.sum(np.sin(np.einsum("...ij,...jk->...ik", a, b)))


def implicit_output(a, b):
    return np.sum(np.sin(np.einsum("ij,jk", a, b)))


def transpose_and_sum(a):
    return np.sum(np.sin(np.einsum("ijk->kj", a)))


def repeated_operand(a):
    return np.sin(np.einsum("i,i->", a, a))


def diagonal_times_matrix(a, b):
    return np.sum(np.sin(np.einsum("ii,ij->j", a, b)))


def with_a_scalar(a, s):
    return np.sum(np.sin(np.einsum("i,->i", a, s)))


def with_a_constant(a):
    return np.sum(np.sin(np.einsum("ij,j->i", a, np.arange(4.0))))


def sublist_transpose(a):
    return np.sum(np.sin(np.einsum(a, [0, 1], [1, 0]) * np.arange(12.0).reshape(4, 3)))


def sublist_trace(a):
    return np.sin(np.einsum(a, [0, 0]))


def sublist_implicit(a, b):
    return np.sum(np.sin(np.einsum(a, [0, 1], b, [1, 2])))


def sublist_output(a, b):
    return np.sum(np.sin(np.einsum(a, [0, 1], b, [1, 2], [2, 0])))


def sublist_large_indices(a, b):
    # NumPy orders the implicit output by index number (5 before 30).
    return np.sum(np.sin(np.einsum(a, [30, 2], b, [2, 5]) * np.arange(6.0).reshape(3, 2)))


def sublist_ellipsis(a, b):
    return np.sum(np.sin(np.einsum(a, [Ellipsis, 0, 1], b, [Ellipsis, 1, 2], [Ellipsis, 2, 0])))


def sublist_three_operands(a, b, c):
    return np.sum(np.sin(np.einsum(a, [0, 1], b, [1, 2], c, [2, 3], [0, 3])))


# (function, argument shapes; () is a Python float)
CASES = [
    (matmul, [(3, 4), (4, 2)]),
    (trace, [(3, 3)]),
    (diagonal, [(3, 3)]),
    (outer, [(3,), (4,)]),
    (batched, [(2, 3, 4), (2, 4, 2)]),
    (three_operands, [(2, 3), (3, 4), (4, 2)]),
    (four_operands, [(2,), (2, 3), (3, 4), (4,)]),
    (ellipsis, [(2, 3, 4), (2, 4, 2)]),
    (ellipsis_broadcast, [(2, 3, 4), (4, 2)]),
    (implicit_output, [(3, 4), (4, 2)]),
    (transpose_and_sum, [(2, 3, 4)]),
    (repeated_operand, [(3,)]),
    (diagonal_times_matrix, [(3, 3), (3, 2)]),
    (with_a_scalar, [(3,), ()]),
    (with_a_constant, [(3, 4)]),
    (sublist_transpose, [(3, 4)]),
    (sublist_trace, [(3, 3)]),
    (sublist_implicit, [(3, 4), (4, 2)]),
    (sublist_output, [(3, 4), (4, 2)]),
    (sublist_large_indices, [(2, 4), (4, 3)]),
    (sublist_ellipsis, [(2, 3, 4), (2, 4, 2)]),
    (sublist_three_operands, [(2, 3), (3, 4), (4, 2)]),
]
IDS = [function.__name__ for function, _ in CASES]


def arguments(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [float(rng.normal()) if shape == () else rng.normal(size=shape) for shape in shapes]


def expected_gradients(function, args):
    return [numerical_gradient(function, args, position) for position in range(len(args))]


def as_tuple(gradients, count):
    return tuple(gradients) if count > 1 else (gradients,)


@pytest.mark.parametrize(("function", "shapes"), CASES, ids=IDS)
def test_generated_reverse_code(function, shapes):
    args = arguments(shapes)
    positions = tuple(range(len(args)))
    derivative = s2s.differentiate(function, wrt=positions if len(args) > 1 else 0,
                                   fallback="error")
    gradients = as_tuple(derivative.grad(*args), len(args))
    for gradient, expected in zip(gradients, expected_gradients(function, args)):
        assert_close(gradient, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("function", "shapes"), CASES, ids=IDS)
def test_forward_mode(function, shapes):
    args = arguments(shapes)
    tangents = arguments(shapes, seed=1)
    value, tangent = s2s.jvp(function, args, tangents)
    h = 1e-6
    plus = function(*[x + h * t for x, t in zip(args, tangents)])
    minus = function(*[x - h * t for x, t in zip(args, tangents)])
    assert_close(value, function(*args), rtol=1e-12)
    assert_close(tangent, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("function", "shapes"), CASES, ids=IDS)
def test_tape(function, shapes):
    args = arguments(shapes)
    value, pullback = vjp_with_tape(function, tuple(args), {}, tuple(range(len(args))))
    assert_close(value, function(*args), rtol=1e-12)
    for gradient, expected in zip(pullback(1.0), expected_gradients(function, args)):
        assert_close(gradient, expected, rtol=1e-6, atol=1e-8)


def test_generated_code_reads_the_whole_call():
    """The sublist form's operand gets its own cotangent (it used to get zero)."""
    source = s2s.differentiate(sublist_transpose, fallback="error").source
    assert "einsum_argument_adjoint(" in source and "[0, 1], [1, 0]), 0)" in source


def many_operands(a):
    return np.sum(np.einsum("i,i,i,i,i,i,i,i->i", a, a, a, a, a, a, a, a))


def test_more_arguments_than_the_rule_has_positions_are_refused():
    x = np.linspace(0.5, 1.0, 3)
    with pytest.raises(UnsupportedError, match="at most 8 positional arguments"):
        s2s.differentiate(many_operands, fallback="error").grad(x)
    with pytest.raises(UnsupportedError, match="first 8 positional argument"):
        vjp_with_tape(many_operands, (x,), {}, (0,))


def test_second_order_through_einsum():
    """einsum_argument_adjoint has a rule (it is multilinear), so Hessians go through it.

    sum(a @ a) = 1' a a 1 has the gradient J a' + a' J (J = 1 1', all ones), linear in a,
    so H v = J v' + v' J; a nonlinear case against finite differences of the gradient.
    """
    a = np.arange(1.0, 5.0).reshape(2, 2) / 3
    v = np.array([[0.5, -1.0], [2.0, 0.25]])
    ones = np.ones((2, 2))
    expected = ones @ v.T + v.T @ ones          # the gradient 1 a^T + a^T 1 is linear in a
    assert_close(s2s.hvp(lambda_free_quadratic, a, v), expected, rtol=1e-12, atol=1e-12)
    f = s2s.differentiate(sublist_three_operands, wrt=(0, 1, 2), fallback="error")
    x, y, z = arguments([(2, 3), (3, 4), (4, 2)], seed=3)
    h = 1e-5
    direction = arguments([(2, 3)], seed=4)[0]
    finite = (f.grad(x + h * direction, y, z)[0] - f.grad(x - h * direction, y, z)[0]) / (2 * h)
    second = s2s.hvp(lambda point: sublist_three_operands(point, y, z), x, direction)
    assert_close(second, finite, rtol=1e-6, atol=1e-8)


def lambda_free_quadratic(a):
    return np.sum(np.einsum("ij,jk->ik", a, a))
