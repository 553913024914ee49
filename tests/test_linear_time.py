"""Adjoints of element reads and writes in O(size of the element) (issue 16).

In code specialized to the argument shapes, a read ``x[i]`` of an array adds its cotangent
in place (``x_b[i] += g``), a read ``xs[i]`` of a list sets ``xs_b[i] = xs_b[i] + g``, a
scalar written into an array takes its adjoint without a copy, forward loops whose every
value the reverse sweep recomputes are gone from the closure-free gradient, and nothing is
saved per iteration that the reverse sweep does not read.  Speed is measured by
``benchmarks/scaling.py``, not here; these tests check the values (finite differences in
float64, the tape, forward mode) and the second derivatives through the in-place code
(forward-over-reverse and reverse-over-reverse), and the structure of the code.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient
from s2s.api import _derivation
from s2s.tape import vjp_with_tape


def branchy(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            total = total + x[i] * x[i]
        else:
            total = total - 0.5 * x[i]
    return total


def recurrence(x):
    y = np.zeros_like(x)
    y[0] = np.sin(x[0])
    for i in range(1, x.shape[0]):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y)


def appended(x):
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] * x[i])
    return np.sum(np.array(out))


def list_recurrence(x):
    """Reading the last element of a list while appending to it."""
    ys = [np.sin(x[0])]
    for i in range(1, x.shape[0]):
        ys.append(0.5 * ys[-1] + np.sin(x[i]))
    return np.sum(np.array(ys) ** 2)


def horner(c):
    acc = 0.0
    for i in range(c.shape[0]):
        acc = acc * 0.9 + c[i]
    return acc


def comprehension(x):
    terms = [np.sin(x[i]) * x[i] for i in range(x.shape[0])]
    return sum(terms)


def pairwise(x):
    energy = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            d = x[i] - x[j]
            energy = energy + 1.0 / (1.0 + d * d)
    return energy


def time_stepping(x):
    steps = x.shape[0]
    state = np.zeros((steps, 2))
    state[0] = np.array([1.0, 0.0])
    for t in range(1, steps):
        position, velocity = state[t - 1, 0], state[t - 1, 1]
        state[t, 0] = position + 0.1 * velocity
        state[t, 1] = velocity + 0.1 * (x[t] - position)
    return np.sum(state[:, 0] ** 2)


def windows(x):
    """Slices that overlap: each element is read by two windows."""
    total = 0.0
    for i in range(x.shape[0] - 1):
        total = total + np.sum(x[i:i + 2] ** 2) * (i + 1)
    return total + x[-1] * x[0]


def matrix_rows_and_elements(a):
    total = 0.0
    for i in range(a.shape[0]):
        total = total + np.sum(np.tanh(a[i])) * a[i, 0]
    return total


def aliased(x):
    """``y`` names the same array: their adjoints must not share a buffer."""
    y = x
    total = 0.0
    for i in range(x.shape[0]):
        total = total + y[i] * x[i] ** 2 + np.sin(y[i])
    return total + np.sum(y * 3.0)


def repeated_indices(x):
    """An index array with repeats: the adjoint adds up (np.add.at), never in place."""
    idx = np.array([0, 2, 2, 1, 0])
    total = 0.0
    for k in range(2):
        total = total + np.sum(x[idx] ** 2) * (k + 1.0)
    return total


PROGRAMS = [branchy, recurrence, appended, list_recurrence, horner, comprehension, pairwise, time_stepping,
            windows, matrix_rows_and_elements, aliased, repeated_indices]
ON_THE_TAPE = [branchy, horner, comprehension, pairwise, windows,
               matrix_rows_and_elements, aliased, repeated_indices]
# (the tape records neither writes into arrays nor np.array of a list of tensors)
IN_PLACE = {branchy: "x_b[i] += ", recurrence: "x_b[i] += ", appended: "x_b[i] += ",
            horner: "c_b[i] += ", list_recurrence: "ys_b[-1] = add_cotangents(ys_b[-1], ", comprehension: "terms_b[_i0] = terms_b[_i0] + ",
            pairwise: "x_b[j] += ", time_stepping: "state_b[_t6, 0] += ",
            windows: "x_b[i:_t", matrix_rows_and_elements: "a_b[i, 0] += "}


def point(function, size=7):
    rng = np.random.default_rng(len(function.__name__))
    shape = (4, 3) if function is matrix_rows_and_elements else (size,)
    return rng.uniform(-1.0, 1.0, size=shape)


@pytest.mark.parametrize("function", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences_and_forward_mode(function):
    x = point(function)
    derivative = s2s.differentiate(function, fallback="error")
    gradient = derivative.grad(x)
    assert derivative.mode == "source"
    assert_close(gradient, numerical_gradient(function, [x], 0))
    v = np.random.default_rng(3).normal(size=x.shape)
    _, tangent = s2s.jvp(function, (x,), (v,))
    assert_close(tangent, np.sum(gradient * v))
    _, pullback = derivative.vjp(x)
    for _ in range(2):                          # the pullback can run again
        assert_close(pullback(1.0), gradient)


@pytest.mark.parametrize("function", ON_THE_TAPE, ids=lambda f: f.__name__)
def test_gradient_matches_the_tape(function):
    x = point(function)
    _, pullback = vjp_with_tape(function, (x,), {}, (0,))
    assert_close(s2s.grad(function)(x), pullback(1.0)[0])


@pytest.mark.parametrize("function", sorted(IN_PLACE, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_specialized_code_accumulates_in_place(function):
    x = point(function)
    source = s2s.differentiate(function, fallback="error").source_for(x)
    assert IN_PLACE[function] in source, source
    assert "index_accumulate" not in source, source


def test_an_index_array_with_repeats_is_not_accumulated_in_place():
    x = point(repeated_indices)
    source = s2s.differentiate(repeated_indices, fallback="error").source_for(x)
    assert "x_b[idx] +=" not in source


@pytest.mark.parametrize("function", PROGRAMS, ids=lambda f: f.__name__)
def test_second_derivatives_through_the_in_place_adjoints(function):
    """H v forward-over-reverse (s2s.hvp) and reverse-over-reverse (the generated gradient
    differentiated again) against central differences of the gradient."""
    x = point(function, size=6)
    v = np.random.default_rng(5).normal(size=x.shape)
    derivative = s2s.differentiate(function, fallback="error")
    h = 1e-5
    expected = (derivative.grad(x + h * v) - derivative.grad(x - h * v)) / (2 * h)
    assert_close(s2s.hvp(function, x, v), expected, rtol=1e-5, atol=1e-7)
    gradient_code = derivative.gradient_function(x)          # grad_f(x, seed), specialized
    second = s2s.differentiate(gradient_code, wrt=0, fallback="error")
    _, pullback = second.vjp(x, 1.0)
    assert_close(pullback(v), expected, rtol=1e-5, atol=1e-7)


def gradient_source(function, x) -> str:
    """The closure-free ``grad_<name>`` specialized to ``x``'s shape, as text."""
    derivative = s2s.differentiate(function, fallback="error")
    return _derivation(derivative.function, derivative.wrt_names, derivative.single,
                       "gradient", (x.shape,)).source


