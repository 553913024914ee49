"""scipy.linalg and scipy.signal beyond the registry's generic checks (tests/test_rules.py).

Each function is differentiated inside a plain function whose structured input (symmetric
positive definite, triangular, well conditioned) is built from an unconstrained argument,
so that finite differences move through valid inputs only: in generated code (mode
"source") and in forward mode against central finite differences in float64
(tests/reference.py); to second order (``s2s.hessian``, reverse over reverse) against
finite differences of the gradient; in the shapes one domain per argument cannot express
(vector right-hand sides, 2-d convolutions, the larger second input of "valid"); and the
refusals: differentiated flags, the tape, the parameter values whose derivative is not
implemented.  References: finite differences, closed forms (det, the trace of expm), the
registry's VJP functions (what the tape would call) for the generated code.
"""
import inspect

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient

linalg = pytest.importorskip("scipy.linalg")
signal = pytest.importorskip("scipy.signal")

RNG = np.random.default_rng(151)
X = RNG.normal(size=(3, 3)) * 0.5
RHS = RNG.normal(size=(3, 2))
VECTOR = RNG.normal(size=3)
WEIGHTS = RNG.normal(size=(3, 3))
EYE = np.eye(3)


def spd(x):
    return x @ x.T + 3.0 * EYE


def well_conditioned(x):
    return x + 2.5 * EYE


# --- the functions, each from an unconstrained 3 x 3 argument -----------------------------


def triangular_lower(x):
    return np.sum(linalg.solve_triangular(np.tril(x) + 3.0 * EYE, RHS, lower=True) ** 2)


def triangular_upper_transposed_unit(x):
    solution = linalg.solve_triangular(np.triu(x), VECTOR, trans="T", unit_diagonal=True)
    return np.sum(np.sin(solution))


def cholesky_upper(x):
    return np.sum(linalg.cholesky(spd(x)) * WEIGHTS)


def cholesky_lower(x):
    return np.sum(np.cos(linalg.cholesky(spd(x), lower=True)))


def cho_pair(x):
    c, low = linalg.cho_factor(spd(x), lower=True)
    return np.sum(linalg.cho_solve((c, low), RHS) ** 2)


def cho_pair_upper_vector(x):
    return np.sum(linalg.cho_solve(linalg.cho_factor(spd(x)), VECTOR) * VECTOR)


def cho_factor_whole(x):
    c, low = linalg.cho_factor(spd(x))       # both triangles of c: factor and a's entries
    return np.sum(c * WEIGHTS)


def lu_pair(x):
    lu, piv = linalg.lu_factor(well_conditioned(x))
    return np.sum(linalg.lu_solve((lu, piv), RHS) ** 2)


def lu_pair_transposed_vector(x):
    factors = linalg.lu_factor(well_conditioned(x))
    return np.sum(np.tanh(linalg.lu_solve(factors, VECTOR, trans=1)))


def lu_factor_whole(x):
    lu, piv = linalg.lu_factor(x + EYE * np.array([0.5, 3.0, 1.0]))   # rows get swapped
    return np.sum(lu * WEIGHTS)


def solve_general(x):
    return np.sum(linalg.solve(well_conditioned(x), RHS) ** 2)


def solve_positive_vector(x):
    return np.sum(linalg.solve(spd(x), VECTOR, assume_a="pos") ** 2)


def solve_symmetric_lower_transposed(x):
    return np.sum(np.sin(linalg.solve(spd(x), RHS, assume_a="sym", lower=True)))


def solve_transposed(x):
    return np.sum(linalg.solve(well_conditioned(x), VECTOR, transposed=True) ** 3)


def inverse(x):
    return np.sum(linalg.inv(well_conditioned(x)) * WEIGHTS)


def determinant(x):
    return linalg.det(well_conditioned(x))


def exponential(x):
    return np.sum(linalg.expm(x) * WEIGHTS)


def square_root(x):
    return np.sum(linalg.sqrtm(spd(x)) * WEIGHTS)


def sylvester(x):
    return np.sum(linalg.solve_sylvester(well_conditioned(x), spd(x), RHS @ RHS.T) ** 2)


