"""Rules for products and ``numpy.linalg`` (``dot``, ``einsum``, ``solve``, ``svd``...).

Multi-output convention: ``slogdet``, ``eigh``, ``eig``, ``svd``, ``qr`` and ``lstsq``
return tuples (NumPy's named results).  Their VJP receives ``g`` as a tuple with one entry
per output, in the same order (``(g_sign, g_logabsdet)``, ``(g_w, g_v)``, ``(g_u, g_s,
g_vh)``, ``(g_q, g_r)``, ``(g_x, g_residuals, g_rank, g_s)``); an entry may be None,
meaning a zero cotangent.  Their JVP returns a tuple with one tangent per output (zeros for
an output that does not vary, such as the sign of ``slogdet``).  ``svd`` with
``compute_uv=False`` and ``qr`` with ``mode="r"`` return one array: ``g`` is then one array.

Where a derivative does not exist or is not unique, the helper raises
:class:`~s2s.runtime.RuleDomainError`, reported as :class:`s2s.MissingRuleError`: equal
eigenvalues of ``eig``/``eigvals`` (within ``sqrt(eps)`` of the largest modulus), a
rank-deficient ``qr`` or ``lstsq``, the extra columns of
``svd(full_matrices=True)`` and ``qr(mode="complete")`` of a non-square matrix,
``qr(mode="raw")``; and at equal eigenvalues of ``eigh`` (equal or zero singular values
of ``svd``) a cotangent of their eigenvectors (singular vectors), which have no derivative
there: the eigenvalues' cotangents are shared evenly among equal ones, and forward mode
gives NaN tangents to those vectors (as ``scipy.linalg.eigh``).  ``eig`` and ``eigvals``
take real and complex matrices with complex eigenvalues: the derivative of what NumPy
returns, eigenvectors of unit length whose entry of largest modulus is real (LAPACK's
phase), real for a real matrix.

Functions that read one triangle of a symmetric input (``cholesky``, ``eigh``) get the
exact derivative of what NumPy computes: the cotangent lives on the triangle read (the
lower one by default), an off-diagonal entry standing for both of its mirror entries.
For an input built symmetric (``a @ a.T``), the chain rule gives the usual result.
The products, ``inv``, ``solve`` and ``det`` are holomorphic (their VJPs are plain
transposes, registry.py), ``vdot`` conjugates its first argument and the norms are norms
of ``|x|`` (real-valued: ``Re(g)`` and the conjugate); ``slogdet``, ``pinv`` and the
factorizations other than ``eig``/``eigvals`` are for real arrays only (complex ones are
refused).
"""
import inspect

import numpy as np

from ..runtime import (
    adjugate,
    cholesky_adjoint,
    cholesky_tangent,
    cond_adjoint,
    cond_tangent,
    dot_adjoint,
    eig_adjoint,
    eig_tangent,
    eigh_adjoint,
    eigh_tangent,
    eigvals_adjoint,
    eigvals_tangent,
    eigvalsh_adjoint,
    eigvalsh_tangent,
    einsum_argument_adjoint,
    einsum_argument_tangent,
    inner_adjoint,
    logdet_adjoint,
    lstsq_adjoint,
    lstsq_tangent,
    matmul_adjoint_x,
    matmul_adjoint_y,
    matrix_power_adjoint,
    matrix_power_tangent,
    multi_dot_adjoint,
    multi_dot_tangent,
    norm_adjoint,
    pinv_adjoint,
    pinv_tangent,
    qr_adjoint,
    qr_tangent,
    solve_adjoint_a,
    solve_adjoint_b,
    solve_tangent_a,
    svd_adjoint,
    svd_tangent,
    tensordot_adjoint,
    tensorinv_adjoint,
    tensorinv_tangent,
    tensorsolve_adjoint,
    tensorsolve_tangent,
)
from .domains import (ArrayList, Diagonalizable, Invertible, InvertibleTensor, Shaped,
                      SymmetricPositive)
from .registry import define

_HAS_UPPER = "upper" in inspect.signature(np.linalg.cholesky).parameters  # NumPy >= 2

