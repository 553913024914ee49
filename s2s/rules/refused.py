"""Operations s2s refuses on purpose, each with the reason shown to the user.

The rule registry says what s2s differentiates (a rule) and what has a zero derivative
(a declared non-differentiable entry); this module says what it deliberately does not
differentiate, and why: NumPy functions with no rule yet, conversions that would drop
the gradient, in-place writes, and everything that is not a numerical operation on
arrays (printing, I/O, error state, types).  Together the three classify the public
NumPy namespace (``numpy``, ``numpy.linalg``, ``numpy.fft``, the index tricks and the
methods and attributes of ``ndarray``) exactly once; :func:`inventory` walks it and
``tests/test_inventory.py`` checks it, so a NumPy release that adds a function fails
the tests until the function is classified here, in ``nondiff.py`` or with a rule.
"""
from __future__ import annotations

import types
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .registry import REGISTRY


@dataclass(frozen=True)
class Refusal:
    """One refused operation: a NumPy callable, or an ndarray method or attribute name."""

    name: str
    reason: str
    primal: Any = None


class Refusals:
    """Refused operations keyed by the primal (identity), and by method / attribute name."""

    def __init__(self) -> None:
        self._by_primal: dict[int, Refusal] = {}
        self.methods: dict[str, Refusal] = {}       # "tofile" in x.tofile()
        self.attributes: dict[str, Refusal] = {}    # "flat" in x.flat

    def add(self, refusal: Refusal) -> Refusal:
        self._by_primal[id(refusal.primal)] = refusal
        return refusal

    def lookup(self, primal: Any) -> Refusal | None:
        refusal = self._by_primal.get(id(primal))
        return refusal if refusal is not None and refusal.primal is primal else None

    def __len__(self) -> int:
        return len(self._by_primal)


REFUSED = Refusals()


def refuse(*primals: Any, reason: str) -> None:
    """Declare callables (or index-trick objects such as ``np.r_``) that s2s refuses."""
    for primal in primals:
        name = getattr(primal, "__name__", None) or type(primal).__name__
        REFUSED.add(Refusal(name, reason, primal))


def refuse_methods(*names: str, reason: str) -> None:
    """Declare ``ndarray`` methods that s2s refuses on a differentiated value."""
    for name in names:
        REFUSED.methods[name] = Refusal(name, reason)


def refuse_attributes(*names: str, reason: str) -> None:
    """Declare ``ndarray`` attributes that s2s refuses to read from a differentiated value."""
    for name in names:
        REFUSED.attributes[name] = Refusal(name, reason)


# --- classification -------------------------------------------------------------------


def _classes(rule, refusal) -> tuple[str, ...]:
    found = []
    if rule is not None:
        found.append("zero" if rule.nondifferentiable else "rule")
    if refusal is not None:
        found.append("refused")
    return tuple(found)


def classes_of_callable(obj: Any) -> tuple[str, ...]:
    """Every class ``obj`` is declared in: ``()`` if none, two if declared twice."""
    return _classes(REGISTRY.lookup(obj), REFUSED.lookup(obj))


def classes_of_method(name: str) -> tuple[str, ...]:
    return _classes(REGISTRY.methods.get(name), REFUSED.methods.get(name))


def classes_of_attribute(name: str) -> tuple[str, ...]:
    attributes = getattr(REGISTRY, "attributes", {})
    return _classes(attributes.get(name), REFUSED.attributes.get(name))


def _first(found: tuple[str, ...]) -> str | None:
    return found[0] if found else None


def classify_callable(obj: Any) -> str | None:
    """``"rule"``, ``"zero"`` (declared non-differentiable), ``"refused"`` or ``None``."""
    return _first(classes_of_callable(obj))


def classify_method(name: str) -> str | None:
    return _first(classes_of_method(name))


def classify_attribute(name: str) -> str | None:
    return _first(classes_of_attribute(name))


# --- the inventory --------------------------------------------------------------------

INVENTORIED_MODULES = ("numpy", "numpy.linalg", "numpy.fft")


@dataclass(frozen=True)
class Entry:
    """One public NumPy name and the classes it is declared in."""

    kind: str                   # "function" (callables and index tricks), "method", "attribute"
    name: str                   # "numpy.linalg.qr", "ndarray.tofile", "ndarray.flat"
    classes: tuple[str, ...]


def _module(name: str) -> types.ModuleType:
    return {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}[name]


def public_objects(module: types.ModuleType) -> dict[str, Any]:
    """The public callables of ``module`` and its index-trick objects (``np.r_``...).

    Submodules, constants (``np.pi``, ``np.True_``) and plain containers (``np.typecodes``)
    are left out: they are not operations.
    """
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(module, name)
            except (AttributeError, RuntimeError):   # a removed name that only raises
                continue
            if isinstance(obj, (types.ModuleType, np.generic, dict, tuple, list)):
                continue
            if callable(obj) or type(obj).__module__.startswith("numpy") \
                    and hasattr(type(obj), "__getitem__"):
                found[name] = obj
    return found


