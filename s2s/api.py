"""The public functions: ``differentiate``, ``grad``, ``value_and_grad``, ``vjp``, ``show``.

A thin layer over :func:`s2s.pipeline.derive`: it resolves ``wrt``, checks and converts
the arguments, caches one derivation per (function, wrt), runs the generated code and
gives gradients the shape and float dtype of their inputs.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
import linecache
import math
import os
import traceback
import types
import weakref
from typing import Any, Callable, Sequence, Union

import numpy as np

from .errors import (EvaluationError, FallbackWarning, InputError, MissingRuleError,
                     NonScalarOutputError, S2SError, UnsupportedError, WrtError,
                     missing_rule_from)
from .arrays import array_type_name, is_dispatched_array
from .display import Code, ipython_shell
from .emit import python_name
from .numba_backend import (NumbaBackend, check_backend, numba_compile_ahead, numba_gradient,
                            numba_hvp, numba_jvp,
                            numba_refuse_arguments, numba_source, numba_value_and_grad)
from .parse import carried_sources, is_compiled_function, remember_sources
from .pipeline import Derivation, derive
from .pytree import (children, data_fields, is_float_leaf, is_node, is_pytree_argument,
                     ravel_pytree, rebuild, tree_leaves)
from .runtime import (ComplexValueError, DispatchedArrayRefusal, RuleDomainError, SharedViewError,
                      stack_rows)
from .shapes import argument_shape, is_complex_key, is_dispatched_key, key_shape

Wrt = Union[int, str, Sequence[Union[int, str]]]

_DERIVATIONS: "weakref.WeakKeyDictionary[Callable, dict]" = weakref.WeakKeyDictionary()
_BUILTIN_DERIVATIONS: dict[Callable, dict] = {}      # ufuncs cannot be weakly referenced


_MAX_SPECIALIZATIONS = 16      # per function; beyond, calls with new shapes share generic code


def _derivation(function: Callable[..., Any], wrt: tuple[str, ...], single: bool,
                mode: str = "reverse", shapes: tuple | None = None,
                complex_arguments: bool | None = None,
                dispatched: bool | None = None) -> Derivation:
    """The (cached) generated code; ``shapes``: specialize it to these argument shapes (keys
    of :func:`argument_shape`).  ``complex_arguments``: the arguments may hold complex
    values, so rules for real values only check for them (:func:`s2s.pipeline.derive`);
    None: decided from ``shapes`` (a complex key, or a value of no shape that may hold
    some), False without them (the code ``f.source`` shows: for real arguments).
    ``dispatched``: for arguments that include Dask, CuPy... arrays (``pipeline.derive``);
    None: decided from ``shapes``."""
    if complex_arguments is None:
        complex_arguments = shapes is not None and _may_hold_complex(shapes)
    try:
        per_function = _DERIVATIONS.setdefault(function, {})
    except TypeError:
        per_function = _BUILTIN_DERIVATIONS.setdefault(function, {})
    if dispatched is None:
        dispatched = shapes is not None and any(map(is_dispatched_key, shapes))
    key = (wrt, single, mode, shapes, complex_arguments) + (("dispatched",) if dispatched
                                                             else ())
    if key not in per_function:
        if shapes is not None and (all(shape is None for shape in shapes) or sum(
                1 for other in per_function if other[:3] == key[:3] and other[3] is not None)
                >= _MAX_SPECIALIZATIONS):
            return _derivation(function, wrt, single, mode, None, complex_arguments,
                               dispatched)
        plain = None if shapes is None else tuple(map(key_shape, shapes))
        same = (wrt, single, mode, plain, complex_arguments)
        if plain != shapes and same in per_function and not dispatched:
            per_function[key] = per_function[same]              # the same code
        else:
            per_function[key] = derive(function, wrt, single, mode, plain, complex_arguments,
                                       dispatched)
    return per_function[key]


def _may_hold_complex(shapes: Sequence[Any]) -> bool:
    """Whether arguments with these keys (:func:`argument_shape`) may hold complex values:
    a complex one, or one of no shape (a list, a pytree, an object)."""
    return any(shape is None or is_complex_key(shape) for shape in shapes)


def _fixed_arity(function: Callable[..., Any], signature: inspect.Signature,
                 count: int, extra_keywords: tuple[str, ...] = ()) -> Callable[..., Any]:
    """``def f(a, *xs, k=1.0, **options)`` called with ``count`` positional arguments and
    the keywords ``extra_keywords`` that ``**options`` collects, as a function of named
    parameters: ``def f(a, xs_0, xs_1, *, k=1.0, scale): return f(a, xs_0, xs_1, k=k,
    scale=scale)``."""
    positional, keywords, defaults = [], [], {}
    extra = None
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional.append(parameter.name)
        elif parameter.kind is parameter.VAR_POSITIONAL:
            extra = parameter.name
        elif parameter.kind is parameter.KEYWORD_ONLY:
            keywords.append(parameter.name)
            if parameter.default is not parameter.empty:
                defaults[f"_default_{parameter.name}"] = parameter.default
    if count < len(positional) and extra is not None:
        raise InputError(f"{_name(function)} takes at least {len(positional)} positional "
                         f"argument(s), got {count}")
    if count > len(positional) and extra is None:
        raise InputError(f"{_name(function)} takes {len(positional)} positional "
                         f"argument(s), got {count}")
    for keyword in extra_keywords:
        if not keyword.isidentifier() or keyword.startswith("_"):
            raise InputError(f"{_name(function)}: the keyword argument {keyword!r} collected by "
                             "**kwargs must be an identifier that does not start with '_'")
    named = positional[:count] if extra is None else positional
    names = named + [f"{extra}_{index}" for index in range(count - len(positional))]
    after = [p for p in positional[count:]] if extra is None else []   # passed by keyword
    keywords = after + keywords + list(extra_keywords)
    for name in after:
        default = signature.parameters[name].default
        if default is not inspect.Parameter.empty:
            defaults[f"_default_{name}"] = default
    listed = ", ".join(names + (["*"] + [f"{k}=_default_{k}" if f"_default_{k}" in defaults
                                          else k for k in keywords] if keywords else []))
    passed = ", ".join(names + [f"{k}={k}" for k in keywords])
    name = python_name(function.__name__)
    source = f"def {name}({listed}):\n    return _original({passed})\n"
    described = f"{count} positional arguments" + (
        f" and keywords {', '.join(extra_keywords)}" if extra_keywords else "")
    filename = f"<s2s: {_name(function)} with {described}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"_original": function, **defaults}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own one-liner
    return namespace[name]


def _with_source(function: Callable[..., Any]) -> Callable[..., Any]:
    """A function with a rule (``np.sin``, ``np.linalg.det``, ``scipy.linalg.det``) as a
    one-line Python function calling it, so that ``s2s.grad(np.sin)`` works as in JAX: the
    rule, not the library's own Python source where it has one, is its derivative."""
    if isinstance(function, Differentiable):
        return function
    from .rules import REGISTRY
    rule = REGISTRY.lookup(function)
    if rule is None or rule.nondifferentiable and not isinstance(function, np.ufunc):
        return function
    module = getattr(function, "__module__", None) or ""
    if isinstance(function, np.ufunc) and getattr(np, function.__name__, None) is function:
        module = "numpy"
    if module == "numpy" or module.startswith("numpy."):
        path = f"{module.replace('numpy', 'np', 1)}.{function.__name__}"
    else:                                   # scipy.special.erf...: called by a local name
        path = "primal"
    if rule.nondifferentiable:              # np.floor: a zero derivative, as in JAX
        names = ", ".join(f"x{index}" for index in range(1, function.nin + 1))
    else:
        names = ", ".join(list(rule.signature.parameters)[:rule.arity])
    name = python_name(function.__name__)
    source = f"def {name}({names}):\n    return {path}({names})\n"
    filename = f"<s2s: {module}.{function.__name__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"np": np, "primal": function}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own one-liner
    return namespace[name]


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _explain(error: Exception, name: str) -> str:
    """What raised ``error`` while differentiating ``name`` (which itself runs there)."""
    frames = traceback.extract_tb(error.__traceback__)
    origin = frames[-1] if frames else None
    what = f"{type(error).__name__}: {error}"
    if origin is not None and origin.filename.startswith("<s2s"):
        line = (origin.line or "").strip()
        return (f"the derivative code of {name} raised {what} (at `{line}`), though {name} "
                "itself runs at these arguments: the derivative is not defined there (a "
                "square root or a negative power at 0 on Python floats, say), or this is an "
                "s2s bug (please report it)")
    if origin is not None and origin.filename.startswith(_PACKAGE):
        return f"s2s refused to differentiate {name}: {what}"
    return f"differentiating {name} raised {what}, though {name} itself runs at these arguments"


