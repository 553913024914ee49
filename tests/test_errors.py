"""Unsupported code fails with file:line:col, the line, a caret and a hint — never obscurely."""
import inspect

import numpy as np
import pytest

import s2s


def marked_line(function):
    """The file line number of the line ending in '# <- here' inside ``function``."""
    lines, first = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if line.rstrip().endswith("# <- here"):
            return first + offset, line.strip()
    raise AssertionError("no marker")


def uses_try(x):
    try:  # <- here
        y = x * 2
    except ValueError:
        y = x
    return y


def writes_global(x):
    global COUNTER  # <- here
    COUNTER = 1
    return x


def uses_with(x):
    with open("f") as handle:  # <- here
        y = x * 2
    return y


def has_no_rule(x):
    y = np.sin(x)
    return np.unwrap(y).sum()  # <- here


def unknown_method(x):
    return x.compress([True, False, True]).sum()  # <- here


def comprehension(x):
    return np.sum(np.array(v * 2 for v in x))  # <- here


def writes_attribute(x):
    x.value = 2  # <- here
    return x


def recursive(x):
    if np.sum(x) > 10:
        return x
    return recursive(x * 2)  # <- here


def bit_operator(x):
    return x ^ 2  # <- here


def undefined_name(x):
    return x * not_defined_anywhere  # noqa: F821  # <- here


CASES = [
    (uses_try, "Try", "try/except"),
    (writes_global, "Global", "globals"),
    (uses_with, "with-block manager 'open(", "move other with-blocks out"),
    (has_no_rule, "no derivative rule for 'np.unwrap'", "coverage table"),
    (unknown_method, "'.compress()' has no derivative rule", "NumPy function"),
    (comprehension, "generator expression", "list comprehension"),
    (writes_attribute, "attribute", "local name"),
    (recursive, "recursive call to 'recursive'", "rewrite the recursion as a loop"),
    (bit_operator, "operator '^'", "NumPy function"),
    (undefined_name, "'not_defined_anywhere' is not defined", "define it"),
]


@pytest.mark.parametrize("function,what,hint", CASES, ids=[c[0].__name__ for c in CASES])
def test_error_names_file_line_construct_and_hint(function, what, hint):
    line, text = marked_line(function)
    with pytest.raises(s2s.UnsupportedError) as info:
        s2s.differentiate(function, fallback="error").grad(np.ones(3))
    message = str(info.value)
    assert f"test_errors.py:{line}:" in message
    assert text.split("#")[0].strip() in message
    assert "^" in message
    assert what in message
    assert "hint:" in message and hint in message
    assert info.value.location.line == line


def test_missing_rule_is_a_subclass_with_the_function_name():
    with pytest.raises(s2s.MissingRuleError, match="np.unwrap"):
        s2s.differentiate(has_no_rule, fallback="error").source


def test_caret_points_at_the_construct():
    with pytest.raises(s2s.UnsupportedError) as info:
        s2s.differentiate(bit_operator, fallback="error").source
    location = info.value.location
    assert location.source_line[location.col:].startswith("x ^ 2")


def test_a_view_read_after_its_array_is_written_in_place_is_refused():
    """y = x[0:2]; x[0] = ...; y[0] reads the written value: refused, never wrong."""
    def view_then_write(x):
        x = x * 1.0
        y = x[0:2]
        x[0] = x[1] * 2.0
        return y[0] * 3.0 + np.sum(y)

    def alias_then_augment(x):
        x = x * 1.0
        y = x
        x[1:] += x[0]
        return np.sum(y * y)

    for function, line in ((view_then_write, "y = x[0:2]"), (alias_then_augment, "y = x")):
        with pytest.raises(s2s.UnsupportedError, match="'y' is a view of 'x'.*written in place"):
            s2s.differentiate(function, fallback="error").grad(np.array([0.5, 1.5, 2.0]))
        f = s2s.differentiate(function)              # the tape: a clear refusal as well
        with pytest.warns(s2s.FallbackWarning), pytest.raises(RuntimeError, match="in-place"):
            f.grad(np.array([0.5, 1.5, 2.0]))



def _returns_a_missing_entry(x):
    losses = {"data": np.sum(np.sin(x))}
    return losses.get("prior")         # None: the key is not there


@pytest.mark.parametrize("fallback", ["error", "tape"])
def test_a_function_returning_none_is_an_input_error_in_both_modes(fallback):
    function = s2s.differentiate(_returns_a_missing_entry, fallback=fallback)
    with pytest.raises(s2s.InputError, match="NoneType, not a number"):
        function.grad(np.ones(3))


def test_the_tape_pullback_of_a_none_output_is_an_input_error():
    from s2s.tape import vjp_with_tape
    _, pullback = vjp_with_tape(_returns_a_missing_entry, (np.ones(3),), {}, (0,))
    with pytest.raises(s2s.InputError, match="returned None"):
        pullback()