# --- products ---------------------------------------------------------------------------------


def matmul_vjp_x(g, ans, x, y):
    return matmul_adjoint_x(g, x, y)


def matmul_vjp_y(g, ans, x, y):
    return matmul_adjoint_y(g, x, y)


def matmul_jvp_x(t, ans, x, y):
    return t @ y


def matmul_jvp_y(t, ans, x, y):
    return x @ t


define(np.matmul, vjp=(matmul_vjp_x, matmul_vjp_y), jvp=(matmul_jvp_x, matmul_jvp_y),
       display="Mm", complex_ok=True, domains=(Shaped(shape=(3, 4)), Shaped(shape=(4, 2))))


def dot_vjp_x(g, ans, x, y):
    return dot_adjoint(g, x, y, 0)


def dot_vjp_y(g, ans, x, y):
    return dot_adjoint(g, x, y, 1)


def dot_jvp_x(t, ans, x, y):
    return np.dot(t, y)


def dot_jvp_y(t, ans, x, y):
    return np.dot(x, t)


define(np.dot, methods=("dot",), vjp=(dot_vjp_x, dot_vjp_y), jvp=(dot_jvp_x, dot_jvp_y),
       display="Dot", complex_ok=True, domains=(Shaped(shape=(3, 4)), Shaped(shape=(4,))))


def vdot_vjp_a(g, ans, a, b):
    # Both arguments are flattened; vdot(a, b) = sum(conj(a) * b) is antilinear in a.
    return np.conj(g * np.reshape(b, np.shape(a)))


def vdot_vjp_b(g, ans, a, b):
    return g * np.reshape(np.conj(a), np.shape(b))


def vdot_jvp_a(t, ans, a, b):
    return np.vdot(t, b)


def vdot_jvp_b(t, ans, a, b):
    return np.vdot(a, t)


define(np.vdot, vjp=(vdot_vjp_a, vdot_vjp_b), jvp=(vdot_jvp_a, vdot_jvp_b), display="Dot",
       complex_ok=True,
       domains=(Shaped(shape=(2, 3)), Shaped(shape=(3, 2))))


def inner_vjp_a(g, ans, a, b):
    return inner_adjoint(g, a, b, 0)


def inner_vjp_b(g, ans, a, b):
    return inner_adjoint(g, a, b, 1)


def inner_jvp_a(t, ans, a, b):
    return np.inner(t, b)


def inner_jvp_b(t, ans, a, b):
    return np.inner(a, t)


define(np.inner, vjp=(inner_vjp_a, inner_vjp_b), jvp=(inner_jvp_a, inner_jvp_b),
       display="Inner", complex_ok=True, domains=(Shaped(shape=(2, 3)), Shaped(shape=(4, 3))))


def outer_vjp_a(g, ans, a, b, out=None):
    # Both arguments are flattened.
    return np.reshape(g @ np.ravel(b), np.shape(a))


def outer_vjp_b(g, ans, a, b, out=None):
    return np.reshape(np.ravel(a) @ g, np.shape(b))


def outer_jvp_a(t, ans, a, b, out=None):
    return np.outer(t, b)


def outer_jvp_b(t, ans, a, b, out=None):
    return np.outer(a, t)


define(np.outer, vjp=(outer_vjp_a, outer_vjp_b), jvp=(outer_jvp_a, outer_jvp_b),
       display="Outer", complex_ok=True, domains=(Shaped(shape=(3,)), Shaped(shape=(2, 2))))


def tensordot_vjp_a(g, ans, a, b, axes=2):
    return tensordot_adjoint(g, a, b, axes, 0)


def tensordot_vjp_b(g, ans, a, b, axes=2):
    return tensordot_adjoint(g, a, b, axes, 1)


def tensordot_jvp_a(t, ans, a, b, axes=2):
    return np.tensordot(t, b, axes)


def tensordot_jvp_b(t, ans, a, b, axes=2):
    return np.tensordot(a, t, axes)


