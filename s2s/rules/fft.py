"""Rules for ``numpy.fft``: the transforms, the shifts and the sample frequencies.

Every transform is linear, so its JVP is the transform of the tangent and its VJP the
transpose of the transform, written in ``np.fft`` calls (so second derivatives run
through them).  Cotangents of complex values are carried as ``2 dL/dz`` (registry.py),
in which a complex-linear map's VJP is its plain transpose:

* ``fft``, ``ifft``, ``fftn``... are symmetric matrices (``exp(-2 pi i jk / n)``), so the
  transpose of a transform is the same transform, with the same ``norm``;
* ``n=`` and ``s=`` cut or pad the input with zeros first: the transpose pads or cuts the
  cotangent back (:func:`s2s.runtime.fit_to`);
* ``rfft`` keeps the half spectrum ``0 .. n // 2`` of a real signal.  Each kept bin but 0
  (and ``n / 2`` when ``n`` is even: the Nyquist bin, its own conjugate) stands for a pair
  of conjugate bins of the full spectrum, so the transpose, a real signal, is ``hfft`` of
  the cotangent with those bins halved (:func:`s2s.runtime.half_spectrum`), for odd and
  even ``n`` alike (autograd refuses odd lengths).  ``irfft`` reads each such bin twice
  (with its conjugate), so its transpose is ``ihfft`` of the cotangent with those bins
  doubled; ``hfft`` and ``ihfft`` are ``irfft`` and ``rfft`` with a conjugate and the
  opposite ``norm`` (NumPy's definitions), and their transposes follow;
* ``rfftn`` and ``irfftn`` are the real transform along the last axis and complex ones
  along the others: their transposes are ``irfftn`` and ``rfftn`` with the opposite
  ``norm`` ("backward" scales the inverse by ``1 / n``, "forward" the transform, "ortho"
  both by ``1 / sqrt(n)``), conjugates and the same weights;
* ``fftshift`` and ``ifftshift`` are permutations, each the other's transpose;
* ``fftfreq(n, d)`` and ``rfftfreq(n, d)`` are ``k / (n d)``: differentiable in ``d``.

References: the DFT and its inverse as in NumPy's ``numpy.fft`` documentation (the
normalizations and the Hermitian-symmetric ``hfft``/``ihfft``); the half-spectrum weights
are the Hermitian symmetry ``X[n - k] = conj(X[k])`` of a real signal's transform.
"""
import numpy as np

from ..runtime import double_spectrum, fft_axes, fft_lengths, fit_to, half_spectrum
from .domains import Shaped
from .registry import Domain, define

_NORMS = ({"norm": "ortho"}, {"norm": "forward"}, {"norm": "backward"})
_ONE_AXIS = ({}, {"axis": 0}, {"n": 5}, {"n": 6, "axis": 0}, {"n": 3}, {"n": 2, "axis": 0},
             {"n": 7, "norm": "ortho"}, {"n": 4, "axis": 0, "norm": "forward"}) + _NORMS
_AXES = ({}, {"axes": (0, 2)}, {"axes": (1,)}, {"s": (3, 5), "axes": (0, 2)},
         {"s": (2, 4), "axes": (2, 1)}, {"s": (1, 3, 6), "axes": (0, 1, 2), "norm": "ortho"},
         {"axes": (2, 0), "norm": "forward"}) + _NORMS
_TWO_AXES = ({}, {"axes": (0, 2)}, {"s": (3, 5)}, {"s": (2, 3), "axes": (2, 1)},
             {"axes": (1, 0), "norm": "ortho"}, {"norm": "forward"})
_BLOCK = (Shaped(shape=(2, 3, 4)),)

# --- one axis: fft, ifft ----------------------------------------------------------------------


def fft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # symmetric: the same transform; then undo the cut or padding to n
    if n is None:
        return np.fft.fft(g, None, axis, norm)
    return fit_to(np.fft.fft(g, None, axis, norm), a, (axis,))


def fft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.fft(t, n, axis, norm)


define(np.fft.fft, vjp=fft_vjp, jvp=fft_jvp, display="FftC2C", linear=True, complex_ok=True,
       complex_result=True, examples=_ONE_AXIS)


def ifft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    if n is None:
        return np.fft.ifft(g, None, axis, norm)
    return fit_to(np.fft.ifft(g, None, axis, norm), a, (axis,))


def ifft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.ifft(t, n, axis, norm)


define(np.fft.ifft, vjp=ifft_vjp, jvp=ifft_jvp, display="FftC2C", linear=True,
       complex_ok=True, complex_result=True, examples=_ONE_AXIS)

# --- one axis, real signals: rfft, irfft, hfft, ihfft -----------------------------------------


def rfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # a real signal: hfft of g with the bins that stand for conjugate pairs halved
    if n is None:
        return np.fft.hfft(half_spectrum(g, np.shape(a)[axis], axis), np.shape(a)[axis], axis,
                           norm)
    return fit_to(np.fft.hfft(half_spectrum(g, n, axis), n, axis, norm), a, (axis,))