def _require_python(function: Callable[..., Any]) -> None:
    """Refuse, whatever the fallback, a callable with neither Python code nor a rule (a
    builtin, a C extension function): the tape cannot see inside it either."""
    from .parse import resolve_target
    from .rules import REGISTRY
    if isinstance(function, Differentiable):
        return
    try:
        if REGISTRY.lookup(function) is not None:
            return
    except TypeError:                        # unhashable callables have no rule
        pass
    target = resolve_target(function).function
    if inspect.isgeneratorfunction(target) or inspect.iscoroutinefunction(target) \
            or inspect.isasyncgenfunction(target):
        kind = "a generator" if inspect.isgeneratorfunction(target) else "an async"
        raise UnsupportedError(f"{_name(target)} is {kind} function: calling it makes an "
                               "iterator or a coroutine, not a number to differentiate",
                               hint="differentiate a function that returns the value")


def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """The parameters a caller gives (a ``functools.partial``'s keywords are bound, as in
    the generated code: they are constants there, not parameters)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise UnsupportedError(f"cannot tell the parameters of {_name(function)} ({exc})",
                               hint="differentiate a function defined with def") from None
    if isinstance(function, functools.partial) and function.keywords:
        signature = signature.replace(parameters=[
            p for name, p in signature.parameters.items() if name not in function.keywords])
    return signature


def _positional_call(function: Callable[..., Any],
                     signature: inspect.Signature) -> Callable[..., Any]:
    """``function`` called with one value per parameter, in order (keyword-only ones by
    name), as the generated code is."""
    kinds = [p.kind for p in signature.parameters.values()]
    if all(kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
           for kind in kinds):
        return function
    names = list(signature.parameters)

    def call(*values: Any) -> Any:
        args = [v for v, kind in zip(values, kinds)
                if kind is not inspect.Parameter.KEYWORD_ONLY]
        keywords = {name: v for name, v, kind in zip(names, values, kinds)
                    if kind is inspect.Parameter.KEYWORD_ONLY}
        return function(*args, **keywords)

    return call


def _resolve_wrt(function: Callable[..., Any], params: Sequence[str],
                 wrt: Wrt) -> tuple[tuple[str, ...], tuple[int, ...], bool]:
    """``wrt`` as parameter names and positions, and whether one gradient (not a tuple)."""
    single = isinstance(wrt, (int, str, np.integer))
    items = (wrt,) if single else tuple(wrt)
    if not items:
        raise WrtError("wrt is empty: name at least one parameter to differentiate with respect to")
    names = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise WrtError(f"wrt={item} is out of range: {_name(function)} has "
                               f"{len(params)} parameter(s) {tuple(params)}")
            names.append(params[item])
        elif isinstance(item, str):
            if item not in params:
                raise WrtError(f"wrt={item!r} is not a parameter of {_name(function)}; "
                               f"its parameters are {tuple(params)}")
            names.append(item)
        else:
            raise WrtError(f"wrt must be a parameter position or name, not {item!r}")
    if len(set(names)) != len(names):
        raise WrtError(f"wrt names a parameter twice: {tuple(names)}")
    return tuple(names), tuple(params.index(name) for name in names), single


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", repr(function))


def _prepare(name: str, value: Any, function_name: str) -> Any:
    """A differentiated argument as a float (Python scalar) or a float array."""
    kind = value.__class__
    if kind is float or kind is np.ndarray and value.dtype.kind == "f":
        return value                                     # the common case, first
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise InputError(f"{function_name}: argument '{name}' is a bool; differentiate "
                         "with respect to float values")
    if isinstance(value, int):
        return float(value)
    if isinstance(value, (float, complex)):
        return value
    if is_pytree_argument(value):
        return _prepare_tree(name, value, function_name)
    if is_dispatched_array(value):
        return _prepare_dispatched(name, value, function_name)
    if isinstance(value, (list, tuple)):
        container = type(value).__name__
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as exc:     # ragged: arrays of different shapes
            raise InputError(
                f"{function_name}: argument '{name}' is a {container} that is not "
                f"a rectangular array of numbers ({' '.join(str(exc).split()[:12])}...)",
                ) from None
        if value.dtype.kind in "iu":
            value = value.astype(np.float64)
        elif value.dtype.kind == "O":
            raise InputError(
                f"{function_name}: argument '{name}' is a {container} whose "
                "elements are not all numbers of one shape (a ragged list, or None inside); "
                "pass a float array")
    if isinstance(value, (np.ndarray, np.generic)):
        kind = value.dtype.kind
        if kind in "fc":
            return value
        if kind in "iub":
            raise InputError(
                f"{function_name}: argument '{name}' has integer dtype {value.dtype}; gradients "
                f"are defined for floating-point inputs: pass {name}.astype(float)")
        raise InputError(f"{function_name}: argument '{name}' has dtype {value.dtype}, which "
                         "s2s does not differentiate (use float32, float64 or complex)")
    raise InputError(f"{function_name}: argument '{name}' is a {type(value).__name__}; s2s "
                     "differentiates with respect to floats, complex numbers and NumPy float "
                     "and complex arrays")


def _prepare_dispatched(name: str, value: Any, function_name: str) -> Any:
    """A Dask, CuPy or other array NumPy's functions dispatch to: differentiated as it is
    (generated code calls NumPy, which hands the work to the array's library), if its dtype
    is a float or complex one."""
    kind = np.dtype(value.dtype).kind
    if kind in "fc":
        return value
    if kind in "iub":
        raise InputError(
            f"{function_name}: argument '{name}' is a {array_type_name(value)} of integer "
            f"dtype {value.dtype}; gradients are defined for floating-point inputs: pass "
            f"{name}.astype(float)")
    raise InputError(f"{function_name}: argument '{name}' is a {array_type_name(value)} of "
                     f"dtype {value.dtype}, which s2s does not differentiate (use float32, "
                     "float64 or complex)")


def _prepare_tree(name: str, tree: Any, function_name: str) -> Any:
    """A pytree argument, checked: its float leaves are differentiated, its other leaves
    (ints, strings, integer arrays...) pass through; complex leaves are refused."""
    def check(value: Any, path: str) -> None:
        if is_node(value):
            items, kind, aux = children(value)
            keys = aux if kind is dict else range(len(items))
            for key, item in zip(keys, items):
                check(item, f"{path}[{key!r}]")
        elif isinstance(value, complex) or isinstance(value, (np.ndarray, np.generic)) \
                and value.dtype.kind == "c":
            raise InputError(f"{function_name}: the leaf {path} of argument '{name}' is "
                             "complex; s2s differentiates the float leaves of a pytree "
                             "(pass a complex array as an argument of its own)")
    check(tree, name)
    return tree


def _zero_gradient(primal: Any) -> Any:
    if isinstance(primal, float):
        return 0.0
    return np.zeros(np.shape(primal), dtype=primal.dtype)


def _finish_tree(gradient: Any, primal: Any, name: str) -> Any:
    """The gradient of a pytree argument as a tree of the same structure (dicts in the
    argument's own key order): float leaves get their gradient (zeros where none flowed),
    every other leaf gets None."""
    if not is_node(primal):
        if not is_float_leaf(primal):
            return None
        if gradient is None or np.ndim(gradient) == 0 and np.ndim(primal) != 0 \
                and not np.any(gradient):
            return _zero_gradient(primal)
        return _finish(gradient, primal, name)
    if primal is None:
        return None
    if not is_node(gradient) and np.ndim(gradient) == 0 and not np.any(gradient):
        gradient = None                         # zeros_like of a leaf: nothing flowed
    if isinstance(primal, dict):
        if gradient is not None and not isinstance(gradient, dict):
            raise S2SError(f"internal error: the gradient for '{name}' is a "
                           f"{type(gradient).__name__}, not a dict; please report this function")
        return {key: _finish_tree(None if gradient is None else gradient.get(key), value,
                                  f"{name}[{key!r}]") for key, value in primal.items()}
    items, kind, aux = children(primal)
    if gradient is None:
        parts = [None] * len(items)
    elif isinstance(gradient, (list, tuple, np.ndarray)) and len(gradient) == len(items):
        parts = list(gradient)
    elif type(gradient) is kind:                # a registered node, from the tape
        parts = children(gradient)[0]
    elif isinstance(gradient, dict) and data_fields(primal) is not None:
        parts = [gradient.get(field) for field in data_fields(primal)]
    else:
        raise S2SError(f"internal error: the gradient for '{name}' is a "
                       f"{type(gradient).__name__} that does not match the argument's "
                       f"{kind.__name__}; please report this function")
    return rebuild(kind, aux, [_finish_tree(part, item, f"{name}[{index}]")
                               for index, (part, item) in enumerate(zip(parts, items))])


def _finish(gradient: Any, primal: Any, name: str) -> Any:
    """Give a gradient the shape and float dtype of its input (a pytree's: its structure).

    The cotangent of a complex input is carried as the conjugate of its gradient
    (registry.py), so the gradient is its conjugate; a real input's cotangent may have
    picked up an imaginary part from complex intermediates, and its gradient is the real
    part."""
    if isinstance(primal, float):
        return gradient if gradient.__class__ is float else float(np.real(gradient))
    if is_node(primal):
        return _finish_tree(gradient, primal, name)
    if gradient.__class__ is np.ndarray and primal.__class__ is np.ndarray \
            and gradient.shape == primal.shape and (gradient.dtype is primal.dtype or
                                                    gradient.dtype == primal.dtype) \
            and gradient.dtype.kind == "f":
        return gradient if gradient.flags.writeable else gradient.copy()   # a broadcast
    if isinstance(primal, complex):
        return complex(np.conj(gradient))
    if isinstance(gradient, (list, tuple)) and is_dispatched_array(primal):
        gradient = stack_rows(gradient, primal)       # np.asarray would compute a Dask list
    if np.iscomplexobj(primal):
        gradient = np.conj(gradient)
    elif np.iscomplexobj(gradient):
        gradient = np.real(gradient)
    shape, dtype = np.shape(primal), primal.dtype
    if is_dispatched_array(primal) or is_dispatched_array(gradient):
        return _finish_dispatched(gradient, primal, name)
    if np.shape(gradient) != shape:
        raise S2SError(f"internal error: the gradient for '{name}' has shape "
                       f"{np.shape(gradient)}, not {shape}; please report this function")
    if isinstance(primal, np.generic):
        return dtype.type(gradient)
    if not isinstance(gradient, np.ndarray) or gradient.dtype != dtype \
            or not gradient.flags.writeable:
        gradient = np.array(gradient, dtype=dtype)
    return gradient


def _prepare_tangent(name: str, tangent: Any, primal: Any) -> Any:
    """A tangent with the primal's shape and float dtype (for a pytree primal, a tree of
    the same structure: ``None`` stands for zeros; integer and boolean leaves get a zero
    tangent, which the code may compute with, and other leaves None)."""
    if is_node(primal):
        return _prepare_tangent_tree(name, tangent, primal)
    if isinstance(primal, float):
        if not isinstance(tangent, (int, float, np.integer, np.floating)) \
                and np.ndim(tangent) == 0:
            raise InputError(f"the tangent for '{name}' is a {type(tangent).__name__}, not a "
                             "number")
        if np.ndim(tangent) != 0:
            raise InputError(f"the tangent for '{name}' has shape {np.shape(tangent)}, but "
                             f"'{name}' is a scalar")
        return float(tangent)
    if isinstance(primal, complex):
        if np.ndim(tangent) != 0 or not isinstance(tangent, (int, float, complex, np.number)):
            raise InputError(f"the tangent for '{name}' is not a number like '{name}'")
        return complex(tangent)
    if np.iscomplexobj(tangent) and not np.iscomplexobj(primal):
        raise InputError(f"the tangent for '{name}' is complex, but '{name}' is real: a real "
                         "input has real tangents")
    if is_dispatched_array(tangent) or is_dispatched_array(primal):
        return _prepare_dispatched_tangent(name, tangent, primal)
    try:
        tangent = np.asarray(tangent, dtype=primal.dtype)
    except (ValueError, TypeError):
        raise InputError(f"the tangent for '{name}' is a {type(tangent).__name__}, not an "
                         f"array of numbers shaped like '{name}' {np.shape(primal)}") from None
    if tangent.shape != np.shape(primal):
        raise InputError(f"the tangent for '{name}' has shape {tangent.shape}, but '{name}' "
                         f"has shape {np.shape(primal)}")
    return tangent


def _prepare_dispatched_tangent(name: str, tangent: Any, primal: Any) -> Any:
    """A tangent or cotangent where the primal or it is a Dask, CuPy... array: checked by
    shape and cast to the primal's dtype lazily (``astype``), never computed."""
    if not hasattr(tangent, "shape") or not hasattr(tangent, "dtype"):
        tangent = np.asarray(tangent)
    if np.dtype(tangent.dtype).kind not in "fciub":
        raise InputError(f"the tangent for '{name}' has dtype {tangent.dtype}, not numbers")
    if tuple(tangent.shape) != tuple(np.shape(primal)):
        raise InputError(f"the tangent for '{name}' has shape {tuple(tangent.shape)}, but "
                         f"'{name}' has shape {tuple(np.shape(primal))}")
    return tangent if tangent.dtype == primal.dtype else tangent.astype(primal.dtype)


def _prepare_tangent_tree(name: str, tangent: Any, primal: Any) -> Any:
    if not is_node(primal):
        if not is_float_leaf(primal):
            numeric = isinstance(primal, (int, np.integer, np.bool_)) or (
                isinstance(primal, np.ndarray) and primal.dtype.kind in "biu")
            return np.zeros(np.shape(primal)) if numeric and np.ndim(primal) \
                else 0.0 if numeric else None
        return _zero_gradient(primal) if tangent is None \
            else _prepare_tangent(name, tangent, primal)
    if primal is None:
        return None
    items, kind, aux = children(primal)
    if tangent is None:
        parts = [None] * len(items)
    elif isinstance(primal, dict):
        if not isinstance(tangent, dict) or set(tangent) - set(primal):
            raise InputError(f"the tangent for '{name}' must be a dict with the keys of "
                             f"'{name}' {sorted(map(str, primal))}")
        parts = [tangent.get(key) for key in aux]
    elif type(tangent) is kind and kind not in (list, tuple) and not isinstance(tangent, tuple):
        parts = children(tangent)[0]
    elif isinstance(tangent, (list, tuple)) and len(tangent) == len(items):
        parts = list(tangent)
    else:
        raise InputError(f"the tangent for '{name}' must have the structure of '{name}' "
                         f"(a {type(primal).__name__} of {len(items)} entries), not a "
                         f"{type(tangent).__name__}")
    keys = aux if kind is dict else range(len(items))
    prepared = [_prepare_tangent_tree(f"{name}[{key!r}]", part, item)
                for key, part, item in zip(keys, parts, items)]
    if isinstance(primal, dict):                 # the primal's own key order
        by_key = dict(zip(aux, prepared))
        return {key: by_key[key] for key in primal}
    return rebuild(kind, aux, prepared)


def _finish_tangent(tangent: Any, value: Any) -> Any:
    """The output tangent with the output's shape (zeros broadcast where none flowed); a
    container output's tangent is a container of the same kind."""
    if isinstance(value, dict):
        return {key: _finish_tangent(_entry(tangent, key), item) for key, item in value.items()}
    if isinstance(value, tuple) or isinstance(value, list) and is_pytree_argument(value):
        items = [_finish_tangent(_entry(tangent, index), item)
                 for index, item in enumerate(value)]
        return rebuild(*children(value)[1:], items)
    if value is None or isinstance(value, (str, bytes)):
        return None                              # no tangent for a non-numeric output
    if tangent is None:
        tangent = 0.0
    if isinstance(value, float) and np.ndim(tangent) == 0:
        return float(tangent)
    if np.shape(tangent) != np.shape(value):
        tangent = np.broadcast_to(tangent, np.shape(value)).copy()
    return tangent


def _entry(container: Any, key: Any) -> Any:
    """``container[key]``, or None when the container is None or lacks it."""
    if container is None:
        return None
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None


def _zero_cotangent(value: Any) -> Any:
    from .runtime import zeros_like
    return zeros_like(value)


def _check_cotangent(cotangent: Any, value: Any, name: str) -> Any:
    """A cotangent shaped like the output (a tuple of them for a tuple output, a dict with
    the output's keys, missing ones zero, for a dict output)."""
    if isinstance(value, dict):
        if not isinstance(cotangent, dict) or set(cotangent) - set(value):
            raise InputError(f"{name} returns a dict with keys {sorted(map(str, value))}: give "
                             "a dict of cotangents with those keys")
        return {key: _zero_cotangent(item) if cotangent.get(key) is None
                else _check_cotangent(cotangent[key], item, name) for key, item in value.items()}
    if isinstance(value, list) and is_pytree_argument(value):
        if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(value):
            raise InputError(f"{name} returns a list of {len(value)} values: give a list of "
                             f"{len(value)} cotangents")
        return [_check_cotangent(c, v, name) for c, v in zip(cotangent, value)]
    if value is None or isinstance(value, (str, bytes)):
        return 0.0                               # a non-numeric output: nothing flows back
    if isinstance(value, tuple):
        if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(value):
            raise InputError(f"{name} returns a tuple of {len(value)} values: give a tuple of "
                             f"{len(value)} cotangents")
        return tuple(_check_cotangent(c, v, name) for c, v in zip(cotangent, value))
    if isinstance(cotangent, (list, tuple)):
        try:
            cotangent = np.asarray(cotangent, dtype=float)
        except (ValueError, TypeError):
            raise InputError(f"the cotangent for {name}'s output is not an array of numbers "
                             f"shaped like the output {np.shape(value)}") from None
    elif cotangent is None or isinstance(cotangent, (str, bytes, bool, np.bool_)):
        raise InputError(f"the cotangent for {name}'s output is a {type(cotangent).__name__}, "
                         f"not an array of numbers shaped like the output {np.shape(value)}")
    if np.shape(cotangent) != np.shape(value):
        raise InputError(f"the cotangent has shape {np.shape(cotangent)}, but {name}'s output "
                         f"has shape {np.shape(value)}")
    if isinstance(cotangent, complex) or getattr(cotangent, "dtype", None) is not None \
            and cotangent.dtype.kind == "c":
        if not np.iscomplexobj(value):
            raise InputError(f"the cotangent for {name}'s output is complex, but the output "
                             "is real: give a real cotangent")
        return np.conj(cotangent)       # carried as its conjugate (s2s/rules/registry.py)
    return cotangent


def _conjugated(tree: Any) -> Any:
    """``tree`` with its complex leaves conjugated (cotangents and gradients of the tape,
    which follows the user's convention, into the registry's, registry.py, and back)."""
    if isinstance(tree, complex):
        return tree.conjugate()
    if isinstance(tree, (np.ndarray, np.generic)):
        return np.conj(tree) if tree.dtype.kind == "c" else tree
    if type(tree) in (list, tuple):     # pytrees hold no complex leaves
        return type(tree)(_conjugated(item) for item in tree)
    return tree


def _plain_atoms(values: Sequence[Any], shapes: Sequence[Any]) -> bool:
    """Whether the arguments without a shape key hold no numbers (strings, None, functions,
    modules, classes): code for real arguments is right for them.  Lists, pytrees and other
    objects may hold complex values."""
    return all(shape is not None or value is None or isinstance(value, _ATOMS)
               for value, shape in zip(values, shapes))


_ATOMS = (str, bytes, type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
          np.ufunc)


def _finish_dispatched(gradient: Any, primal: Any, name: str) -> Any:
    """The gradient of a Dask, CuPy... array, of its type, shape and dtype, never computed:
    a gradient that is a number or a NumPy array (a zero, a constant) is spread onto an
    array of the primal's type (``zeros_like`` dispatches), so it stays lazy or on the GPU.
    A NumPy argument's gradient that depends on such arrays (parameters in memory, data in
    Dask) stays of their type too, with the argument's shape and dtype: computing it is the
    caller's ``dask.compute``."""
    if is_dispatched_array(primal) and (not is_dispatched_array(gradient)
                                        or type(gradient) is not type(primal)):
        gradient = np.zeros_like(primal) + gradient
    if tuple(gradient.shape) != tuple(primal.shape):
        raise S2SError(f"internal error: the gradient for '{name}' has shape "
                       f"{gradient.shape}, not {primal.shape}; please report this function")
    return gradient if gradient.dtype == primal.dtype else gradient.astype(primal.dtype)


def _is_complex(value: Any) -> bool:
    """Is ``value`` a complex number or array (cheap: no conversion of other values)?"""
    return isinstance(value, (complex, np.complexfloating)) \
        or isinstance(value, np.ndarray) and value.dtype.kind == "c" \
        or is_dispatched_array(value) and np.dtype(value.dtype).kind == "c"


def _proves_scalar_output(derivation: Derivation) -> bool:
    """Do the specialized shapes prove the function's output a scalar?"""
    return derivation.analysis.shapes.get(derivation.analysis.result) == ()


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool) \
        or isinstance(value, np.ndarray) and value.ndim == 0 \
        or is_dispatched_array(value) and value.ndim == 0


# ``check=True`` runs s2s.check, which s2s.verify installs here when it is imported (the
# package imports it): verify builds on this module, so this module does not import verify.
CHECKERS: list[Callable[..., Any]] = []


class Differentiable:
    """A function together with its generated derivative code (``@s2s.differentiate``).

    ``fallback="tape"`` (the default): when the source cannot be transformed, the function
    is differentiated on the runtime tape instead, ``mode`` is ``"tape"``,
    ``fallback_reason`` says why, and one :class:`s2s.FallbackWarning` is emitted.
    ``fallback="error"`` raises the :class:`s2s.UnsupportedError` instead.
    """

    def __init__(self, function: Callable[..., Any], wrt: Wrt = 0, fallback: str = "tape",
                 check: bool = False, backend: str = "python"):
        if fallback not in ("tape", "error"):
            raise S2SError(f"fallback must be 'tape' or 'error', not {fallback!r}")
        check_backend(backend)
        if is_compiled_function(function):       # @numba.njit: differentiate its Python
            function = function.py_func
        function = _with_source(function)
        _require_python(function)
        functools.update_wrapper(self, function)
        self.function = function
        self.__s2s_function__ = function      # lets other differentiated code call through us
        self.signature = _signature(function)
        self.params = tuple(self.signature.parameters)
        self.primal = _positional_call(function, self.signature)
        variadic = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                       for p in self.signature.parameters.values())
        # def f(*xs, **options): one per (number of positional arguments, extra keywords)
        self._variants: dict[tuple, Differentiable] | None = {} if variadic else None
        self._wrt = wrt
        if variadic:
            self.wrt_names, self.wrt_positions, self.single = (), (), not isinstance(wrt, tuple)
        else:
            self.wrt_names, self.wrt_positions, self.single = _resolve_wrt(function, self.params,
                                                                           wrt)
        self.fallback = fallback
        self.check = check
        self.fallback_reason: str | None = None
        # backend="numba": the compiled code and why it fell back (s2s/numba_backend.py)
        self._numba = NumbaBackend(_name(function), fallback) if backend == "numba" else None
        self._derivation: Derivation | None = None
        self._specialized: dict[tuple, Callable[..., Any]] = {}   # argument shapes -> vjp
        self._gradient_functions: dict[tuple, Callable[..., Any] | None] = {}  # -> grad_f

    # --- pickling (Dask's workers, multiprocessing) ------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The state, with the source text of the function and of the functions it calls
        that pickle by value (``__main__``, a notebook, closures): cloudpickle sends their
        code without a file name, and the loading process generates code from this text."""
        state = dict(self.__dict__)
        state["_carried_sources"] = carried_sources(self.function)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        remember_sources(state.pop("_carried_sources", {}))
        self.__dict__.update(state)

    # --- the derivative code ------------------------------------------------------------

    @property
    def derivation(self) -> Derivation | None:
        """The generated code's stages, or None when the function runs on the tape."""
        if self._variants is not None:
            variant = getattr(self, "_last_variant", None)
            if variant is None:
                raise UnsupportedError(
                    f"{_name(self.function)} takes {self._stars()}: its code is "
                    "generated for each number of positional arguments and keywords",
                    hint="call it first, or use f.source_for(*args)")
            return variant.derivation
        if self._derivation is None and self.fallback_reason is None:
            try:
                self._derivation = _derivation(self.function, self.wrt_names, self.single)
            except UnsupportedError as error:
                self._fall_back(error)
        return self._derivation

    def _fall_back(self, error: UnsupportedError) -> None:
        if self.fallback == "error":
            raise error
        self.fallback_reason = str(error)
        warnings.warn(FallbackWarning(
            f"s2s cannot generate derivative code for {_name(self.function)}; it is "
            f"differentiated on the runtime tape instead. Reason:\n{error}"), stacklevel=4)

    def _variant(self, count: int, keywords: Any = ()) -> Differentiable:
        """For ``def f(a, *xs, **options)``: the derivative of ``f`` called with ``count``
        positional arguments and the keywords ``keywords``, a function ``f(a, xs_0, xs_1,
        ..., *, scale)`` calling ``f``; ``wrt`` positions count the positional arguments as
        passed, as JAX's ``argnums`` do, and ``wrt`` names reach the collected keywords."""
        collects = any(p.kind is inspect.Parameter.VAR_KEYWORD
                       for p in self.signature.parameters.values())
        extra = tuple(sorted(set(keywords) - set(self.params))) if collects else ()
        variant = self._variants.get((count, extra))
        if variant is None:
            variant = Differentiable(_fixed_arity(self.function, self.signature, count, extra),
                                     wrt=self._wrt, fallback=self.fallback, check=self.check,
                                     backend=self.requested_backend)
            self._variants[(count, extra)] = variant
        self._last_variant = variant
        return variant

    def specialized_derivation(self, values: Sequence[Any]) -> Derivation | None:
        """The generated code specialized to the shapes of ``values`` (one per parameter):
        ``unbroadcast`` is left out wherever an operand provably has the result's shape.
        None when the function runs on the tape."""
        if self.fallback_reason is not None:
            return None
        try:
            return _derivation(self.function, self.wrt_names, self.single, "reverse",
                               tuple(map(argument_shape, values)))     # complex: from keys
        except UnsupportedError as error:
            self._fall_back(error)
            return None

    def source_for(self, *args: Any, backend: str | None = None, **kwargs: Any) -> str:
        """The generated code that ``grad``/``vjp`` run for these arguments: specialized to
        their shapes (``f.source`` is the code valid for every shape).  ``backend="numba"``
        (the default for a function differentiated with it): the lowered module ``grad``
        compiles for them."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).source_for(*args, backend=backend,
                                                                **kwargs)
        if (backend or self.requested_backend) == "numba":
            return numba_source(self, self._arguments(args, kwargs))
        derivation = self.specialized_derivation(self._arguments(args, kwargs))
        return self.source if derivation is None else derivation.source

    def compile_ahead(self, *args: Any, **kwargs: Any) -> str:
        """For ``backend="numba"``: build the gradient ``grad`` runs for these arguments as
        an extension module in the cache (``numba.pycc``; seconds), which later processes
        import without starting numba; the module's file.  An s2s error says why not (another
        backend, code that reads globals, no C compiler)."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).compile_ahead(*args, **kwargs)
        if self._numba is None:
            raise InputError(f"compile_ahead compiles the numba backend's gradient: "
                             f"differentiate {_name(self.function)} with backend='numba'")
        return numba_compile_ahead(self, self._arguments(args, kwargs))

    @property
    def mode(self) -> str:
        """``"source"`` (generated code) or ``"tape"`` (the runtime fallback)."""
        return "source" if self.derivation is not None else "tape"

    @property
    def requested_backend(self) -> str:
        return "python" if self._numba is None else "numba"

    @property
    def backend(self) -> str:
        """``"numba"`` (compiled code) or ``"python"``: the backend asked for, or
        ``"python"`` once numba could not compile it (``backend_reason`` says why)."""
        return "numba" if self._numba is not None and self._numba.reason is None else "python"

    @property
    def backend_reason(self) -> str | None:
        """Why ``backend="numba"`` fell back to the Python backend (None if it did not)."""
        return None if self._numba is None else self._numba.reason

    @property
    def source(self) -> str:
        """The generated gradient code (a ``vjp_<name>`` function with a nested pullback)."""
        if self.derivation is None:
            reason = "\n".join(f"#   {line}" for line in self.fallback_reason.splitlines())
            return (f"# s2s generated no code for {_name(self.function)}: it is "
                    f"differentiated on the runtime tape.\n# Reason:\n{reason}\n")
        return self.derivation.source

    def forward_derivation(self, wrt: tuple[str, ...] | None = None,
                           complex_arguments: bool = False,
                           dispatched: bool = False,
                           shapes: tuple | None = None) -> Derivation:
        """The forward-mode (tangent) code's stages, for ``wrt`` (default: this wrt);
        ``complex_arguments``: for arguments that may hold complex values; ``dispatched``:
        for Dask, CuPy... arrays among them; ``shapes``: specialized to these argument
        shapes (keys of :func:`argument_shape`)."""
        return _derivation(self.function, wrt or self.wrt_names, False, "forward", shapes,
                           complex_arguments, True if dispatched else None)

    def gradient_function(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """The closure-free generated gradient ``grad_<name>(params, seed=1.0)``; given
        arguments, the one specialized to their shapes (what ``grad`` runs for them).

        It returns the raw cotangents of the registry's convention (s2s/rules/registry.py):
        for a complex argument the conjugate of its gradient, for a real one the gradient
        as the real part (complex intermediates may add an imaginary part); ``grad``
        converts them."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).gradient_function(*args, **kwargs)
        shapes = None
        if args or kwargs:
            shapes = tuple(map(argument_shape, self._arguments(args, kwargs)))
        return _derivation(self.function, self.wrt_names, self.single, "gradient",
                           shapes).module.function

    @property
    def forward_source(self) -> str:
        """The generated forward-mode code: ``jvp_<name>(params, tangents)``."""
        return self.forward_derivation().source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    # --- evaluation ---------------------------------------------------------------------

    def _arguments(self, args: tuple, kwargs: dict) -> list[Any]:
        if kwargs or len(args) != len(self.params):
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise InputError(f"{_name(self.function)}: {exc}") from None
            bound.apply_defaults()
            values = [bound.arguments[name] for name in self.params]
        else:
            values = list(args)
        for name, position in zip(self.wrt_names, self.wrt_positions):
            value = values[position]
            kind = value.__class__
            if kind is not float and not (kind is np.ndarray and value.dtype.kind == "f"):
                values[position] = _prepare(name, value, _name(self.function))
        return values

    @contextlib.contextmanager
    def _user_errors_first(self, args: tuple, kwargs: dict):
        """Let only s2s errors and the user's own exceptions out of derivative code (see
        :meth:`_user_error_first`); ``grad`` and ``value_and_grad`` use a plain ``try``,
        cheaper per call."""
        try:
            yield
        except (S2SError, Warning):           # a warning the user made an error, too
            raise
        except Exception as error:
            self._user_error_first(error, args, kwargs)

    def _user_error_first(self, error: Exception, args: tuple, kwargs: dict) -> None:
        """When generated code (or the tape) raised ``error``, not an s2s error: run the
        function itself on the same arguments; if it raises, that exception propagates,
        from the user's own code; if it does not, the derivative code failed where the
        function does not, and an :class:`s2s.errors.EvaluationError` says so.  A rule's
        helper refusing an input its derivative does not cover (complex eigenvalues, a
        rank-deficient QR, a complex value where the rule is for real values only) is a
        :class:`s2s.errors.MissingRuleError`."""
        if isinstance(error, ComplexValueError):
            raise MissingRuleError(
                f"{_name(self.function)}: {error}",
                hint="compute it from real values (np.real, np.imag, np.abs of the complex "
                     "ones), or register a rule for complex values") from None
        if isinstance(error, DispatchedArrayRefusal):
            raise MissingRuleError(f"{_name(self.function)}: {error}",
                                   hint="compute the array first, or differentiate another "
                                        "formulation") from error
        if isinstance(error, RuleDomainError):
            raise missing_rule_from(error) from error
        if isinstance(error, SharedViewError):
            raise UnsupportedError(str(error)) from None
        try:
            values = self._arguments(tuple(args), dict(kwargs))
        except S2SError:
            values = None
        if values is not None:
            try:
                self.primal(*values)
            except Exception as own:
                raise own from None
        raise EvaluationError(_explain(error, _name(self.function))) from error

    def _stars(self) -> str:
        return ", ".join(("*" if p.kind is inspect.Parameter.VAR_POSITIONAL else "**") + p.name
                         for p in self.signature.parameters.values()
                         if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def _run(self, args: tuple, kwargs: dict):
        values = self._arguments(args, kwargs)
        shapes = tuple(map(argument_shape, values))
        function = self._specialized.get(shapes)
        if function is None:
            derivation = self.specialized_derivation(values)
            if derivation is not None:
                function = derivation.module.function
                if len(self._specialized) < 4 * _MAX_SPECIALIZATIONS:
                    self._specialized[shapes] = function
        if function is None:
            from .tape import vjp_with_tape
            value, tape_pullback = vjp_with_tape(self.primal, tuple(values), {},
                                                 self.wrt_positions)

            def pullback(cotangent):
                # the tape takes and gives them as the user does: conjugates of ours
                gradients = _conjugated(tape_pullback(_conjugated(cotangent)))
                return gradients[0] if self.single else gradients
            return values, value, pullback
        value, pullback = function(*values)
        return values, value, pullback

    def _gradients(self, values: list[Any], raw: Any) -> Any:
        if self.single:
            return _finish(raw, values[self.wrt_positions[0]], self.wrt_names[0])
        return tuple([_finish(gradient, values[position], name) for gradient, position, name
                      in zip(raw, self.wrt_positions, self.wrt_names)])

    def _check_scalar(self, value: Any) -> None:
        if value is None or isinstance(value, (str, bytes)):
            raise InputError(
                f"{_name(self.function)} returns {type(value).__name__}, not a number: grad "
                "needs a real scalar output (is a return statement missing?)")
        if _is_complex(value):
            raise InputError(
                f"{_name(self.function)} returns a complex value, and grad needs a real "
                "scalar output (the gradient of a complex function is not defined). Take a "
                "real part or a magnitude (np.real(z), np.abs(z) ** 2), or use f.vjp(...) and "
                "call the pullback with a complex cotangent v: it gives the gradient of "
                "Re(sum(conj(v) * f))")
        if not _is_scalar(value):
            shape = np.shape(value)
            raise NonScalarOutputError(
                f"{_name(self.function)} returns a value of shape {shape}, and grad needs a "
                f"scalar output. For a non-scalar output use f.vjp(...) and call the pullback "
                f"with a cotangent of shape {shape} (torch's backward(gradient=v)), or reduce "
                "the output to a scalar, e.g. with .sum()")

    def value_and_grad(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``(f(*args), gradient)``; the gradient is a tuple when ``wrt`` is a tuple."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).value_and_grad(*args, **kwargs)
        if self._numba is not None and self._numba.reason is None and not self.check:
            try:
                result = numba_value_and_grad(self, args, kwargs)
                if result is not None:
                    return result
            except (S2SError, Warning):
                raise
            except Exception as error:
                self._user_error_first(error, args, kwargs)
        try:
            values, value, pullback = self._run(args, kwargs)
            self._check_scalar(value)
            if self.check:              # debugging: every method must agree, every call
                CHECKERS[0](self.function, *values, wrt=self.wrt_positions if not self.single
                            else self.wrt_positions[0])
            return value, self._gradients(values, pullback(1.0))
        except (S2SError, Warning):
            raise
        except Exception as error:
            self._user_error_first(error, args, kwargs)

    def grad(self, *args: Any, **kwargs: Any) -> Any:
        """The gradient of the scalar output with respect to ``wrt``."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).grad(*args, **kwargs)
        try:
            numba = self._numba
            if numba is not None and numba.fast and not kwargs and not self.check:
                gradient = numba.fast_gradient(self, args)   # compiled code that already ran
                if gradient is not None:
                    return gradient
            if not self.check:
                values = self._arguments(args, kwargs)
                shapes = tuple(map(argument_shape, values))
                gradient = self._gradient_functions.get(shapes, False)
                if gradient is False:
                    gradient = self._gradient_function(values)
                if gradient is not None and (None not in shapes or _plain_atoms(values, shapes)):
                    return self._gradients(values, gradient(*values))
            return self.value_and_grad(*args, **kwargs)[1]
        except (S2SError, Warning):
            raise
        except Exception as error:
            self._user_error_first(error, args, kwargs)

    def _gradient_function(self, values: list[Any]) -> Callable[..., Any] | None:
        """What ``grad`` runs for these argument shapes, when they prove the output a scalar
        (so the value need not be computed to check it): the specialized forward-mode code
        for one scalar input, else the closure-free ``grad_<name>``; None otherwise, or
        when the function runs on the tape (``value_and_grad`` then takes over)."""
        shapes = tuple(map(argument_shape, values))
        try:
            return self._gradient_functions[shapes]
        except KeyError:
            pass
        function = None
        if self._numba is not None and None in shapes:
            numba_refuse_arguments(self, values, shapes)
        if self.fallback_reason is None and len(self._gradient_functions) < 4 * \
                _MAX_SPECIALIZATIONS and any(shape is not None for shape in shapes) \
                and not any(map(is_complex_key, shapes)):    # real arguments (grad checks)
            if self.single and shapes[self.wrt_positions[0]] == ():
                function = self._forward_gradient(shapes)
                if function is not None:
                    function = numba_gradient(self, function, function.derivation, "forward",
                                              shapes)
            if function is None:
                try:
                    derivation = _derivation(self.function, self.wrt_names, self.single,
                                             "gradient", shapes, complex_arguments=False)
                except UnsupportedError:
                    derivation = None           # value_and_grad falls back, and says why
                if derivation is not None and _proves_scalar_output(derivation) \
                        and not derivation.analysis.may_be_complex():
                    function = derivation.module.function   # the value is never computed
                    function = numba_gradient(self, function, derivation, "gradient", shapes)
            self._gradient_functions[shapes] = function
        return function

    def _forward_gradient(self, shapes: tuple) -> Callable[..., Any] | None:
        """For one scalar input, forward mode is the cheaper gradient: one sweep, nothing
        saved for a reverse one (``jvp_<name>`` with the tangent 1.0)."""
        try:
            derivation = _derivation(self.function, self.wrt_names, False, "forward", shapes,
                                     complex_arguments=False)
        except S2SError:
            return None                         # no forward rule somewhere: reverse mode
        if not _proves_scalar_output(derivation):
            return None
        jvp = derivation.module.function

        def forward_gradient(*values: Any) -> Any:
            value, tangent = jvp(*values, 1.0)
            if _is_complex(value):
                self._check_scalar(value)
            return tangent

        forward_gradient.derivation = derivation
        return forward_gradient

    def vjp(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], Any]]:
        """``(f(*args), pullback)``; ``pullback(cotangent)`` gives the gradient(s)."""
        if self._variants is not None:
            return self._variant(len(args), kwargs).vjp(*args, **kwargs)
        with self._user_errors_first(args, kwargs):
            values, value, pullback = self._run(args, kwargs)

        def checked_pullback(cotangent: Any) -> Any:
            with self._user_errors_first(args, kwargs):
                cotangent = _check_cotangent(cotangent, value, _name(self.function))
                return self._gradients(values, pullback(cotangent))

        return value, checked_pullback

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
        """Forward mode: ``(f(*primals), J @ tangents)``.

        ``tangents`` either has one entry per primal (``None`` for an argument without a
        tangent, as in ``jax.jvp``), or one per ``wrt`` parameter of this function.
        Parameters after the primals take their default values.
        """
        if self._variants is not None:
            return self._variant(len(primals)).jvp(primals, tangents)
        with self._user_errors_first(tuple(primals), {}):
            primals, tangents = tuple(primals), tuple(tangents)
            given = len(primals)
            if given < len(self.params):
                try:
                    bound = self.signature.bind(*primals)
                except TypeError as exc:
                    raise InputError(f"jvp: {_name(self.function)}: {exc}") from None
                bound.apply_defaults()
                primals = tuple(bound.arguments[name] for name in self.params)
                if len(tangents) == given:
                    tangents = tangents + (None,) * (len(primals) - given)
            if len(tangents) == len(primals):
                positions = tuple(i for i, t in enumerate(tangents) if t is not None)
            elif len(tangents) == len(self.wrt_positions):
                positions = self.wrt_positions
                aligned: list[Any] = [None] * len(primals)
                for position, tangent in zip(positions, tangents):
                    aligned[position] = tangent
                tangents = tuple(aligned)
            else:
                raise InputError(f"jvp: {len(tangents)} tangents for {len(primals)} primals; give "
                                 f"one per primal or one per wrt parameter {self.wrt_names}")
            if len(primals) != len(self.params):
                raise InputError(f"jvp: {_name(self.function)} takes {len(self.params)} positional "
                                 f"arguments {self.params}, {len(primals)} given")
            if not positions:
                raise InputError("jvp: every tangent is None; give at least one")
            values = list(primals)
            for position in positions:
                values[position] = _prepare(self.params[position], values[position],
                                            _name(self.function))
            tangent_values = [_prepare_tangent(self.params[p], tangents[p], values[p])
                              for p in positions]
            wrt = tuple(self.params[p] for p in positions)
            if self._numba is not None and self._numba.reason is None:
                result = numba_jvp(self, wrt, values, tangent_values)
                if result is not None:
                    return result[0], _finish_tangent(result[1], result[0])
            derivation = self.forward_derivation(
                wrt, _may_hold_complex(tuple(map(argument_shape, values))),
                _any_dispatched(values) or _any_dispatched(tangent_values))
            value, tangent = derivation.module.function(*values, *tangent_values)
            return value, _finish_tangent(tangent, value)

    def __repr__(self) -> str:
        return f"<s2s.differentiate {_name(self.function)} wrt={self.wrt_names}>"

    # --- notebook display: the generated code, highlighted --------------------------------

    def _display_source(self) -> str:
        try:
            return self.source
        except S2SError as error:            # fallback="error" and an unsupported construct
            return "".join(f"# {line}\n" for line in str(error).splitlines())

    def _repr_markdown_(self) -> str:
        return Code(self._display_source())._repr_markdown_()

    def _repr_html_(self) -> str:
        return Code(self._display_source())._repr_html_()