define(np.tensordot, vjp=(tensordot_vjp_a, tensordot_vjp_b),
       jvp=(tensordot_jvp_a, tensordot_jvp_b), display="Tensordot", complex_ok=True,
       domains=(Shaped(shape=(2, 3, 4)), Shaped(shape=(3, 4, 2))),
       examples=({"axes": 2}, {"axes": ([1], [0])}, {"axes": ([0, 2], [2, 1])}))


# einsum takes its operands variadically, in two calling forms: einsum("ij,jk->ik", a, b)
# and einsum(a, [0, 1], b, [1, 2], [0, 2]).  The rule has one position per positional
# argument (up to 8), each reading the whole call; the subscripts and sublists never carry
# a gradient (they are constants), so only the operands' positions are ever used.  An
# example lists the positional arguments: a tuple is the shape of an operand to sample.
EINSUM_ARGUMENTS = 8


def einsum_vjp_0(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 0)


def einsum_vjp_1(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 1)


def einsum_vjp_2(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 2)


def einsum_vjp_3(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 3)


def einsum_vjp_4(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 4)


def einsum_vjp_5(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 5)


def einsum_vjp_6(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 6)


def einsum_vjp_7(g, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_adjoint(g, operands, 7)


def einsum_jvp_0(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 0)


def einsum_jvp_1(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 1)


def einsum_jvp_2(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 2)


def einsum_jvp_3(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 3)


def einsum_jvp_4(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 4)


def einsum_jvp_5(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 5)


def einsum_jvp_6(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 6)


def einsum_jvp_7(t, ans, *operands, out=None, dtype=None, order="K", casting="safe",
                 optimize=False):
    return einsum_argument_tangent(t, operands, 7)


define(np.einsum,
       vjp=(einsum_vjp_0, einsum_vjp_1, einsum_vjp_2, einsum_vjp_3, einsum_vjp_4, einsum_vjp_5,
            einsum_vjp_6, einsum_vjp_7),
       jvp=(einsum_jvp_0, einsum_jvp_1, einsum_jvp_2, einsum_jvp_3, einsum_jvp_4, einsum_jvp_5,
            einsum_jvp_6, einsum_jvp_7),
       display="Einsum", complex_ok=True, domains=(Shaped(),) * EINSUM_ARGUMENTS,
       examples=({"operands": ("ij,jk->ik", (3, 4), (4, 2))},
                 {"operands": ("ij,jk", (3, 4), (4, 2))},
                 {"operands": ("ij,ij->", (3, 4), (3, 4))},
                 {"operands": ("ii,ij->j", (3, 3), (3, 2))},
                 {"operands": ("ij,kl->jk", (2, 3), (4, 2))},
                 {"operands": ("...j,jk->...k", (2, 3, 4), (4, 2))},
                 {"operands": ("ij,kj->ki", (3, 4), (2, 4))},
                 {"operands": ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2))},
                 {"operands": ("ii", (3, 3))}, {"operands": ("ii->i", (3, 3))},
                 {"operands": ((3, 4), [0, 1], [1, 0])},
                 {"operands": ((3, 4), [0, 1], (4, 2), [1, 2])},
                 {"operands": ((2, 3, 4), [Ellipsis, 0, 1], (4, 2), [1, 2], [2, Ellipsis, 0])}))

# --- norms --------------------------------------------------------------------------------------


def norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    # Subgradient 0 at x == 0 for every ord; ties (inf-norms, 2-norm of a matrix) share g.
    # Complex x: Re(g) times the conjugate of the derivative (not holomorphic).
    if ord is None and axis is None:
        if np.iscomplexobj(x):
            return np.real(g) * np.conj(x) / np.where(ans == 0, 1.0, ans)
        return g * x / np.where(ans == 0, 1.0, ans)
    return norm_adjoint(g, ans, x, ord, axis, keepdims)


def norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    if ord is None and axis is None:
        if np.iscomplexobj(x):
            return np.real(np.sum(t * np.conj(x))) / np.where(ans == 0, 1.0, ans)
        return np.sum(t * x) / np.where(ans == 0, 1.0, ans)
    return np.real(np.sum(norm_adjoint(np.ones_like(ans), ans, x, ord, axis, keepdims) * t,
                          axis=axis, keepdims=keepdims))


