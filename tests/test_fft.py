"""numpy.fft: every transform with ``n``/``s``, ``axis``/``axes``, each ``norm``, odd and even
lengths, on real and complex inputs, in generated code, forward mode, on the tape and to
second order, against central finite differences (``reference.complex_numerical_gradient``:
the real and imaginary parts of each element moved separately, the convention of
tests/test_complex.py).  The rules themselves are also checked by tests/test_rules.py
from their records (VJP and JVP against finite differences, the transpose identity,
float32, complex values).
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from reference import complex_numerical_gradient, complex_numerical_jvp
from s2s.tape import tensor, vjp_with_tape

RNG = np.random.default_rng(2026)
NORMS = (None, "backward", "ortho", "forward")

# (transform, keyword arguments, input shape, complex input?)
ONE_AXIS = [
    ("fft", {}, (3, 6), True), ("fft", {"n": 5}, (3, 6), True),
    ("fft", {"n": 8, "axis": 0}, (3, 4), False), ("ifft", {}, (2, 5), True),
    ("ifft", {"n": 4, "axis": 0}, (3, 3), True),
    ("rfft", {}, (2, 6), False), ("rfft", {}, (2, 7), False), ("rfft", {"n": 5}, (2, 8), False),
    ("rfft", {"n": 9, "axis": 0}, (4, 3), False), ("rfft", {"n": 1}, (3,), False),
    ("rfft", {"n": 2}, (3,), False),
    ("irfft", {}, (2, 4), True), ("irfft", {"n": 7}, (2, 4), True),
    ("irfft", {"n": 4}, (2, 5), True), ("irfft", {"n": 11, "axis": 0}, (3, 2), True),
    ("hfft", {}, (2, 4), True), ("hfft", {"n": 5}, (3,), True), ("hfft", {"n": 8}, (6,), True),
    ("ihfft", {}, (2, 6), False), ("ihfft", {"n": 5}, (2, 4), False),
    ("ihfft", {"n": 7, "axis": 0}, (9, 2), False),
]
SEVERAL_AXES = [
    ("fftn", {}, (2, 3, 4), True), ("fftn", {"axes": (0, 2)}, (2, 3, 4), True),
    ("fftn", {"s": (3, 5), "axes": (2, 0)}, (2, 3, 4), True),
    ("ifftn", {"s": (2, 2, 5), "axes": (0, 1, 2)}, (2, 3, 4), True),
    ("fft2", {}, (3, 5), False), ("fft2", {"s": (4, 3)}, (2, 3, 4), True),
    ("ifft2", {"axes": (0, 2)}, (2, 3, 4), True),
    ("rfftn", {}, (2, 3, 5), False), ("rfftn", {"axes": (2, 1)}, (2, 3, 4), False),
    ("rfftn", {"s": (3, 7), "axes": (0, 2)}, (2, 3, 4), False),
    ("rfft2", {"s": (2, 6)}, (3, 5), False),
    ("irfftn", {}, (2, 3, 4), True), ("irfftn", {"s": (4, 7), "axes": (1, 2)}, (2, 3, 4), True),
    ("irfftn", {"s": (3, 4), "axes": (0, 1)}, (2, 3, 4), True),
    ("irfft2", {"s": (3, 5)}, (2, 4, 3), True),
]
CASES = [(name, {**kwargs, "norm": norm}, shape, is_complex)
         for name, kwargs, shape, is_complex in ONE_AXIS + SEVERAL_AXES for norm in NORMS]


def case_id(case):
    name, kwargs, shape, is_complex = case
    items = ",".join(f"{key}={value}" for key, value in kwargs.items())
    return f"{name}({items})-{'x'.join(map(str, shape))}-{'complex' if is_complex else 'real'}"


def sample(shape, is_complex):
    x = RNG.normal(size=shape)
    return x + 1j * RNG.normal(size=shape) if is_complex else x


def loss_of(name, kwargs, shape, is_complex):
    """A real loss of the transform's output that weighs every real and imaginary part:
    ``sum(Re(y * c)) + sum(Im(y) ** 2) / 2 + sum(Re(y) ** 3) / 3`` for a random complex ``c``."""
    transform = getattr(np.fft, name)
    x = sample(shape, is_complex)
    y = transform(x, **kwargs)
    c = RNG.normal(size=y.shape) + 1j * RNG.normal(size=y.shape)
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        n, axis, norm = kwargs.get("n"), kwargs.get("axis", -1), kwargs.get("norm")

        def loss(x):
            y = transform(x, n, axis, norm)
            return np.sum(np.real(y * c)) + np.sum(np.imag(y) ** 2) / 2 \
                + np.sum(np.real(y) ** 3) / 3
    else:
        default = (-2, -1) if name.endswith("2") else None
        s, axes, norm = kwargs.get("s"), kwargs.get("axes", default), kwargs.get("norm")

        def loss(x):
            y = transform(x, s, axes, norm)
            return np.sum(np.real(y * c)) + np.sum(np.imag(y) ** 2) / 2 \
                + np.sum(np.real(y) ** 3) / 3
    return loss, x


def assert_close(actual, expected, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_transforms_in_generated_code_forward_mode_and_on_the_tape(case):
    loss, x = loss_of(*case)
    expected = complex_numerical_gradient(loss, (x,), 0)
    differentiable = s2s.differentiate(loss, fallback="error")
    assert differentiable.mode == "source"
    gradient = differentiable.grad(x)
    assert gradient.dtype == x.dtype                  # real for a real signal
    assert_close(gradient, expected)
    assert_close(vjp_with_tape(loss, (x,), {}, (0,))[1](1.0)[0], expected)
    tangent = sample(x.shape, np.iscomplexobj(x))
    _, derivative = s2s.jvp(loss, (x,), (tangent,))
    assert_close(derivative, complex_numerical_jvp(loss, (x,), 0, tangent))


SECOND_ORDER = [case for case in CASES if case[1]["norm"] in (None, "ortho")]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=case_id)
def test_second_order_through_the_adjoints(case):
    """The adjoints are written in np.fft calls: forward mode over the generated gradient
    (hvp) against finite differences of the gradient."""
    loss, x = loss_of(*case)
    direction = sample(x.shape, np.iscomplexobj(x))
    gradient = s2s.grad(loss)
    h = 1e-5
    expected = (gradient(x + h * direction) - gradient(x - h * direction)) / (2 * h)
    assert_close(s2s.hvp(loss, x, direction), expected, rtol=1e-5, atol=1e-6)


# --- written out, with constants the inliner folds ------------------------------------------------

C = RNG.normal(size=(2, 4)) + 1j * RNG.normal(size=(2, 4))


def spectrum_power(x):
    return np.sum(np.abs(np.fft.rfft(x, n=7, norm="ortho")) ** 2 * np.arange(4.0))


def round_trip(z):
    y = np.fft.ifft(np.fft.fft(z, axis=0) * np.array([[1.0], [0.5]]), axis=0)
    return np.sum(np.abs(y - C) ** 2)


def shifted_spectrum(x):
    y = np.fft.fftshift(np.fft.fft2(x), axes=(0, 1))
    return np.sum(np.real(np.fft.ifftshift(y * C[:, :3], axes=1)))


def real_round_trip(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * np.array([1.0, 0.5, 0.25]), n=5) ** 2)


def hermitian(z):
    return np.sum(np.fft.hfft(z, n=6) * np.arange(6.0)) + np.sum(np.abs(np.fft.ihfft(
        np.real(z) * 2.0)) ** 2)


def frequencies(x, d):
    return np.sum(np.fft.fftfreq(6, d) * x) + np.sum(np.fft.rfftfreq(6, d=d) ** 2)


WRITTEN = [(spectrum_power, RNG.normal(size=6)),
           (round_trip, RNG.normal(size=(2, 4)) + 1j * RNG.normal(size=(2, 4))),
           (shifted_spectrum, RNG.normal(size=(2, 3))),
           (real_round_trip, RNG.normal(size=5)),
           (hermitian, RNG.normal(size=4) + 1j * RNG.normal(size=4))]


@pytest.mark.parametrize(("function", "x"), WRITTEN, ids=lambda v: getattr(v, "__name__", ""))
def test_written_transforms(function, x):
    differentiable = s2s.differentiate(function, fallback="error")
    assert "np.fft." in differentiable.source
    expected = complex_numerical_gradient(function, (x,), 0)
    assert_close(differentiable.grad(x), expected)
    assert_close(vjp_with_tape(function, (x,), {}, (0,))[1](1.0)[0], expected)
    report = s2s.check(function, x, order=2)
    assert report.ok and "hvp (fwd-over-rev)" in report.errors


def test_the_inliner_folds_constant_arguments():
    """``n`` and ``norm`` known where the function is written: no test on them is left."""
    source = s2s.differentiate(spectrum_power, fallback="error").source
    assert "half_spectrum(" in source and "np.fft.hfft(" in source
    assert "is None" not in source and "'ortho' ==" not in source and "== 'ortho'" not in source
    assert "np.fft.hfft(half_spectrum(_t0_b, 7, -1), 7, -1, 'ortho')" in source


def test_sample_frequencies_are_differentiable_in_the_spacing():
    x, d = RNG.normal(size=6), 0.7
    differentiable = s2s.differentiate(frequencies, wrt=(0, 1), fallback="error")
    gx, gd = differentiable.grad(x, d)
    assert_close(gx, complex_numerical_gradient(frequencies, (x, d), 0))
    assert gd == pytest.approx(complex_numerical_gradient(frequencies, (x, d), 1), rel=1e-6)


def test_the_tape_records_the_transforms():
    x = tensor(RNG.normal(size=(3, 5)), requires_grad=True)
    y = np.fft.rfft(x, axis=0, norm="forward")
    assert type(y.grad_fn).__name__ == "FftR2CBackward0"
    loss = np.sum(np.abs(y) ** 2)
    loss.backward()
    expected = complex_numerical_gradient(
        lambda v: np.sum(np.abs(np.fft.rfft(v, axis=0, norm="forward")) ** 2), (x.data,), 0)
    assert_close(x.grad.data, expected)


def test_odd_and_even_lengths_of_the_real_transform():
    """autograd refuses odd lengths of rfft; here both have the right weights: the
    Nyquist bin, its own conjugate, exists only for even n."""
    for length in range(1, 10):
        x = RNG.normal(size=length)
        weights = RNG.normal(size=length // 2 + 1)

        def power(x):
            return np.sum(np.abs(np.fft.rfft(x)) ** 2 * weights)
        assert_close(s2s.grad(power)(x), complex_numerical_gradient(power, (x,), 0))
