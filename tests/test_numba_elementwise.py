"""Stage 7c (``s2s.numba_elementwise``): vector arithmetic in loops as loops over elements.

Every compiled gradient here is compared with the Python backend's and with float64 finite
differences, and the arguments are checked unchanged (the rewrite writes into arrays in
place); the lowered text is checked for the rewrite it should or should not contain.  The
unit tests at the end run the stage on small hand-written functions.
"""
import ast
import os
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import s2s  # noqa: E402
from s2s.naming import Namer  # noqa: E402
from s2s.numba_elementwise import infer_lengths, vector_loops  # noqa: E402

from reference import numerical_gradient  # noqa: E402


pytestmark = pytest.mark.usefixtures("numba_cache_dir")


def drift(x, k):                     # the argument itself rebound in the loop
    for step in range(8):
        x = x + 0.05 * (np.cos(x) - k * x)
    return np.sum(x ** 2)


def mixed(x, c):
    y = x * 1.0
    for step in range(3):
        y = 0.5 * y + c * np.sin(x)  # c: (1,), float64 from the seed on in the reverse sweep
    return np.sum(y * x)


def keeps_old(x):
    total = 0.0
    for step in range(3):
        old = x                      # read with the new x: x's array must stay old's
        x = 0.9 * x + 0.1 * np.sin(x)
        total = total + np.sum(old * x)
    return total


def integer_weights(x, counts):      # an integer vector among the operands
    for step in range(3):
        x = x * 0.5 + counts * 0.25 * np.tanh(x)
    return np.sum(x)


def one_weight(x, w):                # a vector of length 1 beside longer ones
    for step in range(4):
        x = x - 0.1 * w * np.sin(x)
    return np.sum(x * x)


CASES = [
    (drift, (0, 1), lambda rng: (rng.normal(size=5), np.array([0.6])), "x[_i0]"),
    (drift, (0, 1), lambda rng: (np.linspace(-1, 1, 10)[::2], np.array([0.6])), "x[_i0]"),
    (drift, (0, 1), lambda rng: (rng.normal(size=1), np.array([0.6])), "x[_i0]"),
    (mixed, (0, 1), lambda rng: (rng.normal(size=4), np.array([0.3])), "c[0]"),
    (keeps_old, 0, lambda rng: (rng.normal(size=4),), None),
    (integer_weights, 0, lambda rng: (rng.normal(size=4), np.arange(4)), "_t2[_i0]"),
    (one_weight, (0, 1), lambda rng: (rng.normal(size=6), np.array([0.8])), "_t1[0]"),
]


@pytest.mark.parametrize("function, wrt, make, text", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_loops_over_elements_keep_the_gradient_and_the_arguments(function, wrt, make, text):
    args = make(np.random.default_rng(5))
    kept = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    compiled = s2s.differentiate(function, wrt=wrt, backend="numba", fallback="error")
    got = compiled.grad(*args)
    for argument, before in zip(args, kept):
        np.testing.assert_array_equal(argument, before)       # written into a copy only
    want = s2s.differentiate(function, wrt=wrt).grad(*args)
    got, want = (got, want) if isinstance(wrt, tuple) else ((got,), (want,))
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    for position, a, b in zip(positions, got, want):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a, numerical_gradient(function, args, position),
                                   rtol=1e-6, atol=1e-8)
    source = compiled.source_for(*args)
    if text is not None:
        assert text in source, source


def test_what_is_written_element_by_element():
    source = s2s.differentiate(drift, wrt=(0, 1), backend="numba").source_for(
        np.ones(5), np.array([0.6]))
    forward, reverse = source.split("# reverse sweep")
    assert "x = np.copy(x)" in forward                 # the caller's array is not written
    assert "_out0 = reuse(x, _n0)" in forward
    assert "x[_i0] + 0.05 * (np.cos(x[_i0]) - k[0] * x[_i0])" in forward
    assert "_total0 += " in reverse and "np.sum(_" not in reverse  # no array to sum
    assert "_t2_b = np.empty(0)" in reverse            # bound in each pass before it is read
    assert "_b = x_b\n" not in reverse                 # the alias read first, then dropped
    source = s2s.differentiate(keeps_old, backend="numba").source_for(np.ones(4))
    forward = source.split("# reverse sweep")[0]
    assert "reuse(x," not in forward                   # old holds x's array
    single = s2s.differentiate(drift, wrt=(0, 1), backend="numba").source_for(
        np.ones(5, np.float32), np.array([0.6], np.float32))
    assert "reuse(" not in single and "_total" not in single    # float64 code only


