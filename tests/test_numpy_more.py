"""The NumPy functions of issue 15 beyond the registry's generic checks (tests/test_rules.py):
their parameters (pad modes, axes, weights, n, prepend/append, spacings, edge orders,
quantile methods, convolution modes) in generated code (``mode == "source"``), forward mode
and on the tape; second order; ``np.r_`` / ``np.c_``; the subgradient conventions where
values tie; the refusals; and the helpers that read index maps and weights off NumPy.

References: central finite differences in float64 (tests/reference.py), NumPy itself (the
helpers' index maps and weights reproduce NumPy's results), closed forms for the tie
conventions, and the tape against generated code.
"""
import warnings

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient
from s2s import runtime
from s2s.tape import vjp_with_tape

RNG = np.random.default_rng(115)
X = RNG.uniform(0.2, 2.0, size=(4, 5))
V = RNG.normal(size=X.shape)
KNOTS = np.array([0.0, 0.5, 1.5, 2.0, 3.0])


def numerical_directional(function, x, v, h=1e-6):
    return (np.asarray(function(x + h * v)) - np.asarray(function(x - h * v))) / (2 * h)


# --- functions of one array, written as users write them ------------------------------------


def pad_modes(x):
    return (np.sum(np.pad(x, ((1, 2), (0, 3)), mode="reflect") ** 2)
            + np.sum(np.pad(x, 2, mode="edge") * np.pad(x, 2, mode="wrap"))
            + np.sum(np.pad(x, ((6, 1), (2, 9)), mode="symmetric") ** 3)
            + np.sum(np.pad(x, (1, 2), constant_values=(0.5, -1.0)) ** 2))


def append_insert_delete(x):
    longer = np.append(x, x[:, :2] ** 2, axis=1)
    flat = np.append(x[0], 3.0)
    inserted = np.insert(x, [1, 3, 3], x[1, :3] * 2.0)
    column = np.insert(x, 2, x[:, 0] ** 2, axis=1)
    kept = np.delete(x, [0, 3], axis=1)
    return (np.sum(longer ** 2) + np.sum(flat ** 3) + np.sum(inserted ** 2)
            + np.sum(column * x[0, 0]) + np.sum(np.delete(kept, 1) ** 3))


def differences(x):
    return (np.sum(np.diff(x) ** 2) + np.sum(np.diff(x, n=2, axis=0) ** 2)
            + np.sum(np.diff(x, 1, 1, prepend=0.0, append=x[:, -1:] * 2.0) ** 2)
            + np.sum(np.diff(x[0], 3, prepend=x[1, :2]) ** 2)
            + np.sum(np.ediff1d(x, to_end=[1.0, 2.0], to_begin=x[0, 0]) ** 2))


def gradients(x):
    rows, columns = np.gradient(x, 0.5, np.array([0.0, 0.3, 1.1, 1.6, 2.9]))
    second = np.gradient(x, axis=1, edge_order=2)
    coordinates = np.gradient(x[:, 0], np.array([0.0, 1.0, 1.5, 3.0]), edge_order=2)
    return np.sum(rows * columns) + np.sum(second ** 2) + np.sum(coordinates ** 3)


def integrals(x):
    return (np.sum(np.trapezoid(x ** 2, dx=0.3)) + np.trapezoid(x[0], x[1])
            + np.sum(np.trapezoid(np.sin(x), np.array([0.0, 0.4, 0.9, 1.7, 2.0]), axis=1))
            + np.sum(np.trapezoid(x, x * x, axis=0)))


def products(x):
    vectors = np.cross(x[:, :3], x[:, 2:])
    columns = np.cross(x[:3, :4], x[1:, :4], axisa=0, axisb=0, axisc=0)
    return np.sum(vectors ** 2) + np.sum(columns * x[0, 0]) + np.sum(np.kron(x[:2, :2], x) ** 2)


def signals(x):
    total = 0.0
    for mode in ("full", "same", "valid"):
        total = total + np.sum(np.convolve(x[0], x[1, :3], mode) ** 2)
        total = total + np.sum(np.convolve(x[2, :2], x[3], mode) ** 2)
        total = total + np.sum(np.correlate(x[0], x[2, :3], mode) ** 2)
        total = total + np.sum(np.correlate(x[1, :2], x[3], mode) ** 3)
    return total


