"""Rules for ``scipy.signal.convolve`` and ``scipy.signal.correlate``, n-dimensional, in
every ``mode`` ("full", "same", "valid", either input the larger for "valid") and with any
``method`` ("auto", "direct", "fft"; the derivatives use the same method).

Imported only once SciPy's ``scipy.signal`` is (it takes most of a second to import):
:func:`s2s.rules.registry.Registry.defer`.  Rule bodies call ``scipy_signal.<f>``,
published in :mod:`s2s.runtime` (generated code imports ``from scipy import signal as
scipy_signal``), and ``convolution_window``, a helper of shapes declared zero.

Both functions are bilinear, so each derivative is again a convolution or a correlation:
second order works through them.  ``mode`` and ``method`` are not differentiated (a
differentiated value there is refused, ``s2s.MissingRuleError``).  Real arrays only.
"""
import numpy as np
import scipy.signal

from .. import runtime
from .domains import Shaped
from .registry import define, define_nondifferentiable

scipy_signal = scipy.signal
runtime.scipy_signal = scipy_signal


def convolution_window(ans, x, other):
    """The slices of the full correlation of ``ans``'s cotangent with ``other`` that make
    ``x``'s cotangent, for ``ans = convolve(x, other, mode)`` in any mode.

    Every mode keeps a centred window of the full result, starting at ``(full - out) // 2``
    per axis (SciPy's ``_centered``); the cotangent of ``x`` then starts at
    ``len(other) - 1 - start`` in the full correlation.
    """
    window = []
    for size, other_size, out_size in zip(np.shape(x), np.shape(other), np.shape(ans)):
        start = other_size - 1 - (size + other_size - 1 - out_size) // 2
        window.append(slice(start, start + size))
    return tuple(window)


runtime.convolution_window = convolution_window
define_nondifferentiable(convolution_window)


def _define(primal, vjp, jvp, **options):
    name = primal.__name__
    return define(primal, name=f"scipy.signal.{name}", vjp=vjp, jvp=jvp,
                  display=name.title(), **options)


# --- scipy.signal.convolve / correlate -------------------------------------------------------
# Every mode ("full", "same", "valid") keeps a centred window of the full convolution, so a
# cotangent is a window (convolution_window) of a full correlation with the other input;
# correlate(x, y) is convolve(x, flip(y)) for real arrays.


def convolve_vjp_in1(g, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.correlate(g, in2, mode="full", method=method)[
        convolution_window(ans, in1, in2)]


def convolve_vjp_in2(g, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.correlate(g, in1, mode="full", method=method)[
        convolution_window(ans, in2, in1)]


def convolve_jvp_in1(t, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.convolve(t, in2, mode=mode, method=method)


def convolve_jvp_in2(t, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.convolve(in1, t, mode=mode, method=method)


_CONVOLUTION_EXAMPLES = ({}, {"mode": "same"}, {"mode": "valid"},
                         {"mode": "full", "method": "fft"}, {"mode": "same", "method": "direct"},
                         {"mode": "valid", "method": "fft"})
_define(scipy_signal.convolve, vjp=(convolve_vjp_in1, convolve_vjp_in2),
        jvp=(convolve_jvp_in1, convolve_jvp_in2),
        domains=(Shaped(shape=(5,)), Shaped(shape=(3,))), examples=_CONVOLUTION_EXAMPLES)


def correlate_vjp_in1(g, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.convolve(g, in2, mode="full", method=method)[
        convolution_window(ans, in1, in2)]


def correlate_vjp_in2(g, ans, in1, in2, mode="full", method="auto"):
    return np.flip(scipy_signal.correlate(g, in1, mode="full", method=method)[
        convolution_window(ans, in2, in1)])


def correlate_jvp_in1(t, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.correlate(t, in2, mode=mode, method=method)


def correlate_jvp_in2(t, ans, in1, in2, mode="full", method="auto"):
    return scipy_signal.correlate(in1, t, mode=mode, method=method)


_define(scipy_signal.correlate, vjp=(correlate_vjp_in1, correlate_vjp_in2),
        jvp=(correlate_jvp_in1, correlate_jvp_in2),
        domains=(Shaped(shape=(5,)), Shaped(shape=(3,))), examples=_CONVOLUTION_EXAMPLES)
