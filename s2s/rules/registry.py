"""The registry of derivative rules: one record per differentiable operation.

A rule is declared once, next to its siblings, with plain Python functions over NumPy
values.  For an operation ``ans = op(x, y, **params)`` it holds, per positional
argument:

* a VJP (reverse) function ``vjp(g, ans, x, y, **params)`` returning the cotangent
  contribution for that argument, given the cotangent ``g`` of ``ans``;
* a JVP (forward) function ``jvp(t, ans, x, y, **params)`` returning the tangent
  contribution of that argument's tangent ``t`` to the tangent of ``ans``.

``None`` marks an argument with no derivative (an axis, a mask, a condition).  For a
rule marked ``broadcasting`` the framework, never the rule, sums contributions back to
the argument's shape.  Every consumer reads the same record: the reverse generator
inlines the VJP bodies, the forward generator inlines the JVP bodies, the tape calls
the functions, and ``tests/test_rules.py`` checks each rule on its declared domain.

Rule bodies may use ``np`` and the helpers of :mod:`s2s.runtime` only, so that their
text can be inlined into generated code.

Complex values.  The gradient s2s returns for a complex input ``z`` of a real-valued ``L``
is ``dL/dRe z + i dL/dIm z`` (PyTorch's convention: the direction of steepest ascent).
Inside the registry a cotangent is carried as the *conjugate* of that, ``2 dL/dz`` (the
Wirtinger derivative; JAX's and autograd's cotangent), so that a VJP of a holomorphic
function is ``g * f'(z)``, the same expression as for real ``z``, and the VJP of a
complex-linear map is its plain transpose.  :mod:`s2s.api` and the tape conjugate at the
boundary: the cotangent a user gives for a complex output, and the gradient of a
complex input.  A real value's cotangent may come with an imaginary part (a real ``x``
in ``x * 1j``); its real part is the cotangent, and the framework drops the rest where
it meets the real input (the tape at every edge, generated code in the gradient it
returns).  So a rule whose output is real while an input is complex (``abs``,
``real``, ``angle``) reads only ``np.real(g)``.  ``complex_ok`` marks the rules that are
right for complex values; ``holomorphic`` those whose VJP and JVP are the complex
derivative (``tests/test_rules.py`` checks both on complex samples).  A rule without
``complex_ok`` refuses complex values with :class:`s2s.MissingRuleError` (generated code
calls ``refuse_complex``, the tape checks when recording), unless its primal is a ufunc
with no complex loop, which refuses them itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import operator
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import S2SError


@dataclass(frozen=True)
class Domain:
    """Where a rule may be tested: ``low < x < high`` per argument, and sample shapes."""

    low: float = -2.0
    high: float = 2.0
    integer: bool = False       # a non-differentiable integer argument (an axis, a count)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)


REAL = Domain()
POSITIVE = Domain(0.2, 3.0)
UNIT = Domain(-0.9, 0.9)
ABOVE_ONE = Domain(1.1, 3.0)


@dataclass(frozen=True, eq=False)
class Rule:
    """The derivative of one operation, for every consumer."""

    name: str                                   # "sin", "multiply", "sum"
    primal: Callable[..., Any]                  # np.sin, np.multiply, np.sum
    vjps: tuple[Callable[..., Any] | None, ...]
    jvps: tuple[Callable[..., Any] | None, ...]
    broadcasting: bool = False
    nondifferentiable: bool = False
    display: str = ""                           # node name on the tape: "Mul" -> MulBackward0
    sympy: Callable[..., Any] | None = None     # sympy twin: f(sympy_module, *args)
    domains: tuple[Domain, ...] = ()            # per positional argument, for tests
    examples: tuple[dict[str, Any], ...] = field(default=())  # extra test parameters
    linear: bool = False                        # VJP does not read the primal values
    elementwise: bool = False                   # output shape = broadcast of input shapes
    complex_ok: bool = False                    # right for complex values (module docstring)
    holomorphic: bool = False                   # complex-analytic: VJP g * f'(z), JVP t * f'(z)
    complex_result: bool = False                # may make complex values of real ones (fft)
    several_outputs: bool = False               # may return a tuple: tangents add per entry

    @property
    def arity(self) -> int:
        return len(self.vjps)

    @property
    def signature(self) -> inspect.Signature:
        """The primal's signature as the rule sees it: VJP parameters after ``g, ans``."""
        for function in self.vjps + self.jvps:
            if function is not None:
                parameters = list(inspect.signature(function).parameters.values())[2:]
                return inspect.Signature(parameters)
        raise S2SError(f"rule {self.name!r} has no derivative function")

    @property
    def refuses_complex(self) -> bool:
        """Whether complex values must be refused here: the rule is not right for them and
        its primal may take them (a ufunc without complex loops refuses them itself)."""
        if self.complex_ok:
            return False
        types = getattr(self.primal, "types", None)
        if isinstance(self.primal, np.ufunc) and types is not None:
            return any(any(code in "FDG" for code in signature.split("->")[0])
                       for signature in types)
        return True

    @property
    def qualified_name(self) -> str:
        """``numpy.linalg.cholesky``, ``scipy.special.gamma``: the primal where users find it."""
        name = getattr(self.primal, "__name__", self.name)
        if isinstance(self.primal, np.ufunc):
            for module in ("numpy", "scipy.special"):
                namespace = sys.modules.get(module)
                if namespace is not None and getattr(namespace, name, None) is self.primal:
                    return f"{module}.{name}"
            return name
        module = getattr(self.primal, "__module__", None)
        return f"{module}.{name}" if module else name

    @property
    def backward_name(self) -> str:
        return f"{self.display or self.name.capitalize()}Backward0"


