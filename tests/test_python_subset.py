"""Everyday Python as generated code: comprehensions, builtins over them, forward-only
statements (print, assert, raise, warnings.warn) and discarded calls (issue 14)."""
import contextlib
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


def reducer_after_or(x):
    if np.sum(x) > 100.0 or any(v < -5.0 for v in x):    # short-circuit kept
        return 0.0
    scale = np.sum(x) > 0 and max(v * v for v in x)
    return np.sum(x ** 2) * scale


def reducer_in_conditional_expression(x):
    top = max(np.sin(v) for v in x) if x[0] < 1.0 else sum(v for v in x)
    return top * np.sum(x)


RECORDED = []


def record(value):
    RECORDED.append(value)


CASES = [list_comprehension_with_filter, generator_sum, sum_with_start, nested_for_and_if,
         array_of_calls, nested_comprehension, max_of_generator, max_and_min_of_arguments,
         max_of_list_with_default, any_and_all, mapped, zipped_and_enumerated,
         reversed_in_comprehension, set_and_dict_of_constants, forward_only_statements,
         discarded_calls_of_inactive_values, reducer_after_or,
         reducer_in_conditional_expression]
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


# --- with-blocks, local functions in blocks, sorted, any/all of values -------------------

def with_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.abs(x)) * x
        s = np.sum(np.where(np.isfinite(y), y, 0.0))
    return s * 2


