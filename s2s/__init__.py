"""s2s: source-to-source automatic differentiation for Python and NumPy.

``@s2s.differentiate`` reads a NumPy function's source and generates, ahead of time,
readable Python code for its derivative.  See the README for the tour.
"""
from .api import Differentiable, differentiate, grad, show, value_and_grad, vjp
from .errors import (
    InputError,
    MissingRuleError,
    NonScalarOutputError,
    S2SError,
    UnsupportedError,
    WrtError,
)
from .runtime import stop_gradient

__all__ = [
    "Differentiable",
    "InputError",
    "MissingRuleError",
    "NonScalarOutputError",
    "S2SError",
    "UnsupportedError",
    "WrtError",
    "differentiate",
    "grad",
    "show",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