def rfft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.rfft(t, n, axis, norm)


define(np.fft.rfft, vjp=rfft_vjp, jvp=rfft_jvp, display="FftR2C", linear=True,
       complex_ok=True, complex_result=True, examples=_ONE_AXIS)


def irfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # a real result (Re g); each bin that stands for a conjugate pair is read twice
    if n is None:
        return double_spectrum(np.fft.ihfft(np.real(g), np.shape(ans)[axis], axis, norm),
                               np.shape(ans)[axis], axis)
    return fit_to(double_spectrum(np.fft.ihfft(np.real(g), n, axis, norm), n, axis), a,
                  (axis,))


def irfft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.irfft(t, n, axis, norm)


define(np.fft.irfft, vjp=irfft_vjp, jvp=irfft_jvp, display="FftC2R", linear=True,
       complex_ok=True, examples=_ONE_AXIS + ({"n": 9},))


def hfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # hfft(a) is irfft(conj(a)) with the opposite norm: rfft of Re g, bins doubled
    if n is None:
        return double_spectrum(np.fft.rfft(np.real(g), np.shape(ans)[axis], axis, norm),
                               np.shape(ans)[axis], axis)
    return fit_to(double_spectrum(np.fft.rfft(np.real(g), n, axis, norm), n, axis), a,
                  (axis,))


def hfft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.hfft(t, n, axis, norm)


define(np.fft.hfft, vjp=hfft_vjp, jvp=hfft_jvp, display="FftC2R", linear=True,
       complex_ok=True, examples=_ONE_AXIS + ({"n": 9},))


def ihfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    # ihfft(a) is conj(rfft(a)) with the opposite norm: irfft of g, bins halved
    if n is None:
        return np.fft.irfft(half_spectrum(g, np.shape(a)[axis], axis), np.shape(a)[axis], axis,
                            norm)
    return fit_to(np.fft.irfft(half_spectrum(g, n, axis), n, axis, norm), a, (axis,))