def interpolation(x):
    inside = np.interp(x[0] * 1.4 - 0.2, KNOTS, x[1] ** 2)
    edges = np.interp(x[2] * 2.0 - 0.5, KNOTS, x[3], left=-1.0, right=4.0)
    periodic = np.interp(x[1] * 3.0, np.array([0.1, 1.0, 1.7, 2.2]), x[2, :4], period=2.5)
    return np.sum(inside ** 2) + np.sum(edges * x[0]) + np.sum(periodic ** 2)


def polynomials(x):
    values = np.polyval(x[0, :3], x[1:])
    fitted = np.polyfit(x[0], x[1] ** 2, 2)
    weighted = np.polyfit(x[2], np.stack([x[3], x[1]], axis=1), 1,
                          w=np.array([1.0, 2.0, 0.5, 1.0, 3.0]))
    return np.sum(values ** 2) + np.sum(fitted ** 2) + np.sum(weighted * fitted[:2, None])


def averages(x):
    weighted = np.average(x, axis=1, weights=np.exp(x[0]))
    value, total = np.average(x, axis=0, weights=x[:, 0] ** 2, returned=True)
    whole, count = np.average(x, returned=True)
    return np.sum(weighted ** 2) + np.sum(value * total) + whole * count + np.average(x, weights=x)


def order_statistics(x):
    return (np.median(x) + np.sum(np.median(x, axis=0) ** 2)
            + np.sum(np.percentile(x, [10, 50, 95], axis=1) ** 2)
            + np.sum(np.quantile(x, 0.3, axis=1, method="midpoint", keepdims=True) ** 2)
            + np.quantile(x, 0.7, method="nearest") + np.quantile(x, 0.4, method="hazen")
            + np.sum(np.partition(x, 2, axis=1)[:, :3] ** 2) + np.ptp(x, axis=0)[1] ** 2)


def with_nan(x):
    y = np.where(x > 1.6, np.nan, x)
    return (np.nanmax(y) + np.sum(np.nanmin(y, axis=1)) + np.nanvar(y, axis=0)[2]
            + np.nanstd(y, ddof=1) + np.nanmedian(y) + np.sum(np.nanmedian(y, axis=1))
            + np.nanpercentile(y, 30) + np.sum(np.nanquantile(y, [0.2, 0.9], axis=0))
            + np.nanprod(y * 0.8) + np.nansum(y ** 2) + np.nanmean(y) ** 2
            + np.sum(np.nan_to_num(y, nan=2.0) ** 2))


def covariances(x):
    return (np.sum(np.cov(x) ** 2) + np.sum(np.cov(x[:2], x[3], bias=True) ** 2)
            + np.sum(np.cov(x, rowvar=False, aweights=np.array([1.0, 0.5, 2.0, 1.0])) ** 2)
            + np.sum(np.cov(x, fweights=np.array([1, 2, 1, 3, 1]), ddof=0) * x[0, 0])
            + np.sum(np.corrcoef(x) ** 3) + np.sum(np.corrcoef(x[0], x[1]) ** 2)
            + np.sum(np.corrcoef(x[:2], rowvar=False) ** 2))


def grids(x):
    a, b = np.meshgrid(x[0], x[1, :3])
    c, d, e = np.meshgrid(x[0, :2], x[1, :3], x[2, :2], indexing="ij", sparse=True)
    f, g = np.broadcast_arrays(x[:, :1], x[0])
    return np.sum(a * b ** 2) + np.sum(c * d * e) + np.sum(f * g ** 2)


def samples(x):
    line = np.linspace(x[0, 0], x[1, 1], 7)
    columns = np.linspace(x[0], x[1] * 2.0, 4, endpoint=False, axis=1)
    stepped, step = np.linspace(x[2, 0], x[3, 0], 5, retstep=True)
    return np.sum(line ** 2) + np.sum(columns ** 2) + np.sum(stepped) * step


def choices(x):
    chosen = np.select([x < 0.8, x > 1.5], [x ** 2, np.sin(x)], default=x[0, 0])
    fallback = np.select([x[0] > 1.0], [x[1]])
    return np.sum(chosen ** 2) + np.sum(fallback ** 3)


