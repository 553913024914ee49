"""The inventory of NumPy (issue 13): every public operation meets a rule, a zero or an error.

1. Every public callable of ``numpy``, ``numpy.linalg`` and ``numpy.fft``, every index
   trick (``np.r_``...) and every public method and attribute of ``ndarray`` is
   classified exactly once: a rule, a declared zero (``s2s/rules/nondiff.py``) or a
   refusal (``s2s/rules/refused.py``).  A NumPy release that adds a name fails here
   until someone classifies it.
2. Each refused function, index trick, method and attribute, met by an active value,
   raises an s2s error: in generated code (``fallback="error"``), and for functions on
   the tape as well.  Where it does not yet (a silent zero or a leaked exception), the
   case is an ``xfail(strict=True)``, so fixing it fails the test until the mark goes.
3. Each declared zero is zero: finite differences of its value on a random float array
   vanish (a wrongly declared zero is the silent failure this inventory prevents).
"""
from __future__ import annotations

import importlib.util
import inspect
import itertools
import warnings

import numpy as np
import pytest

import s2s
from s2s.errors import MissingRuleError, S2SError, UnsupportedError
from s2s.rules import REGISTRY
from s2s.rules.refused import (INVENTORIED_MODULES, REFUSED, classify_attribute,
                               classify_callable, classify_method, inventory,
                               inventory_counts, ndarray_members, public_objects)
from s2s.tape import vjp_with_tape

from reference import assert_close, numerical_gradient

# Attribute reads analysis.py resolves itself until REGISTRY.attributes holds them
# (issue 13 moves them into the registry; this table is read only while it is empty).
ATTRIBUTES_BEFORE_REGISTRY = {"T": "rule", "shape": "zero", "ndim": "zero", "size": "zero",
                              "dtype": "zero", "itemsize": "zero", "nbytes": "zero"}

WHERE_TO_CLASSIFY = (
    "classify each exactly once: a derivative rule (s2s/rules/), a declared zero in "
    "s2s/rules/nondiff.py (only if its derivative is zero wherever it exists, for every "
    "floating input), or a refusal with a reason in s2s/rules/refused.py (when in doubt)")

# Refused operations that still give no located s2s error on an active value: each a hole.
# Generated code: a subscript of an index trick is taken for a constant.
INDEX_TRICK_HOLES: set[str] = set()
# Generated code, before NumPy 2: more NumPy functions are written in Python there; each
# must still be refused (never read like a helper of the user's).
HELPER_HOLES: set[str] = set()
# The tape: refused functions that still give a silent zero or let NumPy's own TypeError /
# AttributeError about the Tensor escape (np.bmat's None, np.frombuffer, np.from_dlpack
# were holes: each now raises an s2s error).
TAPE_HOLES: set[str] = set()
NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"
# Not called on the tape: they change NumPy's global state, run tests, or print pages.
NOT_CALLED = {"test", "show_config", "show_runtime", "set_printoptions", "seterr",
              "seterrcall", "setbufsize", "set_string_function", "set_numeric_ops",
              "seterrobj", "lookfor", "info", "who", "source", "disp"}
# Declared zeros whose value is not a function of x at all (uninitialised memory).
UNINITIALISED = {"numpy.empty", "numpy.empty_like"}

S2S_ERRORS = (MissingRuleError, UnsupportedError)


def _x() -> np.ndarray:
    return np.random.default_rng(13).uniform(0.2, 0.9, size=(3, 3))


def _attribute_classes(name: str) -> tuple[str, ...]:
    if getattr(REGISTRY, "attributes", {}) or name not in ATTRIBUTES_BEFORE_REGISTRY:
        entry = [e for e in inventory() if e.name == f"ndarray.{name}"]
        return entry[0].classes
    return (ATTRIBUTES_BEFORE_REGISTRY[name],) + (("refused",) if name in REFUSED.attributes
                                                  else ())


def _entries():
    for entry in inventory():
        if entry.kind == "attribute":
            yield entry.name, _attribute_classes(entry.name.split(".", 1)[1])
        else:
            yield entry.name, entry.classes


# --- 1. every public name exactly once ----------------------------------------------


def test_every_public_numpy_name_is_classified_exactly_once():
    entries = dict(_entries())
    twice = sorted(f"{name} ({' and '.join(classes)})" for name, classes in entries.items()
                   if len(classes) > 1)
    unclassified = sorted(name for name, classes in entries.items() if not classes)
    assert not twice, f"{len(twice)} names are classified twice: {', '.join(twice)}; " \
                      + WHERE_TO_CLASSIFY
    assert not unclassified, f"{len(unclassified)} public NumPy names are not classified: " \
                             f"{', '.join(unclassified)}; " + WHERE_TO_CLASSIFY