def ihfft_jvp(t, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.fft.ihfft(t, n, axis, norm)


define(np.fft.ihfft, vjp=ihfft_vjp, jvp=ihfft_jvp, display="FftR2C", linear=True,
       complex_ok=True, complex_result=True, examples=_ONE_AXIS)

# --- several axes: fftn, ifftn, fft2, ifft2 ----------------------------------------------------


def fftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    if s is None:
        return np.fft.fftn(g, None, axes, norm)
    transformed = fft_axes(a, s, axes)
    return fit_to(np.fft.fftn(g, None, transformed, norm), a, transformed)


def fftn_jvp(t, ans, a, s=None, axes=None, norm=None, out=None):
    return np.fft.fftn(t, s, axes, norm)


define(np.fft.fftn, vjp=fftn_vjp, jvp=fftn_jvp, display="FftC2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_AXES)


def ifftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    if s is None:
        return np.fft.ifftn(g, None, axes, norm)
    transformed = fft_axes(a, s, axes)
    return fit_to(np.fft.ifftn(g, None, transformed, norm), a, transformed)


def ifftn_jvp(t, ans, a, s=None, axes=None, norm=None, out=None):
    return np.fft.ifftn(t, s, axes, norm)


define(np.fft.ifftn, vjp=ifftn_vjp, jvp=ifftn_jvp, display="FftC2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_AXES)


def fft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    if s is None:
        return np.fft.fft2(g, None, axes, norm)
    transformed = fft_axes(a, s, axes)
    return fit_to(np.fft.fft2(g, None, transformed, norm), a, transformed)


def fft2_jvp(t, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return np.fft.fft2(t, s, axes, norm)


define(np.fft.fft2, vjp=fft2_vjp, jvp=fft2_jvp, display="FftC2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_TWO_AXES)


def ifft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    if s is None:
        return np.fft.ifft2(g, None, axes, norm)
    transformed = fft_axes(a, s, axes)
    return fit_to(np.fft.ifft2(g, None, transformed, norm), a, transformed)


def ifft2_jvp(t, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return np.fft.ifft2(t, s, axes, norm)


define(np.fft.ifft2, vjp=ifft2_vjp, jvp=ifft2_jvp, display="FftC2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_TWO_AXES)

# --- several axes, real signals: rfftn, irfftn, rfft2, irfft2 ---------------------------------


def rfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    # irfftn of conj(g), halved bins along the last axis, the opposite norm
    transformed = fft_axes(a, s, axes)
    if norm == "ortho":
        dual = "ortho"
    elif norm == "forward":
        dual = "backward"
    else:
        dual = "forward"
    if s is None:
        lengths = fft_lengths(a, transformed)
        return np.fft.irfftn(np.conj(half_spectrum(g, lengths[-1], transformed[-1])), lengths,
                             transformed, dual)
    return fit_to(np.fft.irfftn(np.conj(half_spectrum(g, s[-1], transformed[-1])), s,
                                transformed, dual), a, transformed)


def rfftn_jvp(t, ans, a, s=None, axes=None, norm=None, out=None):
    return np.fft.rfftn(t, s, axes, norm)


define(np.fft.rfftn, vjp=rfftn_vjp, jvp=rfftn_jvp, display="FftR2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_AXES)


def irfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    # conj(rfftn(Re g)), the opposite norm, doubled bins along the last axis
    transformed = fft_axes(a, s, axes)
    lengths = fft_lengths(ans, transformed)
    if norm == "ortho":
        dual = "ortho"
    elif norm == "forward":
        dual = "backward"
    else:
        dual = "forward"
    spectrum = np.conj(np.fft.rfftn(np.real(g), lengths, transformed, dual))
    if s is None:
        return double_spectrum(spectrum, lengths[-1], transformed[-1])
    return fit_to(double_spectrum(spectrum, lengths[-1], transformed[-1]), a, transformed)


def irfftn_jvp(t, ans, a, s=None, axes=None, norm=None, out=None):
    return np.fft.irfftn(t, s, axes, norm)


define(np.fft.irfftn, vjp=irfftn_vjp, jvp=irfftn_jvp, display="FftC2R", linear=True,
       complex_ok=True, domains=_BLOCK, examples=_AXES)


def rfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    transformed = fft_axes(a, s, axes)
    if norm == "ortho":
        dual = "ortho"
    elif norm == "forward":
        dual = "backward"
    else:
        dual = "forward"
    if s is None:
        lengths = fft_lengths(a, transformed)
        return np.fft.irfftn(np.conj(half_spectrum(g, lengths[-1], transformed[-1])), lengths,
                             transformed, dual)
    return fit_to(np.fft.irfftn(np.conj(half_spectrum(g, s[-1], transformed[-1])), s,
                                transformed, dual), a, transformed)


def rfft2_jvp(t, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return np.fft.rfft2(t, s, axes, norm)


define(np.fft.rfft2, vjp=rfft2_vjp, jvp=rfft2_jvp, display="FftR2C", linear=True,
       complex_ok=True, complex_result=True, domains=_BLOCK, examples=_TWO_AXES)


def irfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    transformed = fft_axes(a, s, axes)
    lengths = fft_lengths(ans, transformed)
    if norm == "ortho":
        dual = "ortho"
    elif norm == "forward":
        dual = "backward"
    else:
        dual = "forward"
    spectrum = np.conj(np.fft.rfftn(np.real(g), lengths, transformed, dual))
    if s is None:
        return double_spectrum(spectrum, lengths[-1], transformed[-1])
    return fit_to(double_spectrum(spectrum, lengths[-1], transformed[-1]), a, transformed)


def irfft2_jvp(t, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return np.fft.irfft2(t, s, axes, norm)


define(np.fft.irfft2, vjp=irfft2_vjp, jvp=irfft2_jvp, display="FftC2R", linear=True,
       complex_ok=True, domains=_BLOCK, examples=_TWO_AXES)

# --- shifts and sample frequencies ------------------------------------------------------------


def fftshift_vjp(g, ans, x, axes=None):
    return np.fft.ifftshift(g, axes)


def fftshift_jvp(t, ans, x, axes=None):
    return np.fft.fftshift(t, axes)


define(np.fft.fftshift, vjp=fftshift_vjp, jvp=fftshift_jvp, display="Roll", linear=True,
       complex_ok=True, domains=_BLOCK, examples=({}, {"axes": 1}, {"axes": (0, 2)}))


def ifftshift_vjp(g, ans, x, axes=None):
    return np.fft.fftshift(g, axes)


def ifftshift_jvp(t, ans, x, axes=None):
    return np.fft.ifftshift(t, axes)


define(np.fft.ifftshift, vjp=ifftshift_vjp, jvp=ifftshift_jvp, display="Roll", linear=True,
       complex_ok=True, domains=_BLOCK, examples=({}, {"axes": -1}, {"axes": (2, 0)}))

_COUNT = Domain(integer=True)          # the number of samples n: an integer, no derivative
_SPACING = Shaped(0.5, 2.0, shape=())  # the sample spacing d: a positive number


def fftfreq_vjp_d(g, ans, n, d=1.0, device=None):
    # ans = k / (n d): d ans / d d = -ans / d
    return -np.sum(g * ans) / d


def fftfreq_jvp_d(t, ans, n, d=1.0, device=None):
    return -t * ans / d


define(np.fft.fftfreq, vjp=(None, fftfreq_vjp_d), jvp=(None, fftfreq_jvp_d), display="Fftfreq",
       complex_ok=True, domains=(_COUNT, _SPACING), examples=({"n": 8}, {"n": 7}))


def rfftfreq_vjp_d(g, ans, n, d=1.0, device=None):
    return -np.sum(g * ans) / d


def rfftfreq_jvp_d(t, ans, n, d=1.0, device=None):
    return -t * ans / d


define(np.fft.rfftfreq, vjp=(None, rfftfreq_vjp_d), jvp=(None, rfftfreq_jvp_d),
       display="Fftfreq", complex_ok=True, domains=(_COUNT, _SPACING),
       examples=({"n": 8}, {"n": 7}))