define(np.linalg.norm, name="norm", vjp=norm_vjp, jvp=norm_jvp, display="Norm", complex_ok=True,
       examples=({}, {"ord": "fro"}, {"ord": "nuc"}, {"ord": 1}, {"ord": -1}, {"ord": 2},
                 {"ord": -2}, {"ord": np.inf}, {"ord": -np.inf}, {"keepdims": True},
                 {"axis": 1}, {"ord": 2, "axis": 0, "keepdims": True}, {"ord": 1, "axis": 1},
                 {"ord": np.inf, "axis": 1}, {"ord": -np.inf, "axis": 0}, {"ord": 3, "axis": 1},
                 {"ord": 0.5, "axis": 0}, {"ord": 0, "axis": 1}, {"ord": 1, "axis": (1, 0)},
                 {"ord": "nuc", "axis": (0, 1), "keepdims": True}))

# --- inverses and determinants ------------------------------------------------------------------


def inv_vjp(g, ans, a):
    return -np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)


def inv_jvp(t, ans, a):
    return -ans @ t @ ans


define(np.linalg.inv, name="inv", vjp=inv_vjp, jvp=inv_jvp, display="LinalgInv", complex_ok=True,
       domains=(Invertible(),))


def solve_vjp_a(g, ans, a, b):
    return solve_adjoint_a(g, ans, a, b)


def solve_vjp_b(g, ans, a, b):
    return solve_adjoint_b(g, ans, a, b)


def solve_jvp_a(t, ans, a, b):
    return solve_tangent_a(t, ans, a)


def solve_jvp_b(t, ans, a, b):
    return np.linalg.solve(a, t)


define(np.linalg.solve, name="solve", vjp=(solve_vjp_a, solve_vjp_b),
       jvp=(solve_jvp_a, solve_jvp_b), display="LinalgSolve", complex_ok=True,
       domains=(Invertible(), Shaped(shape=(3, 2))))


def det_vjp(g, ans, a):
    # Through the adjugate, not det * inv: exact for singular matrices too.
    return np.expand_dims(g, (-2, -1)) * np.swapaxes(adjugate(a), -1, -2)


def det_jvp(t, ans, a):
    return np.sum(np.swapaxes(adjugate(a), -1, -2) * t, axis=(-2, -1))


define(np.linalg.det, name="det", vjp=det_vjp, jvp=det_jvp, display="LinalgDet", complex_ok=True,
       domains=(Invertible(),))


def slogdet_vjp(g, ans, a):
    # g = (g_sign, g_logabsdet); the sign is piecewise constant and gets no gradient.
    return logdet_adjoint(g[1], a)


def slogdet_jvp(t, ans, a):
    # (tangent of the sign: zeros, tangent of log|det a|).
    return (np.zeros_like(ans[0]),
            np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * t, axis=(-2, -1)))


define(np.linalg.slogdet, name="slogdet", vjp=slogdet_vjp, jvp=slogdet_jvp,
       display="LinalgSlogdet", domains=(Invertible(),))


def pinv_vjp(g, ans, a, rcond=None, hermitian=False, rtol=None):
    # For a matrix of constant rank (full rank in practice).
    return pinv_adjoint(g, ans, a)


def pinv_jvp(t, ans, a, rcond=None, hermitian=False, rtol=None):
    return pinv_tangent(t, ans, a)


define(np.linalg.pinv, name="pinv", vjp=pinv_vjp, jvp=pinv_jvp, display="Pinverse",
       domains=(Shaped(shape=(4, 3)),))

# --- factorizations -----------------------------------------------------------------------------


def cholesky_vjp(g, ans, a, upper=False):
    # Lives on the triangle NumPy reads (lower; upper if upper=True).
    return cholesky_adjoint(g, ans, upper)


def cholesky_jvp(t, ans, a, upper=False):
    return cholesky_tangent(t, ans, upper)


