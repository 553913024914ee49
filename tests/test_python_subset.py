"""Everyday Python as generated code: comprehensions, builtins over them, forward-only
statements (print, assert, raise, warnings.warn) and discarded calls (issue 14)."""
import logging
import warnings

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient

W = 0.7
LOGGER = logging.getLogger("s2s.tests.python_subset")


def list_comprehension_with_filter(x):
    ys = [W * v for v in x if v > 0]
    return np.sum(np.array(ys))


def generator_sum(x):
    return sum(v ** 2 for v in x)


def sum_with_start(x):
    return sum([v * 3 for v in x], 1.5)


def nested_for_and_if(x):
    return sum(a * b for a in x for b in x if a < b)


def array_of_calls(x):
    return np.sum(np.array([np.sin(v) for v in x]))


def nested_comprehension(x):
    rows = [[a * b for b in x] for a in x]
    return np.sum(np.array(rows) ** 2)


def max_of_generator(x):
    return max(v * v for v in x)


def max_and_min_of_arguments(x):
    return max(x[0], 2 * x[1], x[2]) + min(x[0], x[1])


def max_of_list_with_default(x):
    ys = [v * 2 for v in x]
    return max(ys, default=0.0) - min(ys)


def any_and_all(x):
    s = np.sum(x)
    big = any(v > 10 for v in x)
    if big:
        s = s * 2
    small = all(v < -10 for v in x)
    if small:
        s = s * 3
    return s


def mapped(x):
    return sum(map(lambda v: v * v, x)) + sum(list(map(np.sin, x)))


def zipped_and_enumerated(x):
    return sum(a * b for a, b in zip(x, x[::-1])) + sum(i * v for i, v in enumerate(x))


def reversed_in_comprehension(x):
    return np.sum(np.array([v * k for k, v in enumerate(reversed(x))]))


def set_and_dict_of_constants(x):
    d = {k: v for k, v in zip(["a", "b"], [1.0, 2.0])}
    n = len({int(v > 0) for v in x})
    return np.sum(x) * d["b"] + n


def forward_only_statements(x):
    print(f"x = {x}")
    assert np.all(np.isfinite(x)), f"not finite: {x}"
    if np.sum(x) > 1e6:
        raise ValueError(f"too large: {np.sum(x)}")
    warnings.warn("a warning from the function")
    LOGGER.info("x: %s", x)
    return np.sum(x ** 2)


def discarded_calls_of_inactive_values(x):
    n = len(x)
    record(n)
    record("start")
    return np.sum(np.tanh(x))


RECORDED = []


def record(value):
    RECORDED.append(value)


CASES = [list_comprehension_with_filter, generator_sum, sum_with_start, nested_for_and_if,
         array_of_calls, nested_comprehension, max_of_generator, max_and_min_of_arguments,
         max_of_list_with_default, any_and_all, mapped, zipped_and_enumerated,
         reversed_in_comprehension, set_and_dict_of_constants, forward_only_statements,
         discarded_calls_of_inactive_values]
X = np.array([0.3, -1.2, 2.0])


@pytest.mark.filterwarnings("ignore:a warning from the function")
@pytest.mark.parametrize("function", CASES, ids=[f.__name__ for f in CASES])
def test_gradient_in_generated_code_matches_finite_differences(function):
    f = s2s.differentiate(function, fallback="error")
    assert f.mode == "source"
    assert_close(f.grad(X), numerical_gradient(function, [X], 0))
    assert f.source == s2s.differentiate(function, fallback="error").source   # deterministic


TAPED = [generator_sum, sum_with_start, nested_for_and_if, max_of_generator,
         max_and_min_of_arguments, zipped_and_enumerated]


@pytest.mark.parametrize("function", TAPED, ids=[f.__name__ for f in TAPED])
def test_gradient_matches_the_tape(function):
    leaf = s2s.tensor(X, requires_grad=True)
    function(leaf).backward()
    assert_close(s2s.differentiate(function, fallback="error").grad(X), leaf.grad)


def test_max_gives_the_gradient_to_the_first_of_tied_elements():
    def first_max(x):
        return max(x[0], x[1]) + max(v for v in x)
    gradient = s2s.differentiate(first_max, fallback="error").grad(np.array([2.0, 2.0]))
    assert_close(gradient, [2.0, 0.0])


def test_comprehension_lowers_to_a_loop_with_fresh_variables():
    source = s2s.differentiate(generator_sum, fallback="error").source
    assert "for " in source and "_sum0" in source
    assert "GeneratorExp" not in source


def test_empty_max_raises_like_python():
    def empty(x):
        return max(v for v in x if v > 100) + np.sum(x)
    with pytest.raises(ValueError, match="empty"):
        s2s.differentiate(empty, fallback="error").grad(X)


def test_print_runs_in_the_forward_sweep(capsys):
    s2s.differentiate(forward_only_statements, fallback="error").grad(X)
    assert "x = [" in capsys.readouterr().out


def test_raise_in_a_branch_is_the_users_exception():
    def guarded(x):
        if np.sum(x) > 0:
            raise ValueError("positive")
        return np.sum(x ** 2)
    f = s2s.differentiate(guarded, fallback="error")
    assert_close(f.grad(-X), numerical_gradient(guarded, [-X], 0))
    with pytest.raises(ValueError, match="positive"):
        f.grad(np.abs(X))


def callback(state):
    state[0] = 0.0


def mutating_sort(x):
    y = x * 2
    y.sort()
    return np.sum(y)


def callback_of_active_array(x):
    y = x * 2
    callback(y)
    return np.sum(y ** 2)


def copyto_active(x):
    y = np.zeros(3)
    np.copyto(y, x)
    return np.sum(y * x)


@pytest.mark.parametrize("function,what", [
    (mutating_sort, "in-place method call"),
    (callback_of_active_array, "may change the value in place"),
    (copyto_active, "may change the value in place"),
])
def test_discarded_call_that_may_mutate_an_active_value_is_refused(function, what):
    with pytest.raises(s2s.UnsupportedError, match=what):
        s2s.differentiate(function, fallback="error").source


def test_comprehension_in_a_while_condition_is_refused_clearly():
    def loop(x):
        while sum(v for v in x) < 10:
            x = x * 2
        return np.sum(x)
    with pytest.raises(s2s.UnsupportedError, match="while condition"):
        s2s.differentiate(loop, fallback="error").source


def test_generator_passed_to_numpy_is_refused_clearly():
    def generator_to_numpy(x):
        return np.sum(np.array(v for v in x))
    with pytest.raises(s2s.UnsupportedError, match="list comprehension"):
        s2s.differentiate(generator_to_numpy, fallback="error").source
