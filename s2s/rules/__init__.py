"""The rule registry and every rule s2s knows.  Importing this package registers them."""
from . import (containers, elementwise, generated, indexing, linalg, nondiff,  # noqa: F401
               operators, reductions, shape)
from . import refused  # noqa: F401  (after the rules: the inventory's refusals)
from .registry import REGISTRY, Domain, Rule, define, define_nondifferentiable

__all__ = ["REGISTRY", "Domain", "Rule", "define", "define_nondifferentiable"]