def loops(source: str) -> int:
    return len(re.findall(r"^\s*for ", source, flags=re.MULTILINE))


def test_the_closure_free_gradient_drops_a_forward_loop_the_reverse_sweep_recomputes():
    source = gradient_source(branchy, point(branchy))
    assert loops(source) == 1 and "in reversed(" in source, source
    assert "_saved" not in source and "_stack" not in source, source      # nothing saved


def test_a_recurrence_saves_nothing_per_iteration():
    """The reverse sweep reads neither y nor the temporaries: no stack, no element restores,
    and the closure-free gradient has no forward loop at all."""
    x = point(recurrence)
    derivative = s2s.differentiate(recurrence, fallback="error")
    source = derivative.source_for(x)
    assert "_saved" not in source and "snapshot" not in source, source
    assert loops(gradient_source(recurrence, x)) == 1


def test_generic_code_stays_functional_and_right():
    """Without argument shapes (a list argument), reads keep the functional accumulation."""
    values = [0.3, -0.2, 0.9]

    def total_of_list(xs):
        total = 0.0
        for i in range(len(xs)):
            total = total + xs[i] * xs[i]
        return total

    gradient = s2s.differentiate(total_of_list, fallback="error").grad(np.array(values))
    assert_close(gradient, 2 * np.array(values))
