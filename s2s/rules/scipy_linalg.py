"""Rules for ``scipy.linalg``: triangular and structured solves, Cholesky and LU factors,
``inv``, ``det``, ``expm``, ``sqrtm``, ``solve_sylvester``, ``eigh``, ``block_diag``.
Imported only when SciPy is installed (``scipy.signal``'s convolutions:
:mod:`s2s.rules.scipy_signal`).

Rule bodies call SciPy as ``scipy_linalg.<name>``: the module is published in
:mod:`s2s.runtime` under that name, so generated code imports it (``from scipy import
linalg as scipy_linalg``).  Three small helpers are published there too:
``lu_permutation`` and ``block_diag_window``, of pivots and shapes, declared zero (their
results do not vary with the values differentiated), and ``derivative_not_implemented``.

Every VJP is written in operations that have rules themselves (``solve_triangular``,
``cho_solve``, ``lu_solve``, ``expm``, ``solve_sylvester``, ``eigh``, matmul,
``tril``...), so gradient code can be differentiated again
(``s2s.hessian``, ``grad(grad(f))``).

Conventions:

* Multi-output results follow :mod:`s2s.rules.linalg`: ``cho_factor`` returns ``(c, lower)``,
  ``lu_factor`` ``(lu, piv)``, ``eigh`` ``(w, v)``; the VJP receives one cotangent per
  output (None: zero), the JVP returns one tangent per output (zeros for the flag and the
  pivots).  ``cho_solve`` and ``lu_solve`` take the pair as one argument: its cotangent is a
  sequence ``[cotangent of the factor, 0]``.
* A function that reads part of its matrix gets the exact derivative of what SciPy
  computes: the cotangent lives on the entries read (one triangle for ``cholesky``,
  ``solve_triangular``, ``eigh``, ``solve``/``inv`` with ``assume_a`` "sym", "her", "pos";
  the band for "tridiagonal"; the diagonal for ``solve``'s "diagonal"), an off-diagonal
  entry of a symmetric matrix standing for both mirror entries.  ``cho_factor``'s ``c``
  holds ``a``'s own entries outside the factor's triangle (LAPACK leaves them), so their
  cotangent passes straight through.
* Not differentiated (a differentiated value there is refused, ``s2s.MissingRuleError``):
  every keyword parameter (``lower``, ``trans``, ``unit_diagonal``, ``assume_a``, ``b`` of
  ``eigh``...).  The flag of ``(c, lower)`` and the pivots ``piv`` of
  ``(lu, piv)`` are piecewise constant (a boolean, integers): their derivative is zero.
* Refused at run time with ``NotImplementedError`` (``s2s.EvaluationError`` from ``grad``):
  ``eigh`` with ``subset_by_index``/``subset_by_value`` (the eigenvector derivative needs
  every eigenvector) or a ``type`` other than 1 with ``b``; ``sqrtm`` with ``disp=False``;
  ``overwrite_a=True`` in ``solve`` and ``det`` (their derivatives read ``a``); ``inv``
  with ``assume_a="diagonal"`` (which entries SciPy reads there depends on its version).
* Degenerate points: at a singular matrix the derivatives of ``det``, ``lu_factor`` and
  ``lu_solve`` raise (``LinAlgError`` or non-finite values, from the solves they need; for
  the others the primal itself raises); ``sqrtm`` at a singular matrix and
  ``solve_sylvester`` where ``a`` and ``-b`` share an eigenvalue have no derivative (the
  Sylvester equation of the derivative is singular: SciPy returns what LAPACK's trsyl
  gives).  ``eigh`` at equal eigenvalues: their cotangents (and tangents) are shared
  evenly among them, as for tied ``max`` entries; the eigenvectors have no derivative
  there, so a nonzero cotangent of one of them raises ``NotImplementedError`` (even where
  ``V^T gV`` does not couple two equal eigenvalues: ``sum(v[:, 0] ** 3)`` at
  ``diag(1, 1, 2)``), and a tangent moving their eigenspace gives NaN eigenvector
  tangents: no formula in ``w``, ``V`` and ``gV`` alone is right there, not even for a loss
  that does not depend on the basis chosen in the eigenspace such as ``V f(w) V^T`` (a
  formula taking those terms as 0 gives a wrong gradient).  ``numpy.linalg.eigh`` and
  ``svd`` do the same (s2s/runtime.py's ``eigh_adjoint``, ``svd_adjoint``).
* References (cited where used): M. B. Giles, "An extended collection of matrix derivative
  results for forward and reverse mode automatic differentiation" (2008); I. Murray,
  "Differentiation of the Cholesky decomposition" (2016, arXiv:1602.07527); F. R. de Hoog,
  R. S. Anderssen, M. A. Lukas, "Differentiation of matrix functionals using triangular
  factorization", Math. Comp. 80 (2011); R. Mathias, "A chain rule for matrix functions
  and applications", SIAM J. Matrix Anal. Appl. 17 (1996); A. H. Al-Mohy, N. J. Higham,
  "Computing the Frechet derivative of the matrix exponential, with an application to
  condition number estimation", SIAM J. Matrix Anal. Appl. 30 (2009); N. J. Higham,
  "Functions of Matrices: Theory and Computation" (2008).
* Real inputs only (no conjugation).  Batches of matrices (``(..., n, n)``, where SciPy
  takes them) go through the same formulas (``swapaxes(-1, -2)``); a right-hand side ``b``
  is a vector when it is 1-D.
"""
import inspect
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .. import runtime
from ..runtime import index_adjoint, matmul_adjoint_x
from .domains import Domain, Invertible, Shaped, SymmetricPositive
from .registry import REAL, define, define_nondifferentiable