def differentiate(function: Callable[..., Any] | None = None, *, wrt: Wrt = 0,
                  fallback: str = "tape", check: bool = False, backend: str = "python"):
    """Decorator: ``@s2s.differentiate`` or ``@s2s.differentiate(wrt=("x", "w"))``.

    ``check=True`` runs :func:`s2s.check` on every ``grad`` call (slow; for debugging).
    ``backend="numba"`` compiles the derivative code with numba (s2s/numba_backend.py).
    """
    if function is None:
        return lambda inner: Differentiable(inner, wrt=wrt, fallback=fallback, check=check,
                                            backend=backend)
    return Differentiable(function, wrt=wrt, fallback=fallback, check=check, backend=backend)


def _differentiable(function: Callable[..., Any], wrt: Wrt,
                    backend: str | None = None) -> Differentiable:
    if isinstance(function, Differentiable):
        return Differentiable(function.function, wrt=wrt, fallback=function.fallback,
                              backend=backend or function.requested_backend)
    return Differentiable(function, wrt=wrt, backend=backend or "python")


def grad(function: Callable[..., Any], wrt: Wrt = 0,
         backend: str | None = None) -> Callable[..., Any]:
    """A plain function computing the gradient of ``function`` with respect to ``wrt``.

    ``grad(grad(f))`` (and further) works for scalar functions of a scalar: each level
    differentiates the previous level's generated code in forward mode.
    """
    inner = getattr(function, "__s2s_derivative__", None)
    if inner is not None:
        base, order = inner
        return _higher_derivative(base, order + 1)
    differentiable = _differentiable(function, wrt, backend)

    @functools.wraps(differentiable.function)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return differentiable.grad(*args, **kwargs)

    gradient.__s2s_derivative__ = (differentiable, 1)
    return gradient