def with_catch_warnings(x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("recorded, not shown")
        y = np.sum(np.sin(x) ** 2)
    return y * len(caught)


def with_in_loop(x):
    s = 0.0
    for k in range(2):
        with warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.simplefilter("ignore")
            s = s + np.sum(np.exp(x * k))
    return s


def lambda_in_branch(x):
    s = np.sum(x)
    if s > 0:
        scale = lambda v: v * s
        s = np.sum(scale(x))
    return s


def def_in_loop_reads_the_loop_variable(x):
    total = 0.0
    for i in range(3):
        def term(v):
            return np.sin(v) * i
        total = total + np.sum(term(x))
    return total


def lambda_reads_names_at_call_time(x):
    w = 1.0
    total = 0.0
    for i in range(3):
        f = lambda v: v ** 2 * w + i
        w = w * 2          # late binding: the call below sees the new w
        total = total + np.sum(f(x))
    return total


def sorted_values(x):
    ys = sorted(v * v for v in x)
    return ys[0] + 2 * ys[1] + 3 * ys[2]


def sorted_reversed_array(x):
    ys = sorted(np.sin(x), reverse=True)
    return ys[0] - 2 * ys[-1] + sum(sorted([a * 2 for a in x])[:2])


def sorted_constants(x):
    names = sorted(["b", "c", "a"])
    return np.sum(x) * len(names[0] + names[1])


def any_of_values(x):
    t = any(a * b for a in x for b in x)
    u = all(a - b for a in x for b in x)
    return np.sum(x ** 2) * t + np.sum(x) * (1 + u)


MORE_CASES = [with_errstate, with_catch_warnings, with_in_loop, lambda_in_branch,
              def_in_loop_reads_the_loop_variable, lambda_reads_names_at_call_time,
              sorted_values, sorted_reversed_array, sorted_constants, any_of_values]


@pytest.mark.parametrize("function", MORE_CASES, ids=[f.__name__ for f in MORE_CASES])
def test_more_gradients_in_generated_code_match_finite_differences(function):
    test_gradient_in_generated_code_matches_finite_differences(function)


MORE_TAPED = [with_errstate, with_catch_warnings, with_in_loop, lambda_in_branch,
              def_in_loop_reads_the_loop_variable, lambda_reads_names_at_call_time]


@pytest.mark.parametrize("function", MORE_TAPED, ids=[f.__name__ for f in MORE_TAPED])
def test_more_gradients_match_the_tape(function):
    test_gradient_matches_the_tape(function)


def test_with_block_runs_the_primal_inside_the_manager_and_exits_it():
    def errstate_inside(x):
        with np.errstate(divide="raise"):
            y = np.sum(1.0 / x)
        return y
    before = np.geterr()
    f = s2s.differentiate(errstate_inside, fallback="error")
    assert "__enter__()" in f.source and "__exit__(None, None, None)" in f.source
    assert_close(f.grad(X), numerical_gradient(errstate_inside, [X], 0))
    assert np.geterr() == before
    with pytest.raises(FloatingPointError):
        f.grad(np.array([0.0, 1.0]))
    np.seterr(**before)      # the body raised: the manager was not exited (documented)


def test_with_block_gives_the_forward_and_tangent_code_too():
    f = s2s.differentiate(with_errstate, fallback="error")
    direction = np.array([1.0, -0.5, 0.25])
    assert_close(s2s.jvp(with_errstate, (X,), (direction,))[1],
                 np.dot(numerical_gradient(with_errstate, [X], 0), direction))
    assert_close(f.gradient_function(X)(X), f.grad(X))      # closure-free code


def suppressed(x):
    with contextlib.suppress(ValueError):
        x = x * 2
    return np.sum(x)


def return_in_with(x):
    with np.errstate(all="ignore"):
        return np.sum(np.log(x))


def break_in_with(x):
    s = 0.0
    for v in x:
        with np.errstate(all="ignore"):
            s = s + v
            if s > 1:
                break
    return s


def unpacked_as_target(x):
    with warnings.catch_warnings(record=True) as (a, b):
        y = x * 2
    return np.sum(y)


def defined_in_two_branches(x):
    if np.sum(x) > 0:
        g = lambda v: v * 2
    else:
        g = lambda v: v * 3
    return np.sum(g(x))


def called_outside_its_block(x):
    if np.sum(x) > 0:
        def g(v):
            return v * 2
    return np.sum(g(x))


def redefined(x):
    g = lambda v: v * 2
    a = g(x)
    g = lambda v: v * 3          # was silently lifted as one function: a wrong gradient
    return np.sum(a + g(x))


def functions_kept_in_a_list(x):
    fs = []
    for i in range(3):
        fs.append(lambda v: v * i)
    return np.sum(fs[0](x))


def sorted_with_key(x):
    return sorted(x, key=abs)[0]


@pytest.mark.parametrize("function,what", [
    (suppressed, "with-block manager 'contextlib.suppress"),
    (unpacked_as_target, "'as' target must be a plain name"),
    (defined_in_two_branches, "'g' is defined twice"),
    (called_outside_its_block, "'g' is called where it may not be defined"),
    (redefined, "'g' is defined twice"),
    (functions_kept_in_a_list, "Lambda"),
    (sorted_with_key, "key="),
])
def test_unsupported_with_blocks_local_functions_and_sorts_are_refused(function, what):
    with pytest.raises(s2s.UnsupportedError, match=what) as error:
        s2s.differentiate(function, fallback="error").source
    assert "test_python_subset.py:" in str(error.value)


def test_sorted_gives_each_element_the_gradient_of_its_place():
    def weighted(x):
        ys = sorted(x)
        return ys[0] + 10 * ys[1] + 100 * ys[2]
    gradient = s2s.differentiate(weighted, fallback="error").grad(np.array([3.0, 1.0, 2.0]))
    assert_close(gradient, [100.0, 1.0, 10.0])



@pytest.mark.parametrize("function", [return_in_with, break_in_with],
                         ids=["return", "break"])
def test_jumps_out_of_a_with_block_exit_the_manager_first(function):
    x = np.array([0.4, 0.9, 1.3])
    before = np.geterr()
    derivative = s2s.differentiate(function, fallback="error")
    gradient = derivative.grad(x)
    assert np.geterr() == before                      # the manager was exited
    assert_close(gradient, numerical_gradient(function, [x], 0))
    assert "__exit__" in derivative.source


# --- dicts built from active values: comprehensions, dict(pairs), item writes; tables of
# functions called through a key

def dict_comprehension(x):
    terms = {f"t{i}": (i + 1.0) * np.sin(v) for i, v in enumerate(x) if i != 1}
    return sum(terms.values()) + terms["t2"] ** 2


def dict_of_pairs_with_a_repeated_key(x):
    d = dict([("a", x[0] * 2.0), ("a", x[1] ** 2), ("b", np.exp(x[2]))])
    return d["a"] * d["b"]


def dict_item_writes(x):
    out = {"a": x[0]}
    for i in range(3):
        out[f"k{i}"] = np.sin(x[i]) * (i + 1)
    out["k1"] = out["k1"] * x[0]          # an overwrite, read before and after
    out["b"] = np.exp(x[1])               # a new key, never read back
    return out["a"] * sum(out.values()) + out["k1"] ** 2


def dispatch_table(x, name="swish"):
    activations = {"tanh": np.tanh,
                   "relu": lambda z: np.maximum(z, 0.0),
                   "swish": lambda z: z / (1 + np.exp(-z))}
    hidden = activations[name](x * 1.5)
    return np.sum(hidden ** 2) + np.sum(activations["tanh"](x))


DICT_CASES = [dict_comprehension, dict_of_pairs_with_a_repeated_key, dict_item_writes,
              dispatch_table]


@pytest.mark.parametrize("function", DICT_CASES, ids=[f.__name__ for f in DICT_CASES])
def test_dicts_of_active_values_in_generated_code(function):
    test_gradient_in_generated_code_matches_finite_differences(function)
    test_gradient_matches_the_tape(function)
    v = np.array([0.5, -1.0, 0.25])
    _, tangent = s2s.jvp(function, (X,), (v,))
    assert_close(tangent, numerical_gradient(function, [X], 0) @ v)
    f = s2s.differentiate(function, fallback="error")
    _, pullback = f.vjp(X)
    for _ in range(2):                  # the pullback leaves the dicts as it found them
        assert_close(pullback(1.0), numerical_gradient(function, [X], 0))
    assert_close(s2s.jacobian(function)(X), numerical_gradient(function, [X], 0))


@pytest.mark.parametrize("name", ["tanh", "relu", "swish"])
def test_dispatch_table_branches_on_the_key(name):
    f = s2s.differentiate(dispatch_table, fallback="error")
    assert f.mode == "source" and "== 'relu'" in f.source and "raise KeyError" in f.source
    assert_close(f.grad(X, name), numerical_gradient(lambda x: dispatch_table(x, name), [X], 0))
    with pytest.raises(KeyError, match="gelu"):       # the user's error, as Python raises it
        f.grad(X, "gelu")


def test_a_table_of_functions_used_otherwise_is_refused_clearly():
    def table_passed_on(x):
        activations = {"relu": lambda z: np.maximum(z, 0.0)}
        return np.sum(sorted(activations)[0] == "relu" and activations["relu"](x))

    with pytest.raises(s2s.UnsupportedError, match="Lambda"):
        s2s.differentiate(table_passed_on, fallback="error").grad(X)


def test_second_derivative_through_dict_item_writes_is_refused_clearly():
    with pytest.raises(s2s.UnsupportedError, match="writes into a dict"):
        s2s.hessian(dict_item_writes)(X)
