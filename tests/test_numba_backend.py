"""``backend="numba"``: compiled gradients, the same as the Python backend's.

Every gradient here is compared with the Python backend's (itself tested against finite
differences, the tape and sympy elsewhere).  Compiles are few and small (numba takes
seconds per function on a busy machine); numba's disk cache lives under ``tmp_path``.
No test times anything.
"""
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import s2s  # noqa: E402
from s2s import numba_backend  # noqa: E402
from s2s.lower_numba import LoweringError, lower  # noqa: E402

import zoo  # noqa: E402,F401  (registers the zoo)
import zoo_calls  # noqa: E402,F401
import zoo_control  # noqa: E402,F401
from zoo import ZOO  # noqa: E402


pytestmark = pytest.mark.usefixtures("numba_cache_dir")


def same(got, want, rtol=1e-12):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


# --- the loop cases of the benchmark ----------------------------------------------------------

def horner(x, c):
    y = 0.0
    for a in c:
        y = y * x + a
    return y


def piecewise(x):
    y = x
    total = 0.0
    for step in range(50):
        if y > 0.5:
            y = 0.9 * y - 0.3 * y * y
        else:
            y = 1.5 * y + 0.1
        total = total + y
    return total


def euler(x, k):
    for step in range(20):
        x = x + 0.01 * (-k[0] * x)
    return np.sum(x * x)