def _derivative_levels(base: Differentiable, order: int,
                       complex_arguments: bool = False) -> list[Derivation]:
    """The generated code of each level of ``grad(...grad(f))``: the closure-free gradient,
    then forward mode over the previous level, ``order - 1`` times."""
    name = base.params[base.wrt_positions[0]]
    levels = [_derivation(base.function, base.wrt_names, base.single, "gradient", None,
                          complex_arguments)]
    for _ in range(order - 1):
        levels.append(Differentiable(levels[-1].module.function, wrt=name)
                      .forward_derivation((name,), complex_arguments))
    return levels


def _higher_derivative(base: Differentiable, order: int) -> Callable[..., Any]:
    if not base.single:
        raise S2SError("grad(grad(f)) needs f differentiated with respect to one parameter")

    @functools.wraps(base.function)
    def derivative(*args: Any, **kwargs: Any) -> Any:
        with base._user_errors_first(args, kwargs):
            return _evaluate_higher(base, order, args, kwargs)

    derivative.__s2s_derivative__ = (base, order)
    return derivative


def _evaluate_higher(base: Differentiable, order: int, args: tuple, kwargs: dict) -> Any:
    """``grad(...grad(f))`` of order ``order`` at ``args``."""
    values = base._arguments(args, kwargs)
    position = base.wrt_positions[0]
    if _is_complex(values[position]):
        raise InputError(f"grad(grad({_name(base.function)})): the gradient with respect to a "
                         "complex argument is complex, and grad needs a real output; use "
                         "s2s.hvp for second derivatives")
    if not isinstance(values[position], float) and np.ndim(values[position]) != 0:
        raise NonScalarOutputError(
            f"grad(grad({_name(base.function)})): the gradient of a function of an array "
            f"is an array, not a scalar; use s2s.hessian or s2s.hvp instead")
    complex_arguments = _may_hold_complex(tuple(map(argument_shape, values)))
    function = _derivative_levels(base, order, complex_arguments)[-1].module.function
    call = list(values) + [1.0] * order           # the reverse seed, then d x / d x
    result = function(*call)
    for _ in range(order - 1):
        result = result[1]
    return float(result) if isinstance(values[position], float) else result