def test_lengths_come_from_the_proven_shapes():
    function = _function("""
def f(x, k, W, _return_b):
    _t1 = -k
    y = x * 2.0 + _t1
    z = W[0] * y
    _saved = stack_like(x, 4)
    v = _saved[0]
    u = np.sin(x) + np.zeros_like(k)
    grow = k
    grow = grow + x
    m = W @ x
    back = W.T @ m
""")
    ranks = {"x": 1, "k": 1, "W": 2, "_t1": 1, "y": 1, "z": 1, "_saved": 2, "v": 1, "u": 1,
             "grow": 1, "m": 1, "back": 1, "_return_b": 0}
    lengths = infer_lengths(function, {"x": (3,), "k": (1,), "W": (2, 3)}, ranks, set())
    assert lengths == {"x": 3, "k": 1, "_t1": 1, "y": 3, "z": 3, "v": 3, "u": 3, "m": 2,
                       "back": 3}


def _function(text: str) -> ast.FunctionDef:
    return ast.parse(text).body[0]


def _rewritten(text: str, ranks: dict, shapes: dict | None = None,
               dtype: str = "float64") -> str:
    function = _function(text)
    taken = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    helpers: set[str] = set()
    vector_loops(function, shapes or {}, ranks, Namer(taken), helpers, dtype)
    return ast.unparse(ast.fix_missing_locations(function))


def test_a_read_of_an_alias_after_the_rebinding_moves_before_it():
    text = """
def f(x_b, k_b, x, _return_b):
    for step in range(3):
        _t7_b = x_b
        x_b = _t7_b + _t7_b * 0.5 * x
        k_b = subtract_into(k_b, np.sum(_t7_b * 0.5 * x))
    return (x_b, k_b)
"""
    ranks = {"x_b": 1, "_t7_b": 1, "k_b": 1, "x": 1, "_return_b": 0}
    lowered = _rewritten(text, ranks, {"x": (3,), "x_b": (3,), "k_b": (1,)})
    assert "_t7_b" not in lowered
    assert lowered.index("_total0 += x_b[_i0] * 0.5 * x[_i0]") < lowered.index("reuse(x_b")
    # the moved statement also reads the new x_b: it stays, and so does the alias
    kept = _rewritten(text.replace("np.sum(_t7_b * 0.5 * x)", "np.sum(_t7_b * 0.5 * x_b)"),
                      ranks, {"x": (3,)})
    assert "_t7_b = x_b" in kept and "reuse(x_b" not in kept
    # a call whose effects are not known: nothing moves across it
    unknown = _rewritten(text.replace("        x_b = _t7_b", "        log(x)\n        x_b = _t7_b"),
                         ranks, {"x": (3,)})
    assert "_t7_b = x_b" in unknown


def test_what_stays_an_array_expression():
    ranks = {"y": 1, "x": 1, "z": 1, "s": 0, "_return_b": 0, "flag": 0}
    shapes = {"x": (3,)}
    shared = _rewritten("""
def f(x, y, _return_b):
    for step in range(3):
        z = y
        y = y * 0.5 + x
    return z
""", ranks, shapes)
    assert "reuse(" not in shared                    # z holds y's array
    saved = _rewritten("""
def f(x, y, _return_b):
    _saved_y = []
    for step in range(3):
        _saved_y.append(y)
        y = y * 0.5 + x
    return y
""", ranks, shapes)
    assert "reuse(" not in saved                     # the list holds y's array
    integers = _rewritten("""
def f(x, y, _return_b):
    for step in range(3):
        y = y * 2 + x
    return y
""", ranks, shapes)
    assert "reuse(" not in integers                  # no float operand: maybe integers
    conditional = _rewritten("""
def f(x, y, s, flag, _return_b):
    for step in range(3):
        s = s + (np.sum(x * 0.5 * y) if flag > 0 else 0.0)
    return s
""", ranks, shapes)
    assert "np.sum(x * 0.5 * y)" in conditional      # evaluated only on a condition
    written = _rewritten("""
def f(x, y, s, _return_b):
    for step in range(3):
        s = add_into(y, 1.0)[0] + np.sum(y * 0.5 * x)
    return s
""", ranks, shapes)
    assert "np.sum(y * 0.5 * x)" in written          # y is written first, in the statement
    hoisted = _rewritten("""
def f(x, y, s, _return_b):
    for step in range(3):
        s = subtract_into(s, np.sum(y * 0.5 * x))
    return s
""", ranks, shapes)
    assert "np.sum(" not in hoisted                  # summed before s is written
    assert _rewritten("""
def f(x, y, _return_b):
    for step in range(3):
        y = y * 0.5 + x
    return y
""", ranks, shapes, dtype="float32").count("reuse(") == 0


