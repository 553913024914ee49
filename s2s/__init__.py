"""s2s: source-to-source automatic differentiation for Python and NumPy.

``@s2s.differentiate`` reads a NumPy function's source and generates, ahead of time,
readable Python code for its derivative.  See the README for the tour.
"""
from .api import (Differentiable, differentiate, grad, hessian, hvp, jacobian, jvp, show,
                  value_and_grad, vjp)
from .errors import (
    ArrayOperationError,
    BackendError,
    BackendWarning,
    EvaluationError,
    FallbackWarning,
    InputError,
    MissingRuleError,
    NonScalarOutputError,
    S2SError,
    TapeError,
    UnsupportedError,
    WrtError,
)
from .export import export
from .graph import make_dot
from .pytree import (ravel_pytree, register_dataclass, register_pytree_node, tree_flatten,
                     tree_map, tree_unflatten)
from .rules.custom import defjvp, defvjp, jvp_rule, nondifferentiable, vjp_rule
from .runtime import stop_gradient
from .tape import Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from .verify import CheckReport, GradientMismatch, check, symbolic
from .version import __version__

__all__ = [
    "ArrayOperationError",
    "BackendError",
    "BackendWarning",
    "EvaluationError",
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
    "TapeError",
    "Tensor",
    "UnsupportedError",
    "WrtError",
    "defjvp",
    "defvjp",
    "differentiate",
    "enable_grad",
    "export",
    "grad",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "jvp_rule",
    "make_dot",
    "no_grad",
    "nondifferentiable",
    "ravel_pytree",
    "register_dataclass",
    "register_pytree_node",
    "show",
    "stop_gradient",
    "tensor",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
    "vjp_rule",
]
