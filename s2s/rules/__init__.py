"""The rule registry and every rule s2s knows.  Importing this package registers them."""
import importlib.util

from . import (containers, elementwise, fft, generated, indexing, linalg,  # noqa: F401
               nondiff, operators, reductions, shape)

if importlib.util.find_spec("scipy") is not None:       # SciPy is optional
    from . import scipy_special  # noqa: F401
from . import refused  # noqa: F401  (after the rules: the inventory's refusals)
from .registry import REGISTRY, Domain, Rule, define, define_nondifferentiable

__all__ = ["REGISTRY", "Domain", "Rule", "define", "define_nondifferentiable"]
