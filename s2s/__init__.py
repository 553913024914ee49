"""s2s: source-to-source automatic differentiation for Python and NumPy."""
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
    "InputError",
    "MissingRuleError",
    "NonScalarOutputError",
    "S2SError",
    "UnsupportedError",
    "WrtError",
    "stop_gradient",
]
__version__ = "0.1.0"
