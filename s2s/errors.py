"""The s2s exception tree.

Every error s2s raises on purpose derives from :class:`S2SError`.  Errors about the
user's source code (:class:`UnsupportedError` and its subclasses) carry a
:class:`SourceLocation` and render as ``file:line:col``, the offending line with a
caret under the construct, and a hint saying what to do instead.
"""
from __future__ import annotations

from dataclasses import dataclass


class S2SError(Exception):
    """Base class of every error raised by s2s."""


@dataclass(frozen=True)
class SourceLocation:
    """Where a construct sits in the user's file (1-based line, 0-based column)."""

    filename: str
    line: int
    col: int
    source_line: str

    def render(self) -> str:
        caret = " " * self.col + "^"
        return f"{self.filename}:{self.line}:{self.col + 1}\n    {self.source_line}\n    {caret}"


class UnsupportedError(S2SError):
    """A construct in the user's function that s2s cannot differentiate ahead of time."""

    def __init__(self, message: str, location: SourceLocation | None = None, hint: str = ""):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(self.location.render())
        parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class MissingRuleError(UnsupportedError):
    """A call to a function that has neither Python source nor a derivative rule."""


def missing_rule_from(error: Exception) -> MissingRuleError:
    """The :class:`MissingRuleError` for a rule helper's refusal of an input its derivative
    does not cover (``s2s.runtime.RuleDomainError``: complex eigenvalues, a rank-deficient
    QR...), raised while a derivative runs."""
    return MissingRuleError(str(error), hint="the rule's derivative covers the inputs its "
                            "docstring lists (s2s/rules/); pass such inputs, or wrap the value "
                            "in s2s.stop_gradient(...) if no gradient should flow")


class NonScalarOutputError(S2SError, ValueError):
    """``grad`` asked of a function whose output is not a scalar."""


class InputError(S2SError, TypeError):
    """A bad argument given to a differentiated function (wrong dtype, shape, ``wrt``)."""


class WrtError(S2SError, ValueError):
    """``wrt`` names a parameter the function does not have."""


class TapeError(S2SError, RuntimeError):
    """A misuse of the runtime tape that PyTorch reports as a ``RuntimeError`` too: a second
    backward pass through freed values, an in-place change of a recorded tensor, ``backward``
    of a non-scalar without ``gradient=``."""


class ArrayOperationError(S2SError, ValueError, TypeError, IndexError):
    """NumPy refused an operation on tape tensors (operands that do not broadcast, an index
    out of range, a string operand); still caught by ``except ValueError`` and the like."""


class EvaluationError(S2SError, RuntimeError):
    """Differentiating raised at arguments where the function itself runs (a derivative
    undefined there, a refusal of the tape, or an s2s bug); ``__cause__`` is the original."""


class FallbackWarning(UserWarning):
    """``@differentiate`` could not generate code and differentiates on the tape instead."""


class BackendError(S2SError):
    """A compiled backend (``backend="numba"``) is not available, or (with
    ``fallback="error"``) cannot compile a function's derivative code."""


class BackendWarning(FallbackWarning):
    """``backend="numba"`` could not compile a derivative and runs the Python backend."""
