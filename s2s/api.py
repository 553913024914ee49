"""The public functions: ``differentiate``, ``grad``, ``value_and_grad``, ``vjp``, ``show``.

A thin layer over :func:`s2s.pipeline.derive`: it resolves ``wrt``, checks and converts
the arguments, caches one derivation per (function, wrt), runs the generated code and
gives gradients the shape and float dtype of their inputs.
"""
from __future__ import annotations

import functools
import inspect
import warnings
import weakref
from typing import Any, Callable, Sequence, Union

import numpy as np

from .errors import (FallbackWarning, InputError, NonScalarOutputError, S2SError,
                     UnsupportedError, WrtError)
from .pipeline import Derivation, derive

Wrt = Union[int, str, Sequence[Union[int, str]]]

_DERIVATIONS: "weakref.WeakKeyDictionary[Callable, dict]" = weakref.WeakKeyDictionary()


def _derivation(function: Callable[..., Any], wrt: tuple[str, ...], single: bool) -> Derivation:
    per_function = _DERIVATIONS.setdefault(function, {})
    key = (wrt, single)
    if key not in per_function:
        per_function[key] = derive(function, wrt, single)
    return per_function[key]


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
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise InputError(f"{function_name}: argument '{name}' is a bool; differentiate "
                         "with respect to float values")
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
        if value.dtype.kind in "iu":
            value = value.astype(np.float64)
    if isinstance(value, (np.ndarray, np.generic)):
        kind = value.dtype.kind
        if kind == "f":
            return value
        if kind in "iub":
            raise InputError(
                f"{function_name}: argument '{name}' has integer dtype {value.dtype}; gradients "
                f"are defined for floating-point inputs: pass {name}.astype(float)")
        raise InputError(f"{function_name}: argument '{name}' has dtype {value.dtype}, which "
                         "s2s does not differentiate (use float32 or float64)")
    raise InputError(f"{function_name}: argument '{name}' is a {type(value).__name__}; s2s "
                     "differentiates with respect to floats and NumPy float arrays")


def _finish(gradient: Any, primal: Any, name: str) -> Any:
    """Give a gradient the shape and float dtype of its input."""
    if isinstance(primal, float):
        return float(gradient)
    shape, dtype = np.shape(primal), primal.dtype
    if np.shape(gradient) != shape:
        raise S2SError(f"internal error: the gradient for '{name}' has shape "
                       f"{np.shape(gradient)}, not {shape}; please report this function")
    if isinstance(primal, np.generic):
        return dtype.type(gradient)
    if not isinstance(gradient, np.ndarray) or gradient.dtype != dtype \
            or not gradient.flags.writeable:
        gradient = np.array(gradient, dtype=dtype)
    return gradient


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool) \
        or isinstance(value, np.ndarray) and value.ndim == 0


