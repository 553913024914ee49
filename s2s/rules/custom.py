"""The public API for the user's own derivative rules.

``s2s.defvjp``, the decorators ``s2s.vjp_rule`` / ``s2s.jvp_rule`` and
``s2s.nondifferentiable`` add records to the same registry as the built-in rules, so one
declaration serves the generated reverse code, forward mode and the tape.

Built-in rule bodies are inlined into generated code; a user's rule may use anything
(``scipy.special``, a compiled extension...), so generated code *calls* it instead.  For
that it is published in :mod:`s2s.runtime` under a deterministic name such as
``erf_vjp0`` (the primal's name, the kind, the argument position), which the generated
module imports like the other helpers: the generated code stays readable and
byte-identical from run to run.

Each rule function has the built-in signature: ``vjp(g, ans, *args, **params)`` returns the
cotangent of one positional argument; ``jvp(t, ans, *args, **params)`` returns the tangent
contribution of one positional argument.  Registering again for the same primal replaces the
earlier function for that argument.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..errors import S2SError
from .registry import REGISTRY, Rule, define, define_nondifferentiable


def _published(function: Callable[..., Any], primal: Callable[..., Any], kind: str,
               argnum: int) -> Callable[..., Any]:
    """Make ``function`` importable from :mod:`s2s.runtime` for generated code."""
    stem = "".join(c if c.isalnum() else "_" for c in getattr(primal, "__name__", "function"))
    name = f"{stem}_{kind}{argnum}"
    existing = getattr(runtime, name, None)
    if existing is not None and not getattr(existing, "__s2s_user_rule__", False):
        raise S2SError(f"cannot publish the rule as s2s.runtime.{name}: the name is taken")

    def call(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__signature__ = inspect.signature(function)     # type: ignore[attr-defined]
    call.__s2s_user_rule__ = True                        # type: ignore[attr-defined]
    call.__wrapped__ = function                          # type: ignore[attr-defined]
    setattr(runtime, name, call)
    return call


def _arity(primal: Callable[..., Any], given: int) -> int:
    existing = REGISTRY.lookup(primal)
    return max(given, existing.arity if existing is not None else 0, 1)


def defvjp(primal: Callable[..., Any], *vjps: Callable[..., Any] | None,
           jvps: tuple[Callable[..., Any] | None, ...] | None = None,
           broadcasting: bool | None = None, complex_ok: bool | None = None) -> Rule:
    """Register derivatives of ``primal``: one VJP per positional argument (None: no
    derivative there), and optionally the matching JVPs.

    >>> s2s.defvjp(scipy.special.erf, lambda g, ans, x: g * 2 / np.sqrt(np.pi) * np.exp(-x**2))

    ``broadcasting=True`` says the primal broadcasts its arguments like a ufunc; s2s then
    sums each cotangent back to its argument's shape (None: keep what an earlier
    registration for ``primal`` said, else False).  ``complex_ok=True`` says the rules are
    right for complex values too, in the registry's convention (s2s/rules/registry.py: for
    a holomorphic function, ``g * f'(z)`` as for reals); otherwise complex values reaching
    ``primal`` are refused (None: keep an earlier registration's, else False).  Returns the
    registry record.
    """
    if not callable(primal):
        raise S2SError(f"defvjp: {primal!r} is not a function")
    jvps = tuple(jvps) if jvps is not None else ()
    arity = _arity(primal, max(len(vjps), len(jvps)))
    existing = REGISTRY.lookup(primal)
    old_vjps = existing.vjps if existing is not None and not existing.nondifferentiable else ()
    old_jvps = existing.jvps if existing is not None and not existing.nondifferentiable else ()

    def merged(new: tuple, old: tuple, kind: str) -> tuple:
        result = []
        for position in range(arity):
            function = new[position] if position < len(new) else None
            if function is not None:
                result.append(_published(function, primal, kind, position))
            else:
                result.append(old[position] if position < len(old) else None)
        return tuple(result)

    module = getattr(primal, "__module__", None) or ""
    short = getattr(primal, "__name__", "function")
    if any(getattr(space, short, None) is primal for space in (np, np.linalg)):
        name = short                                   # overriding one of NumPy's own
    elif module and not module.startswith("numpy"):
        name = f"{module}.{short}"
    else:                                              # scipy's ufuncs say "numpy"
        name = f"custom.{short}"
    if broadcasting is None:
        broadcasting = existing is not None and existing.broadcasting
    if complex_ok is None:
        complex_ok = existing is not None and existing.complex_ok
    return define(primal, vjp=merged(tuple(vjps), old_vjps, "vjp"),
                  jvp=merged(jvps, old_jvps, "jvp"), broadcasting=broadcasting, name=name,
                  display=getattr(primal, "__name__", "Custom").title().replace("_", ""),
                  complex_ok=complex_ok)


def defjvp(primal: Callable[..., Any], *jvps: Callable[..., Any] | None,
           broadcasting: bool | None = None) -> Rule:
    """Register forward-mode derivatives of ``primal``, one JVP per positional argument."""
    return defvjp(primal, jvps=jvps, broadcasting=broadcasting)


def vjp_rule(primal: Callable[..., Any], argnum: int = 0, broadcasting: bool | None = None):
    """Decorator: the decorated ``vjp(g, ans, *args)`` is ``primal``'s VJP for ``argnum``."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        defvjp(primal, *([None] * argnum + [function]), broadcasting=broadcasting)
        return function
    return register


def jvp_rule(primal: Callable[..., Any], argnum: int = 0, broadcasting: bool | None = None):
    """Decorator: the decorated ``jvp(t, ans, *args)`` is ``primal``'s JVP for ``argnum``."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        defvjp(primal, jvps=tuple([None] * argnum + [function]), broadcasting=broadcasting)
        return function
    return register


def nondifferentiable(*primals: Callable[..., Any]) -> None:
    """Declare functions with a zero derivative (a count, a lookup, a rounding): s2s treats
    their results as constants instead of refusing them."""
    define_nondifferentiable(*primals)


__all__ = ["defjvp", "defvjp", "jvp_rule", "nondifferentiable", "vjp_rule"]
