"""Functions of several results and of scalar results, as users write them: the tape
against the generated code against central finite differences (float64), the containers
the tape returns, degenerate inputs refused with MissingRuleError, and second derivatives
through the decompositions against closed forms.

The rules themselves are checked case by case in tests/test_rules.py (first order, the
tape included) and tests/test_second_order_rules.py (Hessian-vector products); here the
point is what a program sees: ``w, v = np.linalg.eigh(a)``, ``q, r = np.linalg.qr(a)``,
``np.linalg.slogdet(a).logabsdet``, ``x, res, rank, s = np.linalg.lstsq(a, b)``...
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from s2s.errors import MissingRuleError, TapeError, UnsupportedError
from s2s.tape import Tensor, tensor, vjp_with_tape
from reference import assert_close, numerical_gradient

RNG = np.random.default_rng(15)
SPD = (lambda m: m @ m.T + 3 * np.eye(3))(RNG.uniform(-1, 1, size=(3, 3)))
TALL = RNG.uniform(-1, 1, size=(5, 3))
SQUARE = RNG.uniform(-1, 1, size=(3, 3)) + 3 * np.eye(3)
WIDE = RNG.uniform(-1, 1, size=(3, 5))
B = RNG.uniform(-1, 1, size=5)
_BASIS = RNG.uniform(-0.5, 0.5, size=(3, 3)) + np.eye(3)
DIAGONALIZABLE = _BASIS @ np.diag([1.0, 2.2, 3.1]) @ np.linalg.inv(_BASIS)


def eigh_fields(a):
    result = np.linalg.eigh(a)
    return np.sum(result.eigenvalues ** 2) + np.sum(result.eigenvectors[:, 0] ** 4)


def eigh_unpacked(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w * np.arange(3.0)) + np.sum(v[0] ** 2 * v[2] ** 2)


def svd_unpacked(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s ** 3) + np.sum((u[:, 0] * u[:, 1]) ** 2) + np.sum(vh[0] ** 4)


def singular_values_only(a):
    return np.sum(np.sin(np.linalg.svd(a, compute_uv=False)))


def slogdet_field(a):
    return np.linalg.slogdet(a).logabsdet * 2.0


def slogdet_unpacked(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet + logdet ** 2


def qr_fields(a):
    result = np.linalg.qr(a)
    return np.sum(result.Q[:, :2] ** 3) + np.sum(np.triu(result.R) ** 2)


def qr_unpacked_wide(a):
    q, r = np.linalg.qr(a)
    return np.sum(q ** 3) + np.sum(r[:, 3:] * r[:, :2])


def qr_r_only(a):
    return np.sum(np.linalg.qr(a, mode="r") ** 2)


def qr_complete_square(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(np.diagonal(r) ** 2) + np.sum(q[:, 2] * np.arange(3.0))


# NumPy 2.5 returns eig's results as complex arrays even when they are real: the losses
# take the real part, so they are real-valued on every NumPy.


def eig_unpacked(a):
    w, v = np.linalg.eig(a)
    return np.real(np.sum(w ** 2) + np.sum(v[:, 1] ** 4))


def eigvals_sum(a):
    return np.sum(np.sort(np.real(np.linalg.eigvals(a))) * np.array([1.0, -2.0, 0.5]))


def lstsq_unpacked(a):
    x, residuals, rank, s = np.linalg.lstsq(a, B, rcond=None)
    return np.sum(x ** 2) + 0.5 * np.sum(residuals) + np.sum(s)


def lstsq_field(a):
    return np.sum(np.linalg.lstsq(a, B, rcond=None)[0] * np.arange(1.0, 4.0))


def divmod_unpacked(x):
    quotient, remainder = divmod(x, 0.7)
    return np.sum(remainder ** 2 + quotient)


def split_pieces(x):
    first, second = np.split(x, [2])
    return np.sum(first ** 2) * np.sum(second)


def scalar_results(a):
    return np.linalg.det(a) * np.linalg.cond(a) + np.linalg.norm(a) ** 2


def matrix_functions(a):
    inverse = np.linalg.tensorinv(np.reshape(a, (3, 3)), ind=1)
    return np.sum(np.linalg.matrix_power(a, 3) * inverse) + np.linalg.cond(a, 1)


def chained_product(a):
    return np.sum(np.linalg.multi_dot([a, np.linalg.inv(a), a, a]) ** 2)


CASES = [
    (eigh_fields, SPD), (eigh_unpacked, SPD), (svd_unpacked, TALL),
    (singular_values_only, WIDE), (slogdet_field, SQUARE), (slogdet_unpacked, SQUARE),
    (qr_fields, TALL), (qr_unpacked_wide, WIDE), (qr_r_only, TALL),
    (qr_complete_square, SQUARE), (eig_unpacked, DIAGONALIZABLE),
    (eigvals_sum, DIAGONALIZABLE), (lstsq_unpacked, TALL),
    (lstsq_field, TALL),
    (divmod_unpacked, np.array([1.3, -2.45, 3.1, 0.2])),
    (split_pieces, np.array([0.5, -1.0, 2.0, 1.5])), (scalar_results, SQUARE),
    (matrix_functions, SQUARE),
]


@pytest.mark.parametrize(("function", "x"), CASES, ids=[getattr(c, "values", c)[0].__name__
                                                         for c in CASES])
def test_tape_generated_code_and_finite_differences_agree(function, x):
    expected = numerical_gradient(function, [x], 0)
    generated = s2s.differentiate(function, fallback="error")
    assert generated.mode == "source"
    from_source = generated.grad(x)
    assert_close(from_source, expected, rtol=1e-6, atol=1e-7)
    direction = np.random.default_rng(1).normal(size=np.shape(x))
    _, tangent = s2s.jvp(function, (x,), (direction,))
    assert tangent == pytest.approx(float(np.sum(expected * direction)), rel=1e-6, abs=1e-7)
    value, pullback = vjp_with_tape(function, (x,), {}, (0,))
    assert value == pytest.approx(function(x), rel=1e-12)
    (from_tape,) = pullback(1.0)
    assert_close(from_tape, from_source, rtol=1e-10, atol=1e-12)


def test_multi_dot_of_a_list_in_generated_code_and_forward_mode():
    """The tape records arrays passed directly, not inside a list (as np.concatenate)."""
    expected = numerical_gradient(chained_product, [SQUARE], 0)
    assert_close(s2s.differentiate(chained_product, fallback="error").grad(SQUARE), expected,
                 rtol=1e-6, atol=1e-7)
    _, tangent = s2s.jvp(chained_product, (SQUARE,), (np.eye(3),))
    assert tangent == pytest.approx(float(np.trace(expected)), rel=1e-6)
    with pytest.raises(UnsupportedError, match="multi_dot"):
        vjp_with_tape(chained_product, (SQUARE,), {}, (0,))


def test_the_tape_returns_numpys_containers_of_tensors_sharing_one_node():
    a = tensor(SPD, requires_grad=True)
    result = np.linalg.eigh(a)
    assert type(result) is type(np.linalg.eigh(SPD))            # EighResult, fields and all
    w, v = result
    assert isinstance(w, Tensor) and isinstance(result.eigenvectors, Tensor)
    assert w.grad_fn is v.grad_fn and w.grad_fn.name() == "LinalgEighBackward0"
    assert w.grad_fn.outputs == 2
    total = np.sum(w) + np.sum(v)
    # each edge names the result it leaves from, as PyTorch's (node, output_nr)
    edges = [edge for node in (total.grad_fn.next_functions[0][0],
                               total.grad_fn.next_functions[1][0])
             for edge in node.next_functions]
    assert (w.grad_fn, 0) in edges and (w.grad_fn, 1) in edges
    pieces = np.split(tensor(np.arange(4.0), requires_grad=True), 2)
    assert isinstance(pieces, list) and pieces[1].grad_fn is pieces[0].grad_fn
    quotient, remainder = divmod(tensor(np.array([1.5, -2.5]), requires_grad=True), 0.7)
    assert quotient.grad_fn is remainder.grad_fn


def test_one_result_alone_gets_its_gradient_and_the_others_count_as_zero():
    a = tensor(TALL, requires_grad=True)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.sum(s).backward()                                  # d(sum s)/da = u vh
    assert_close(a.grad, u.data @ vh.data, rtol=1e-10, atol=1e-12)
    a = tensor(SQUARE, requires_grad=True)
    sign, logdet = np.linalg.slogdet(a)
    logdet.backward()
    assert_close(a.grad, np.linalg.inv(SQUARE).T, rtol=1e-10, atol=1e-12)


def test_gradients_from_several_results_add_up_across_backward_calls():
    a = tensor(SPD, requires_grad=True)
    w, v = np.linalg.eigh(a)
    np.sum(w).backward(retain_graph=True)
    np.sum(v[:, 0] ** 4).backward()
    expected = numerical_gradient(lambda m: np.sum(np.linalg.eigh(m)[0])
                                  + np.sum(np.linalg.eigh(m)[1][:, 0] ** 4), [SPD], 0)
    assert_close(np.tril(a.grad.data), np.tril(expected), rtol=1e-6, atol=1e-7)
    with pytest.raises(TapeError, match="backward through the graph a second time"):
        np.sum(w).backward()                              # the node's values are freed


def test_integer_results_stay_plain_and_scalars_are_zero_dimensional():
    a = tensor(TALL, requires_grad=True)
    x, residuals, rank, s = np.linalg.lstsq(a, B, rcond=None)
    assert rank.grad_fn is None and not rank.requires_grad and int(rank) == 3
    assert x.grad_fn is s.grad_fn is residuals.grad_fn
    determinant = np.linalg.det(tensor(SQUARE, requires_grad=True))
    assert determinant.shape == () and determinant.grad_fn is not None
    value, _ = vjp_with_tape(scalar_results, (SQUARE,), {}, (0,))
    assert np.ndim(value) == 0 and value == pytest.approx(scalar_results(SQUARE), rel=1e-12)


# --- inputs the rules do not cover: MissingRuleError, in generated code and on the tape ---

# a Jordan block: the eigenvalue 1 twice, one eigenvector (eig's vectors are nearly parallel)
DEFECTIVE = np.array([[1.0, 1.0, 0.2], [0.0, 1.0, 0.1], [0.0, 0.0, 2.0]])


def eig_of(a):
    return np.sum(np.real(np.linalg.eig(a)[0]))


def eigvals_of(a):
    return np.sum(np.real(np.linalg.eigvals(a)))


def complete_qr(a):
    return np.sum(np.linalg.qr(a, mode="complete")[0])


def rank_deficient_qr(a):
    return np.sum(np.linalg.qr(np.outer(a[:, 0], a[0]))[1])


def rank_deficient_lstsq(a):
    return np.sum(np.linalg.lstsq(np.outer(a[:, 0], a[0]), B, rcond=None)[0])


REFUSED = [(eig_of, DEFECTIVE, "repeated"),
           (eigvals_of, DEFECTIVE, "repeated"),
           (complete_qr, TALL, "mode='complete'"),
           (rank_deficient_qr, TALL, "rank-deficient"),
           (rank_deficient_lstsq, TALL, "rank-deficient")]


@pytest.mark.parametrize(("function", "x", "message"), REFUSED,
                         ids=[f.__name__ for f, _, _ in REFUSED])
def test_degenerate_inputs_are_refused_with_missing_rule_error(function, x, message):
    function(x)                                               # the function itself runs
    with pytest.raises(MissingRuleError, match=message):
        s2s.differentiate(function, fallback="error").grad(x)
    with pytest.raises(MissingRuleError):                     # complex: refused at the call
        vjp_with_tape(function, (x,), {}, (0,))[1](1.0)
    with pytest.raises(MissingRuleError, match=message):      # raised by code read from source
        s2s.hvp(function, x, np.ones_like(x))


# --- np.linalg.eigh and svd at equal eigenvalues (singular values): as scipy.linalg.eigh --

TIED = np.diag([1.0, 1.0, 2.0])                            # a repeated eigenvalue
TIED_WEIGHTS = RNG.normal(size=(3, 3))
# singular values 3.04..., 1, 1 of a tall matrix, the last two exactly equal in LAPACK's
# answer (a rotated product is a few ulps off, a near tie whose gradient is large, not wrong)
TIED_SINGULAR = np.zeros((5, 3))
TIED_SINGULAR[0, 1], TIED_SINGULAR[1, 1], TIED_SINGULAR[2, 0], TIED_SINGULAR[4, 2] = \
    3.0, 0.5, 1.0, -1.0


def sum_of_cubed_eigenvalues(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w ** 3)


def smallest_eigenvalue(a):
    return np.linalg.eigh(a)[0][0]


def eigenvector_of_a_tied_eigenvalue(a):
    w, v = np.linalg.eigh(a)
    return np.sum(TIED_WEIGHTS[0] * v[:, 0])


def eigenvector_cubed(a):
    # v.T gv couples no two equal eigenvalues here, yet a perturbation turns v[:, 0] by a
    # finite angle: no derivative (finite differences blow up)
    w, v = np.linalg.eigh(a)
    return np.sum(v[:, 0] ** 3)


def basis_independent_through_vectors(a):
    w, v = np.linalg.eigh(a)
    return np.sum(TIED_WEIGHTS * ((v * w ** 2) @ v.T))      # = sum(TIED_WEIGHTS * a @ a)


def basis_independent_directly(a):
    symmetric = np.tril(a) + np.tril(a, -1).T               # the matrix eigh reads
    return np.sum(TIED_WEIGHTS * (symmetric @ symmetric))


def eigenvector_of_a_distinct_eigenvalue(a):
    w, v = np.linalg.eigh(a)
    return np.sum(TIED_WEIGHTS[0] * v[:, 2] ** 2)           # sign-free, eigenvalue 2 alone


def sum_of_squared_singular_values(a):
    return np.sum(np.linalg.svd(a, full_matrices=False)[1] ** 2)


def singular_vector_of_a_tied_value(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u[:, 1] * np.arange(5.0))


def right_singular_vector_of_a_tied_value(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(vh[2] ** 3)


def singular_vector_of_the_distinct_value(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u[:, 0] * np.arange(5.0)) ** 2)


def test_equal_eigenvalues_of_numpys_eigh_keep_exact_gradients_of_symmetric_functions():
    expected = np.tril(3 * TIED @ TIED)                  # the lower triangle eigh reads
    expected = expected + np.tril(expected, -1)
    for gradient in (s2s.differentiate(sum_of_cubed_eigenvalues, fallback="error").grad(TIED),
                     vjp_with_tape(sum_of_cubed_eigenvalues, (TIED,), {}, (0,))[1](1.0)[0]):
        assert_close(gradient, expected, rtol=1e-12, atol=1e-12)
    assert_close(expected, numerical_gradient(sum_of_cubed_eigenvalues, [TIED], 0),
                 rtol=1e-6, atol=1e-6)


def test_equal_eigenvalues_of_numpys_eigh_share_their_cotangent_evenly():
    # the smallest of two equal eigenvalues: (v0 v0^T + v1 v1^T) / 2 whatever basis LAPACK
    # picked in the eigenspace (only the mean of the two is differentiable)
    for gradient in (s2s.differentiate(smallest_eigenvalue, fallback="error").grad(TIED),
                     vjp_with_tape(smallest_eigenvalue, (TIED,), {}, (0,))[1](1.0)[0]):
        assert_close(gradient, np.diag([0.5, 0.5, 0.0]), rtol=1e-12, atol=1e-12)
    _, tangent = s2s.jvp(smallest_eigenvalue, (TIED,), (np.diag([1.0, 3.0, 5.0]),))
    assert tangent == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("function", [eigenvector_of_a_tied_eigenvalue, eigenvector_cubed,
                                      basis_independent_through_vectors],
                         ids=lambda f: f.__name__)
def test_eigenvectors_of_numpys_eigh_at_equal_eigenvalues_are_refused_not_wrong(function):
    """The terms between equal eigenvalues taken as 0 gave a wrong gradient, even for a
    basis-independent loss: refused in generated code, on the tape and in second order;
    forward mode gives NaN (as scipy.linalg.eigh's rule), never a wrong number."""
    nearby = TIED + np.diag([0.0, 1e-7, 0.0])
    differentiable = s2s.differentiate(function, fallback="error")
    if function is basis_independent_through_vectors:     # smooth: right just off the tie
        assert_close(differentiable.grad(nearby), s2s.grad(basis_independent_directly)(TIED),
                     rtol=1e-5, atol=1e-6)
    with pytest.raises(MissingRuleError, match="eigenvalues are equal"):
        differentiable.grad(TIED)
    with pytest.raises(MissingRuleError, match="eigenvalues are equal"):
        vjp_with_tape(function, (TIED,), {}, (0,))[1](1.0)
    with pytest.raises(MissingRuleError, match="eigenvalues are equal"):
        s2s.hvp(function, TIED, np.ones_like(TIED))
    _, tangent = s2s.jvp(function, (TIED,), (TIED_WEIGHTS + TIED_WEIGHTS.T,))
    assert np.isnan(tangent)


def test_an_eigenvector_of_a_distinct_eigenvalue_next_to_equal_ones_keeps_its_gradient():
    function = eigenvector_of_a_distinct_eigenvalue
    expected = numerical_gradient(function, [TIED], 0)
    assert_close(s2s.differentiate(function, fallback="error").grad(TIED), expected,
                 rtol=1e-6, atol=1e-6)
    assert_close(vjp_with_tape(function, (TIED,), {}, (0,))[1](1.0)[0], expected,
                 rtol=1e-6, atol=1e-6)
    tangent = TIED_WEIGHTS + TIED_WEIGHTS.T
    _, forward = s2s.jvp(function, (TIED,), (tangent,))
    assert forward == pytest.approx(np.sum(expected * tangent), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("function", [sum_of_squared_singular_values,
                                      singular_vector_of_the_distinct_value],
                         ids=lambda f: f.__name__)
def test_svd_at_equal_singular_values_where_the_derivative_exists(function):
    expected = numerical_gradient(function, [TIED_SINGULAR], 0)
    assert_close(s2s.differentiate(function, fallback="error").grad(TIED_SINGULAR), expected,
                 rtol=1e-6, atol=1e-6)
    assert_close(vjp_with_tape(function, (TIED_SINGULAR,), {}, (0,))[1](1.0)[0], expected,
                 rtol=1e-6, atol=1e-6)
    tangent = RNG.normal(size=TIED_SINGULAR.shape)
    _, forward = s2s.jvp(function, (TIED_SINGULAR,), (tangent,))
    assert forward == pytest.approx(np.sum(expected * tangent), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("function", [singular_vector_of_a_tied_value,
                                      right_singular_vector_of_a_tied_value],
                         ids=lambda f: f.__name__)
def test_singular_vectors_at_equal_singular_values_are_refused_not_wrong(function):
    with pytest.raises(MissingRuleError, match="singular values are equal"):
        s2s.differentiate(function, fallback="error").grad(TIED_SINGULAR)
    with pytest.raises(MissingRuleError, match="singular values are equal"):
        vjp_with_tape(function, (TIED_SINGULAR,), {}, (0,))[1](1.0)
    _, tangent = s2s.jvp(function, (TIED_SINGULAR,), (RNG.normal(size=TIED_SINGULAR.shape),))
    assert np.isnan(tangent)


def test_repeated_eigenvalues_are_refused_in_forward_mode_too():
    with pytest.raises(MissingRuleError, match="repeated"):
        s2s.jvp(eig_of, (DEFECTIVE,), (np.ones((3, 3)),))
    with pytest.raises(MissingRuleError, match="repeated"):
        s2s.jvp(eigvals_of, (DEFECTIVE,), (np.ones((3, 3)),))


# --- second derivatives through the decompositions, against closed forms -------------------


def largest_eigenvalue(t):
    return np.linalg.eigvalsh(np.array([[2.0, t], [t, 1.0]]))[1]


def largest_eigenvalue_of_eig(t):
    return np.max(np.real(np.linalg.eig(np.array([[2.0, t], [0.5 * t, 1.0]]))[0]))


def test_second_derivatives_of_eigenvalues_in_closed_form():
    """lambda(t) = 3/2 + sqrt(1/4 + t^2) for [[2, t], [t, 1]], so lambda'' = (1/4) / r^3
    with r = sqrt(1/4 + t^2); for [[2, t], [t/2, 1]] t^2 becomes t^2 / 2."""
    for t in (0.3, -0.8, 1.7):
        r = np.sqrt(0.25 + t * t)
        assert s2s.grad(s2s.grad(largest_eigenvalue))(t) == pytest.approx(0.25 / r ** 3,
                                                                           rel=1e-9)
        r = np.sqrt(0.25 + t * t / 2)
        assert s2s.grad(s2s.grad(largest_eigenvalue_of_eig))(t) == pytest.approx(
            0.5 * 0.25 / r ** 3, rel=1e-9)


def log_likelihood(a):
    """A Gaussian log-density with covariance a a^T + I, through slogdet and a solve."""
    covariance = a @ a.T + np.eye(3)
    sign, logdet = np.linalg.slogdet(covariance)
    y = np.array([0.5, -1.0, 0.3])
    return -0.5 * logdet - 0.5 * y @ np.linalg.solve(covariance, y)


@pytest.mark.parametrize("function", [log_likelihood, qr_fields, svd_unpacked, eig_unpacked,
                                      lstsq_unpacked], ids=lambda f: f.__name__)
def test_hessians_against_finite_differences_of_the_gradient(function):
    x = {log_likelihood: SQUARE * 0.4, qr_fields: TALL, svd_unpacked: TALL,
         eig_unpacked: DIAGONALIZABLE, lstsq_unpacked: TALL}[function]
    gradient = s2s.differentiate(function, fallback="error").grad
    h = 1e-5
    direction = RNG.normal(size=x.shape)
    expected = (gradient(x + h * direction) - gradient(x - h * direction)) / (2 * h)
    assert_close(s2s.hvp(function, x, direction), expected, rtol=1e-5, atol=1e-7)
    if function is log_likelihood:
        hessian = s2s.hessian(function)(x)
        assert_close(hessian.reshape(9, 9) @ direction.ravel(), expected.ravel(), rtol=1e-5,
                     atol=1e-7)


@pytest.mark.parametrize(("function", "x"), CASES, ids=[getattr(c, "values", c)[0].__name__
                                                         for c in CASES])
def test_reverse_over_reverse_matches_forward_over_reverse(function, x):
    """The generated gradient code, helpers read from source included, differentiated in
    reverse mode: the pullback of grad_f at v is H v (H is symmetric)."""
    gradient_code = s2s.differentiate(function).gradient_function()
    twice = s2s.differentiate(gradient_code, wrt=gradient_code.__code__.co_varnames[0],
                              fallback="error")
    assert twice.mode == "source"
    direction = np.random.default_rng(2).normal(size=np.shape(x))
    assert_close(twice.vjp(x, 1.0)[1](direction), s2s.hvp(function, x, direction),
                 rtol=1e-9, atol=1e-11)
