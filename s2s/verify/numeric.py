"""Finite-difference derivatives in float64: a numerical reference independent of s2s.

* :func:`numerical_grad` — the gradient of a scalar function, by central differences.
* :func:`numerical_vjp` — ``cotangent · J``, the vector-Jacobian product.
* :func:`numerical_jvp` — ``J · tangent``, the directional derivative.

The step for an element ``x`` is ``eps * max(1, |x|)`` with ``eps = cbrt(machine epsilon)``
(about 6e-6): the choice that balances the truncation error of central differences (of
order step²) against rounding (of order machine epsilon / step), so results are typically
good to 1e-9 relative for smooth functions.  Differentiated arguments are evaluated in
float64 whatever their dtype.

``args`` is the tuple of positional arguments; any other value is the single argument
(``numerical_grad(np.sin, 0.5)``).  ``wrt`` takes a position (negative too), a parameter
name, or a tuple of them, in which case a tuple of results comes back.

Complex values, in s2s's convention (s2s/rules/registry.py): for a complex argument ``z``
the gradient is ``dL/dRe z + i dL/dIm z`` (each part moved on its own), where ``L`` is
the real ``Re(sum(conj(cotangent) * f))``; complex arguments are evaluated in complex128.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence, Union

import numpy as np

from ..errors import InputError, NonScalarOutputError, WrtError

Wrt = Union[int, str, Sequence[Union[int, str]]]

DEFAULT_EPS = float(np.cbrt(np.finfo(np.float64).eps))


def numerical_grad(f: Callable[..., Any], args: Any, wrt: Wrt = 0,
                   eps: float | None = None, *, kwargs: dict | None = None) -> Any:
    """The gradient of the scalar ``f(*args)``, shaped like the differentiated argument(s).

    A Python scalar argument gives a Python float; an array argument a float64 array of the
    same shape.
    """
    args = _as_args(args)
    output = _call(f, args, kwargs)
    if np.ndim(output) != 0:
        raise NonScalarOutputError(
            f"numerical_grad needs a scalar output, got shape {np.shape(output)}; "
            "use numerical_vjp with a cotangent of that shape")
    return numerical_vjp(f, tuple(args), 1.0, wrt, eps, kwargs=kwargs)


def numerical_vjp(f: Callable[..., Any], args: Any, cotangent: Any, wrt: Wrt = 0,
                  eps: float | None = None, *, kwargs: dict | None = None) -> Any:
    """``cotangent · ∂f/∂args[wrt]``: the gradient of ``sum(cotangent * f(*args))``.

    ``cotangent`` has the shape of ``f``'s output.
    """
    args = _as_args(args)
    positions, several = _positions(f, wrt, len(args))
    eps = DEFAULT_EPS if eps is None else float(eps)
    cotangent = np.asarray(cotangent)
    cotangent = cotangent.astype(np.complex128 if cotangent.dtype.kind == "c" else np.float64)
    output_shape = np.shape(_call(f, args, kwargs))
    if cotangent.shape != output_shape:
        raise ValueError(f"the cotangent has shape {cotangent.shape}, the output of f has "
                         f"shape {output_shape}")
    results = []
    for position in positions:
        point = _point(args[position])
        units = (1.0, 1j) if point.dtype.kind == "c" else (1.0,)
        gradient = np.zeros(point.shape, dtype=point.dtype)
        for index in np.ndindex(*point.shape):
            for unit in units:
                plus, minus = point.copy(), point.copy()
                step = eps * max(1.0, abs(point[index]))
                plus[index] += step * unit
                minus[index] -= step * unit
                difference = (_evaluate(f, args, kwargs, {position: plus})
                              - _evaluate(f, args, kwargs, {position: minus}))
                gradient[index] += unit * np.real(np.sum(np.conj(cotangent) * difference)) \
                    / (2 * step)
        results.append(_like(gradient, args[position]))
    return tuple(results) if several else results[0]


def numerical_jvp(f: Callable[..., Any], args: Any, tangents: Any, wrt: Wrt = 0,
                  eps: float | None = None, *, kwargs: dict | None = None) -> Any:
    """``∂f/∂args[wrt] · tangents``: the derivative of ``f`` along the tangent direction.

    For a tuple ``wrt``, ``tangents`` is a tuple with one tangent per argument, all moved
    together.  The result has the shape of ``f``'s output (a float for a scalar output).
    """
    args = _as_args(args)
    positions, several = _positions(f, wrt, len(args))
    eps = DEFAULT_EPS if eps is None else float(eps)
    tangents = tuple(tangents) if several else (tangents,)
    if len(tangents) != len(positions):
        raise InputError(f"{len(positions)} arguments to move but {len(tangents)} tangents")
    points, directions = {}, {}
    for position, tangent in zip(positions, tangents):
        points[position] = _point(args[position])
        directions[position] = np.asarray(tangent, dtype=points[position].dtype)
        if directions[position].shape != points[position].shape:
            raise ValueError(f"the tangent for argument {position} has shape "
                             f"{directions[position].shape}, the argument "
                             f"{points[position].shape}")
    size = max(float(np.max(np.abs(d), initial=0.0)) for d in directions.values())
    output = _call(f, args, kwargs)
    if size == 0.0:
        return _output_like(np.zeros(np.shape(output)), output)
    scale = max([1.0] + [float(np.max(np.abs(p), initial=0.0)) for p in points.values()])
    step = eps * scale / size
    plus = {p: points[p] + step * directions[p] for p in positions}
    minus = {p: points[p] - step * directions[p] for p in positions}
    difference = _evaluate(f, args, kwargs, plus) - _evaluate(f, args, kwargs, minus)
    return _output_like(difference / (2 * step), output)


# --- helpers --------------------------------------------------------------------------


def _as_args(args: Any) -> list[Any]:
    return list(args) if isinstance(args, tuple) else [args]


def _call(f: Callable[..., Any], args: list[Any], kwargs: dict | None) -> Any:
    return f(*args, **(kwargs or {}))


def _point(value: Any) -> np.ndarray:
    """A differentiated argument in float64 (complex128 if it is complex)."""
    return np.array(value, dtype=np.complex128 if np.iscomplexobj(value) else np.float64)


def _evaluate(f: Callable[..., Any], args: list[Any], kwargs: dict | None,
              replacements: dict[int, np.ndarray]) -> np.ndarray:
    """``f`` with some arguments replaced (0-d arrays given back as Python floats)."""
    shifted = list(args)
    for position, value in replacements.items():
        shifted[position] = _like(value, args[position])
    return _point(_call(f, shifted, kwargs))


def _like(value: np.ndarray, original: Any) -> Any:
    """``value`` as the kind of thing ``original`` is: a Python float (complex) or an array."""
    if isinstance(original, np.ndarray):
        return value
    return complex(value) if np.iscomplexobj(value) else float(value)


def _output_like(value: np.ndarray, output: Any) -> Any:
    if np.ndim(output) == 0:
        return complex(value) if np.iscomplexobj(value) else float(value)
    return _point(value)


def _positions(f: Callable[..., Any], wrt: Wrt, count: int) -> tuple[tuple[int, ...], bool]:
    several = isinstance(wrt, (tuple, list))
    positions = []
    for item in (wrt if several else (wrt,)):
        if isinstance(item, str):
            try:
                names = [p.name for p in inspect.signature(f).parameters.values()
                         if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                names = []
            if item not in names or names.index(item) >= count:
                raise WrtError(f"wrt={item!r}: not one of the positional arguments given "
                               f"({', '.join(names[:count]) or 'none'})")
            positions.append(names.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -count <= item < count:
                raise WrtError(f"wrt={item}: only {count} arguments were given")
            positions.append(int(item) % count)
        else:
            raise InputError(f"wrt takes argument positions or names, not {item!r}")
    if several and not positions:
        raise WrtError("wrt=(): name at least one argument")
    return tuple(positions), several