def hessian(function: Callable[..., Any], wrt: Wrt = 0) -> Callable[..., Any]:
    """A function computing the Hessian (shape ``x.shape + x.shape``), forward-over-reverse."""
    differentiable = _differentiable(function, wrt)
    if not differentiable.single:
        raise S2SError("hessian: give one wrt parameter")

    @functools.wraps(differentiable.function)
    def hessian_function(*args: Any, **kwargs: Any) -> Any:
        with differentiable._user_errors_first(args, kwargs):
            return _evaluate_hessian(differentiable, args, kwargs)

    return hessian_function


def _evaluate_hessian(differentiable: Differentiable, args: tuple, kwargs: dict) -> Any:
    """The Hessian at ``args``, one Hessian-vector product per input element."""
    values = differentiable._arguments(args, kwargs)
    x = values[differentiable.wrt_positions[0]]
    if not is_node(x) and _is_complex(x):
        raise InputError(f"hessian: the argument of {_name(differentiable.function)} is "
                         "complex; its Hessian is not a complex matrix unless the function is "
                         "holomorphic. Use s2s.hvp(f, z, v): the derivative of the gradient "
                         "along v, in the gradient's convention")
    _refuse_complex_output(differentiable, values, "hessian")
    if is_node(x):
        return _evaluate_hessian_tree(differentiable, values, x)
    shape = np.shape(x)
    if _any_dispatched(values):
        return _stacked([_hvp(differentiable, values, _basis(shape, index))
                         for index in np.ndindex(*shape)], shape, shape, -1)
    columns = np.zeros(shape + shape)
    for index in np.ndindex(*shape):
        columns[(Ellipsis,) + index] = _hvp(differentiable, values, _basis(shape, index))
    if isinstance(x, float):
        return float(columns)
    return columns.astype(np.result_type(x, np.float32))