def moved_and_spread(x):
    cube = x[None] * x[:, None]
    return (np.sum(np.rollaxis(cube, 2, 0)[0] ** 2) + np.sum(np.rollaxis(cube, 0, 3)[1] * x.T)
            + np.sum(np.diagflat(x[0, :4], k=1) @ x.T) + np.sum(np.vander(x[0], 3) ** 2)
            + np.sum(np.real_if_close(x) ** 3))


def index_tricks(x):
    joined = np.r_[x[0], 0.5, x[1] ** 2, 0:3]
    columns = np.c_[x[0], x[1] * x[2], np.cos(x[3])]
    blocks = np.r_[x, x * 2.0]
    return np.sum(joined ** 2) + np.sum(columns ** 3) + np.sum(blocks[:4, 1:] * np.c_[x, x][:, 6:])


FUNCTIONS = [pad_modes, append_insert_delete, differences, gradients, integrals, products,
             signals, interpolation, polynomials, averages, order_statistics, with_nan,
             covariances, grids, samples, choices, moved_and_spread, index_tricks]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_generated_code_against_finite_differences(function):
    differentiable = s2s.differentiate(function, fallback="error")
    assert differentiable.mode == "source"
    assert_close(differentiable.grad(X), numerical_gradient(function, [X], 0), rtol=1e-5,
                 atol=1e-6)
    value, _ = differentiable.value_and_grad(X)
    assert value == pytest.approx(function(X), rel=1e-12)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_forward_mode_against_finite_differences(function):
    _, tangent = s2s.jvp(function, (X,), (V,))
    assert tangent == pytest.approx(float(numerical_directional(function, X, V)), rel=1e-5,
                                    abs=1e-6)


def weighted_averages(x):
    return np.sum(np.average(x, axis=1, weights=np.exp(x[0])) ** 2) + np.average(x, weights=x)


def stepped_samples(x):
    return np.sum(np.linspace(x[0, 0], x[1, 1], 7) ** 2) \
        + np.sum(np.linspace(x[0], x[1] * 2.0, 4, endpoint=False, axis=1) ** 2)


# averages, samples and grids have several outputs (np.average(returned=True),
# np.linspace(retstep=True), np.meshgrid): their VJPs read the cotangent tuple through
# s2s.runtime.zeros_for_none, differentiated from its source.
SECOND_ORDER = [pad_modes, append_insert_delete, differences, gradients, integrals, products,
                signals, interpolation, polynomials, weighted_averages, order_statistics,
                covariances, stepped_samples, choices, moved_and_spread, index_tricks,
                averages, samples, grids]


@pytest.mark.parametrize("function", SECOND_ORDER, ids=lambda f: f.__name__)
def test_hessian_vector_product_against_finite_differences_of_the_gradient(function):
    gradient = s2s.grad(function)
    expected = numerical_directional(gradient, X, V, h=1e-5)
    assert_close(s2s.hvp(function, X, V), expected, rtol=1e-4, atol=1e-6)


def scalar_chain(t):
    samples = np.linspace(t, 2.0 * t, 5) ** 2
    smoothed = np.convolve(samples, np.array([1.0, -2.0, 0.5]), "same")
    return np.sum(smoothed ** 2) + np.median(samples) * t + np.trapezoid(np.sin(samples), dx=0.1)


def test_grad_of_grad_through_linspace_convolution_median_and_trapezoid():
    first = s2s.grad(scalar_chain)
    t = 0.8
    expected = (first(t + 1e-5) - first(t - 1e-5)) / 2e-5
    assert s2s.grad(s2s.grad(scalar_chain))(t) == pytest.approx(expected, rel=1e-6)


# --- the tape runs the same rules ---------------------------------------------------------------


