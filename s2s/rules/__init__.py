"""The rule registry and every rule s2s knows.  Importing this package registers them."""
import importlib.util

from . import (assembly, calculus, containers, descriptive, elementwise,  # noqa: F401
               fft, generated, indexing, linalg, nondiff, operators, reductions, shape)

if importlib.util.find_spec("scipy") is not None:       # SciPy is optional
    # SciPy's modules take about a second to import: each one's rules load when it is
    # first used (a lookup that misses once the user imported it), scipy_special first
    # (scipy_stats's rules are written in its rules)
    from .registry import REGISTRY as _REGISTRY
    _REGISTRY.defer("scipy.special", "s2s.rules.scipy_special")
    _REGISTRY.defer("scipy.linalg", "s2s.rules.scipy_linalg")
    _REGISTRY.defer("scipy.stats", "s2s.rules.scipy_stats")
    _REGISTRY.defer("scipy.signal", "s2s.rules.scipy_signal")
from . import refused  # noqa: F401  (after the rules: the inventory's refusals)
from .registry import REGISTRY, Domain, Rule, define, define_nondifferentiable

__all__ = ["REGISTRY", "Domain", "Rule", "define", "define_nondifferentiable"]