def _float_blocks(tree: Any, block: Callable[[int, Any], Any]) -> Any:
    """A tree shaped like ``tree`` (dicts in its key order) holding ``block(k, leaf)`` at
    its ``k``-th float leaf (in pytree order) and None at its other leaves."""
    count = [0]

    def visit(value: Any) -> Any:
        if is_node(value):
            items, kind, aux = children(value)
            built = [visit(item) for item in items]
            if kind is dict:
                by_key = dict(zip(aux, built))
                return {key: by_key[key] for key in value}
            return rebuild(kind, aux, built)
        if not is_float_leaf(value):
            return None
        count[0] += 1
        return block(count[0] - 1, value)

    return visit(tree)


def _slices(tree: Any) -> list[tuple[slice, tuple[int, ...]]]:
    """Where each float leaf of ``tree`` sits in ``ravel_pytree(tree)``'s vector, and its shape."""
    out, start = [], 0
    for leaf in tree_leaves(tree):
        if is_float_leaf(leaf):
            size = int(np.size(leaf))
            out.append((slice(start, start + size), np.shape(leaf)))
            start += size
    return out


def _evaluate_hessian_tree(differentiable: Differentiable, values: list[Any], x: Any) -> Any:
    """The Hessian with respect to a pytree, as in JAX: a tree of trees, the block of
    leaves ``a`` and ``b`` shaped ``a.shape + b.shape`` (None at non-float leaves)."""
    name = differentiable.params[differentiable.wrt_positions[0]]
    flat, unravel = ravel_pytree(x)
    columns = []
    for index in range(flat.size):
        unit = np.zeros(flat.size)
        unit[index] = 1.0
        direction = _prepare_tangent(name, unravel(unit), x)
        columns.append(ravel_pytree(_hvp(differentiable, values, direction))[0])
    matrix = np.stack(columns, axis=1) if columns else np.zeros((0, 0))
    where = _slices(x)
    return _float_blocks(x, lambda i, a: _float_blocks(
        x, lambda j, b: matrix[where[i][0], where[j][0]].reshape(where[i][1] + where[j][1])))


