"""The zero audit (issue 13): an exactly-zero gradient entry must be a true zero.

A rule missing from the analysis shows up as a gradient entry that is exactly zero, so
wherever s2s returns one, central finite differences of that entry must agree (to
rounding).  :func:`assert_zeros_are_true` checks one gradient; :func:`install` makes every
``Differentiable.grad`` and ``value_and_grad`` call of a script check its first few
results, so the examples can run under the audit:
``python -c "import zero_audit; zero_audit.run('examples/demo.py')"``.
Nothing here uses s2s to compute the reference.
"""
from __future__ import annotations

import runpy
import sys

import numpy as np

CALLS_AUDITED = 3        # per differentiated function: training loops call grad often
EPSILON = 1e-6


def true_zero_tolerance(scale: float) -> float:
    """How far from zero the finite difference of a true zero may land: rounding of
    values of magnitude ``scale`` divided by the step, with a wide margin."""
    return 1e-7 * max(1.0, scale)


def assert_zeros_are_true(function, args: list, position: int, gradient,
                          label: str = "") -> None:
    """Each entry of ``gradient`` (w.r.t. ``args[position]``) that is exactly zero is
    checked against a central difference of ``np.sum(function(*args))``."""
    gradient = np.asarray(gradient)
    if not np.issubdtype(gradient.dtype, np.floating) or not np.any(gradient == 0.0):
        return
    point = args[position]
    scalar = np.ndim(point) == 0
    base = np.array(point, dtype=np.float64)

    def value_at(shifted) -> float:
        moved = list(args)
        moved[position] = float(shifted) if scalar else shifted
        return float(np.sum(function(*moved)))

    scale = abs(value_at(base))
    for index in zip(*np.nonzero(gradient == 0.0)) if gradient.ndim else [()]:
        step = np.zeros_like(base)
        step[index] = EPSILON
        slope = (value_at(base + step) - value_at(base - step)) / (2 * EPSILON)
        assert abs(slope) <= true_zero_tolerance(scale), (
            f"{label}: s2s gives an exactly zero derivative at argument {position}, entry "
            f"{index}, but finite differences give {slope!r}: a missing rule?")


USER_DECLARED_ZEROS = ("stop_gradient", "detach", "no_grad", "nondifferentiable")


def _declares_zeros(function) -> bool:
    """A function that stops gradients on purpose has zeros finite differences cannot see."""
    import inspect
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return True
    return any(word in source for word in USER_DECLARED_ZEROS)


def _audited(method, returns_value: bool):
    calls: dict[int, int] = {}

    def audited(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        count = calls.get(id(self.function), 0)
        if count < CALLS_AUDITED and not kwargs and not _declares_zeros(self.function):
            calls[id(self.function)] = count + 1
            gradients = result[1] if returns_value else result
            if len(self.wrt_positions) == 1 or not isinstance(gradients, tuple):
                gradients = (gradients,)
            values = self._arguments(args, kwargs)
            for position, gradient in zip(self.wrt_positions, gradients):
                if isinstance(gradient, (float, np.ndarray, np.floating)):
                    assert_zeros_are_true(self.function, list(values), position, gradient,
                                          label=getattr(self.function, "__qualname__", "?"))
        return result
    return audited


def install() -> None:
    from s2s.api import Differentiable
    Differentiable.grad = _audited(Differentiable.grad, returns_value=False)
    Differentiable.value_and_grad = _audited(Differentiable.value_and_grad, returns_value=True)


def run(path: str, *argv: str) -> None:
    install()
    sys.argv = [path, *argv]
    runpy.run_path(path, run_name="__main__")