# --- random vector loops (a few in CI; S2S_NUMBA_VECTOR_PROGRAMS=<n> for more) ------------------

_STATEMENTS = [
    "{t} = {a} * {c} + {b}",
    "{t} = {a} + {c} * np.sin({b})",
    "{t} = {a} - {c} * {b} * {a}",
    "{t} = np.tanh({a}) * {c}",
    "{t} = {a}",                                   # an alias
    "{t} = {a} * {b}",                             # no Python float
    "{t} = {a} * k + {c} * {b}",                   # k has one element
    "s = s + np.sum({a} * {b}) * {c}",
    "s = s + np.sum(np.cos({a}) * {c})",
]
_STARTS = ["x * 0.5", "w + 0.25", "x * w", "k * 1.0", "np.cos(x) * 0.3"]


def vector_program(rng: np.random.Generator) -> str:
    """A loop of elementwise statements over x, w (n,), k (1,) and the locals y, z, s."""
    def pick(options):
        return options[rng.integers(len(options))]

    lines = ["import numpy as np", "", "", "def f(x, w, k):",
             f"    y = {pick(_STARTS)}", f"    z = {pick(_STARTS)}", "    s = 0.0",
             f"    for step in range({int(rng.integers(0, 4))}):"]
    for _ in range(int(rng.integers(1, 5))):
        template = pick(_STATEMENTS)
        lines.append("        " + template.format(
            t=pick(["x", "y", "z"]), a=pick(["x", "y", "z", "w"]),
            b=pick(["x", "y", "z", "w"]), c=pick(["0.3", "-0.7", "1.5"])))
    lines.append(f"    return np.sum({pick(['x', 'y', 'z'])} * {pick(['y', 'z', 'w'])}) + s")
    return "\n".join(lines) + "\n"


_VECTOR_PROGRAMS = int(os.environ.get("S2S_NUMBA_VECTOR_PROGRAMS", "6"))


def test_random_vector_loops_agree_with_the_python_backend(tmp_path):
    """Compiled gradients of random vector loops equal the Python backend's (itself checked
    against finite differences elsewhere), and the arguments stay as they were."""
    import programs
    rng = np.random.default_rng(2026)
    rewritten = 0
    for number in range(_VECTOR_PROGRAMS):
        source = vector_program(rng)
        module = programs.load(source, str(tmp_path), stem=f"vector{number}")
        n = int(rng.choice([1, 3]))
        args = (rng.normal(size=n), rng.normal(size=n), rng.normal(size=1))
        kept = [a.copy() for a in args]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", s2s.BackendWarning)
            compiled = s2s.differentiate(module.f, wrt=(0, 1, 2), backend="numba")
            got = compiled.grad(*args)
            text = compiled.source_for(*args)
        for argument, before in zip(args, kept):
            np.testing.assert_array_equal(argument, before, err_msg=source)
        want = s2s.differentiate(module.f, wrt=(0, 1, 2)).grad(*args)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13, err_msg=source + text)
        if compiled.backend != "numba":
            reason = compiled.backend_reason or ""
            assert not any(h in reason for h in ("reuse", "broadcast_length", "_total",
                                                 "_out")), source + reason
        rewritten += "reuse(" in text or "_total" in text
    assert rewritten or _VECTOR_PROGRAMS < 3          # the rewrite was exercised