def eigenvalues_and_vectors(x):
    w, v = linalg.eigh(spd(x))
    return np.sum(w * w) + np.sum(v ** 4)         # v ** 4: independent of the signs of v


def eigenvalues_only(x):
    return np.sum(np.exp(linalg.eigh(spd(x), eigvals_only=True, lower=False)))


def generalized_eigenvalues(x):
    w, v = linalg.eigh(spd(x), np.diag([1.0, 2.0, 0.5]))
    return np.sum(np.log(w)) + np.sum(v ** 2 * WEIGHTS)


def block_diagonal(x):
    blocks = linalg.block_diag(x, x[0], 2.0 * x[1, 1], x[:2, 1:])
    return np.sum(blocks ** 2 * np.arange(blocks.shape[0])[:, None])


SIGNAL = RNG.normal(size=7)
KERNEL2D = RNG.normal(size=(2, 2))


def convolve_modes(x):
    row = x[0]
    return (np.sum(signal.convolve(SIGNAL, row) ** 2)
            + np.sum(signal.convolve(row, SIGNAL, mode="same") * np.arange(3.0))
            + np.sum(signal.convolve(SIGNAL, row, mode="valid") ** 2)
            + np.sum(signal.convolve(row, SIGNAL, mode="valid")))


def correlate_modes(x):
    column = x[:, 1]
    return (np.sum(signal.correlate(SIGNAL, column) ** 2)
            + np.sum(signal.correlate(column, SIGNAL, mode="same", method="direct") ** 2)
            + np.sum(signal.correlate(column, SIGNAL, mode="valid", method="fft") ** 2))


def convolve_2d(x):
    return (np.sum(signal.convolve(x, KERNEL2D, mode="same") ** 2)
            + np.sum(signal.correlate(x, x, mode="full") * 0.1)
            + np.sum(signal.convolve(KERNEL2D, x, mode="valid") ** 2))


FUNCTIONS = [triangular_lower, triangular_upper_transposed_unit, cholesky_upper, cholesky_lower,
             cho_pair, cho_pair_upper_vector, cho_factor_whole, lu_pair,
             lu_pair_transposed_vector, lu_factor_whole, solve_general, solve_positive_vector,
             solve_symmetric_lower_transposed, solve_transposed, inverse, determinant,
             exponential, square_root, sylvester, eigenvalues_and_vectors, eigenvalues_only,
             generalized_eigenvalues, block_diagonal, convolve_modes, correlate_modes,
             convolve_2d]