def doubling(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return y.sum()


LOOPS = [
    (horner, 0, lambda rng: (0.9, rng.uniform(-1, 1, 30))),
    (piecewise, 0, lambda rng: (0.3,)),
    (euler, (0, 1), lambda rng: (np.array([0.5, -0.3, 0.8]), np.array([0.7]))),
    (doubling, 0, lambda rng: (rng.normal(size=3),)),
]


@pytest.mark.parametrize("function, wrt, make", LOOPS, ids=[f.__name__ for f, _, _ in LOOPS])
def test_loop_gradients_are_compiled_and_match_the_python_backend(function, wrt, make):
    args = make(np.random.default_rng(0))
    compiled = s2s.differentiate(function, wrt=wrt, backend="numba")
    python = s2s.differentiate(function, wrt=wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", s2s.BackendWarning)
        got = compiled.grad(*args)
    assert compiled.backend == "numba" and compiled.backend_reason is None
    same(got, python.grad(*args))
    source = compiled.source_for(*args)
    assert "@numba.njit(cache=True" in source
    assert "reversed(" not in source and "_stack" not in source and "s2s.runtime" not in source
    assert compiled.source_for(*args) == source          # deterministic


def test_value_and_grad_jvp_and_hvp_match_the_python_backend():
    args = (np.array([0.5, -0.3, 0.8]), np.array([0.7]))
    value, gradient = s2s.value_and_grad(euler, wrt=(0, 1), backend="numba")(*args)
    want_value, want_gradient = s2s.value_and_grad(euler, wrt=(0, 1))(*args)
    np.testing.assert_allclose(value, want_value, rtol=1e-13)
    same(gradient, want_gradient)
    value, tangent = s2s.jvp(piecewise, (0.3,), (1.0,), backend="numba")
    want = s2s.jvp(piecewise, (0.3,), (1.0,))
    np.testing.assert_allclose([value, tangent], list(want), rtol=1e-12)
    x, v = np.array([0.3, -0.2]), np.array([1.0, 2.0])

    def energy(x):
        return np.sum(np.sin(x) * x ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", s2s.BackendWarning)    # compiled or fallen back
        got = s2s.hvp(energy, x, v, backend="numba")
    np.testing.assert_allclose(got, s2s.hvp(energy, x, v), rtol=1e-12)


def test_float32_stays_float32():
    def loss(w, x):
        return np.sum(np.tanh(w * x) * 0.5 + 2 * w)
    w = np.linspace(-1, 1, 5).astype(np.float32)
    x = np.float32(0.7) * np.ones(5, np.float32)
    f = s2s.differentiate(loss, backend="numba")
    gradient = f.grad(w, x)
    assert f.backend == "numba", f.backend_reason
    assert gradient.dtype == np.float32
    raw = f._gradient_function(f._arguments((w, x), {}))(w, x)   # what numba returned
    assert raw.dtype == np.float32
    np.testing.assert_allclose(gradient, s2s.grad(loss)(w, x), rtol=1e-6)
    assert "np.float32(0.5)" in f.source_for(w, x)


def test_a_new_size_reuses_the_compiled_code():
    f = s2s.differentiate(doubling, backend="numba")
    three, five = np.array([0.1, 0.2, 0.3]), np.linspace(0.1, 0.5, 5)
    f.grad(three)
    loaded = len(numba_backend._LOADED)
    same(f.grad(five), s2s.grad(doubling)(five))
    assert len(numba_backend._LOADED) == loaded          # the same text: no new module
    assert f.source_for(three) == f.source_for(five)


def test_repeated_calls_take_the_fast_path_and_keep_the_checks():
    """After a first call, grad calls the compiled code directly for Python floats and
    float64 arrays of shapes already run; every other argument takes the full path."""
    x, k = np.array([0.5, -0.3, 0.8]), np.array([0.7])
    f = s2s.differentiate(euler, wrt=(0, 1), backend="numba")
    python = s2s.differentiate(euler, wrt=(0, 1))
    same(f.grad(x, k), python.grad(x, k))
    assert f._numba.fast                                  # registered by the first call
    same(f.grad(x, k), python.grad(x, k))
    same(f.grad(k=k, x=x), python.grad(x, k))
    same(f.grad([0.5, -0.3, 0.8], k), python.grad(x, k))  # a list: prepared, full path
    longer = np.linspace(0.1, 0.5, 5)
    same(f.grad(longer, k), python.grad(longer, k))
    single = f.grad(x.astype(np.float32), k.astype(np.float32))
    assert single[0].dtype == np.float32 and single[1].dtype == np.float32
    h = s2s.differentiate(horner, backend="numba")
    c = np.random.default_rng(1).uniform(-1, 1, 30)
    want = s2s.grad(horner)(0.9, c)
    assert h.grad(0.9, c) == pytest.approx(want, rel=1e-13)
    assert type(h.grad(0.9, c)) is float and h.grad(0.9, c) == pytest.approx(want, rel=1e-13)
    assert h.grad(1, c) == pytest.approx(s2s.grad(horner)(1.0, c), rel=1e-13)   # an int
    d = s2s.differentiate(doubling, backend="numba")
    y = np.array([0.3, -0.2, 0.1])
    first, second = d.grad(y), d.grad(y)                 # the second: the checked fast call
    assert d._numba.latest is not None
    same(second, s2s.grad(doubling)(y))
    assert second is not first and second.flags.writeable and second.dtype == np.float64
    same(d.grad(np.ones(4)), s2s.grad(doubling)(np.ones(4)))   # another shape: full path
    same(d.grad(y), first)
    unpickled = pickle.loads(pickle.dumps(y))            # float64, not the same dtype object
    assert unpickled.dtype is not y.dtype
    assert d._numba.latest((unpickled,), d._gradients) is not None
    assert d._numba.latest((y.astype(">f8"),), d._gradients) is None   # swapped bytes


def test_single_use_temporaries_are_inlined_for_numba_to_fuse():
    source = s2s.differentiate(euler, wrt=(0, 1), backend="numba").source_for(
        np.array([0.5, -0.3, 0.8]), np.array([0.7]))
    # one expression, element by element into x's array (stage 7c)
    assert "_out0[_i0] = x[_i0] + 0.01 * (_t2 * x[_i0])" in source
    assert "_t3 = " not in source and "_t4 = " not in source
    assert "_saved_x = stack_like(x, len(_t0))" in source   # rows, not a list of arrays
    assert "x = _saved_x[_count_x]" in source and "_saved_t2.pop()" in source   # a number



# --- fewer arrays per pass of a loop ------------------------------------------------------------

def rnn(W, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h)


def decay(x, k, steps):
    for step in range(steps):
        x = x + 0.1 * (-k * x + np.sin(x))
    return np.sum(x * x)


def branchy_vector(x, w):
    for step in range(6):
        if np.sum(x) > 0.0:
            x = np.tanh(w * x)
        else:
            x = x * 0.5 + 0.1
    return np.sum(x * x)


def twice_per_pass(x):
    for step in range(4):
        x = np.sin(x)
        x = np.cos(x) * x
    return np.sum(x)


def shared_accumulator(x):
    y = x * 2.0
    z = y                        # z and y are one array: y must not be written into
    for step in range(3):
        y = y + x
    return np.sum(z * y)


def until_small(x):
    for step in range(10 ** 12):             # rows for every pass would not fit in memory
        x = np.sin(x) * 0.9
        if np.sum(x * x) < 0.1:
            break
    return np.sum(x)


def growing(x):
    total = np.zeros(1)
    for step in range(2):
        total = total + x        # (1,) + (3,), then (3,) + (3,)
    return np.sum(total * total)


def saved_temporary(x, w, k):
    z = k * 1.0
    s = 0.0
    for step in range(2):
        s = s + np.sum(w * z) * 0.3   # w * z: saved, after a None placeholder before the loop
        z = w * -0.7 + x
    return np.sum(z * w) + s


def numeric_gradient(function, args, position, eps=1e-6):
    args = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
    point = args[position]
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        step = np.zeros_like(point)
        step[index] = eps
        up = list(args)
        up[position] = point + step
        down = list(args)
        down[position] = point - step
        gradient[index] = (function(*up) - function(*down)) / (2 * eps)
    return gradient


FEWER_ARRAYS = [
    (rnn, (0, 1), lambda rng: (rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4),
                               rng.normal(size=(7, 4)))),
    (decay, (0, 1), lambda rng: (rng.normal(size=3), np.array([0.7]), 5)),
    (decay, (0, 1), lambda rng: (rng.normal(size=3), np.array([0.7]), 0)),   # no pass at all
    (branchy_vector, (0, 1), lambda rng: (rng.normal(size=3), rng.normal(size=3))),
    (twice_per_pass, 0, lambda rng: (rng.normal(size=5),)),
    (shared_accumulator, 0, lambda rng: (rng.normal(size=3),)),
    (growing, 0, lambda rng: (rng.normal(size=3),)),
    (until_small, 0, lambda rng: (rng.normal(size=3),)),
    # Optional(array) (the placeholder None, then arrays) is an array to the helpers
    (saved_temporary, (0, 1, 2), lambda rng: (rng.normal(size=3), rng.normal(size=3),
                                              rng.normal(size=1))),
]


@pytest.mark.parametrize("function, wrt, make", FEWER_ARRAYS,
                         ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(FEWER_ARRAYS)])
def test_fewer_arrays_keep_the_gradient(function, wrt, make):
    """Saved arrays in preallocated rows, invariants computed before their loop, sums into
    arrays no other name holds: the same gradients as the Python backend's and as finite
    differences (which see a wrongly shared array: ``shared_accumulator``)."""
    args = make(np.random.default_rng(3))
    compiled = s2s.differentiate(function, wrt=wrt, backend="numba", fallback="error")
    got = compiled.grad(*args)
    same(got, s2s.differentiate(function, wrt=wrt).grad(*args))
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    for position, gradient in zip(positions, got if isinstance(wrt, tuple) else (got,)):
        np.testing.assert_allclose(gradient, numeric_gradient(function, args, position),
                                   rtol=1e-6, atol=1e-8)


def test_what_the_lowering_writes_to_allocate_less():
    rng = np.random.default_rng(0)
    source = s2s.differentiate(rnn, wrt=(0, 1), backend="numba").source_for(
        rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=(7, 4)))
    assert "_saved_h = stack_like(h, len(_t2))" in source     # rows, not a list of arrays
    assert "_saved_h[_count_h] = h" in source and "h = _saved_h[_count_h]" in source
    assert "W_b = add_into(W_b, " in source                    # no array per pass
    source = s2s.differentiate(decay, wrt=(0, 1), backend="numba").source_for(
        np.ones(3), np.array([0.7]), 5)
    forward = source.split("# reverse sweep")[0]
    assert forward.index("= -k") < forward.index("for step in")   # computed once
    assert "subtract_into(k_b, _total0)" in source                # a number, no (1,) array
    assert "_total0 += x_b[_i1] * 0.1 * x[_i1]" in source        # and no array to sum
    assert "expand_dims" not in source
    source = s2s.differentiate(twice_per_pass, backend="numba").source_for(np.ones(5))
    assert "len(_t0) * 2)" in source                          # two saves a pass
    source = s2s.differentiate(shared_accumulator, backend="numba").source_for(np.ones(3))
    assert "add_into(y," not in source                         # z holds y's array
    source = s2s.differentiate(growing, backend="numba").source_for(np.ones(3))
    assert "_saved_total.append(total)" in source     # its shape changes: a list, not rows
    assert "x_b = add_into(x_b, unbroadcast(" in source
    source = s2s.differentiate(until_small, backend="numba").source_for(np.ones(3))
    assert "stack_like" not in source and "_saved_x.append(x)" in source   # it may break


