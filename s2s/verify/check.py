"""``s2s.check``: compute a derivative every available way and compare.

At the given point, for a random cotangent ``u`` (1 for a scalar output) and a random
direction ``v``, the methods are:

* ``source``   — ``u · J`` from the generated reverse-mode code;
* ``tape``     — ``u · J`` from the runtime tape;
* ``forward``  — ``u · (J v)`` from the generated forward-mode code, compared with
  ``(u · J) · v`` of the other methods (the dot-product test);
* ``finite differences`` — central differences in float64;
* ``sympy``    — the derivative of :func:`s2s.symbolic`'s expression, where it applies.

An argument that is a pytree of parameters (a list of ``(W, b)`` pairs, a dict) is compared
leaf by leaf: the references see its float leaves as one vector (:func:`s2s.ravel_pytree`'s
order), the generated code sees the tree.  With ``order=2`` the Hessian-vector product (forward-over-reverse) is compared with finite
differences of the generated gradient.  :class:`CheckReport` lists each method with its
value and its largest relative error against the reference (finite differences); any
error beyond the dtype-aware tolerance raises :class:`s2s.GradientMismatch`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..api import CHECKERS, Differentiable, _hvp
from ..errors import S2SError, UnsupportedError
from ..pytree import (is_float_leaf, is_pytree_argument, ravel_pytree, tree_flatten,
                      tree_unflatten)
from .numeric import numerical_grad, numerical_vjp

#: relative tolerance by the lowest floating precision among the inputs
TOLERANCE = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 2e-2,
             np.dtype(np.complex128): 1e-5, np.dtype(np.complex64): 2e-2}


class GradientMismatch(S2SError, AssertionError):
    """Two ways of computing a derivative disagree beyond the tolerance."""

    def __init__(self, report: "CheckReport"):
        self.report = report
        super().__init__("derivatives disagree:\n" + str(report))


@dataclass
class CheckReport:
    function: str
    tolerance: float
    values: dict[str, Any] = field(default_factory=dict)     # method -> derivative
    errors: dict[str, float] = field(default_factory=dict)   # method -> max relative error
    skipped: dict[str, str] = field(default_factory=dict)    # method -> why it did not run
    tolerances: dict[str, float] = field(default_factory=dict)  # per-method overrides

    def limit(self, method: str) -> float:
        return self.tolerances.get(method, self.tolerance)

    @property
    def ok(self) -> bool:
        return all(error <= self.limit(method) for method, error in self.errors.items())

    def __str__(self) -> str:
        lines = [f"s2s.check of {self.function} (tolerance {self.tolerance:.0e}, reference: "
                 "finite differences)"]
        for method, value in self.values.items():
            error = self.errors.get(method)
            mark = "" if error is None else ("  ok" if error <= self.limit(method)
                                             else "  MISMATCH")
            value = np.asarray(value)
            shown = np.array2string(value if value.dtype.kind == "c" else value.astype(float),
                                    precision=6, threshold=8, separator=", ")
            text = "reference" if error is None else f"max rel. error {error:.1e}"
            lines.append(f"  {method:<20} {text:<24}{mark}  {shown}")
        for method, reason in self.skipped.items():
            lines.append(f"  {method:<20} skipped: {reason}")
        return "\n".join(lines)


def _relative_error(value: Any, reference: Any) -> float:
    value = np.asarray(value, dtype=np.complex128)
    reference = np.asarray(reference, dtype=np.complex128)
    if value.shape != reference.shape:
        return float("inf")
    scale = max(1.0, float(np.max(np.abs(reference))) if reference.size else 1.0)
    return float(np.max(np.abs(value - reference))) / scale if value.size else 0.0


def _flatten(parts: Sequence[Any]) -> np.ndarray:
    flat = np.concatenate([np.ravel(np.asarray(p)) for p in parts])
    return flat.astype(np.complex128 if flat.dtype.kind == "c" else np.float64)


def _random_like(rng: np.random.Generator, value: Any) -> Any:
    """A random direction (or cotangent) shaped like ``value``: complex for a complex one."""
    if np.iscomplexobj(value):
        draw = rng.normal(size=np.shape(value)) + 1j * rng.normal(size=np.shape(value))
        return complex(draw) if np.ndim(value) == 0 else draw
    return float(rng.normal()) if np.ndim(value) == 0 and not isinstance(value, np.ndarray) \
        else rng.normal(size=np.shape(value))


class _FlatTrees:
    """The pytree arguments among ``positions``, seen as flat float vectors: ``primal``
    takes the vectors (arrays or tensors, indexed, never converted) in their place."""

    def __init__(self, primal: Callable[..., Any], values: Sequence[Any],
                 positions: Sequence[int]):
        self.trees = {p: tree_flatten(values[p]) for p in positions
                      if is_pytree_argument(values[p])}
        self.values = tuple(ravel_pytree(v)[0] if p in self.trees else v
                            for p, v in enumerate(values))
        self._primal = primal

    def tree(self, position: int, vector: Any) -> Any:
        leaves, treedef = self.trees[position]
        rebuilt, start = list(leaves), 0
        for index, leaf in enumerate(leaves):
            if is_float_leaf(leaf):
                size = int(np.prod(np.shape(leaf)))
                rebuilt[index] = vector[start:start + size].reshape(np.shape(leaf))
                start += size
        return tree_unflatten(treedef, rebuilt)

    def primal(self, *flat: Any) -> Any:
        return self._primal(*(self.tree(p, v) if p in self.trees else v
                              for p, v in enumerate(flat)))

    def flat_gradients(self, gradients: tuple, positions: Sequence[int]) -> tuple:
        return tuple(ravel_pytree(g)[0] if p in self.trees else g
                     for p, g in zip(positions, gradients))


def check(function: Callable[..., Any], *args: Any, wrt: Any = 0,
          modes: Sequence[str] = ("source", "tape"), order: int = 1, seed: int = 0,
          raise_on_mismatch: bool = True) -> CheckReport:
    """Compare the derivative of ``function`` at ``args`` computed every available way."""
    base = function.function if isinstance(function, Differentiable) else function
    differentiable = Differentiable(base, wrt=wrt, fallback="error")
    values = differentiable._arguments(args, {})
    positions = differentiable.wrt_positions
    primal = differentiable.primal      # takes every parameter by position (keyword-only too)
    output = primal(*values)
    flat = _FlatTrees(primal, values, positions)    # the references' view of pytrees
    rng = np.random.default_rng(seed)
    scalar = np.ndim(output) == 0 and not np.iscomplexobj(output)
    cotangent = 1.0 if scalar else _random_like(rng, np.asarray(output))
    dtypes = [np.asarray(flat.values[p]).dtype for p in positions]
    tolerance = max(TOLERANCE.get(np.dtype(d), 1e-5) for d in dtypes)
    report = CheckReport(getattr(base, "__qualname__", repr(base)), tolerance)

    reference = numerical_vjp(flat.primal, tuple(
        np.asarray(v, dtype=np.complex128 if v.dtype.kind == "c" else np.float64)
        if isinstance(v, np.ndarray) else v for v in flat.values), cotangent, wrt=positions)
    report.values["finite differences"] = _flatten(reference)

    def record(method: str, computation: Callable[[], Any]) -> None:
        try:
            parts = computation()
        except (UnsupportedError, NotImplementedError, RuntimeError, ValueError) as error:
            report.skipped[method] = str(error).splitlines()[0]
            return
        flat = _flatten(parts)
        report.values[method] = flat
        report.errors[method] = _relative_error(flat, report.values["finite differences"])

    def as_tuple(result: Any) -> tuple:
        return result if isinstance(result, tuple) else (result,)

    if "source" in modes:
        record("source", lambda: flat.flat_gradients(
            as_tuple(differentiable.vjp(*values)[1](cotangent)), positions))
    if "tape" in modes:
        from ..tape import vjp_with_tape
        record("tape", lambda: as_tuple(vjp_with_tape(flat.primal, flat.values, {},
                                                      positions)[1](cotangent)))
    directions = [_random_like(rng, flat.values[p]) for p in positions]

    def forward_dot() -> tuple:      # Re <u, J v>, against Re <u J, v> (conj: complex ones)
        _, tangent = differentiable.jvp(values, [
            ravel_pytree(values[p])[1](d) if p in flat.trees else d
            for p, d in zip(positions, directions)])
        return (np.real(np.sum(np.conj(cotangent) * np.asarray(tangent))),)

    record_forward = "forward (u.Jv)"
    try:
        report.values[record_forward] = _flatten(forward_dot())
        expected = sum(float(np.real(np.sum(np.conj(r) * d)))
                       for r, d in zip(reference, directions))
        report.errors[record_forward] = _relative_error(report.values[record_forward],
                                                        np.array([expected]))
    except (UnsupportedError, NotImplementedError) as error:
        report.skipped[record_forward] = str(error).splitlines()[0]
    if scalar and all(isinstance(values[p], float) for p in positions):
        def symbolic_value() -> tuple:
            from .symbolic import symbolic
            derivative = symbolic(base, wrt=tuple(differentiable.params[p] for p in positions),
                                  simplify=False).lambdify()(*values)
            return tuple(np.ravel(np.asarray(derivative, dtype=float)))
        record("sympy", symbolic_value)
    else:
        report.skipped["sympy"] = "needs a scalar function of scalar arguments"
    if order >= 2:
        if flat.trees:
            report.skipped["hessian-vector"] = "order=2 with a pytree argument: not yet"
        elif len(positions) != 1:
            report.skipped["hessian-vector"] = "order=2 needs one wrt parameter"
        else:
            position = positions[0]
            direction = directions[0]

            def gradient_at(step: float) -> Any:
                shifted = list(values)
                shifted[position] = values[position] + step * direction
                return numerical_grad(base, tuple(shifted), wrt=position)
            h = 1e-4
            numeric = (np.asarray(gradient_at(h)) - np.asarray(gradient_at(-h))) / (2 * h)
            report.values["hvp finite diff."] = np.ravel(numeric)
            try:
                product = _hvp(differentiable, values, direction)
                report.values["hvp (fwd-over-rev)"] = np.ravel(product)
                report.errors["hvp (fwd-over-rev)"] = _relative_error(np.ravel(product),
                                                                      np.ravel(numeric))
                # the reference differentiates finite differences: looser
                report.tolerances["hvp (fwd-over-rev)"] = max(tolerance, 1e-3)
            except UnsupportedError as error:
                report.skipped["hvp (fwd-over-rev)"] = str(error).splitlines()[0]
    if raise_on_mismatch and not report.ok:
        raise GradientMismatch(report)
    return report


CHECKERS[:] = [check]        # what @s2s.differentiate(check=True) runs