def numerical_directional(function, x, direction, h=1e-6):
    return (np.asarray(function(x + h * direction), dtype=np.float64)
            - np.asarray(function(x - h * direction), dtype=np.float64)) / (2 * h)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_generated_code_against_finite_differences(function):
    differentiable = s2s.differentiate(function, fallback="error")
    assert differentiable.mode == "source"
    assert_close(differentiable.grad(X), numerical_gradient(function, [X], 0),
                 rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_forward_mode_against_finite_differences(function):
    direction = RNG.normal(size=X.shape)
    value, tangent = s2s.jvp(function, (X,), (direction,))
    assert value == pytest.approx(function(X), rel=1e-12)
    assert tangent == pytest.approx(numerical_directional(function, X, direction), rel=1e-6,
                                    abs=1e-8)


def test_generated_code_imports_scipy_and_calls_the_rules():
    source = s2s.differentiate(cho_pair, fallback="error").source
    assert "from scipy import linalg as scipy_linalg" in source
    assert "scipy_linalg.solve_triangular(" in source and "scipy_linalg.cho_solve(" in source
    source = s2s.differentiate(lu_pair, fallback="error").source
    assert "lu_permutation" in source and "scipy_linalg.lu_solve(" in source
    source = s2s.differentiate(convolve_modes, fallback="error").source
    assert "from scipy import signal as scipy_signal" in source
    assert "scipy_signal.correlate(" in source and "convolution_window(" in source


def test_generated_code_is_deterministic():
    from s2s.api import _DERIVATIONS
    first = s2s.differentiate(lu_pair).source + s2s.differentiate(convolve_2d).source
    _DERIVATIONS.clear()
    assert s2s.differentiate(lu_pair).source + s2s.differentiate(convolve_2d).source == first


# --- closed forms -----------------------------------------------------------------------------


def test_det_gradient_is_det_times_inverse_transpose():
    a = well_conditioned(X)
    gradient = s2s.grad(linalg.det)(a)         # a SciPy function passed directly
    assert_close(gradient, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12, atol=1e-12)


def test_gradient_of_the_trace_of_expm_is_its_transpose():
    def trace_of_exponential(a):
        return np.trace(linalg.expm(a))
    gradient = s2s.differentiate(trace_of_exponential, fallback="error").grad(X)
    assert_close(gradient, linalg.expm(X).T, rtol=1e-10, atol=1e-12)


def test_log_likelihood_through_cho_factor_against_closed_form():
    """A Gaussian log-likelihood through cho_factor / cho_solve: d/dK of -1/2 y^T K^-1 y
    - 1/2 log det K is 1/2 (K^-1 y y^T K^-1 - K^-1), read onto the lower triangle."""
    y = VECTOR

    def log_likelihood(k):
        c, low = linalg.cho_factor(k, lower=True)
        alpha = linalg.cho_solve((c, low), y)
        return -0.5 * np.dot(y, alpha) - np.sum(np.log(np.diag(c)))
    k = spd(X)
    inverse_k = np.linalg.inv(k)
    alpha = inverse_k @ y
    full = 0.5 * (np.outer(alpha, alpha) - inverse_k)
    expected = np.tril(2 * full, -1) + np.diag(np.diag(full))       # the lower triangle read
    gradient = s2s.differentiate(log_likelihood, fallback="error").grad(k)
    assert_close(gradient, expected, rtol=1e-10, atol=1e-12)


# --- shapes one registry domain cannot express ---------------------------------------------

from test_rules import Case, assert_tree_close, inner, numeric_jvp, numeric_vjp  # noqa: E402

EXTRA = [
    ("scipy.linalg.solve_triangular", [None, (3,)], {"lower": True}),
    ("scipy.linalg.solve_triangular", [None, (3,)], {"trans": 1, "unit_diagonal": True}),
    ("scipy.linalg.cho_solve", [None, (3,)], {}),
    ("scipy.linalg.lu_solve", [None, (3,)], {"trans": 1}),
    ("scipy.linalg.solve", [None, (3,)], {}),
    ("scipy.linalg.solve", [None, (3,)], {"assume_a": "pos", "lower": True}),
    ("scipy.linalg.solve_sylvester", [None, None, (3, 2)], {}),
    ("scipy.signal.convolve", [(3,), (5,)], {"mode": "valid"}),
    ("scipy.signal.convolve", [(3,), (5,)], {"mode": "same"}),
    ("scipy.signal.convolve", [(4, 3), (2, 3)], {}),
    ("scipy.signal.convolve", [(4, 3), (2, 3)], {"mode": "same", "method": "fft"}),
    ("scipy.signal.convolve", [(2, 2), (4, 3)], {"mode": "valid"}),
    ("scipy.signal.correlate", [(3,), (5,)], {"mode": "valid"}),
    ("scipy.signal.correlate", [(4, 3), (2, 3)], {"mode": "same"}),
    ("scipy.signal.correlate", [(4, 3), (2, 2)], {"mode": "valid", "method": "fft"}),
    ("scipy.signal.correlate", [(2, 3, 2), (2, 2, 2)], {}),
]


@pytest.mark.parametrize(("name", "specs", "example"), EXTRA, ids=repr)
def test_rule_in_other_shapes_against_finite_differences(name, specs, example):
    from s2s.rules import REGISTRY
    rule = REGISTRY.named(name)
    case = Case(rule, specs, example)
    for position in case.positions:
        assert_tree_close(case.vjp(position), numeric_vjp(case, position))
        tangent = case.jvp(position)
        assert_tree_close(tangent, numeric_jvp(case, position))
        assert inner(case.g, tangent) == pytest.approx(
            inner(case.vjp(position), case.tangents[position]), rel=1e-9, abs=1e-9)


def test_batched_matrices_where_scipy_batches():
    a = np.stack([spd(X), spd(X.T) + EYE])
    try:
        linalg.cholesky(a)
    except ValueError:
        pytest.skip("this SciPy does not take batches of matrices")

    def f(a):
        return np.sum(linalg.cholesky(a, lower=True) ** 2) + np.sum(linalg.expm(0.1 * a)) \
            + np.sum(linalg.solve(a, np.ones((2, 3, 1))) ** 2) + np.sum(linalg.det(a))
    assert_close(s2s.differentiate(f, fallback="error").grad(a), numerical_gradient(f, [a], 0),
                 rtol=1e-6, atol=1e-6)


# --- second order ----------------------------------------------------------------------------

SECOND_ORDER = [triangular_lower, cholesky_upper, cho_pair, lu_pair, solve_positive_vector,
                inverse, determinant, exponential, square_root, sylvester,
                eigenvalues_and_vectors, eigenvalues_only, block_diagonal, convolve_modes,
                correlate_modes]


@pytest.mark.parametrize("function", SECOND_ORDER, ids=lambda f: f.__name__)
def test_hessian_against_finite_differences_of_the_gradient(function):
    gradient = s2s.differentiate(function, fallback="error").grad
    basis = np.eye(X.size).reshape((X.size,) + X.shape)
    expected = np.stack([numerical_directional(gradient, X, e, h=1e-5) for e in basis],
                        axis=-1).reshape(X.shape + X.shape)
    assert_close(s2s.hessian(function)(X), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("function", [cholesky_lower, lu_pair_transposed_vector, exponential,
                                      eigenvalues_and_vectors, convolve_2d],
                         ids=lambda f: f.__name__)
def test_reverse_over_reverse_matches_forward_over_reverse(function):
    gradient_code = s2s.differentiate(function).gradient_function()     # grad_f(x, seed)
    second = s2s.differentiate(gradient_code, wrt="x", fallback="error")
    assert second.mode == "source"
    direction = RNG.normal(size=X.shape)
    _, pullback = second.vjp(X, 1.0)
    assert_close(pullback(direction), s2s.hvp(function, X, direction), rtol=1e-8, atol=1e-10)


def test_grad_of_grad_of_a_scalar_function():
    def f(t):
        return linalg.det(linalg.expm(t * np.array([[0.0, 1.0], [-1.0, 0.5]])))
    # det(expm(t A)) = exp(t trace A) = exp(0.5 t)
    assert s2s.grad(s2s.grad(f))(0.7) == pytest.approx(0.25 * np.exp(0.35), rel=1e-9)


# --- degenerate cases ------------------------------------------------------------------------


TIED = np.diag([1.0, 1.0, 2.0])                          # a repeated eigenvalue


def sum_of_cubed_eigenvalues(a):
    return np.sum(linalg.eigh(a, eigvals_only=True) ** 3)


def smallest_eigenvalue(a):
    w, v = linalg.eigh(a)
    return w[0]


def basis_independent_through_vectors(a):
    w, v = linalg.eigh(a, driver="evd")
    return np.sum(WEIGHTS * ((v * w ** 2) @ v.T))         # = sum(WEIGHTS * a @ a)


def basis_independent_directly(a):
    symmetric = np.tril(a) + np.tril(a, -1).T              # the matrix eigh reads
    return np.sum(WEIGHTS * (symmetric @ symmetric))


def test_equal_eigenvalues_keep_exact_gradients_of_symmetric_functions():
    expected = np.diag([3.0, 3.0, 12.0])                 # d/da sum(w^3) = 3 V W^2 V^T
    gradient = s2s.differentiate(sum_of_cubed_eigenvalues, fallback="error").grad(TIED)
    assert_close(gradient, expected, rtol=1e-12, atol=1e-12)


def test_equal_eigenvalues_share_their_cotangent_evenly():
    # The smallest of two equal eigenvalues: (v0 v0^T + v1 v1^T) / 2, whatever basis LAPACK
    # picked in the eigenspace, as tied max entries share theirs.
    gradient = s2s.differentiate(smallest_eigenvalue, fallback="error").grad(TIED)
    assert_close(gradient, np.diag([0.5, 0.5, 0.0]), rtol=1e-12, atol=1e-12)
    _, tangent = s2s.jvp(smallest_eigenvalue, (TIED,), (np.diag([1.0, 3.0, 5.0]),))
    assert tangent == pytest.approx(2.0, rel=1e-12)


def test_eigenvectors_at_equal_eigenvalues_are_refused_not_wrong():
    """Taking the terms between equal eigenvalues as 0 (numpy.linalg.eigh's rule) gives a
    wrong gradient even for this basis-independent loss: s2s refuses it instead."""
    nearby = TIED + np.diag([0.0, 1e-7, 0.0])
    expected = s2s.grad(basis_independent_directly)(TIED)
    differentiable = s2s.differentiate(basis_independent_through_vectors, fallback="error")
    assert_close(differentiable.grad(nearby), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(s2s.EvaluationError, match="eigenvalues are equal"):
        differentiable.grad(TIED)
    _, tangent = s2s.jvp(basis_independent_through_vectors, (TIED,), (WEIGHTS + WEIGHTS.T,))
    assert np.isnan(tangent)                             # undefined, never a wrong number


def eigenvector_cubed(a):
    w, v = linalg.eigh(a, driver="evd")
    return np.sum(v[:, 0] ** 3)


def test_an_eigenvector_of_equal_eigenvalues_is_refused_where_no_two_are_coupled():
    """``V^T gV`` couples no two equal eigenvalues for ``sum(v[:, 0] ** 3)`` at TIED, yet
    finite differences blow up (the eigenvector turns by a finite angle): refused too."""
    assert np.max(np.abs(numerical_gradient(eigenvector_cubed, [TIED], 0))) > 1e4
    with pytest.raises(s2s.EvaluationError, match="eigenvalues are equal"):
        s2s.differentiate(eigenvector_cubed, fallback="error").grad(TIED)
    _, tangent = s2s.jvp(eigenvector_cubed, (TIED,), (WEIGHTS + WEIGHTS.T,))
    assert np.isnan(tangent)


def determinant_of(a):
    return linalg.det(a)


def lu_solution_of(a):
    return np.sum(linalg.lu_solve(linalg.lu_factor(a), VECTOR))


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.parametrize("function", [determinant_of, lu_solution_of],
                         ids=lambda f: f.__name__)
def test_singular_matrices_raise(function):
    singular = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    differentiable = s2s.differentiate(function, fallback="error")
    assert differentiable.mode == "source"
    with pytest.raises(s2s.EvaluationError, match="raised"):
        differentiable.grad(singular)


REFUSED_VALUES = [
    pytest.param(lambda a: np.sum(linalg.eigh(a, subset_by_index=[0, 1])[0]),
                 "every eigenvector", id="eigh-subset"),
    pytest.param(lambda a: np.sum(linalg.eigh(a, EYE, type=2)[0]), "type=1", id="eigh-type"),
    pytest.param(lambda a: linalg.det(a, overwrite_a=True), "overwrite_a", id="det-overwrite"),
    pytest.param(lambda a: np.sum(linalg.solve(a, VECTOR, overwrite_a=True)), "overwrite_a",
                 id="solve-overwrite"),
    pytest.param(lambda a: np.sum(linalg.sqrtm(a, disp=False)[0]), "disp=True",
                 id="sqrtm-disp", marks=pytest.mark.skipif(
                     "disp" not in inspect.signature(linalg.sqrtm).parameters,
                     reason="SciPy 1.18 dropped sqrtm's disp=")),
]
if "assume_a" in inspect.signature(linalg.inv).parameters:         # SciPy >= 1.17
    REFUSED_VALUES.append(pytest.param(lambda a: np.sum(linalg.inv(a, assume_a="diagonal")),
                                       "diagonal", id="inv-diagonal"))


@pytest.mark.parametrize(("function", "message"), REFUSED_VALUES)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")      # sqrtm's disp in SciPy 1.17
def test_parameter_values_without_a_derivative_are_refused(function, message):
    with pytest.raises(s2s.EvaluationError, match=message):
        s2s.differentiate(function, fallback="error").grad(spd(X))


# --- refusals: flags that are not differentiated, the tape ------------------------------------


def lower_from_the_input(x):
    return np.sum(linalg.solve_triangular(spd(x), VECTOR, lower=x[0, 0]))


def generalized_in_b(x):
    return np.sum(linalg.eigh(spd(X), spd(x), eigvals_only=True))


def trans_from_the_input(x):
    return np.sum(linalg.solve_triangular(spd(x), VECTOR, trans=x[0, 0] * 0.0))


@pytest.mark.parametrize(("function", "parameter"), [
    (lower_from_the_input, "lower"), (generalized_in_b, "b"), (trans_from_the_input, "trans")],
    ids=["lower", "eigh-b", "trans"])
def test_a_differentiated_parameter_is_refused(function, parameter):
    with pytest.raises(s2s.MissingRuleError, match=f"'{parameter}' argument of scipy.linalg"):
        s2s.differentiate(function, fallback="error").grad(X)
    with pytest.raises(s2s.MissingRuleError, match=f"'{parameter}' argument of scipy.linalg"):
        s2s.jvp(function, (X,), (np.ones_like(X),))


@pytest.mark.parametrize("call", [
    lambda t: linalg.expm(t), lambda t: linalg.cholesky(t), lambda t: linalg.eigh(t),
    lambda t: linalg.solve_triangular(t, VECTOR), lambda t: linalg.block_diag(t, t),
    lambda t: signal.convolve(t, np.ones((2, 2)))],
    ids=["expm", "cholesky", "eigh", "solve_triangular", "block_diag", "convolve"])
def test_the_tape_refuses_scipy_linalg_instead_of_dropping_the_gradient(call):
    """SciPy's linear algebra is written in Python over np.asarray: NumPy does not hand these
    calls to the tape, so a tensor that requires grad is refused where it is converted."""
    tensor = s2s.tensor(spd(X), requires_grad=True)
    with pytest.raises(s2s.MissingRuleError,
                       match="would drop its gradient|converts its arguments to NumPy"):
        call(tensor)


def test_a_fallback_to_the_tape_reports_the_refusal():
    def f(x):
        try:
            return np.sum(linalg.expm(x))
        except ValueError:
            return 0.0
    with pytest.warns(s2s.FallbackWarning):
        differentiable = s2s.differentiate(f)
        assert differentiable.mode == "tape"
    with pytest.raises(s2s.MissingRuleError):
        differentiable.grad(X)


def test_signal_rules_register_when_scipy_signal_is_imported(tmp_path):
    """scipy.signal is slow to import, so its rules load on first use: importing s2s does
    not import it, and a function calling it is differentiated all the same."""
    from scripts import run_script
    script = ("""
        import sys
        import numpy as np
        import s2s
        assert "scipy.signal" not in sys.modules
        import scipy.signal
        def f(x):
            return np.sum(scipy.signal.convolve(x, np.array([1.0, -2.0])) ** 2)
        x = np.array([0.5, 1.0, -1.5])
        g = s2s.differentiate(f, fallback="error").grad(x)
        y = np.convolve(x, [1.0, -2.0])
        assert np.allclose(g, np.correlate(2 * y, [1.0, -2.0], mode="valid"))
        print("ok")
    """)
    assert run_script(tmp_path, "signal_on_demand.py", script) == "ok"


def qr_of(a):
    q, r = linalg.qr(a)
    return np.sum(r)


def test_scipy_functions_without_a_rule_are_refused_by_name_not_read():
    """SciPy's own Python source is never differentiated as if it were the user's helper."""
    with pytest.raises(s2s.MissingRuleError,
                       match=r"'linalg\.qr' \(scipy\.linalg\.qr: SciPy function without a"):
        s2s.differentiate(qr_of, fallback="error").grad(well_conditioned(X))