scipy_linalg = scipy.linalg
# SciPy < 1.18 leaves a's entries on the other triangle of cho_factor's c; 1.18 zeroes them
cho_factor_keeps = bool(scipy_linalg.cho_factor(np.array([[2.0, 1.0], [1.0, 2.0]]))[0][1, 0])
runtime.cho_factor_keeps = cho_factor_keeps
runtime.scipy_linalg = scipy_linalg       # rule bodies read scipy_linalg.<f>; s2s.emit imports
                                          # it as "from scipy import linalg as scipy_linalg"


def _define(primal, vjp, jvp, **options):
    name = primal.__name__
    return define(primal, name=f"scipy.linalg.{name}", vjp=vjp, jvp=jvp,
                  display=name.title().replace("_", ""), **options)


def _accepts(function, *args, **options) -> bool:
    """Whether this SciPy accepts the call (``assume_a`` values differ between versions)."""
    try:
        function(*args, **options)
    except (TypeError, ValueError, KeyError, NotImplementedError):
        return False
    return True


_PROBE = np.array([[2.0, 0.5], [0.5, 3.0]])

# --- helpers of shapes and pivots, published in s2s.runtime (declared zero) -------------


def lu_permutation(lu, piv):
    """The permutation matrix ``P`` of ``a = P @ L @ U`` for ``(lu, piv) = lu_factor(a)``.

    LAPACK's ``piv`` says that row ``i`` was swapped with row ``piv[i]``, in order;
    ``P`` has ``lu``'s dtype (and batch shape).
    """
    lu = np.asarray(lu)
    piv = np.asarray(piv)
    size = lu.shape[-1]
    order = np.broadcast_to(np.arange(size), piv.shape).copy()
    flat_order = order.reshape(-1, size)
    flat_piv = piv.reshape(-1, size)
    for batch in range(flat_order.shape[0]):
        for row in range(size):
            other = flat_piv[batch, row]
            flat_order[batch, row], flat_order[batch, other] = \
                flat_order[batch, other], flat_order[batch, row]
    # a[order] == L @ U, so P.T has rows e_order[i] and P = I[:, order].
    eye = np.eye(size, dtype=np.result_type(lu.dtype, np.float32))
    return np.swapaxes(eye[flat_order.reshape(order.shape)], -1, -2)


def block_diag_window(arrs, which):
    """``(index, shape)``: the (rows, columns) slices of block ``which`` in
    ``scipy.linalg.block_diag(*arrs)`` (1-D arrays are rows, scalars 1 x 1 blocks), and
    the shape of ``arrs[which]``."""
    row = column = 0
    for number, array in enumerate(arrs):
        rows, columns = np.shape(np.atleast_2d(array))
        if number == which:
            return (slice(row, row + rows), slice(column, column + columns)), np.shape(array)
        row, column = row + rows, column + columns
    raise IndexError(f"block_diag has no block {which}")


def derivative_not_implemented(message):
    """Raise ``NotImplementedError(message)``: a rule body's refusal of a parameter value
    (``s2s.grad`` reports it as an :class:`s2s.EvaluationError`)."""
    raise NotImplementedError(message)


for _helper in (lu_permutation, block_diag_window, derivative_not_implemented):
    setattr(runtime, _helper.__name__, _helper)
define_nondifferentiable(lu_permutation, block_diag_window)

# --- solve_triangular --------------------------------------------------------------------