TAPED = {
    "pad": lambda x: np.sum(np.pad(x, ((2, 1), (3, 0)), "reflect") ** 2),
    "append": lambda x: np.sum(np.append(x, x ** 2, 0) ** 2),
    "insert": lambda x: np.sum(np.insert(x, [1, 1], 5.0, 1) ** 2),
    "delete": lambda x: np.sum(np.delete(x, [1, 2], 1) ** 3),
    "diff": lambda x: np.sum(np.diff(x, 2) ** 2),
    "gradient": lambda x: np.sum(np.gradient(x, 0.5, axis=1, edge_order=2) ** 2),
    "trapezoid": lambda x: np.sum(np.trapezoid(x ** 2, dx=0.5)),
    "kron": lambda x: np.sum(np.kron(x, x) ** 2),
    "cross": lambda x: np.sum(np.cross(x[:, :3], x[:, 1:4]) ** 2),
    "convolve": lambda x: np.sum(np.convolve(x[0], x[1], "same") ** 2),
    "interp": lambda x: np.sum(np.interp(x[0], KNOTS, x[1]) ** 2),
    "polyval": lambda x: np.sum(np.polyval(x[0], x[1]) ** 2),
    "median": lambda x: np.median(x, axis=0)[1] ** 2,
    "percentile": lambda x: np.sum(np.percentile(x, [20, 80], axis=1) ** 2),
    "average": lambda x: np.sum(np.average(x, 1, np.exp(x)) ** 2),
    "cov": lambda x: np.sum(np.cov(x) ** 2),
    "corrcoef": lambda x: np.sum(np.corrcoef(x) ** 3),
    "ptp": lambda x: np.ptp(x) ** 2,
    "nanmax": lambda x: np.sum(np.nanmax(x, axis=1)),
    "linspace": lambda x: np.sum(np.linspace(x[0], x[1], 4) ** 2),
}


@pytest.mark.parametrize("name", sorted(TAPED))
def test_tape_against_finite_differences(name):
    function = TAPED[name]
    _, pullback = vjp_with_tape(function, (X,), {}, (0,))
    (taped,) = pullback(1.0)
    assert_close(taped, numerical_gradient(function, [X], 0), rtol=1e-5, atol=1e-6)


# --- np.r_ and np.c_ ----------------------------------------------------------------------------


def r_with_numbers(x):
    return np.r_[x, 0.5, 2, x[:2] * 3.0, 1:4]


def c_of_matrices(x):
    return np.c_[x[:, :2], x[:, 0], 0:4]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_index_tricks_give_numpys_values_and_dtypes(dtype):
    x = X.astype(dtype)
    for function, argument in ((r_with_numbers, x[0]), (c_of_matrices, x)):
        value, pullback = s2s.vjp(function, argument)
        expected = function(argument)
        assert value.dtype == expected.dtype and value.shape == expected.shape
        assert np.array_equal(value, expected)
        cotangent = RNG.normal(size=expected.shape)
        gradient = pullback(cotangent.astype(expected.dtype))
        reference = numerical_gradient(lambda a: np.sum(function(a) * cotangent),
                                       [argument.astype(np.float64)], 0)
        assert_close(gradient, reference, rtol=1e-4 if dtype == np.float32 else 1e-6,
                     atol=1e-4)


def r_in_a_loop(x):
    total = np.zeros(1)
    for i in range(3):
        total = np.r_[total, x[i] * total[-1] + x[i]]
    return np.sum(total ** 2)


def test_index_trick_in_a_loop_and_its_generated_code():
    differentiable = s2s.differentiate(r_in_a_loop, fallback="error")
    x = X[0]
    assert_close(differentiable.grad(x), numerical_gradient(r_in_a_loop, [x], 0), rtol=1e-6)
    code = [line for line in differentiable.source.splitlines() if "#" not in line]
    assert any("np.concatenate(" in line for line in code)
    assert not any("np.r_[" in line for line in code)


def r_directive(x):
    return np.sum(np.r_["0,2", x, x ** 2])


def test_index_trick_with_a_directive_is_refused():
    with pytest.raises(s2s.MissingRuleError, match="np.r_"):
        s2s.differentiate(r_directive, fallback="error").grad(X[0])


# --- conventions where values tie -----------------------------------------------------------


def gradient_of(function, x):
    return s2s.differentiate(function, fallback="error").grad(x)


def median_of(x):
    return np.median(x)


def percentile_of(x):
    return np.percentile(x, 50.0, method="lower")


def nanmax_of(x):
    return np.nanmax(x)


def ptp_of(x):
    return np.ptp(x)


def partition_of(x):
    return np.sum(np.partition(x, 1)[:2] * np.array([1.0, 10.0]))


