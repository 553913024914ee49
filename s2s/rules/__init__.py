"""The rule registry and every rule s2s knows.  Importing this package registers them."""
import importlib.util

from . import (assembly, calculus, containers, descriptive, elementwise,  # noqa: F401
               fft, generated, indexing, linalg, nondiff, operators, reductions, shape)

if importlib.util.find_spec("scipy") is not None:       # SciPy is optional
    from . import scipy_linalg, scipy_special  # noqa: F401
    from . import scipy_stats  # noqa: F401  (after scipy_special: written in its rules)
    from .registry import REGISTRY as _REGISTRY
    _REGISTRY.defer("scipy.signal", "s2s.rules.scipy_signal")   # slow to import: on first use
from . import refused  # noqa: F401  (after the rules: the inventory's refusals)
from .registry import REGISTRY, Domain, Rule, define, define_nondifferentiable

__all__ = ["REGISTRY", "Domain", "Rule", "define", "define_nondifferentiable"]