def test_in_place_helpers_write_only_where_the_expression_would_be_the_same():
    from s2s.numba_runtime import add_into, multiply_into, subtract_into

    @numba.njit
    def add(total, term):
        return add_into(total, term)

    @numba.njit
    def subtract(total, term):
        return subtract_into(total, term)

    @numba.njit
    def multiply(total, term):
        return multiply_into(total, term)

    total = np.ones((2, 3))
    assert add(total, np.arange(3.0)) is total                 # broadcasts into it
    np.testing.assert_array_equal(total, [[1, 2, 3], [1, 2, 3]])
    assert subtract(total, 1.0) is total and multiply(total, 2.0) is total
    np.testing.assert_array_equal(total, [[0, 2, 4], [0, 2, 4]])
    small = np.ones((1, 3))
    grown = add(small, np.ones((2, 3)))                        # would not fit: a new array
    assert grown.shape == (2, 3) and grown is not small and np.all(small == 1)
    single = np.ones(3, np.float32)
    wider = add(single, np.ones(3))                            # float64: a new array
    assert wider.dtype == np.float64 and np.all(single == 1)
    assert add(single, np.ones(3, np.float32)) is single
    assert add(1.5, 2.0) == 3.5

# --- the zoo: lowered, or refused with the construct and line ------------------------------