define(np.linalg.cholesky, name="cholesky", vjp=cholesky_vjp, jvp=cholesky_jvp,
       display="LinalgCholesky", domains=(SymmetricPositive(),),
       examples=({}, {"upper": True}) if _HAS_UPPER else ({},))


def eigh_vjp(g, ans, a, UPLO="L"):  # noqa: N803  (NumPy's name)
    # g = (g_w, g_v), entries None for zero.  Equal eigenvalues: see eigh_adjoint.
    return eigh_adjoint(g, ans, UPLO)


def eigh_jvp(t, ans, a, UPLO="L"):  # noqa: N803
    # (tangent of the eigenvalues, tangent of the eigenvectors).
    return eigh_tangent(t, ans, UPLO)


define(np.linalg.eigh, name="eigh", vjp=eigh_vjp, jvp=eigh_jvp, display="LinalgEigh",
       domains=(SymmetricPositive(),), examples=({}, {"UPLO": "U"}))


def svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    # g = (g_u, g_s, g_vh), entries None for zero; g_s alone if not compute_uv.
    # full_matrices=True is refused (RuleDomainError: MissingRuleError) unless ``a`` is square.
    return svd_adjoint(g, ans, a, full_matrices, compute_uv)


def svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    # (du, ds, dvh), or ds alone if not compute_uv.
    return svd_tangent(t, ans, a, full_matrices, compute_uv)


define(np.linalg.svd, name="svd", vjp=svd_vjp, jvp=svd_jvp, display="LinalgSvd",
       domains=(Shaped(shape=(4, 3)),),
       examples=({"full_matrices": False}, {"compute_uv": False}))



def eigvalsh_vjp(g, ans, a, UPLO="L"):  # noqa: N803
    # On the triangle NumPy reads, as eigh.
    return eigvalsh_adjoint(g, ans, a, UPLO)


def eigvalsh_jvp(t, ans, a, UPLO="L"):  # noqa: N803
    return eigvalsh_tangent(t, ans, a, UPLO)


define(np.linalg.eigvalsh, name="eigvalsh", vjp=eigvalsh_vjp, jvp=eigvalsh_jvp,
       display="LinalgEigvalsh", domains=(SymmetricPositive(),),
       examples=({}, {"UPLO": "U"}))


def eig_vjp(g, ans, a):
    # g = (g_w, g_v); distinct eigenvalues, real or complex (equal ones: MissingRuleError);
    # eigenvectors of unit length, their phase fixed as NumPy fixes it (eig_adjoint).
    return eig_adjoint(g, ans, a)


def eig_jvp(t, ans, a):
    return eig_tangent(t, ans, a)


define(np.linalg.eig, name="eig", vjp=eig_vjp, jvp=eig_jvp, display="LinalgEig",
       domains=(Diagonalizable(),), complex_ok=True, complex_result=True)


def eigvals_vjp(g, ans, a):
    return eigvals_adjoint(g, ans, a)


def eigvals_jvp(t, ans, a):
    return eigvals_tangent(t, ans, a)


define(np.linalg.eigvals, name="eigvals", vjp=eigvals_vjp, jvp=eigvals_jvp,
       display="LinalgEigvals", domains=(Diagonalizable(),), complex_ok=True,
       complex_result=True)


def qr_vjp(g, ans, a, mode="reduced"):
    # g = (g_q, g_r), or g_r alone for mode="r"; a of full column rank (of its first
    # min(m, n) columns); mode="complete" only if m <= n, mode="raw" refused.
    return qr_adjoint(g, ans, a, mode)


def qr_jvp(t, ans, a, mode="reduced"):
    return qr_tangent(t, ans, a, mode)


define(np.linalg.qr, name="qr", vjp=qr_vjp, jvp=qr_jvp, display="LinalgQr",
       domains=(Shaped(shape=(4, 3)),), examples=({}, {"mode": "r"}))