def solve_triangular_vjp_a(g, ans, a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    # op(A) x = b, A the triangle of a read (unit diagonal if unit_diagonal), op(A) = A or
    # A.T: the cotangent of op(A) is -op(A)^-T g x^T (Giles 2008), kept on the
    # triangle read (off the diagonal if unit_diagonal).
    # (matmul_adjoint_x(h, a, x) is h x^T, an outer product for a vector x.)
    if trans == 0 or trans == "N":
        cotangent_b = scipy_linalg.solve_triangular(a, g, trans=1, lower=lower,
                                                    unit_diagonal=unit_diagonal)
        product = -matmul_adjoint_x(cotangent_b, a, ans)
    else:
        cotangent_b = scipy_linalg.solve_triangular(a, g, trans=0, lower=lower,
                                                    unit_diagonal=unit_diagonal)
        product = -matmul_adjoint_x(ans, a, cotangent_b)
    if lower:
        if unit_diagonal:
            return np.tril(product, -1)
        return np.tril(product)
    if unit_diagonal:
        return np.triu(product, 1)
    return np.triu(product)


def solve_triangular_vjp_b(g, ans, a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    # op(A)^-T g
    if trans == 0 or trans == "N":
        return scipy_linalg.solve_triangular(a, g, trans=1, lower=lower,
                                             unit_diagonal=unit_diagonal)
    return scipy_linalg.solve_triangular(a, g, trans=0, lower=lower,
                                         unit_diagonal=unit_diagonal)


def solve_triangular_jvp_a(t, ans, a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    # -op(A)^-1 op(dA) x, dA the triangle of t read
    if lower:
        if unit_diagonal:
            masked = np.tril(t, -1)
        else:
            masked = np.tril(t)
    elif unit_diagonal:
        masked = np.triu(t, 1)
    else:
        masked = np.triu(t)
    if trans == 0 or trans == "N":
        product = masked @ ans
    else:
        product = np.swapaxes(masked, -1, -2) @ ans
    return -scipy_linalg.solve_triangular(a, product, trans=trans, lower=lower,
                                          unit_diagonal=unit_diagonal)


def solve_triangular_jvp_b(t, ans, a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    return scipy_linalg.solve_triangular(a, t, trans=trans, lower=lower,
                                         unit_diagonal=unit_diagonal)


_define(scipy_linalg.solve_triangular, vjp=(solve_triangular_vjp_a, solve_triangular_vjp_b),
        jvp=(solve_triangular_jvp_a, solve_triangular_jvp_b),
        domains=(Invertible(), Shaped(shape=(3, 2))),
        examples=({}, {"lower": True}, {"trans": 1}, {"trans": "T", "lower": True},
                  {"unit_diagonal": True}, {"trans": 2, "lower": True, "unit_diagonal": True},
                  {"trans": "N", "lower": True, "unit_diagonal": True}))

# --- Cholesky ----------------------------------------------------------------------------


def cholesky_vjp(g, ans, a, lower=False, overwrite_a=False, check_finite=True):
    # Murray (2016), "Differentiation of the Cholesky decomposition": for A = L L^T,
    # S = L^-T phi(L^T gL) L^-1 with phi the lower triangle, its diagonal halved.  SciPy
    # returns U = L^T by default and reads the upper triangle of a (the lower one if
    # lower): the cotangent is S + S^T on that triangle, S's diagonal on the diagonal.
    if lower:
        factor = ans
        cotangent = g
    else:
        factor = np.swapaxes(ans, -1, -2)
        cotangent = np.swapaxes(g, -1, -2)
    product = np.swapaxes(factor, -1, -2) @ cotangent
    middle = np.tril(product, -1) + 0.5 * np.triu(np.tril(product))
    left = scipy_linalg.solve_triangular(factor, middle, trans=1, lower=True)
    right = scipy_linalg.solve_triangular(factor, np.swapaxes(left, -1, -2), trans=1,
                                          lower=True)
    symmetric = right + np.swapaxes(right, -1, -2)
    if lower:
        return np.tril(symmetric, -1) + 0.5 * np.triu(np.tril(symmetric))
    return np.triu(symmetric, 1) + 0.5 * np.triu(np.tril(symmetric))


def cholesky_jvp(t, ans, a, lower=False, overwrite_a=False, check_finite=True):
    # Murray (2016): dL = L phi(L^-1 dA L^-T), dA symmetric from the triangle read.
    if lower:
        factor = ans
        symmetric = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)
    else:
        factor = np.swapaxes(ans, -1, -2)
        symmetric = np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
    left = scipy_linalg.solve_triangular(factor, symmetric, lower=True)
    inner = scipy_linalg.solve_triangular(factor, np.swapaxes(left, -1, -2), lower=True)
    tangent = factor @ (np.tril(inner, -1) + 0.5 * np.triu(np.tril(inner)))
    if lower:
        return tangent
    return np.swapaxes(tangent, -1, -2)


_define(scipy_linalg.cholesky, vjp=cholesky_vjp, jvp=cholesky_jvp,
        domains=(SymmetricPositive(),), examples=({}, {"lower": True}))


def cho_factor_vjp(g, ans, a, lower=False, overwrite_a=False, check_finite=True):
    # g = (g_c, g_lower).  c = the factor on one triangle (cholesky's VJP, Murray 2016) and
    # a's own entries on the other (strict) triangle, whose cotangent passes through (zeros
    # there from SciPy 1.18 on: runtime.cho_factor_keeps).
    if g[0] is None:
        return np.zeros_like(a)
    if lower:
        factor = np.tril(ans[0])
        cotangent = np.tril(g[0])
        passed = np.triu(g[0], 1) * cho_factor_keeps
    else:
        factor = np.swapaxes(np.triu(ans[0]), -1, -2)
        cotangent = np.swapaxes(np.triu(g[0]), -1, -2)
        passed = np.tril(g[0], -1) * cho_factor_keeps
    product = np.swapaxes(factor, -1, -2) @ cotangent
    middle = np.tril(product, -1) + 0.5 * np.triu(np.tril(product))
    left = scipy_linalg.solve_triangular(factor, middle, trans=1, lower=True)
    right = scipy_linalg.solve_triangular(factor, np.swapaxes(left, -1, -2), trans=1,
                                          lower=True)
    symmetric = right + np.swapaxes(right, -1, -2)
    if lower:
        return np.tril(symmetric, -1) + 0.5 * np.triu(np.tril(symmetric)) + passed
    return np.triu(symmetric, 1) + 0.5 * np.triu(np.tril(symmetric)) + passed


def cho_factor_jvp(t, ans, a, lower=False, overwrite_a=False, check_finite=True):
    # (tangent of c, 0 for the flag): dL on the factor's triangle, t on the other.
    if lower:
        factor = np.tril(ans[0])
        symmetric = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)
    else:
        factor = np.swapaxes(np.triu(ans[0]), -1, -2)
        symmetric = np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
    left = scipy_linalg.solve_triangular(factor, symmetric, lower=True)
    inner = scipy_linalg.solve_triangular(factor, np.swapaxes(left, -1, -2), lower=True)
    tangent = factor @ (np.tril(inner, -1) + 0.5 * np.triu(np.tril(inner)))
    if lower:
        return (tangent + np.triu(t, 1) * cho_factor_keeps, np.zeros(np.shape(ans[1])))
    return (np.swapaxes(tangent, -1, -2) + np.tril(t, -1) * cho_factor_keeps,
            np.zeros(np.shape(ans[1])))


_define(scipy_linalg.cho_factor, vjp=cho_factor_vjp, jvp=cho_factor_jvp,
        domains=(SymmetricPositive(),), examples=({}, {"lower": True}))


def cho_solve_vjp_c(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    # x = A^-1 b, A = L L^T (lower) or U^T U from the triangle of c read: with
    # gA = -A^-1 g x^T, gL = tril((gA + gA^T) L), gU = triu(U (gA + gA^T)).  The flag's
    # cotangent is 0.
    product = -matmul_adjoint_x(scipy_linalg.cho_solve(c_and_lower, g), c_and_lower[0], ans)
    symmetric = product + np.swapaxes(product, -1, -2)
    if c_and_lower[1]:
        cotangent = np.tril(symmetric @ np.tril(c_and_lower[0]))
    else:
        cotangent = np.triu(np.triu(c_and_lower[0]) @ symmetric)
    return index_adjoint(cotangent, c_and_lower, 0)


def cho_solve_vjp_b(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    return scipy_linalg.cho_solve(c_and_lower, g)


def cho_solve_jvp_c(t, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    # t = (tangent of c, of the flag): -A^-1 dA x, dA = dL L^T + L dL^T.
    if t[0] is None:
        return np.zeros_like(ans)
    if c_and_lower[1]:
        factor = np.tril(c_and_lower[0])
        tangent = np.tril(t[0])
        change = tangent @ np.swapaxes(factor, -1, -2) + factor @ np.swapaxes(tangent, -1, -2)
    else:
        factor = np.triu(c_and_lower[0])
        tangent = np.triu(t[0])
        change = np.swapaxes(tangent, -1, -2) @ factor + np.swapaxes(factor, -1, -2) @ tangent
    return -scipy_linalg.cho_solve(c_and_lower, change @ ans)


def cho_solve_jvp_b(t, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    return scipy_linalg.cho_solve(c_and_lower, t)


@dataclass(frozen=True)
class CholeskyPair(Domain):
    """``scipy.linalg.cho_factor`` of a symmetric positive definite matrix: ``(c, lower)``."""

    lower: bool = False

    def sample(self, rng, shape):
        return scipy_linalg.cho_factor(SymmetricPositive().sample(rng, ()), lower=self.lower)


_define(scipy_linalg.cho_solve, vjp=(cho_solve_vjp_c, cho_solve_vjp_b),
        jvp=(cho_solve_jvp_c, cho_solve_jvp_b), domains=(CholeskyPair(), Shaped(shape=(3, 2))))

# --- LU ------------------------------------------------------------------------------------


def lu_factor_vjp(g, ans, a, overwrite_a=False, check_finite=True):
    # g = (g_lu, g_piv).  a = P L U, L unit lower and U upper packed in lu (pivots are
    # integers: no cotangent).  With G = tril(L^T gL, -1) + triu(gU U^T), the cotangent is
    # P L^-T G U^-T (de Hoog, Anderssen & Lukas 2011, "Differentiation of matrix
    # functionals using triangular factorization").
    if g[0] is None:
        return np.zeros_like(a)
    lu = ans[0]
    cotangent_l = np.tril(g[0], -1)
    middle = np.tril(np.swapaxes(np.tril(lu, -1), -1, -2) @ cotangent_l + cotangent_l, -1) \
        + np.triu(np.triu(g[0]) @ np.swapaxes(np.triu(lu), -1, -2))
    left = scipy_linalg.solve_triangular(lu, middle, trans=1, lower=True, unit_diagonal=True)
    right = scipy_linalg.solve_triangular(lu, np.swapaxes(left, -1, -2), lower=False)
    return lu_permutation(lu, ans[1]) @ np.swapaxes(right, -1, -2)


def lu_factor_jvp(t, ans, a, overwrite_a=False, check_finite=True):
    # (tangent of lu, zeros for piv): F = L^-1 P^T dA U^-1, dL = L tril(F, -1), dU = triu(F) U.
    lu = ans[0]
    permuted = np.swapaxes(lu_permutation(lu, ans[1]), -1, -2) @ t
    left = scipy_linalg.solve_triangular(lu, permuted, lower=True, unit_diagonal=True)
    inner = np.swapaxes(scipy_linalg.solve_triangular(lu, np.swapaxes(left, -1, -2), trans=1,
                                                      lower=False), -1, -2)
    strict = np.tril(inner, -1)
    return (np.tril(lu, -1) @ strict + strict + np.triu(inner) @ np.triu(lu),
            np.zeros(np.shape(ans[1])))


_define(scipy_linalg.lu_factor, vjp=lu_factor_vjp, jvp=lu_factor_jvp, domains=(Invertible(),))


def lu_solve_vjp_lu(g, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    # op(A) x = b with A = P L U: gA = -A^-T g x^T (or -x g^T A^-1 if transposed), then
    # gL = tril(P^T gA U^T, -1), gU = triu(L^T P^T gA); the pivots get 0.
    lu = lu_and_piv[0]
    if trans == 0:
        product = -matmul_adjoint_x(scipy_linalg.lu_solve(lu_and_piv, g, trans=1), lu, ans)
    else:
        product = -matmul_adjoint_x(ans, lu, scipy_linalg.lu_solve(lu_and_piv, g, trans=0))
    permuted = np.swapaxes(lu_permutation(lu, lu_and_piv[1]), -1, -2) @ product
    cotangent = np.tril(permuted @ np.swapaxes(np.triu(lu), -1, -2), -1) \
        + np.triu(np.swapaxes(np.tril(lu, -1), -1, -2) @ permuted + permuted)
    return index_adjoint(cotangent, lu_and_piv, 0)


def lu_solve_vjp_b(g, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    if trans == 0:
        return scipy_linalg.lu_solve(lu_and_piv, g, trans=1)
    return scipy_linalg.lu_solve(lu_and_piv, g, trans=0)


def lu_solve_jvp_lu(t, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    # t = (tangent of lu, of piv): dA = P (dL U + L dU), then -op(A)^-1 op(dA) x.
    if t[0] is None:
        return np.zeros_like(ans)
    lu = lu_and_piv[0]
    upper = np.triu(t[0])
    change = lu_permutation(lu, lu_and_piv[1]) @ (np.tril(t[0], -1) @ np.triu(lu)
                                                  + np.tril(lu, -1) @ upper + upper)
    if trans == 0:
        return -scipy_linalg.lu_solve(lu_and_piv, change @ ans, trans=0)
    return -scipy_linalg.lu_solve(lu_and_piv, np.swapaxes(change, -1, -2) @ ans, trans=trans)


def lu_solve_jvp_b(t, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    return scipy_linalg.lu_solve(lu_and_piv, t, trans=trans)


@dataclass(frozen=True)
class LUPair(Domain):
    """``scipy.linalg.lu_factor`` of a well-conditioned matrix: ``(lu, piv)``."""

    def sample(self, rng, shape):
        return scipy_linalg.lu_factor(rng.uniform(-1.0, 1.0, size=(3, 3)) + 1.5 * np.eye(3))


_define(scipy_linalg.lu_solve, vjp=(lu_solve_vjp_lu, lu_solve_vjp_b),
        jvp=(lu_solve_jvp_lu, lu_solve_jvp_b), domains=(LUPair(), Shaped(shape=(3, 2))),
        examples=({}, {"trans": 1}, {"trans": 2}))

# --- solve and inv: general and structured matrices ---------------------------------------
# The entries of a that SciPy reads (checked against finite differences for each assume_a):
# all of them for None (structure detected; a perturbed matrix loses it), "gen", "general"
# and "banded"; one triangle for "sym", "her", "pos" (lower or upper); the triangle for
# "upper/lower triangular"; the band for "tridiagonal"; the diagonal for "diagonal".

def solve_vjp_a(g, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                check_finite=True, assume_a=None, transposed=False):
    # x = A^-1 b (A^-T b if transposed): gA = -A^-T g x^T (Giles 2008), read back onto the
    # entries of a that SciPy reads.  (assume_a=None is not passed on: older SciPy
    # versions do not accept it.)
    if overwrite_a:
        return derivative_not_implemented(
            "s2s: the derivative of scipy.linalg.solve reads a: call it without "
            "overwrite_a=True")
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        cotangent_b = scipy_linalg.solve(a, g, lower=lower, assume_a=assume_a)
    elif transposed:
        if assume_a is None:
            cotangent_b = scipy_linalg.solve(a, g)
        else:
            cotangent_b = scipy_linalg.solve(a, g, assume_a=assume_a)
    elif assume_a is None:
        cotangent_b = scipy_linalg.solve(a, g, transposed=True)
    else:
        cotangent_b = scipy_linalg.solve(a, g, assume_a=assume_a, transposed=True)
    product = -matmul_adjoint_x(cotangent_b, a, ans)
    if transposed:
        product = np.swapaxes(product, -1, -2)
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        symmetric = product + np.swapaxes(product, -1, -2)
        if lower:
            return np.tril(symmetric, -1) + 0.5 * np.triu(np.tril(symmetric))
        return np.triu(symmetric, 1) + 0.5 * np.triu(np.tril(symmetric))
    if assume_a == "upper triangular":
        return np.triu(product)
    if assume_a == "lower triangular":
        return np.tril(product)
    if assume_a == "tridiagonal":
        return np.triu(np.tril(product, 1), -1)
    if assume_a == "diagonal":
        return np.triu(np.tril(product))
    return product


def solve_vjp_b(g, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                check_finite=True, assume_a=None, transposed=False):
    # A^-T g (A^-1 g if transposed), A as SciPy reads it
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        return scipy_linalg.solve(a, g, lower=lower, assume_a=assume_a)
    if transposed:
        if assume_a is None:
            return scipy_linalg.solve(a, g)
        return scipy_linalg.solve(a, g, assume_a=assume_a)
    if assume_a is None:
        return scipy_linalg.solve(a, g, transposed=True)
    return scipy_linalg.solve(a, g, assume_a=assume_a, transposed=True)


def solve_jvp_a(t, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                check_finite=True, assume_a=None, transposed=False):
    # -op(A)^-1 op(dA) x, dA the tangent of the matrix SciPy reads
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        if lower:
            change = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)
        else:
            change = np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
    elif assume_a == "upper triangular":
        change = np.triu(t)
    elif assume_a == "lower triangular":
        change = np.tril(t)
    elif assume_a == "tridiagonal":
        change = np.triu(np.tril(t, 1), -1)
    elif assume_a == "diagonal":
        change = np.triu(np.tril(t))
    else:
        change = t
    if transposed:
        change = np.swapaxes(change, -1, -2)
    if assume_a is None:
        return -scipy_linalg.solve(a, change @ ans, transposed=transposed)
    return -scipy_linalg.solve(a, change @ ans, lower=lower, assume_a=assume_a,
                               transposed=transposed)


def solve_jvp_b(t, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                check_finite=True, assume_a=None, transposed=False):
    if assume_a is None:
        return scipy_linalg.solve(a, t, transposed=transposed)
    return scipy_linalg.solve(a, t, lower=lower, assume_a=assume_a, transposed=transposed)


_SOLVE_STRUCTURES = tuple(structure for structure in (
    "gen", "sym", "pos", "her", "banded", "tridiagonal", "diagonal", "upper triangular",
    "lower triangular") if _accepts(scipy_linalg.solve, _PROBE, np.ones(2), assume_a=structure))
_define(scipy_linalg.solve, vjp=(solve_vjp_a, solve_vjp_b), jvp=(solve_jvp_a, solve_jvp_b),
        domains=(Invertible(), Shaped(shape=(3, 2))),
        examples=({}, {"transposed": True}, {"assume_a": "sym", "lower": True},
                  {"assume_a": "pos"}, {"assume_a": "gen", "transposed": True})
        + tuple({"assume_a": structure} for structure in _SOLVE_STRUCTURES
                if structure not in ("gen", "sym", "pos")))

_INV_HAS_STRUCTURE = "assume_a" in inspect.signature(scipy_linalg.inv).parameters

if _INV_HAS_STRUCTURE:         # SciPy >= 1.17: inv(a, ..., *, assume_a=None, lower=False)
    def inv_vjp(g, ans, a, overwrite_a=False, check_finite=True, *, assume_a=None,
                lower=False):
        # -X^T g X^T for X = inv(A) (Giles 2008), read back onto the entries
        # of a that SciPy reads.
        if assume_a == "diagonal":
            return derivative_not_implemented(
                "s2s: which entries scipy.linalg.inv reads with assume_a='diagonal' depends "
                "on SciPy's version; invert the diagonal instead")
        product = -(np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2))
        if assume_a in ("sym", "her", "pos"):
            symmetric = product + np.swapaxes(product, -1, -2)
            if lower:
                return np.tril(symmetric, -1) + 0.5 * np.triu(np.tril(symmetric))
            return np.triu(symmetric, 1) + 0.5 * np.triu(np.tril(symmetric))
        if assume_a == "upper triangular":
            return np.triu(product)
        if assume_a == "lower triangular":
            return np.tril(product)
        return product

    def inv_jvp(t, ans, a, overwrite_a=False, check_finite=True, *, assume_a=None,
                lower=False):
        # -X dA X, dA the tangent of the matrix SciPy reads
        if assume_a in ("sym", "her", "pos"):
            if lower:
                change = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)
            else:
                change = np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
        elif assume_a == "upper triangular":
            change = np.triu(t)
        elif assume_a == "lower triangular":
            change = np.tril(t)
        else:
            change = t
        return -(ans @ change @ ans)

    _INV_EXAMPLES = ({}, {"assume_a": "gen"}, {"assume_a": "pos", "lower": True},
                     {"assume_a": "sym"}, {"assume_a": "her", "lower": True},
                     {"assume_a": "upper triangular"}, {"assume_a": "lower triangular"})
else:
    def inv_vjp(g, ans, a, overwrite_a=False, check_finite=True):
        # -X^T g X^T for X = inv(a) (Giles 2008)
        return -(np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2))

    def inv_jvp(t, ans, a, overwrite_a=False, check_finite=True):
        return -(ans @ t @ ans)

    _INV_EXAMPLES = ({},)

_define(scipy_linalg.inv, vjp=inv_vjp, jvp=inv_jvp, domains=(Invertible(),),
        examples=_INV_EXAMPLES)


def det_vjp(g, ans, a, overwrite_a=False, check_finite=True):
    # g det(A) A^-T (Giles 2008); a singular matrix raises (LinAlgError).
    if overwrite_a:
        return derivative_not_implemented(
            "s2s: the derivative of scipy.linalg.det reads a: call it without "
            "overwrite_a=True")
    return np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


def det_jvp(t, ans, a, overwrite_a=False, check_finite=True):
    return ans * np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * t, axis=(-2, -1))


_define(scipy_linalg.det, vjp=det_vjp, jvp=det_jvp, domains=(Invertible(),))

# --- matrix functions -----------------------------------------------------------------------


def expm_vjp(g, ans, A):  # noqa: N803  (SciPy's name)
    # The adjoint of the Frechet derivative L(A, E) is L(A^T, E) (Higham 2008, "Functions
    # of Matrices", ch. 3), and L(A, E) is the upper-right block of
    # expm([[A, E], [0, A]]) (Mathias 1996; Al-Mohy & Higham 2009).
    size = np.shape(A)[-1]
    transposed = np.swapaxes(A, -1, -2)
    block = np.concatenate([np.concatenate([transposed, g], axis=-1),
                            np.concatenate([np.zeros_like(transposed), transposed], axis=-1)],
                           axis=-2)
    return scipy_linalg.expm(block)[..., :size, size:]


def expm_jvp(t, ans, A):  # noqa: N803
    # L(A, t): the upper-right block of expm([[A, t], [0, A]])
    size = np.shape(A)[-1]
    block = np.concatenate([np.concatenate([A, t], axis=-1),
                            np.concatenate([np.zeros_like(A), A], axis=-1)], axis=-2)
    return scipy_linalg.expm(block)[..., :size, size:]


_define(scipy_linalg.expm, vjp=expm_vjp, jvp=expm_jvp, domains=(Shaped(-1.0, 1.0, shape=(3, 3)),))


def sqrtm_vjp(g, ans, A, disp=True, blocksize=64):  # noqa: N803
    # X X = A gives X dX + dX X = dA (Higham 2008, ch. 6), a Sylvester equation; its
    # adjoint: X^T gA + gA X^T = g.
    if not disp:
        return derivative_not_implemented(
            "s2s: scipy.linalg.sqrtm is differentiated with its default disp=True only")
    return scipy_linalg.solve_sylvester(np.swapaxes(ans, -1, -2), np.swapaxes(ans, -1, -2), g)


def sqrtm_jvp(t, ans, A, disp=True, blocksize=64):  # noqa: N803
    return scipy_linalg.solve_sylvester(ans, ans, t)


_define(scipy_linalg.sqrtm, vjp=sqrtm_vjp, jvp=sqrtm_jvp, domains=(SymmetricPositive(),))


def solve_sylvester_vjp_a(g, ans, a, b, q):
    # a X + X b = q: with gQ = solve_sylvester(a^T, b^T, g), ga = -gQ X^T
    cotangent_q = scipy_linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)
    return -(cotangent_q @ np.swapaxes(ans, -1, -2))


def solve_sylvester_vjp_b(g, ans, a, b, q):
    # gb = -X^T gQ
    cotangent_q = scipy_linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)
    return -(np.swapaxes(ans, -1, -2) @ cotangent_q)


def solve_sylvester_vjp_q(g, ans, a, b, q):
    return scipy_linalg.solve_sylvester(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), g)


def solve_sylvester_jvp_a(t, ans, a, b, q):
    # a dX + dX b = -da X
    return scipy_linalg.solve_sylvester(a, b, -(t @ ans))


def solve_sylvester_jvp_b(t, ans, a, b, q):
    return scipy_linalg.solve_sylvester(a, b, -(ans @ t))


def solve_sylvester_jvp_q(t, ans, a, b, q):
    return scipy_linalg.solve_sylvester(a, b, t)


_define(scipy_linalg.solve_sylvester,
        vjp=(solve_sylvester_vjp_a, solve_sylvester_vjp_b, solve_sylvester_vjp_q),
        jvp=(solve_sylvester_jvp_a, solve_sylvester_jvp_b, solve_sylvester_jvp_q),
        domains=(Invertible(), Invertible(shape=(2, 2)), Shaped(shape=(3, 2))))

# --- eigh ------------------------------------------------------------------------------------


def eigh_vjp(g, ans, a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
             overwrite_b=False, type=1, check_finite=True, subset_by_index=None,  # noqa: A002
             subset_by_value=None, driver=None):
    # Giles (2008), eigenvalues of a symmetric matrix: S = V (diag(gw) + F * (V^T gV)) V^T,
    # F[i, j] = 1 / (w[j] - w[i]) off the diagonal, read back onto the triangle SciPy
    # reads.  The same holds with a constant b (type 1, V^T b V = I).  Equal eigenvalues
    # share their cotangents evenly; their eigenvectors have no derivative, so a nonzero
    # gV on one of them is refused.
    if subset_by_index is not None or subset_by_value is not None:
        return derivative_not_implemented(
            "s2s: the derivative of scipy.linalg.eigh needs every eigenvector; call it "
            "without subset_by_index/subset_by_value")
    if b is not None and type != 1:
        return derivative_not_implemented(
            "s2s: scipy.linalg.eigh with b is differentiated for type=1 only")
    if eigvals_only:
        values = ans
        vectors = scipy_linalg.eigh(a, b, lower=lower, driver=driver)[1]
        cotangent_w = g
    else:
        values = ans[0]
        vectors = ans[1]
        cotangent_w = np.zeros_like(values) if g[0] is None else g[0]
    gaps = np.expand_dims(values, -2) - np.expand_dims(values, -1)
    ties = np.sum(np.where(gaps == 0, np.ones_like(gaps), 0.0), axis=-1)
    shared = np.sum(np.where(gaps == 0, np.expand_dims(cotangent_w, -2), 0.0), axis=-1) / ties
    product = vectors * np.expand_dims(shared, -2)
    if not eigvals_only:
        if g[1] is not None:
            projected = np.swapaxes(vectors, -1, -2) @ g[1]
            # an eigenvector of an eigenvalue equal to another: a perturbation turns it by
            # a finite angle, whether v^T gV couples the two or not (sum(v[:, 0] ** 3) at
            # diag(1, 1, 2) does not)
            tied = np.sum(np.where(gaps == 0, 1.0, 0.0), axis=-2, keepdims=True) > 1
            if np.any(np.where(tied, g[1], 0.0) != 0):
                return derivative_not_implemented(
                    "s2s: the eigenvectors of scipy.linalg.eigh have no derivative where "
                    "eigenvalues are equal, and the loss depends on them there")
            inverse_gaps = np.where(gaps == 0, 0.0, 1.0 / np.where(gaps == 0, 1.0, gaps))
            product = product + vectors @ (inverse_gaps * projected)
    product = product @ np.swapaxes(vectors, -1, -2)
    symmetric = product + np.swapaxes(product, -1, -2)
    if lower:
        return np.tril(symmetric, -1) + 0.5 * np.triu(np.tril(symmetric))
    return np.triu(symmetric, 1) + 0.5 * np.triu(np.tril(symmetric))


def eigh_jvp(t, ans, a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
             overwrite_b=False, type=1, check_finite=True, subset_by_index=None,  # noqa: A002
             subset_by_value=None, driver=None):
    # dw = diag(V^T dA V) (shared evenly by equal eigenvalues), dV = V (F * (V^T dA V)),
    # dA symmetric from the triangle read.  Where dA couples equal eigenvalues the
    # eigenvectors have no derivative: their tangent is NaN there (the eigenvalues'
    # tangent stays, so a function of the eigenvalues only is unaffected).
    if lower:
        change = np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)
    else:
        change = np.triu(t) + np.swapaxes(np.triu(t, 1), -1, -2)
    if eigvals_only:
        values = ans
        vectors = scipy_linalg.eigh(a, b, lower=lower, driver=driver)[1]
    else:
        values = ans[0]
        vectors = ans[1]
    projected = np.swapaxes(vectors, -1, -2) @ change @ vectors
    gaps = np.expand_dims(values, -2) - np.expand_dims(values, -1)
    ties = np.sum(np.where(gaps == 0, np.ones_like(gaps), 0.0), axis=-1)
    diagonal = np.diagonal(projected, axis1=-2, axis2=-1)
    tangent_w = np.sum(np.where(gaps == 0, np.expand_dims(diagonal, -2), 0.0), axis=-1) / ties
    if eigvals_only:
        return tangent_w
    # a tangent touching the eigenspace of equal eigenvalues turns their eigenvectors by an
    # angle its second-order terms decide: NaN in their columns
    tied = np.sum(np.where(gaps == 0, 1.0, 0.0), axis=-2, keepdims=True) > 1
    touched = tied & np.any(np.where(tied, projected, 0.0) != 0, axis=-2, keepdims=True)
    inverse_gaps = np.where(gaps == 0, 0.0, 1.0 / np.where(gaps == 0, 1.0, gaps))
    return (tangent_w, np.where(touched, np.nan, vectors @ (inverse_gaps * projected)))


# SciPy's default driver ("evr") may flip an eigenvector's sign under a perturbation of
# 1e-6, which finite differences cannot follow: the eigenvector examples name drivers
# that do not ("evd", "ev"); the rule is the same for every driver.
_EIGH_B = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
_define(scipy_linalg.eigh, vjp=eigh_vjp, jvp=eigh_jvp, domains=(SymmetricPositive(),),
        examples=({"driver": "evd"}, {"driver": "ev", "lower": False}, {"eigvals_only": True},
                  {"eigvals_only": True, "lower": False}, {"b": _EIGH_B, "driver": "gvd"},
                  {"b": _EIGH_B, "lower": False, "driver": "gv"}))

# --- block_diag ------------------------------------------------------------------------------
# block_diag(*arrs) takes its arrays variadically: one rule position per array (up to 8),
# each reading its block.  An example lists the positional arguments (shapes to sample).
BLOCK_DIAG_ARRAYS = 8


def block_diag_vjp_0(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 0)
    return np.reshape(g[index], shape)


def block_diag_vjp_1(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 1)
    return np.reshape(g[index], shape)


def block_diag_vjp_2(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 2)
    return np.reshape(g[index], shape)


def block_diag_vjp_3(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 3)
    return np.reshape(g[index], shape)


def block_diag_vjp_4(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 4)
    return np.reshape(g[index], shape)


def block_diag_vjp_5(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 5)
    return np.reshape(g[index], shape)


def block_diag_vjp_6(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 6)
    return np.reshape(g[index], shape)


def block_diag_vjp_7(g, ans, *arrs):
    index, shape = block_diag_window(arrs, 7)
    return np.reshape(g[index], shape)


def block_diag_jvp_0(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 0)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_1(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 1)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_2(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 2)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_3(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 3)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_4(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 4)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_5(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 5)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_6(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 6)
    return index_adjoint(np.atleast_2d(t), ans, index)


def block_diag_jvp_7(t, ans, *arrs):
    index, shape = block_diag_window(arrs, 7)
    return index_adjoint(np.atleast_2d(t), ans, index)


_define(scipy_linalg.block_diag,
        vjp=(block_diag_vjp_0, block_diag_vjp_1, block_diag_vjp_2, block_diag_vjp_3,
             block_diag_vjp_4, block_diag_vjp_5, block_diag_vjp_6, block_diag_vjp_7),
        jvp=(block_diag_jvp_0, block_diag_jvp_1, block_diag_jvp_2, block_diag_jvp_3,
             block_diag_jvp_4, block_diag_jvp_5, block_diag_jvp_6, block_diag_jvp_7),
        domains=(REAL,) * BLOCK_DIAG_ARRAYS, linear=True,
        examples=({"arrs": ((2, 2), (3,), ())}, {"arrs": ((2, 3),)},
                  {"arrs": ((1, 2), (2, 1), (2, 2), (3,))}))