def _lowering(case):
    from s2s.api import _derivation
    from s2s.shapes import argument_shape
    args = case.make(np.random.default_rng(0))
    f = s2s.differentiate(case.function, wrt=case.wrt if len(case.wrt) > 1 else case.wrt[0])
    values = f._arguments(args, {})
    gradient = f._gradient_function(values)
    if gradient is None:
        return None
    shapes = tuple(map(argument_shape, values))
    derivation = getattr(gradient, "derivation", None) or _derivation(
        f.function, f.wrt_names, f.single, "gradient", shapes, False)
    mode = "forward" if getattr(gradient, "derivation", None) else "gradient"
    return lower(derivation.source, derivation.module.name, mode, derivation.analysis.shapes,
                 "float64", dict(zip(derivation.parsed.params, shapes)))


@pytest.mark.parametrize("case", ZOO, ids=[case.name for case in ZOO])
def test_every_zoo_function_lowers_or_is_refused_with_its_line(case):
    try:
        lowered = _lowering(case)
    except LoweringError as error:
        assert "numba cannot compile" in str(error)
        assert "line " in str(error) or "generated" in str(error)
        return
    if lowered is not None:
        assert "reversed(" not in lowered.source and "_stack" not in lowered.source
        assert "from s2s.runtime" not in lowered.source
        compile(lowered.source, "<lowered>", "exec")


COMPILED = ["affine", "conditional_expression", "break_and_continue", "nested_loops",
            "accumulate_products", "data_dependent_while"]


@pytest.mark.parametrize("name", COMPILED)
def test_zoo_functions_numba_compiles_match_the_python_backend(name):
    case = next(case for case in ZOO if case.name == name)
    args = case.make(np.random.default_rng(1))
    wrt = case.wrt if len(case.wrt) > 1 else case.wrt[0]
    compiled = s2s.differentiate(case.function, wrt=wrt, backend="numba")
    got = compiled.grad(*args)
    assert compiled.backend == "numba", compiled.backend_reason
    same(got, s2s.differentiate(case.function, wrt=wrt).grad(*args))


# --- falling back --------------------------------------------------------------------------

def row_maxima(x):
    return np.sum(np.max(x, axis=0) ** 2)