def lstsq_vjp_a(g, ans, a, b, rcond=None):
    # g = (g_x, g_residuals, g_rank, g_s); full-rank a (rank-deficient: MissingRuleError).
    return lstsq_adjoint(g, ans, a, b, 0)


def lstsq_vjp_b(g, ans, a, b, rcond=None):
    return lstsq_adjoint(g, ans, a, b, 1)


def lstsq_jvp_a(t, ans, a, b, rcond=None):
    return lstsq_tangent(t, ans, a, b, 0)


def lstsq_jvp_b(t, ans, a, b, rcond=None):
    return lstsq_tangent(t, ans, a, b, 1)


define(np.linalg.lstsq, name="lstsq", vjp=(lstsq_vjp_a, lstsq_vjp_b),
       jvp=(lstsq_jvp_a, lstsq_jvp_b), display="LinalgLstsq",
       domains=(Shaped(shape=(5, 3)), Shaped(shape=(5,))), examples=({"rcond": None},))


def matrix_power_vjp(g, ans, a, n):
    return matrix_power_adjoint(g, a, n)


def matrix_power_jvp(t, ans, a, n):
    return matrix_power_tangent(t, a, n)


define(np.linalg.matrix_power, name="matrix_power", vjp=matrix_power_vjp,
       jvp=matrix_power_jvp, display="LinalgMatrixPower", domains=(Invertible(),),
       examples=({"n": 3}, {"n": 1}, {"n": 0}, {"n": -2}))


def multi_dot_vjp(g, ans, arrays, out=None):
    # A 1-D first operand is a row, a 1-D last one a column (as NumPy reads them).
    return multi_dot_adjoint(g, arrays)


def multi_dot_jvp(t, ans, arrays, out=None):
    return multi_dot_tangent(t, arrays)


define(np.linalg.multi_dot, name="multi_dot", vjp=multi_dot_vjp, jvp=multi_dot_jvp,
       display="LinalgMultiDot", domains=(ArrayList(shapes=((2, 3), (3, 4), (4, 2))),))


def tensorsolve_vjp_a(g, ans, a, b, axes=None):
    return tensorsolve_adjoint(g, ans, a, b, axes, 0)


def tensorsolve_vjp_b(g, ans, a, b, axes=None):
    return tensorsolve_adjoint(g, ans, a, b, axes, 1)


def tensorsolve_jvp_a(t, ans, a, b, axes=None):
    return tensorsolve_tangent(t, ans, a, b, axes, 0)


def tensorsolve_jvp_b(t, ans, a, b, axes=None):
    return tensorsolve_tangent(t, ans, a, b, axes, 1)


define(np.linalg.tensorsolve, name="tensorsolve", vjp=(tensorsolve_vjp_a, tensorsolve_vjp_b),
       jvp=(tensorsolve_jvp_a, tensorsolve_jvp_b), display="LinalgTensorsolve",
       domains=(InvertibleTensor(shape=(2, 3, 6), rows=2), Shaped(shape=(2, 3))))


def tensorinv_vjp(g, ans, a, ind=2):
    return tensorinv_adjoint(g, ans, a, ind)


def tensorinv_jvp(t, ans, a, ind=2):
    return tensorinv_tangent(t, ans, a, ind)


define(np.linalg.tensorinv, name="tensorinv", vjp=tensorinv_vjp, jvp=tensorinv_jvp,
       display="LinalgTensorinv", domains=(InvertibleTensor(shape=(2, 3, 6), rows=2),),
       examples=({"ind": 2},))


def cond_vjp(g, ans, x, p=None):
    # The extreme singular values distinct (p None, 2, -2); x invertible (other p).
    return cond_adjoint(g, ans, x, p)


def cond_jvp(t, ans, x, p=None):
    return cond_tangent(t, ans, x, p)


define(np.linalg.cond, name="cond", vjp=cond_vjp, jvp=cond_jvp, display="LinalgCond",
       domains=(Invertible(),),
       examples=({}, {"p": 2}, {"p": -2}, {"p": "fro"}, {"p": "nuc"}, {"p": 1}, {"p": -1},
                 {"p": np.inf}, {"p": -np.inf}))