def _hvp(differentiable: Differentiable, values: list[Any], direction: Any) -> Any:
    position = differentiable.wrt_positions[0]
    name = differentiable.params[position]
    if differentiable._numba is not None and differentiable._numba.reason is None \
            and not _may_hold_complex(tuple(map(argument_shape, values))):
        product = numba_hvp(differentiable, values, direction)
        if product is not None:
            return product
    gradient = _derivation(differentiable.function, differentiable.wrt_names,
                           differentiable.single, "gradient", None,
                           _may_hold_complex(tuple(map(argument_shape, values))),
                           _any_dispatched(values)).module.function
    level = Differentiable(gradient, wrt=name)
    tangents: list[Any] = [None] * (len(values) + 1)
    tangents[position] = direction
    _, product = level.jvp(list(values) + [1.0], tangents)
    x = values[position]
    if not is_node(x) and _is_complex(x):    # the tangent of the conjugated gradient
        return np.conj(product)
    return np.real(product) if _is_complex(product) else product


def _refuse_complex_output(differentiable: Differentiable, values: list[Any], what: str) -> None:
    """Second derivatives are taken of a real scalar function: a complex output is refused
    (the generated gradient code does not compute the value to check it)."""
    value = differentiable.primal(*values)
    if _is_complex(value):
        raise InputError(f"{what}: {_name(differentiable.function)} returns a complex value; "
                         "second derivatives are of real-valued functions (take np.real(...) "
                         "or np.abs(...) ** 2)")


def hvp(function: Callable[..., Any], x: Any, v: Any, *args: Any,
        backend: str | None = None) -> Any:
    """The Hessian-vector product ``H(x) @ v`` of ``function(x, *args)`` in one pass of
    forward mode over the generated gradient code, without forming ``H``."""
    differentiable = _differentiable(function, 0, backend)
    with differentiable._user_errors_first((x, *args), {}):
        values = differentiable._arguments((x, *args), {})
        direction = _prepare_tangent(differentiable.params[0], v, values[0])
        _refuse_complex_output(differentiable, values, "hvp")
        return _hvp(differentiable, values, direction)


def value_and_grad(function: Callable[..., Any], wrt: Wrt = 0, has_aux: bool = False,
                   backend: str | None = None) -> Callable[..., Any]:
    """A plain function computing ``(function(*args), gradient)``.

    With ``has_aux=True`` the function returns ``(loss, aux)``: the gradient is that of
    ``loss``, and the result is ``((loss, aux), gradient)`` with ``aux`` untouched.
    """
    differentiable = _differentiable(function, wrt, backend)

    @functools.wraps(differentiable.function)
    def value_and_gradient(*args: Any, **kwargs: Any) -> Any:
        if not has_aux:
            return differentiable.value_and_grad(*args, **kwargs)
        value, pullback = differentiable.vjp(*args, **kwargs)
        if not isinstance(value, tuple) or len(value) != 2:
            raise InputError(f"has_aux=True: {_name(differentiable.function)} must return a "
                             "pair (loss, aux)")
        loss, aux = value
        differentiable._check_scalar(loss)
        from .runtime import zeros_like
        return (loss, aux), pullback((1.0, zeros_like(aux)))

    return value_and_gradient