def public_types(module: types.ModuleType, base: type) -> tuple[type, ...]:
    """The public classes of ``module`` derived from ``base`` (scalar types, exceptions)."""
    return tuple(obj for obj in public_objects(module).values()
                 if isinstance(obj, type) and issubclass(obj, base))


def _readable(array: np.ndarray, name: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(array, name)
    except AttributeError:
        return False
    except Exception:       # noqa: BLE001  (a member that rejects this array still exists)
        return True
    return True


def ndarray_members() -> tuple[list[str], list[str]]:
    """The public method names and attribute names of ``np.ndarray``.

    Names NumPy has removed but still lists (NumPy 2.0-2.2 keep ``ptp``, ``itemset`` and
    ``newbyteorder`` as stubs that raise AttributeError on an array) are not members.
    """
    methods, attributes = [], []
    example = np.zeros((2, 2))
    for name in sorted(dir(np.ndarray)):
        if not name.startswith("_") and _readable(example, name):
            (methods if callable(getattr(np.ndarray, name)) else attributes).append(name)
    return methods, attributes


def inventory() -> list[Entry]:
    """Every public NumPy operation s2s accounts for, with its classes."""
    entries = []
    for module_name in INVENTORIED_MODULES:
        for name, obj in public_objects(_module(module_name)).items():
            entries.append(Entry("function", f"{module_name}.{name}", classes_of_callable(obj)))
    methods, attributes = ndarray_members()
    entries += [Entry("method", f"ndarray.{name}", classes_of_method(name)) for name in methods]
    entries += [Entry("attribute", f"ndarray.{name}", classes_of_attribute(name))
                for name in attributes]
    return entries


def inventory_counts() -> dict[str, int]:
    """How many public NumPy names are differentiable, declared zero, refused, unclassified.

    Each name counts once (aliases such as ``np.abs`` and ``np.absolute`` separately);
    an entry declared twice counts under its first class.
    """
    counts = {"differentiable": 0, "zero": 0, "refused": 0, "unclassified": 0}
    label = {"rule": "differentiable", "zero": "zero", "refused": "refused"}
    for entry in inventory():
        counts[label[entry.classes[0]] if entry.classes else "unclassified"] += 1
    return counts


# --- the refusals ---------------------------------------------------------------------


def _existing(module: types.ModuleType, *names: str) -> tuple[Any, ...]:
    """The objects with these names that this NumPy's ``module`` has (NumPy 1.x or 2.x)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = []
        for name in names:
            try:
                found.append(getattr(module, name))
            except (AttributeError, RuntimeError):   # NumPy 1.25+: "Tester was removed"
                continue
        return tuple(found)


NO_RULE = "no derivative rule yet"
NOT_AN_OPERATION = "not a differentiable operation"

refuse(*_existing(
    np,
    # elementwise
    "copysign", "frexp", "ldexp", "modf", "nextafter", "i0", "unwrap",
    # reductions, statistics, cumulative operations
    "nancumsum", "nancumprod", "cumulative_sum", "cumulative_prod", "histogram",
    "histogram2d", "histogramdd", "histogram_bin_edges", "bincount", "product",
    "cumproduct",
    # products, signal processing, polynomials
    "matrix_transpose", "matvec", "vecmat", "vecdot", "poly", "polyadd", "polysub",
    "polymul", "polydiv", "polyder", "polyint", "roots", "kaiser",
    # selection, sorting and set operations (their values flow)
    "choose", "compress", "extract", "sort_complex", "msort", "unique",
    "unique_all", "unique_counts", "unique_inverse", "unique_values", "intersect1d",
    "union1d", "setdiff1d", "setxor1d", "trim_zeros",
    # shapes and assembly
    "resize", "block", "bmat", "unstack", "apply_along_axis", "apply_over_axes",
    "fromfunction", "ix_",
    # constructors whose values come from their arguments: the endpoints of np.logspace,
    # the start of np.arange(start, stop)
    "logspace", "geomspace", "arange",
    # zero in x1 wherever it is differentiable, but 1 in x2 where x1 == 0
    "heaviside",
), reason=NO_RULE)
# Before NumPy 2.0, np.row_stack is np.vstack and ndarray.astype has no np.astype twin.
refuse(*(function for function in _existing(np, "row_stack") if REGISTRY.lookup(function) is None),
       reason=NO_RULE + "; np.vstack has one")
refuse_methods(*(name for name in ("astype",) if name not in REGISTRY.methods),
               reason=NO_RULE + " before NumPy 2 (which has np.astype)")
refuse(*_existing(np, "r_", "c_"),
       reason="an index trick: generated code rewrites np.r_[a, b] and np.c_[a, b] to "
              "np.concatenate, but not a string directive ('0,2', 'r', 'c'), and the tape "
              "cannot record it; build the array with np.concatenate / np.stack")
refuse(*_existing(np, "piecewise"),
       reason="a list of functions: generated code rewrites np.piecewise(x, conditions, "
              "[f0, f1, ...]) with the list written in the call to masked writes "
              "y[mask] = f(x[mask]), but not a call inside a lambda, a conditional "
              "expression or a comprehension, and the tape cannot record it; use "
              "np.where, or write the list in the call")
refuse(*_existing(np, "mgrid", "ogrid", "s_", "index_exp"),
       reason="an index trick: no derivative rule for its subscript yet; build the array with "
              "np.concatenate / np.stack, or index with a tuple of slices")
refuse(*_existing(np, "put", "put_along_axis", "putmask", "place", "copyto",
                  "fill_diagonal"),
       reason="writes into its argument in place; build a new array instead (np.where, "
              "np.concatenate)")
refuse(*_existing(np, "asanyarray", "asarray_chkfinite", "ascontiguousarray",
                  "asfortranarray", "asmatrix", "asfarray", "require", "from_dlpack", "fromiter",
                  "frombuffer", "fromstring", "mat", "fastCopyAndTranspose"),
       reason="a conversion without a derivative rule; use np.asarray(x) or x.astype(dtype), "
              "which have rules")
refuse(*public_types(np, np.generic),
       reason="a NumPy scalar type: the conversion would drop the gradient; use "
              "x.astype(dtype), which has a rule")
refuse(*_existing(
    np,
    # types and objects that are not operations
    "ndarray", "dtype", "ufunc", "matrix", "memmap", "recarray", "record", "chararray",
    "poly1d", "broadcast", "flatiter", "nditer", "ndenumerate", "ndindex", "nested_iters",
    "busdaycalendar", "vectorize", "frompyfunc", "format_parser", "DataSource", "MachAr",
    "Tester",
    # printing and formatting
    "array2string", "array_repr", "array_str", "base_repr", "binary_repr",
    "format_float_positional", "format_float_scientific", "set_printoptions",
    "get_printoptions", "printoptions", "set_string_function", "disp", "info", "who",
    "source", "lookfor", "typename",
    # I/O
    "load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "save", "savetxt", "savez",
    "savez_compressed", "recfromcsv", "recfromtxt",
    # error and buffer state, configuration, testing, documentation
    "seterr", "geterr", "seterrcall", "geterrcall", "errstate", "seterrobj", "geterrobj",
    "set_numeric_ops", "setbufsize", "getbufsize",
    "get_include", "show_config", "show_runtime", "test", "deprecate", "deprecate_with_doc",
    "safe_eval", "add_newdoc", "add_docstring", "add_newdoc_ufunc", "get_array_wrap",
    "compare_chararrays", "einsum_path",
    # dates
    "datetime_as_string", "datetime_data", "busday_count", "busday_offset", "is_busday",
    "isnat",
), reason=NOT_AN_OPERATION)
refuse(*public_types(np, BaseException), *public_types(np.linalg, BaseException),
       reason=NOT_AN_OPERATION)

refuse(*_existing(np.linalg, "svdvals"), reason=NO_RULE)
refuse(*_existing(np.linalg, "matrix_norm", "vector_norm"),
       reason=NO_RULE + "; np.linalg.norm has one")
refuse(*_existing(np.linalg, "matmul", "outer", "tensordot", "trace", "diagonal",
                  "matrix_transpose", "vecdot", "cross"),
       reason=NO_RULE + " for the array-API alias; the np.* function of the same name has one "
              "where it exists")
refuse(*_existing(np.linalg, "test"), reason=NOT_AN_OPERATION)
refuse(*_existing(np.fft, "test"), reason=NOT_AN_OPERATION)

refuse_methods("choose", "compress", "partition", "ptp", "item", "view", "getfield",
               "byteswap", "newbyteorder", "to_device", reason=NO_RULE)
refuse_methods("argpartition", "searchsorted",
               reason="no method form yet; np.argpartition(x, kth) and np.searchsorted(a, v) "
                      "are declared non-differentiable")
refuse_methods("fill", "put", "resize", "sort", "setfield", "setflags", "itemset",
               reason="changes the array in place; use the NumPy function (np.sort(x), ...), "
                      "which returns a new array")
refuse_methods("tolist", "tobytes", "tostring", "tofile", "dump", "dumps",
               reason="a conversion or I/O that would drop the gradient")
refuse_attributes("mT", reason="no attribute rule yet; use np.swapaxes(x, -1, -2)")
refuse_attributes("flat", "base", "data", "ctypes", "flags", "device",
                  reason="exposes the array's memory or storage, not a differentiable value")