def test_the_inventory_walks_what_it_claims():
    names = {entry.name for entry in inventory()}
    for expected in ("numpy.sin", "numpy.linalg.qr", "numpy.fft.fft", "numpy.r_",
                     "numpy.mgrid", "numpy.ix_", "numpy.float64", "ndarray.sum",
                     "ndarray.tofile", "ndarray.flat", "ndarray.T"):
        assert expected in names
    for left_out in ("numpy.pi", "numpy.linalg", "numpy.newaxis", "numpy.True_"):
        assert left_out not in names
    assert classify_callable(np.sin) == "rule"
    assert classify_callable(np.floor) == "zero"
    assert classify_callable(np.linalg.qr) == "rule"
    assert classify_callable(np.unwrap) == "refused"
    assert classify_callable(object()) is None
    assert classify_method("sum") == "rule" and classify_method("argmax") == "zero"
    assert classify_method("tofile") == "refused" and classify_method("no_such") is None
    assert classify_attribute("flat") == "refused"
    assert REFUSED.lookup(np.unwrap).reason.startswith("no derivative rule")


def test_inventory_counts_add_up():
    counts = inventory_counts()
    assert sum(counts.values()) == len(inventory())
    assert counts["differentiable"] > 100 and counts["zero"] > 50 and counts["refused"] > 100


# --- 2. each refusal raises -----------------------------------------------------------


def _refused_functions():
    for module_name in INVENTORIED_MODULES:
        module = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}[module_name]
        for name, obj in public_objects(module).items():
            if REFUSED.lookup(obj) is not None and REGISTRY.lookup(obj) is None:
                yield module_name, name, obj


def _marked(cases, holes, why, maybe=lambda case: False):
    """Cases, those in ``holes`` expected to fail; those ``maybe`` may fail (NumPy 1.x)."""
    for case in cases:
        qualified = f"{case[0]}.{case[1]}"
        marks = [pytest.mark.xfail(strict=not NUMPY_1, reason=why)] if qualified in holes else \
            [pytest.mark.xfail(strict=False, reason=why)] if maybe(case) else []
        yield pytest.param(*case, marks=marks, id=qualified)


def _python_function_before_numpy_2(case) -> bool:
    """Before NumPy 2, most NumPy functions are Python functions: the helper hole is wide."""
    return NUMPY_1 and inspect.isfunction(case[2])


def _load(tmp_path, body: str):
    """A module ``def f(x): return <body>`` in a file, so that s2s reads its source."""
    stem = "inventory_" + "".join(c if c.isalnum() else "_" for c in body)
    path = tmp_path / f"{stem}.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x):\n    return {body}\n")
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


# Generated code rewrites np.r_[x, x] and np.c_[x, x] to np.concatenate (differentiated,
# tests/test_numpy_more.py); what stays refused is the subscript with a string directive.
DIRECTIVES = {"r_": "'0,2', ", "c_": "'1,2,0', "}


def _expression(module_name: str, name: str, obj) -> str:
    call = module_name.replace("numpy", "np") + "." + name
    return f"np.sum({call}(x))" if callable(obj) \
        else f"np.sum({call}[{DIRECTIVES.get(name, '')}x, x])"