def test_what_the_lowering_refuses_falls_back_with_one_warning_naming_it():
    f = s2s.differentiate(row_maxima, backend="numba")
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    with pytest.warns(s2s.BackendWarning) as record:
        first = f.grad(x)
        second = f.grad(x * 2)
    assert len([w for w in record if issubclass(w.category, s2s.BackendWarning)]) == 1
    assert f.backend == "python"
    assert "np.max" in f.backend_reason and "axis=" in f.backend_reason
    line = row_maxima.__code__.co_firstlineno + 1
    assert f"line {line}" in f.backend_reason
    same(first, s2s.grad(row_maxima)(x))
    same(second, s2s.grad(row_maxima)(x * 2))
    assert "runs on the Python backend" in f.source_for(x)


def test_fallback_error_makes_it_an_s2s_error():
    f = s2s.differentiate(row_maxima, backend="numba", fallback="error")
    with pytest.raises(s2s.BackendError, match="np.max"):
        f.grad(np.ones((2, 2)))


def grows(x):
    p = 1.0
    for k in range(2):
        p = p * x
    return np.sum(p)


def test_a_numba_typing_error_never_leaks():
    x = np.array([0.5, 2.0])
    f = s2s.differentiate(grows, backend="numba")
    with pytest.warns(s2s.BackendWarning, match="numba cannot compile"):
        gradient = f.grad(x)
    same(gradient, s2s.grad(grows)(x))
    assert f.backend == "python" and "line" in f.backend_reason
    strict = s2s.differentiate(grows, backend="numba", fallback="error")
    with pytest.raises(s2s.BackendError) as error:
        strict.grad(x)
    assert not isinstance(error.value, numba.core.errors.NumbaError)


def first_terms(x, n):
    total = 0.0
    for k in range(n):
        total = total + x[k] * x[k]
    return total


def test_user_errors_in_compiled_code_are_the_users():
    f = s2s.differentiate(first_terms, backend="numba")
    x = np.array([1.0, 2.0, 3.0])
    same(f.grad(x, 2), s2s.grad(first_terms)(x, 2))
    assert f.backend == "numba", f.backend_reason
    with pytest.raises(IndexError):          # bounds are checked, as in Python
        f.grad(x, 5)


def test_without_numba_the_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)         # import numba raises
    with pytest.raises(s2s.BackendError, match=r'pip install "s2s\[numba\]"'):
        s2s.grad(horner, backend="numba")
    with pytest.raises(s2s.S2SError, match="backend must be"):
        s2s.grad(horner, backend="jax")


# --- functions numba already compiles ----------------------------------------------------------

@numba.njit
def jitted_helper(x):
    return x * x + np.sin(x)


def calls_jitted(x):
    return jitted_helper(x) * 3.0


def test_njit_functions_and_helpers_are_differentiated_through():
    jitted = numba.njit(horner)
    args = (0.9, np.linspace(-1, 1, 8))
    same(s2s.grad(jitted)(*args), s2s.grad(horner)(*args))
    same(s2s.grad(jitted, backend="numba")(*args), s2s.grad(horner)(*args))
    x = 0.4
    want = 3.0 * (2 * x + np.cos(x))
    np.testing.assert_allclose(s2s.grad(calls_jitted)(x), want, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", s2s.BackendWarning)
        np.testing.assert_allclose(s2s.grad(calls_jitted, backend="numba")(x), want,
                                   rtol=1e-12)


# --- numba's disk cache --------------------------------------------------------------------------

SCRIPT = """
import sys, numpy as np, s2s
from s2s import numba_backend
def f(r, x):
    for step in range(100):
        x = r * x * (1.0 - x) * {scale}
    return x
print(repr(s2s.grad(f, backend="numba")(2.8, 0.3)))
stats = [d.stats for d in numba_backend._LOADED.values()]
print(sum(sum(s.cache_hits.values()) for s in stats), sum(sum(s.cache_misses.values()) for s in stats))
"""


def _run(directory, scale):
    environment = dict(os.environ, S2S_CACHE_DIR=str(directory),
                       PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(
                           os.path.abspath(s2s.__file__)))] + sys.path))
    script = directory / f"logistic_{str(scale).replace('.', '_')}.py"
    script.write_text(textwrap.dedent(SCRIPT.format(scale=scale)))
    output = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=environment, check=True, timeout=600).stdout.split("\n")
    hits, misses = map(int, output[1].split())
    return float(output[0]), hits, misses