def _key(primal: Any) -> Any:
    """What identifies a primal: the object itself, but for a bound method the pair
    (instance, function), since each attribute read (``scipy.stats.norm.logpdf``) makes a
    new bound-method object for the same instance and function."""
    if isinstance(primal, types.MethodType):
        return id(primal.__self__), id(primal.__func__)
    return id(primal)


def _same(primal: Any, other: Any) -> bool:
    if primal is other:
        return True
    return isinstance(primal, types.MethodType) and isinstance(other, types.MethodType) \
        and primal.__self__ is other.__self__ and primal.__func__ is other.__func__


class Registry:
    """Rules keyed by the primal callable, plus the views code generation needs.

    A bound method (a ``scipy.stats`` distribution's ``logpdf``) is keyed by its instance
    and function, so any read of ``norm.logpdf`` finds the rule registered for it.
    """

    def __init__(self) -> None:
        self._by_primal: dict[Any, Rule] = {}
        self._by_name: dict[str, Rule] = {}
        self.methods: dict[str, Rule] = {}      # "sum" in x.sum() -> the rule for np.sum
        self.attributes: dict[str, Rule] = {}   # "T" in x.T -> the rule for np.transpose
        self._deferred: dict[str, str] = {}     # module -> the rule module for its functions
        self._from_source: dict[int, Callable[..., Any]] = {}   # helpers read as source

    def defer(self, module: str, rules: str) -> None:
        """Import the rule module ``rules`` (which defines the rules for the functions of
        ``module``) only once ``module`` has been imported, for optional modules that are
        slow to import (``scipy.signal`` takes most of a second): a lookup that misses
        imports it then.  Iterating the registry imports every deferred rule module whose
        module can be imported."""
        self._deferred[module] = rules

    def _load_deferred(self, importable: bool = False) -> bool:
        """Import the deferred rule modules whose module is imported (or ``importable``)."""
        loaded = False
        for module, rules in list(self._deferred.items()):
            if module in sys.modules or importable and _findable(module):
                if self._deferred.pop(module, None) is None:
                    continue                # loaded meanwhile (one rule module imports another)
                importlib.import_module(rules)
                loaded = True
        return loaded

    def add(self, rule: Rule) -> Rule:
        if self._deferred:              # the built-in rules first, so a user's overrides them
            self._load_deferred()
        self._by_primal[_key(rule.primal)] = rule
        named = self._by_name.get(rule.name)
        if named is None or _same(named.primal, rule.primal):     # new, or a re-registration
            self._by_name[rule.name] = rule
        return rule

    def load_deferred(self) -> None:
        """Import every deferred rule module whose module can be imported."""
        if self._deferred:
            self._load_deferred(importable=True)

    def lookup(self, primal: Any) -> Rule | None:
        rule = self._by_primal.get(_key(primal))
        if rule is None and self._deferred and self._load_deferred():
            rule = self._by_primal.get(_key(primal))
        return rule if rule is not None and _same(rule.primal, primal) else None

    def named(self, name: str) -> Rule:
        if name not in self._by_name and self._deferred:
            self._load_deferred(importable=True)
        return self._by_name[name]

    def reads_source(self, function: Any) -> bool:
        """Whether ``function`` is an s2s helper differentiated from its own source."""
        return self._from_source.get(id(function)) is function

    @property
    def from_source(self) -> tuple[Callable[..., Any], ...]:
        """The helpers declared with :func:`define_from_source`, by name."""
        return tuple(sorted(self._from_source.values(), key=lambda f: f.__name__))

    def __iter__(self):
        """Each rule once (aliases such as ``math.sin`` are not repeated), by name."""
        if self._deferred:
            self._load_deferred(importable=True)
        return iter(sorted(self._by_name.values(), key=lambda rule: rule.name))

    def __len__(self) -> int:
        if self._deferred:
            self._load_deferred(importable=True)
        return len(self._by_name)


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


REGISTRY = Registry()


