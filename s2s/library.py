"""NumPy and SciPy objects as their users know them: public names, ``scipy.stats``
distributions, and which SciPy function a tensor reached.

Nothing here imports SciPy: an object can only be a SciPy object if SciPy is already
imported (``sys.modules``), so s2s keeps working without it.

* :func:`public_name` -- ``numpy.exp``, ``scipy.special.expit``, ``scipy.stats.norm.logpdf``,
  ``scipy.stats.norm(...).logpdf`` (a frozen distribution's method), for error messages;
* :func:`is_library_function` -- NumPy's and SciPy's own callables, which s2s never reads
  as if they were the user's helpers (their source is not differentiable code);
* :func:`is_distribution` / :func:`frozen_method_rule` -- a ``scipy.stats`` distribution
  (``scipy.stats.norm``), and the rule of a frozen one's method (``PRIOR.logpdf`` with
  ``PRIOR = scipy.stats.norm(0, 10)`` at module level) with its frozen parameters;
* :func:`scipy_caller` -- the SciPy function running when a tensor was converted to an
  array (for the tape's error message).
"""
from __future__ import annotations

import inspect
import itertools
import sys
from typing import Any

import numpy as np


def _stats_class(module: str, name: str) -> type | None:
    namespace = sys.modules.get(f"scipy.stats.{module}")
    return getattr(namespace, name, None)


def _isinstance(value: Any, module: str, name: str) -> bool:
    kind = _stats_class(module, name)
    return kind is not None and isinstance(value, kind)


def is_distribution(value: Any) -> bool:
    """``scipy.stats.norm``, ``scipy.stats.multivariate_normal``: a distribution object
    whose call freezes it (not a frozen one)."""
    return _isinstance(value, "_distn_infrastructure", "rv_generic") \
        or _isinstance(value, "_multivariate", "multi_rv_generic")


def is_frozen(value: Any) -> bool:
    """A frozen distribution: ``scipy.stats.norm(0, 1)``."""
    return _isinstance(value, "_distn_infrastructure", "rv_frozen") \
        or _isinstance(value, "_multivariate", "multi_rv_frozen")


def _distribution_name(value: Any) -> str | None:
    """``scipy.stats.norm`` for the distribution, ``scipy.stats.norm(...)`` for a frozen one."""
    if _isinstance(value, "_distn_infrastructure", "rv_generic"):
        return f"scipy.stats.{value.name}"
    if _isinstance(value, "_distn_infrastructure", "rv_frozen"):
        return f"scipy.stats.{value.dist.name}(...)"
    for suffix, call in (("_gen", ""), ("_frozen", "(...)")):
        stem = type(value).__name__
        if stem.endswith(suffix) and (_isinstance(value, "_multivariate", "multi_rv_generic")
                                      or _isinstance(value, "_multivariate", "multi_rv_frozen")):
            return f"scipy.stats.{stem[:-len(suffix)]}{call}"
    return None


def public_name(value: Any) -> str | None:
    """The dotted name of a NumPy or SciPy object as its documentation spells it, or None
    for anything else."""
    owner = getattr(value, "__self__", None)
    if inspect.ismethod(value) and owner is not None:
        base = _distribution_name(owner)
        if base is not None:
            return f"{base}.{value.__func__.__name__}"
    base = _distribution_name(value)
    if base is not None:
        return base
    name = getattr(value, "__name__", None)
    if not isinstance(name, str):
        return None
    if isinstance(value, np.ufunc):             # ufuncs have no __module__ of their own
        for module in ("numpy", "scipy.special"):
            namespace = sys.modules.get(module)
            if namespace is not None and getattr(namespace, name, None) is value:
                return f"{module}.{name}"
        return None
    module = getattr(value, "__module__", None) or ""
    if not (module == "numpy" or module.startswith(("numpy.", "scipy."))):
        return None
    public = ".".join(itertools.takewhile(lambda part: not part.startswith("_"),
                                          module.split(".")))
    namespace = sys.modules.get(public)
    if namespace is not None and getattr(namespace, name, None) is value:
        return f"{public}.{name}"
    return f"{module}.{name}"


def is_library_function(value: Any) -> bool:
    """A callable of NumPy or SciPy (a function, a bound method, a distribution)."""
    if isinstance(value, np.ufunc):
        return False               # ufuncs are dispatched, never read as Python source
    module = getattr(value, "__module__", None) or ""
    return module == "numpy" or module.startswith(("numpy.", "scipy."))


def frozen_method_rule(method: Any, registry: Any) -> tuple[Any, tuple, dict] | None:
    """For ``method``, a method of a frozen univariate distribution (``PRIOR.logpdf`` with
    ``PRIOR = scipy.stats.norm(0, 10)``): (the rule of the distribution's method, the frozen
    positional parameters, the frozen keyword parameters).  None if there is no such rule,
    or the frozen object's distribution is not the public one (a distribution made with
    other bounds of its support)."""
    frozen = getattr(method, "__self__", None)
    if not _isinstance(frozen, "_distn_infrastructure", "rv_frozen"):
        return None
    stats = sys.modules.get("scipy.stats")
    public = getattr(stats, frozen.dist.name, None)
    if type(public) is not type(frozen.dist) or (public.a, public.b) != (frozen.dist.a,
                                                                        frozen.dist.b):
        return None
    rule = registry.lookup(getattr(public, method.__func__.__name__, None))
    if rule is None:
        return None
    return rule, tuple(frozen.args), dict(frozen.kwds)


def scipy_caller(start: Any) -> str | None:
    """The public name of the SciPy function or method the frames above ``start`` (a
    frame) are running, at the outermost SciPy frame, or None outside SciPy."""
    frame, entry = start, None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("scipy."):
            entry = frame
        elif entry is not None:
            break
        frame = frame.f_back
    if entry is None:
        return None
    code_name = entry.f_code.co_name
    owner = entry.f_locals.get("self")
    if owner is not None:
        bound = getattr(owner, code_name, None)
        name = public_name(bound) if bound is not None else None
        if name is not None:
            return name
    function = entry.f_globals.get(code_name)
    name = public_name(function) if function is not None else None
    return name or f"{entry.f_globals.get('__name__')}.{code_name}"
