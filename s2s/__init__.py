"""s2s: source-to-source automatic differentiation for Python and NumPy.

``@s2s.differentiate`` reads a NumPy function's source and generates, ahead of time,
readable Python code for its derivative.  See the README for the tour.
"""
from .api import (Differentiable, differentiate, grad, hessian, hvp, jacobian, jvp, show,
                  value_and_grad, vjp)
from .errors import (
    FallbackWarning,
    InputError,
    MissingRuleError,
    NonScalarOutputError,
    S2SError,
    UnsupportedError,
    WrtError,
)
from .graph import make_dot
from .runtime import stop_gradient
from .tape import Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from .verify import CheckReport, GradientMismatch, check, symbolic

__all__ = [
    "CheckReport",
    "GradientMismatch",
    "check",
    "symbolic",
    "Differentiable",
    "FallbackWarning",
    "InputError",
    "MissingRuleError",
    "NonScalarOutputError",
    "S2SError",
    "Tensor",
    "UnsupportedError",
    "WrtError",
    "differentiate",
    "enable_grad",
    "grad",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "make_dot",
    "no_grad",
    "show",
    "stop_gradient",
    "tensor",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