class Differentiable:
    """A function together with its generated derivative code (``@s2s.differentiate``).

    ``fallback="tape"`` (the default): when the source cannot be transformed, the function
    is differentiated on the runtime tape instead, ``mode`` is ``"tape"``,
    ``fallback_reason`` says why, and one :class:`s2s.FallbackWarning` is emitted.
    ``fallback="error"`` raises the :class:`s2s.UnsupportedError` instead.
    """

    def __init__(self, function: Callable[..., Any], wrt: Wrt = 0, fallback: str = "tape"):
        if fallback not in ("tape", "error"):
            raise S2SError(f"fallback must be 'tape' or 'error', not {fallback!r}")
        functools.update_wrapper(self, function)
        self.function = function
        self.__s2s_function__ = function      # lets other differentiated code call through us
        self.signature = inspect.signature(function)
        self.params = tuple(self.signature.parameters)
        self.wrt_names, self.wrt_positions, self.single = _resolve_wrt(function, self.params, wrt)
        self.fallback = fallback
        self.fallback_reason: str | None = None
        self._derivation: Derivation | None = None

    # --- the derivative code ------------------------------------------------------------

    @property
    def derivation(self) -> Derivation | None:
        """The generated code's stages, or None when the function runs on the tape."""
        if self._derivation is None and self.fallback_reason is None:
            try:
                self._derivation = _derivation(self.function, self.wrt_names, self.single)
            except UnsupportedError as error:
                if self.fallback == "error":
                    raise
                self.fallback_reason = str(error)
                warnings.warn(FallbackWarning(
                    f"s2s cannot generate derivative code for {_name(self.function)}; it is "
                    f"differentiated on the runtime tape instead. Reason:\n{error}"),
                    stacklevel=3)
        return self._derivation

    @property
    def mode(self) -> str:
        """``"source"`` (generated code) or ``"tape"`` (the runtime fallback)."""
        return "source" if self.derivation is not None else "tape"

    @property
    def source(self) -> str:
        """The generated gradient code (a ``vjp_<name>`` function with a nested pullback)."""
        if self.derivation is None:
            reason = "\n".join(f"#   {line}" for line in self.fallback_reason.splitlines())
            return (f"# s2s generated no code for {_name(self.function)}: it is "
                    f"differentiated on the runtime tape.\n# Reason:\n{reason}\n")
        return self.derivation.source

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
            values[position] = _prepare(name, values[position], _name(self.function))
        return values

    def _run(self, args: tuple, kwargs: dict):
        values = self._arguments(args, kwargs)
        derivation = self.derivation
        if derivation is None:
            from .tape import vjp_with_tape
            value, tape_pullback = vjp_with_tape(self.function, tuple(values), {},
                                                 self.wrt_positions)

            def pullback(cotangent):
                gradients = tape_pullback(cotangent)
                return gradients[0] if self.single else gradients
            return values, value, pullback
        value, pullback = derivation.module.function(*values)
        return values, value, pullback

    def _gradients(self, values: list[Any], raw: Any) -> Any:
        if self.single:
            return _finish(raw, values[self.wrt_positions[0]], self.wrt_names[0])
        return tuple(_finish(gradient, values[position], name)
                     for gradient, position, name in zip(raw, self.wrt_positions, self.wrt_names))

    def _check_scalar(self, value: Any) -> None:
        if not _is_scalar(value):
            shape = np.shape(value)
            raise NonScalarOutputError(
                f"{_name(self.function)} returns a value of shape {shape}, and grad needs a "
                f"scalar output. For a non-scalar output use f.vjp(...) and call the pullback "
                f"with a cotangent of shape {shape} (torch's backward(gradient=v)), or reduce "
                "the output to a scalar, e.g. with .sum()")

    def value_and_grad(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``(f(*args), gradient)``; the gradient is a tuple when ``wrt`` is a tuple."""
        values, value, pullback = self._run(args, kwargs)
        self._check_scalar(value)
        return value, self._gradients(values, pullback(1.0))

    def grad(self, *args: Any, **kwargs: Any) -> Any:
        """The gradient of the scalar output with respect to ``wrt``."""
        return self.value_and_grad(*args, **kwargs)[1]

    def vjp(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], Any]]:
        """``(f(*args), pullback)``; ``pullback(cotangent)`` gives the gradient(s)."""
        values, value, pullback = self._run(args, kwargs)
        shape = np.shape(value)

        def checked_pullback(cotangent: Any) -> Any:
            if np.shape(cotangent) != shape:
                raise InputError(f"the cotangent has shape {np.shape(cotangent)}, but "
                                 f"{_name(self.function)}'s output has shape {shape}")
            if isinstance(cotangent, (list, tuple)):
                cotangent = np.asarray(cotangent, dtype=float)
            return self._gradients(values, pullback(cotangent))

        return value, checked_pullback

    def __repr__(self) -> str:
        return f"<s2s.differentiate {_name(self.function)} wrt={self.wrt_names}>"


def differentiate(function: Callable[..., Any] | None = None, *, wrt: Wrt = 0,
                  fallback: str = "tape"):
    """Decorator: ``@s2s.differentiate`` or ``@s2s.differentiate(wrt=("x", "w"))``."""
    if function is None:
        return lambda inner: Differentiable(inner, wrt=wrt, fallback=fallback)
    return Differentiable(function, wrt=wrt, fallback=fallback)


def _differentiable(function: Callable[..., Any], wrt: Wrt) -> Differentiable:
    if isinstance(function, Differentiable):
        return Differentiable(function.function, wrt=wrt, fallback=function.fallback)
    return Differentiable(function, wrt=wrt)


def grad(function: Callable[..., Any], wrt: Wrt = 0) -> Callable[..., Any]:
    """A plain function computing the gradient of ``function`` with respect to ``wrt``."""
    differentiable = _differentiable(function, wrt)

    @functools.wraps(differentiable.function)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return differentiable.grad(*args, **kwargs)

    return gradient


def value_and_grad(function: Callable[..., Any], wrt: Wrt = 0) -> Callable[..., Any]:
    """A plain function computing ``(function(*args), gradient)``."""
    differentiable = _differentiable(function, wrt)

    @functools.wraps(differentiable.function)
    def value_and_gradient(*args: Any, **kwargs: Any) -> Any:
        return differentiable.value_and_grad(*args, **kwargs)

    return value_and_gradient


def vjp(function: Callable[..., Any], *args: Any, wrt: Wrt = 0, **kwargs: Any):
    """``(function(*args), pullback)`` where ``pullback(cotangent)`` gives the gradient(s)."""
    return _differentiable(function, wrt).vjp(*args, **kwargs)


def show(function: Callable[..., Any], wrt: Wrt | None = None) -> None:
    """Print the generated derivative code of ``function``."""
    if isinstance(function, Differentiable) and wrt is None:
        print(function.source, end="")
        return
    print(_differentiable(function, 0 if wrt is None else wrt).source, end="")