def test_tied_order_statistics_share_their_weight_evenly():
    ties = np.array([1.0, 3.0, 3.0, 0.5, 7.0])
    assert_close(gradient_of(median_of, ties), [0, 0.5, 0.5, 0, 0], rtol=0, atol=0)
    assert_close(gradient_of(percentile_of, ties), [0, 0.5, 0.5, 0, 0], rtol=0, atol=0)
    even = np.array([1.0, 3.0, 3.0, 3.0, 0.5, 7.0])      # the median averages 3 and 3
    assert_close(gradient_of(median_of, even), [0, 1 / 3, 1 / 3, 1 / 3, 0, 0], rtol=1e-15,
                 atol=0)
    missing = np.array([np.nan, 4.0, 4.0, 1.0])
    assert_close(gradient_of(nanmax_of, missing), [0, 0.5, 0.5, 0], rtol=0, atol=0)
    assert_close(gradient_of(ptp_of, np.array([2.0, 5.0, 2.0, 5.0])), [-0.5, 0.5, -0.5, 0.5],
                 rtol=0, atol=0)


def test_partition_is_a_permutation_like_sort():
    x = np.array([4.0, 1.0, 3.0, 0.5, 2.0])
    gradient = gradient_of(partition_of, x)
    assert sorted(gradient) == [0.0, 0.0, 0.0, 1.0, 10.0]
    assert gradient[3] == 1.0 and gradient[1] == 10.0       # 0.5 then 1.0


def interp_at_knots(x):
    return np.sum(np.interp(x, KNOTS, np.array([0.0, 1.0, 3.0, 2.0, 5.0])))


def test_interp_takes_the_segment_right_of_a_knot_and_zero_outside():
    x = np.array([0.5, 1.5, 3.0, -1.0, 4.0, 0.0])
    # slopes: [0, .5) 2, [.5, 1.5) 2, [1.5, 2) -2, [2, 3] 3; the last knot: the last segment
    assert_close(gradient_of(interp_at_knots, x), [2.0, -2.0, 3.0, 0.0, 0.0, 2.0], rtol=1e-15,
                 atol=0)


def nan_entries(x):
    y = np.where(x > 1.0, np.nan, x)
    return np.nanvar(y) + np.nanstd(y) + np.nanmedian(y) + np.nanprod(y) + np.nanmax(y)


def test_nan_entries_get_no_gradient():
    x = np.array([0.3, 1.5, 0.7, 0.9, 2.0])
    gradient = gradient_of(nan_entries, x)
    assert gradient[1] == 0.0 and gradient[4] == 0.0
    assert_close(gradient, numerical_gradient(nan_entries, [x], 0), rtol=1e-6, atol=1e-9)


# --- what is refused, and what just runs ------------------------------------------------------


def constant_values_differentiated(x):
    return np.sum(np.pad(x, 1, constant_values=x[0]))


def knots_differentiated(x):
    return np.sum(np.interp(x, x * 2.0, x))


def quantile_level_differentiated(x):
    return np.quantile(x, x[0] / 10.0)


def spacing_differentiated(x):
    return np.sum(np.gradient(x, x[0]))


@pytest.mark.parametrize("function, what", [
    (constant_values_differentiated, "'constant_values' argument of pad"),
    (knots_differentiated, "argument 2 of interp"),
    (quantile_level_differentiated, "'q' argument of quantile"),
    (spacing_differentiated, "argument 2 of gradient")], ids=lambda value: str(value)[:30])
def test_a_differentiated_value_where_the_rule_takes_no_derivative_is_refused(function, what):
    with pytest.raises(s2s.MissingRuleError, match=what):
        s2s.differentiate(function, fallback="error").grad(X[0])


def statistic_mode(x):
    return np.sum(np.pad(x, 2, mode="mean"))


def full_fit(x):
    return np.sum(np.polyfit(x, x ** 2, 1, full=True)[0])


def overwritten(x):
    return np.median(x * 1.0, overwrite_input=True)


@pytest.mark.parametrize("function", [statistic_mode, full_fit, overwritten],
                         ids=lambda f: f.__name__)
def test_options_without_a_derivative_raise_when_the_derivative_runs(function):
    with pytest.raises((s2s.S2SError, NotImplementedError)):
        s2s.differentiate(function, fallback="error").grad(X[0])


def constants_with_dtype(x):
    grid = np.linspace(0.0, 1.0, 5, dtype=np.float32)
    return np.sum(x * grid)


