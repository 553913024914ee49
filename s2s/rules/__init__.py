"""The rule registry and every rule s2s knows.  Importing this package registers them."""
from . import elementwise, indexing, linalg, nondiff, reductions, shape  # noqa: F401  (registration)
from .registry import REGISTRY, Domain, Rule, define, define_nondifferentiable

__all__ = ["REGISTRY", "Domain", "Rule", "define", "define_nondifferentiable"]
