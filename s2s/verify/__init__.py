"""References for checking derivatives, independent of s2s's code generation.

* :func:`symbolic` translates a small NumPy function into sympy and differentiates it
  exactly (:mod:`s2s.verify.symbolic`).
* :func:`check` computes a derivative every available way and compares them.
* :func:`numerical_grad`, :func:`numerical_vjp` and :func:`numerical_jvp` compute derivatives
  by central finite differences in float64 (:mod:`s2s.verify.numeric`).

Importing this package does not import sympy; :func:`symbolic` imports it when called.
"""
from .check import CheckReport, GradientMismatch, check
from .numeric import numerical_grad, numerical_jvp, numerical_vjp
from .symbolic import SymbolicDerivative, symbolic

__all__ = ["CheckReport", "GradientMismatch", "SymbolicDerivative", "check", "numerical_grad",
           "numerical_jvp", "numerical_vjp", "symbolic"]