def test_the_compiled_code_is_reused_by_a_new_process_and_never_stale(tmp_path):
    first, hits, misses = _run(tmp_path, 1.0)
    assert (hits, misses) == (0, 1)
    again, hits, misses = _run(tmp_path, 1.0)
    assert (hits, misses) == (1, 0) and again == first        # loaded, not compiled
    changed, hits, misses = _run(tmp_path, 0.5)               # a changed function
    assert (hits, misses) == (0, 1)
    want = s2s.grad(_logistic(0.5))(2.8, 0.3)
    np.testing.assert_allclose(changed, want, rtol=1e-12)
    assert len(list((tmp_path / "numba").glob("*.py"))) == 2


AHEAD_OF_TIME = """
import sys
import numpy as np
import s2s

def euler_steps(x, k, A):
    for step in range(30):
        x = x + 0.01 * (np.sin(A @ x) - k * x)             # A @ x: BLAS's gemv
    return np.sum(x * x)

f = s2s.differentiate(euler_steps, wrt=(0, 1), backend="numba")
x, k = np.array([0.5, -0.3, 0.8]), np.array([0.7])
A = np.array([[1.0, 0.2, 0.0], [-0.3, 0.9, 0.1], [0.0, 0.4, 1.1]])
if sys.argv[1] == "build":
    print(f.compile_ahead(x, k, A))
else:
    gradient = f.grad(x, k, A)
    print("numba" in sys.modules)                          # False: the extension ran
    print(repr([list(g) for g in gradient]))
    # its BLAS kernel came from SciPy's Cython module alone, which is out of the way again
    print("scipy.linalg" in sys.modules, "scipy.linalg.cython_blas" in sys.modules)
    again = f.grad(x, k, A)                                # the kernel numba kept
    print(all(np.array_equal(a, b) for a, b in zip(gradient, again)))
    import scipy.linalg
    print(scipy.linalg.cython_blas.__name__, np.allclose(scipy.linalg.solve(A, A), np.eye(3)))
    strided = np.array([0.5, 0, -0.3, 0, 0.8, 0])[::2]     # another layout: numba's JIT
    print(repr([list(g) for g in f.grad(strided, k, A)]), "numba" in sys.modules)
"""


