"""``np.linalg.eig`` and ``eigvals`` with complex eigenvalues: real matrices with complex-
conjugate pairs, complex matrices, and complex arrays with real eigenvalues (what NumPy 2.5
returns for every real matrix).

Under the convention of ``tests/test_complex.py`` (the gradient of a real loss is
``dL/dRe z + i dL/dIm z``; a real input's gradient is real), every gradient is checked
against central finite differences that move the real and the imaginary part of each entry
separately, in generated code (``mode == "source"``), forward mode against them and against
reverse mode, and Hessian-vector products against finite differences of the gradient.

NumPy's eigenvectors have unit length and their entry of largest modulus real and positive
(LAPACK's phase).  s2s differentiates exactly that, so a loss that depends on the phase has
the derivative of what NumPy returns, except where two entries tie for the largest modulus
(a 2x2 rotation's eigenvectors ``(1, -+i) / sqrt(2)``): there the phase jumps and only
phase-invariant losses (``|v|``, ``v diag(w) v^-1``) have a derivative.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from reference import complex_numerical_gradient, complex_numerical_jvp
from s2s.tape import vjp_with_tape

RNG = np.random.default_rng(20261203)
# eigenvalues +-i (their eigenvectors' entries tie in modulus: phase-invariant losses only), 2
ROTATION = np.array([[0.0, -1.0, 0.2], [1.0, 0.0, 0.1], [0.0, 0.0, 2.0]])
# a generic real matrix with a complex-conjugate pair and two real eigenvalues
REAL = np.array([[0.9, -1.2, 0.3, 0.1], [0.8, 0.4, -0.5, 0.2], [0.1, 0.3, 1.7, -0.4],
                 [0.2, -0.1, 0.6, -0.8]])
COMPLEX = np.array([[0.5 + 0.3j, -0.2 + 0.1j, 0.4j], [0.7 - 0.2j, -0.3 + 0.6j, 0.1],
                    [0.2 + 0.2j, 0.5, 1.1 - 0.4j]])
_BASIS = np.array([[1.0, 0.3, -0.2], [0.1, 1.0, 0.4], [-0.3, 0.2, 1.0]])
# real eigenvalues 1, 2, 3.5, held in a complex array (NumPy 2.5 returns such arrays)
REAL_EIGENVALUES = (_BASIS @ np.diag([1.0, 2.0, 3.5]) @ np.linalg.inv(_BASIS)).astype(complex)


def assert_close(actual, expected, rtol=1e-5, atol=1e-7):
    """Real and imaginary parts both (reference.assert_close compares real parts only)."""
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def weights(shape):
    return np.reshape(np.linspace(-1.0, 1.3, int(np.prod(shape))), shape)


def eigenvalue_moduli(a):
    return np.sum(np.abs(np.linalg.eigvals(a)) ** 2 * weights(a.shape[-1:]))


def eigenvalue_parts(a):
    w = np.linalg.eig(a)[0]
    return np.sum(np.real(w ** 2) * weights(w.shape)) + np.sum(np.imag(w) ** 3)


def eigenvector_moduli(a):
    # phase-invariant: |v| does not change when a column is multiplied by exp(i t)
    w, v = np.linalg.eig(a)
    return np.sum(np.abs(v) ** 2 * weights(v.shape)) + np.real(np.sum(w))


def rebuilt(a):
    # v diag(w) v^-1 is a again: phase-invariant, and its derivative is the identity map
    w, v = np.linalg.eig(a)
    return np.sum(np.real(v @ np.diag(w) @ np.linalg.inv(v)) * weights(v.shape)) \
        + np.sum(np.imag(v * w[None, :] @ np.linalg.inv(v)) ** 2)


def eigenvector_phases(a):
    # depends on the phase NumPy fixes (the largest entry real): differentiated exactly
    w, v = np.linalg.eig(a)
    return np.sum(np.real(v) * weights(v.shape)) + np.sum(np.imag(v) ** 2 * weights(v.shape))


def through_complex_dtype(a):
    # a real matrix in a complex array: NumPy 2.5's results of eig for real input
    w, v = np.linalg.eig(a + 0j)
    return np.sum(np.real(w) ** 2 * weights(w.shape)) + np.sum(np.abs(v[:, 0]) ** 4)


INVARIANT = [eigenvalue_moduli, eigenvalue_parts, eigenvector_moduli, rebuilt]
CASES = ([(f, ROTATION) for f in INVARIANT] + [(f, REAL) for f in INVARIANT]
         + [(f, COMPLEX) for f in INVARIANT] + [(f, REAL_EIGENVALUES) for f in INVARIANT]
         + [(eigenvector_phases, REAL), (eigenvector_phases, COMPLEX),
            (through_complex_dtype, REAL_EIGENVALUES.real)])
IDS = [f"{f.__name__}-{name}" for f, name in
       [(f, n) for n in ("rotation", "real", "complex", "real_eigenvalues") for f in INVARIANT]
       + [(eigenvector_phases, "real"), (eigenvector_phases, "complex"),
          (through_complex_dtype, "real")]]


def test_the_samples_have_what_they_are_named_for():
    assert np.sum(np.abs(np.imag(np.linalg.eigvals(ROTATION))) > 0.5) == 2
    assert np.sum(np.abs(np.imag(np.linalg.eigvals(REAL))) > 0.1) == 2
    assert np.allclose(np.sort(np.linalg.eigvals(REAL_EIGENVALUES)), [1.0, 2.0, 3.5])


@pytest.mark.parametrize(("function", "a"), CASES, ids=IDS)
def test_gradient_against_finite_differences(function, a):
    differentiable = s2s.differentiate(function, fallback="error")
    gradient = differentiable.grad(a)
    assert differentiable.mode == "source"
    assert gradient.dtype == a.dtype                 # a real matrix's gradient is real
    assert_close(gradient, complex_numerical_gradient(function, (a,), 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("function", "a"), CASES, ids=IDS)
def test_forward_mode_against_finite_differences_and_reverse_mode(function, a):
    tangent = RNG.normal(size=a.shape) + (1j * RNG.normal(size=a.shape)
                                          if np.iscomplexobj(a) else 0.0)
    _, derivative = s2s.jvp(function, (a,), (tangent,))
    assert_close(derivative, complex_numerical_jvp(function, (a,), 0, tangent), rtol=1e-6,
                 atol=1e-7)
    gradient = s2s.grad(function)(a)
    assert derivative == pytest.approx(float(np.real(np.vdot(gradient, tangent))), rel=1e-9,
                                       abs=1e-10)


@pytest.mark.parametrize(("function", "a"), [(eigenvector_moduli, REAL),
                                             (eigenvalue_parts, ROTATION),
                                             (through_complex_dtype, REAL_EIGENVALUES.real)],
                         ids=["eigenvector_moduli", "eigenvalue_parts", "complex_dtype"])
def test_hessian_vector_products_against_finite_differences_of_the_gradient(function, a):
    gradient = s2s.grad(function)
    h = 1e-5
    direction = RNG.normal(size=a.shape)
    expected = (gradient(a + h * direction) - gradient(a - h * direction)) / (2 * h)
    assert_close(s2s.hvp(function, a, direction), expected, rtol=1e-5, atol=1e-6)


def test_eigenvalues_of_the_eig_and_eigvals_rules_agree():
    """eigvals matches each eigenvalue to its eigenvector of eig (nearest), so both give the
    same gradient for the same loss of the eigenvalues."""
    def by_eig(a):
        return np.sum(np.real(np.linalg.eig(a)[0] ** 3))

    def by_eigvals(a):
        return np.sum(np.real(np.linalg.eigvals(a) ** 3))
    for a in (REAL, COMPLEX):
        assert_close(s2s.grad(by_eigvals)(a), s2s.grad(by_eig)(a), rtol=1e-10, atol=1e-12)


def test_tape_on_a_real_matrix_with_complex_eigenvalues():
    _, pullback = vjp_with_tape(eigenvalue_moduli, (REAL,), {}, (0,))
    (gradient,) = pullback(1.0)
    assert gradient.dtype == np.float64
    assert_close(gradient, complex_numerical_gradient(eigenvalue_moduli, (REAL,), 0),
                 rtol=1e-6, atol=1e-7)


def test_a_phase_dependent_loss_where_the_phase_jumps_is_refused():
    """ROTATION's eigenvectors for +-i have two entries of equal modulus: the one NumPy makes
    real flips under perturbations, so a loss of Re(v) has no derivative there; a loss of
    |v| has one (test_gradient_against_finite_differences[eigenvector_moduli-rotation])."""
    with pytest.raises(s2s.MissingRuleError, match="phase"):
        s2s.differentiate(eigenvector_phases, fallback="error").grad(ROTATION)