def jacobian(function: Callable[..., Any], wrt: Wrt = 0,
             mode: str = "auto") -> Callable[..., Any]:
    """A function computing the Jacobian, shaped ``output.shape + input.shape``.

    ``mode="reverse"`` stacks one VJP per output element, ``"forward"`` one JVP per input
    element; ``"auto"`` picks forward when the inputs have fewer elements than the output.
    With a tuple ``wrt``, a tuple of Jacobians, one per input.
    """
    if mode not in ("auto", "reverse", "forward"):
        raise S2SError(f"mode must be 'auto', 'reverse' or 'forward', not {mode!r}")
    differentiable = _differentiable(function, wrt)

    @functools.wraps(differentiable.function)
    def jacobian_function(*args: Any, **kwargs: Any) -> Any:
        with differentiable._user_errors_first(args, kwargs):
            values = differentiable._arguments(args, kwargs)
            inputs = [values[p] for p in differentiable.wrt_positions]
            if any(not is_node(x) and _is_complex(x) for x in inputs):
                raise InputError(
                    f"jacobian: an argument of {_name(differentiable.function)} is complex: "
                    "the Jacobian of a function of complex arguments is a complex matrix "
                    "only if it is holomorphic; use s2s.jvp and s2s.vjp")
            value = differentiable.primal(*values)
            out_shape = np.shape(value)
            if any(is_node(x) for x in inputs):
                blocks = _jacobian_trees(differentiable, values, out_shape)
                return blocks[0] if differentiable.single else tuple(blocks)
            chosen = mode
            if _is_complex(value):
                if mode == "reverse":
                    raise InputError("jacobian: the output is complex; mode='reverse' "
                                     "computes Jacobians of real outputs (use 'forward')")
                chosen = "forward"          # a complex Jacobian, one column per real input
            if chosen == "auto":
                chosen = "forward" if sum(math.prod(np.shape(x)) for x in inputs) \
                    < math.prod(out_shape) \
                    else "reverse"
            blocks = _jacobian_reverse(differentiable, values, out_shape) if chosen == "reverse" \
                else _jacobian_forward(differentiable, values, inputs, out_shape,
                                       np.result_type(value, np.float64))
            return blocks[0] if differentiable.single else tuple(blocks)

    return jacobian_function


def _basis(shape: tuple[int, ...], index: tuple[int, ...]) -> Any:
    if not shape:
        return 1.0
    unit = np.zeros(shape)
    unit[index] = 1.0
    return unit


def _any_dispatched(values: Sequence[Any]) -> bool:
    return any(map(is_dispatched_array, values))


def _stacked(pieces: list[Any], outer: tuple, inner: tuple, axis: int) -> Any:
    """Rows (``axis=0``: one per index of ``outer``) or columns (``axis=-1``: one per index
    of ``inner``) of a Jacobian or Hessian stacked into a block ``outer + inner`` with
    ``np.stack``, which keeps a Dask or CuPy array its type (and a Dask one lazy)."""
    return np.reshape(np.stack(pieces, axis=axis), outer + inner)


def _jacobian_reverse(differentiable: Differentiable, values: list[Any],
                      out_shape: tuple[int, ...]) -> list[np.ndarray]:
    _, _, pullback = differentiable._run(tuple(values), {})
    inputs = [values[p] for p in differentiable.wrt_positions]
    if _any_dispatched(values):
        rows = [differentiable._gradients(values, pullback(_basis(out_shape, index)))
                for index in np.ndindex(*out_shape)]
        rows = [(row,) if differentiable.single else row for row in rows]
        return [_stacked([row[k] for row in rows], out_shape, np.shape(x), 0)
                for k, x in enumerate(inputs)]
    blocks = [np.zeros(out_shape + np.shape(x)) for x in inputs]
    for index in np.ndindex(*out_shape):
        rows = differentiable._gradients(values, pullback(_basis(out_shape, index)))
        rows = (rows,) if differentiable.single else rows
        for block, row in zip(blocks, rows):
            block[index] = row
    return blocks


def _jacobian_trees(differentiable: Differentiable, values: list[Any],
                    out_shape: tuple[int, ...]) -> list[Any]:
    """Jacobians with respect to pytrees (reverse mode): for each input a tree like it,
    each float leaf holding its block ``out_shape + leaf.shape``, None at the others."""
    _, _, pullback = differentiable._run(tuple(values), {})
    inputs = [values[p] for p in differentiable.wrt_positions]
    rows: list[list[np.ndarray]] = [[] for _ in inputs]
    for index in np.ndindex(*out_shape):
        gradients = differentiable._gradients(values, pullback(_basis(out_shape, index)))
        gradients = (gradients,) if differentiable.single else gradients
        for row, x, gradient in zip(rows, inputs, gradients):
            row.append(ravel_pytree(gradient)[0] if is_node(x) else np.ravel(gradient))
    blocks = []
    for x, row in zip(inputs, rows):
        matrix = np.stack(row).reshape(out_shape + (-1,))
        if not is_node(x):
            blocks.append(matrix.reshape(out_shape + np.shape(x)))
            continue
        where = _slices(x)
        blocks.append(_float_blocks(x, lambda k, leaf, matrix=matrix, where=where:
                                    matrix[..., where[k][0]].reshape(out_shape + where[k][1])))
    return blocks


def _jacobian_forward(differentiable: Differentiable, values: list[Any], inputs: list[Any],
                      out_shape: tuple[int, ...], dtype: Any = np.float64) -> list[np.ndarray]:
    blocks = []
    for position, x in zip(differentiable.wrt_positions, inputs):
        in_shape = np.shape(x)
        if _any_dispatched(values):
            columns = []
            for index in np.ndindex(*in_shape):
                tangents: list[Any] = [None] * len(values)
                tangents[position] = _basis(in_shape, index)
                columns.append(differentiable.jvp(values, tangents)[1])
            blocks.append(_stacked(columns, out_shape, in_shape, -1))
            continue
        block = np.zeros(out_shape + in_shape, dtype=dtype)
        for index in np.ndindex(*in_shape):
            tangents: list[Any] = [None] * len(values)
            tangents[position] = _basis(in_shape, index)
            _, column = differentiable.jvp(values, tangents)
            block[(Ellipsis,) + index] = column
        blocks.append(block)
    return blocks


def vjp(function: Callable[..., Any], *args: Any, wrt: Wrt = 0, **kwargs: Any):
    """``(function(*args), pullback)`` where ``pullback(cotangent)`` gives the gradient(s)."""
    return _differentiable(function, wrt).vjp(*args, **kwargs)


def jvp(function: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        backend: str | None = None):
    """Forward mode: ``(function(*primals), tangent_out)``; ``None`` tangents are zero."""
    if isinstance(function, Differentiable):
        backend = backend or function.requested_backend
        function = function.function
    return Differentiable(function, wrt=0, backend=backend or "python").jvp(primals, tangents)


def show(function: Callable[..., Any], wrt: Wrt | None = None, mode: str = "reverse",
         backend: str | None = None, args: Sequence[Any] | None = None) -> None:
    """Print the generated derivative code of ``function`` (``mode``: reverse or forward).

    ``backend="numba"`` with example ``args``: the lowered module numba compiles for them.
    Inside IPython or Jupyter the code is displayed instead (highlighted in a notebook).
    """
    if mode not in ("reverse", "forward"):
        raise S2SError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    higher = getattr(function, "__s2s_derivative__", None)
    if backend == "numba" or args is not None:
        if args is None:
            raise S2SError("s2s.show(f, backend='numba') needs args=(...): numba code is "
                           "compiled for the ranks and dtype of example arguments")
        base = higher[0] if higher is not None else function
        if wrt is None:
            wrt = base._wrt if isinstance(base, Differentiable) else 0
        if not isinstance(base, Differentiable) or base.requested_backend != (backend or
                                                                               "python"):
            base = _differentiable(base, wrt, backend)
        text = base.source_for(*args, backend=backend)
    elif higher is not None and higher[1] > 1:          # grad(grad(f)): the last level's code
        text = _derivative_levels(*higher)[-1].source
    else:
        if higher is not None:                        # s2s.grad(f): f's code
            differentiable = higher[0]
        elif isinstance(function, Differentiable) and wrt is None:
            differentiable = function
        else:
            differentiable = _differentiable(function, 0 if wrt is None else wrt)
        text = differentiable.source if mode == "reverse" else differentiable.forward_source
    if ipython_shell() is not None:          # a notebook shows it highlighted
        from IPython.display import display
        display(Code(text))
        return
    print(text, end="")