def _as_tuple(functions) -> tuple:
    if functions is None:
        return ()
    if callable(functions):
        return (functions,)
    return tuple(functions)


def define(
    primal: Callable[..., Any],
    *,
    vjp,
    jvp=None,
    name: str | None = None,
    aliases: tuple[Callable[..., Any], ...] = (),
    methods: tuple[str, ...] = (),
    attributes: tuple[str, ...] = (),
    broadcasting: bool = False,
    display: str = "",
    sympy: Callable[..., Any] | None = None,
    domains: tuple[Domain, ...] | Domain = (),
    examples: tuple[dict[str, Any], ...] = (),
    linear: bool = False,
    elementwise: bool = False,
    complex_ok: bool = False,
    holomorphic: bool = False,
    complex_result: bool = False,
    several_outputs: bool = False,
) -> Rule:
    """Declare the derivative of ``primal`` (and of its ``aliases``, e.g. ``math.sin``).

    ``methods`` and ``attributes`` name the ndarray methods (``x.sum()``) and attribute
    reads (``x.T``) that call it with the array as first argument.  ``complex_ok``: the
    VJPs and JVPs are right for complex values under the convention of the module
    docstring; ``holomorphic`` (implies ``complex_ok``): they are the complex derivative;
    ``complex_result``: the primal may return complex values for real arguments
    (``np.fft.fft``; a ``dtype=`` argument is noticed without it).
    """
    vjps = _as_tuple(vjp)
    jvps = _as_tuple(jvp) or (None,) * len(vjps)
    if len(jvps) != len(vjps):
        raise S2SError(f"rule for {primal!r}: {len(vjps)} VJPs but {len(jvps)} JVPs")
    if isinstance(domains, Domain):
        domains = (domains,) * len(vjps)
    rule = Rule(
        name=name or primal.__name__,
        primal=primal,
        vjps=vjps,
        jvps=jvps,
        broadcasting=broadcasting,
        display=display,
        sympy=sympy,
        domains=tuple(domains) or (REAL,) * len(vjps),
        examples=tuple(examples),
        linear=linear,
        elementwise=elementwise or broadcasting,
        complex_ok=complex_ok or holomorphic,
        holomorphic=holomorphic,
        complex_result=complex_result,
        several_outputs=several_outputs or getattr(primal, "nout", 1) > 1,
    )
    REGISTRY.add(rule)
    for alias in aliases:
        REGISTRY.add(_alias(rule, alias))
    for method in methods:
        REGISTRY.methods[method] = rule
    for attribute in attributes:
        REGISTRY.attributes[attribute] = rule
    return rule


def _alias(rule: Rule, primal: Callable[..., Any]) -> Rule:
    return Rule(**{**rule.__dict__, "primal": primal})


def define_nondifferentiable(*primals: Callable[..., Any], methods: tuple[str, ...] = (),
                             attributes: tuple[str, ...] = (), complex_ok: bool = True) -> None:
    """Declare functions whose derivative is zero everywhere it exists (floor, argmax...).

    ``methods`` and ``attributes`` name ndarray methods and attribute reads that compute
    the (first) function: ``x.argmax()``, ``x.shape``.  ``complex_ok=False``: the zero
    holds for real values only (``np.sign(z)`` is ``z / |z|``), so complex ones are refused.
    """
    for primal in primals:
        rule = Rule(
            name=getattr(primal, "__name__", repr(primal)),
            primal=primal,
            vjps=(),
            jvps=(),
            nondifferentiable=True,
            complex_ok=complex_ok,
        )
        REGISTRY.add(rule)
        for method in methods:
            REGISTRY.methods.setdefault(method, rule)
        for attribute in attributes:
            REGISTRY.attributes.setdefault(attribute, rule)


def define_from_source(*helpers: Callable[..., Any]) -> None:
    """Declare helpers of :mod:`s2s.runtime` whose derivative s2s takes from their source.

    Rule bodies call helpers (``svd_adjoint``, ``norm_adjoint``...) to keep generated code
    short.  A helper declared here is written in operations that have rules (or in other
    helpers declared here, or declared zero), so code generation reads it like a user's
    function when it meets a call to it in code being differentiated: the gradient code,
    which calls it, can be differentiated again (``s2s.hessian``, ``grad(grad(f))``).
    Other s2s helpers without a rule are refused there with :class:`s2s.MissingRuleError`.
    """
    for helper in helpers:
        REGISTRY._from_source[id(helper)] = helper


def define_nondifferentiable_attributes(*names: str) -> None:
    """Declare ndarray attributes that describe the array, not its values (``x.dtype``)."""
    for name in names:
        REGISTRY.attributes[name] = Rule(name=f".{name}", primal=operator.attrgetter(name),
                                         vjps=(), jvps=(), nondifferentiable=True,
                                         complex_ok=True)     # a shape: of complex arrays too