def _raises_in_source_mode(function, spelled: str) -> None:
    """An s2s error located at the user's line, naming the operation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(S2S_ERRORS) as raised:
            s2s.differentiate(function, fallback="error").grad(_x())
    location = raised.value.location
    assert location is not None and location.filename == function.__code__.co_filename
    assert location.line == 5 and spelled in raised.value.message + location.source_line


@pytest.mark.parametrize("module_name, name, obj", _marked(
    _refused_functions(), INDEX_TRICK_HOLES | (set() if NUMPY_1 else HELPER_HOLES),
    "an index trick's subscript is a constant; a NumPy Python function is a helper",
    _python_function_before_numpy_2))
def test_refused_function_raises_in_generated_code(tmp_path, module_name, name, obj):
    function = _load(tmp_path, _expression(module_name, name, obj))
    _raises_in_source_mode(function, module_name.replace("numpy", "np") + "." + name)


@pytest.mark.parametrize("module_name, name, obj", _marked(
    _refused_functions(), TAPE_HOLES,
    "a silent zero or a leaked exception on the tape"))
def test_refused_function_raises_or_is_right_on_the_tape(tmp_path, module_name, name, obj):
    """An s2s error; or, for a NumPy wrapper of functions with rules, the right gradient."""
    if name in NOT_CALLED:
        pytest.skip(f"np.{name} is not called: it changes NumPy's state or runs a long job")
    function = _load(tmp_path, _expression(module_name, name, obj))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = function(_x())
        except Exception as exc:            # noqa: BLE001  (NumPy rejects the call itself)
            pytest.skip(f"NumPy rejects this call on a (3, 3) float array: "
                        f"{type(exc).__name__}: {exc}"[:200])
        if not isinstance(value, (float, complex, np.number)):
            pytest.skip(f"not a number on a (3, 3) float array but a {type(value).__name__}, "
                        "so there is no gradient to drop")
        try:
            _, pullback = vjp_with_tape(function, (_x(),), {}, (0,))
            (gradient,) = pullback()
        except S2SError:
            return
        expected = numerical_gradient(function, [_x()], 0)
    assert_close(gradient, expected)


def _refused_members(table, registered):
    return [("ndarray", name) for name in sorted(table) if name not in registered]


METHODS, ATTRIBUTES = ndarray_members()


@pytest.mark.parametrize("owner, name", _marked(
    [case for case in _refused_members(REFUSED.methods, REGISTRY.methods) if case[1] in METHODS],
    set(), ""))
def test_refused_method_raises_in_generated_code(tmp_path, owner, name):
    _raises_in_source_mode(_load(tmp_path, f"np.sum(x.{name}())"), f".{name}()")


@pytest.mark.parametrize("owner, name", _marked(
    [case for case in _refused_members(REFUSED.attributes, getattr(REGISTRY, "attributes", {}))
     if case[1] in ATTRIBUTES], set(), ""))
def test_refused_attribute_raises_in_generated_code(tmp_path, owner, name):
    _raises_in_source_mode(_load(tmp_path, f"np.sum(x.{name})"), f".{name}")


def _tape_refuses(read) -> None:
    """On the tape, a refused method or attribute of a tensor being recorded raises an s2s
    error, unless what it hands out holds none of the values (``x.flags``, ``x.base`` of a
    fresh array)."""
    x = s2s.tensor(_x(), requires_grad=True) * 1.0
    try:
        result = read(x)
    except S2SError:
        return
    except (TypeError, ValueError) as error:         # NumPy's own refusal of the call
        assert "Tensor" not in str(error), error
        pytest.skip(f"NumPy refuses the call itself: {error}")
    leaves = result if isinstance(result, (list, tuple)) else [result]
    values = [leaf for leaf in np.asarray(leaves, dtype=object).ravel()
              if isinstance(leaf, (float, complex, np.ndarray, np.floating))]
    assert not values, f"the tape handed out {type(result).__name__} without an error"


@pytest.mark.parametrize("owner, name", [
    case for case in _refused_members(REFUSED.methods, REGISTRY.methods) if case[1] in METHODS])
def test_refused_method_raises_on_the_tape(owner, name):
    _tape_refuses(lambda x: getattr(x, name)())


@pytest.mark.parametrize("owner, name", [
    case for case in _refused_members(REFUSED.attributes, getattr(REGISTRY, "attributes", {}))
    if case[1] in ATTRIBUTES])
def test_refused_attribute_raises_on_the_tape(owner, name):
    if name == "data":
        pytest.skip("Tensor.data is the tape's explicit way to the array, as PyTorch's .data")
    _tape_refuses(lambda x: getattr(x, name))


# --- 3. each declared zero is zero ----------------------------------------------------


def _declared_zeros():
    for module_name in INVENTORIED_MODULES:
        module = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}[module_name]
        for name, obj in public_objects(module).items():
            rule = REGISTRY.lookup(obj)
            if rule is not None and rule.nondifferentiable \
                    and f"{module_name}.{name}" not in UNINITIALISED:
                yield pytest.param(obj, id=f"{module_name}.{name}")
    for name in METHODS:
        rule = REGISTRY.methods.get(name)
        if rule is not None and rule.nondifferentiable:
            yield pytest.param(lambda x, name=name: getattr(x, name)(), id=f"ndarray.{name}")


def _floating_leaves(value) -> list[np.ndarray]:
    if isinstance(value, (tuple, list)):
        return list(itertools.chain.from_iterable(_floating_leaves(item) for item in value))
    value = np.asarray(value) if isinstance(value, (np.ndarray, np.generic, float)) else None
    return [value] if value is not None and value.dtype.kind in "fc" else []


@pytest.mark.parametrize("function", _declared_zeros())
def test_declared_zero_has_zero_finite_differences(function):
    x = _x()
    direction = np.random.default_rng(7).standard_normal(x.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            here, there = function(x), function(x + 1e-6 * direction)
        except Exception as exc:            # noqa: BLE001  (not callable on one float array)
            pytest.skip(f"not callable on a (3, 3) float array: {type(exc).__name__}")
    for a, b in zip(_floating_leaves(here), _floating_leaves(there)):
        assert a.shape == b.shape and np.array_equal(a, b), "a declared zero moved with x"