def test_a_gradient_compiled_ahead_of_time_runs_without_starting_numba(tmp_path):
    from s2s.numba_aot import can_build
    if not can_build():
        pytest.skip("numba.pycc or a C compiler is missing")
    environment = dict(os.environ, S2S_CACHE_DIR=str(tmp_path),
                       PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(
                           os.path.abspath(s2s.__file__)))] + sys.path))
    script = tmp_path / "ahead.py"
    script.write_text(AHEAD_OF_TIME)

    def run(mode):
        return subprocess.run([sys.executable, str(script), mode], capture_output=True,
                              text=True, env=environment, check=True, timeout=600
                              ).stdout.strip().split("\n")

    built = run("build")[-1]
    assert os.path.exists(built) and "_aot" in os.path.basename(built)
    with open(built.split("_aot")[0] + "_aot.json", encoding="utf-8") as handle:
        assert json.load(handle)["kernels"] == ["scipy.linalg.cython_blas"]
    started, gradient, kernels_put_back, repeated, scipy_after, strided = run("load")
    assert started == "False"
    assert kernels_put_back == "False False" and repeated == "True"
    assert scipy_after == "scipy.linalg.cython_blas True"
    namespace = {}
    exec(AHEAD_OF_TIME.split("f = s2s")[0], namespace)
    x, k = np.array([0.5, -0.3, 0.8]), np.array([0.7])
    A = np.array([[1.0, 0.2, 0.0], [-0.3, 0.9, 0.1], [0.0, 0.4, 1.1]])
    with warnings.catch_warnings():                   # defined by exec: on the tape
        warnings.simplefilter("ignore", s2s.FallbackWarning)
        want = s2s.differentiate(namespace["euler_steps"], wrt=(0, 1)).grad(x, k, A)
    for got, expected in zip(eval(gradient), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    values, jit_started = strided.rsplit(" ", 1)
    assert jit_started == "True"
    for got, expected in zip(eval(values), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


SCALE = 2.0


def reads_a_global(x):
    return np.sum(np.sin(x) * SCALE)


def test_the_kernel_modules_come_from_the_calls_into_numbas_runtime():
    from s2s.numba_aot import kernel_modules
    blas = "declare i32 @numba_xxgemv(i8, i8, i64) local_unnamed_addr\n"
    lapack = "declare i32 @numba_ez_gesdd(i8, i8, i64)\n"
    assert kernel_modules(blas) == ["scipy.linalg.cython_blas"]
    assert kernel_modules(lapack + blas) == ["scipy.linalg.cython_blas",
                                             "scipy.linalg.cython_lapack"]
    assert kernel_modules("declare ptr @NRT_MemInfo_alloc(i64)\n") == []


def test_compile_ahead_says_why_not():
    with pytest.raises(s2s.InputError, match="backend='numba'"):
        s2s.differentiate(horner).compile_ahead(0.5, np.ones(3))
    f = s2s.differentiate(reads_a_global, backend="numba")
    with pytest.raises(s2s.BackendError, match="globals SCALE"):
        f.compile_ahead(np.ones(3))

def _logistic(scale):
    def f(r, x):
        for step in range(100):
            x = r * x * (1.0 - x) * scale
        return x
    return f


# --- show and export ----------------------------------------------------------------------------

def test_show_and_export_give_the_lowered_module(tmp_path, capsys):
    args = (0.9, np.linspace(-1, 1, 6))
    s2s.show(horner, backend="numba", args=args)
    shown = capsys.readouterr().out
    assert "@numba.njit(cache=True" in shown and "def jvp_horner(" in shown
    with pytest.raises(s2s.S2SError, match="args="):
        s2s.show(horner, backend="numba")
    path = tmp_path / "grad_horner_numba.py"
    text = s2s.export(horner, path, backend="numba", args=args)
    assert text == path.read_text() and "s2s" not in text.split("\n", 1)[1].replace(
        "# Generated by s2s", "")
    import importlib.util
    spec = importlib.util.spec_from_file_location("grad_horner_numba", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.testing.assert_allclose(module.gradient(*args), s2s.grad(horner)(*args), rtol=1e-12)


# --- random programs, compiled (not in CI: each costs a numba compile) ------------------------

_RANDOM = int(os.environ.get("S2S_NUMBA_RANDOM_PROGRAMS", "0"))


@pytest.mark.skipif(not _RANDOM, reason="set S2S_NUMBA_RANDOM_PROGRAMS=<n> to compile n "
                                        "random programs (about a second each)")
def test_random_programs_compile_to_the_python_backends_gradients(tmp_path):
    """tests/programs.py's random programs with ``backend="numba"``: compiled, the same
    gradient as the Python backend (itself checked against finite differences and the tape
    by test_random_programs); falling back is allowed, with its reason."""
    from hypothesis import HealthCheck, given, settings

    import programs as grammar

    outcomes = {"compiled": 0, "fell back": 0, "not differentiable": 0}

    @settings(max_examples=_RANDOM, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(source=grammar.programs(), point=grammar.inputs())
    def check(source, point):
        x, y = np.array(point[0], dtype=float), float(point[1])
        module = grammar.load(source, str(tmp_path))
        try:
            want = s2s.differentiate(module.f, wrt=(0, 1), fallback="error").grad(x.copy(), y)
        except Exception:
            outcomes["not differentiable"] += 1
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", s2s.BackendWarning)
            compiled = s2s.differentiate(module.f, wrt=(0, 1), backend="numba")
            argument = x.copy()
            got = compiled.grad(argument, y)
        np.testing.assert_array_equal(argument, x, err_msg=f"program:\n{source}")  # untouched
        if compiled.backend != "numba":
            outcomes["fell back"] += 1
            reason = compiled.backend_reason or ""
            # the lowering's own helpers must compile whatever they are given
            assert not any(helper in reason for helper in (
                "add_into", "subtract_into", "multiply_into", "stack_like", "reuse",
                "broadcast_length", "_total", "_out")), \
                f"program:\n{source}\n{reason}"
            return
        outcomes["compiled"] += 1
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12,
                                       err_msg=f"program:\n{source}")

    check()
    print(outcomes)
    assert outcomes["compiled"] > 0