def test_a_dtype_argument_of_constants_just_runs():
    differentiable = s2s.differentiate(constants_with_dtype, fallback="error")
    assert_close(differentiable.grad(X[0]), np.linspace(0.0, 1.0, 5), rtol=1e-7)


def sum_with_dtype(x):
    return np.sum(x, dtype=np.float32)


def test_a_dtype_argument_of_a_differentiated_value_is_refused():
    with pytest.raises(s2s.UnsupportedError, match="'dtype=' argument of sum"):
        s2s.differentiate(sum_with_dtype, fallback="error").grad(X[0])


# --- the helpers read their index maps and weights off NumPy ---------------------------------

METHODS = ["linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
           "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "median_unbiased", "normal_unbiased"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_quantile_weights_reproduce_numpys_quantiles(method, axis):
    a = RNG.normal(size=(3, 5, 4))
    a[0, 1, 2] = a[0, 1, 3]
    q = np.array([0.0, 0.1, 0.5, 0.93, 1.0])
    weights = runtime.quantile_weights(a, q, axis, method)
    summed = np.sum(weights * a, axis=runtime.reduced_axes(a.ndim, axis, 1))
    assert_close(summed, np.quantile(a, q, axis=axis, method=method), rtol=1e-12, atol=1e-12)
    assert_close(np.sum(weights, axis=runtime.reduced_axes(a.ndim, axis, 1)), 1.0, rtol=1e-12)


def test_nanquantile_weights_skip_nan_entries():
    a = RNG.normal(size=(4, 6))
    a[1, 2:5] = np.nan
    a[3, 0] = np.nan
    weights = runtime.quantile_weights(a, [0.3, 0.5], -1, "linear", True)
    assert np.all(weights[:, np.isnan(a)] == 0)
    summed = np.sum(weights * np.nan_to_num(a), axis=-1)
    assert_close(summed, np.nanquantile(a, [0.3, 0.5], axis=-1), rtol=1e-12)


@pytest.mark.parametrize("size", [2, 3, 4, 7])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_stencils_are_numpys(size, edge_order):
    if size < edge_order + 1:
        pytest.skip("np.gradient needs edge_order + 1 points")
    for spacing in (0.7, np.cumsum(RNG.uniform(0.5, 1.5, size=size))):
        columns, coefficients = runtime.gradient_stencil(size, spacing, edge_order, np.zeros(1))
        matrix = np.zeros((size, size))
        for row in range(size):
            np.add.at(matrix[row], columns[row], coefficients[row])
        expected = np.gradient(np.eye(size), spacing, axis=0, edge_order=edge_order)
        assert_close(matrix, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("correlate", [False, True])
def test_convolution_padding_places_each_mode_in_the_full_result(correlate):
    primal = np.correlate if correlate else np.convolve
    for size_a in range(1, 8):
        for size_v in range(1, 8):
            a, v = RNG.normal(size=size_a), RNG.normal(size=size_v)
            full = primal(a, v, "full")
            for mode in ("full", "same", "valid"):
                before, after = runtime.convolution_padding(size_a, size_v, mode, correlate)
                assert_close(full[before:len(full) - after], primal(a, v, mode), rtol=1e-12,
                             atol=1e-12)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_sources_reproduce_numpys_padding(mode):
    a = RNG.normal(size=(3, 4))
    for width in (1, (2, 3), ((1, 0), (4, 2)), ((7, 5), (9, 1))):
        assert np.array_equal(np.take(a, runtime.pad_sources(a.shape, width, mode)),
                              np.pad(a, width, mode))


def test_two_component_cross_products():
    a, b = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 3))
    g = RNG.normal(size=(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for first, second, cotangent in ((a, b, g), (a, a[::-1], g[:, 0])):
            def total(x, y):
                return np.sum(np.cross(x, y) * cotangent)
            for which in (0, 1):
                expected = numerical_gradient(total, [first, second], which)
                actual = runtime.cross_adjoint(cotangent, first, second, which=which)
                assert_close(actual, expected, rtol=1e-6, atol=1e-9)


def test_insert_into_an_integer_array_takes_no_gradient_for_values():
    def f(v):
        return np.sum(np.insert(np.arange(4), 1, v) * 1.0)
    assert_close(s2s.differentiate(f, fallback="error").grad(np.array([1.7, 2.2])), [0.0, 0.0],
                 rtol=0, atol=0)
