"""Every rule of the registry on Dask arrays: the gradient is a lazy Dask array with the
input's shape and dtype, and its computed value equals the NumPy gradient.

The cases are those of the second-order test (``SECOND_ORDER_CASES``: every differentiable
rule, each example, from the registry's own data), for each argument that is a float array:
``Scalarised(case, position)`` is a scalar function of that argument, and its
``rule_gradient`` (the rule's VJP called on NumPy values, itself checked against finite
differences in ``tests/test_rules.py``) is the reference.  The argument becomes a Dask
array of at least two chunks along each axis of length two or more, and ``s2s.grad`` runs
under a scheduler that raises: any computation before the user's ``.compute()`` fails.

Not every case can be lazy for a reason outside s2s: Dask itself computes, refuses or
miscomputes the primal (NumPy functions Dask does not implement run through ``np.asarray``;
SciPy converts with ``np.asarray``).  ``DASK_PRIMAL`` lists those rules with the reason;
a listed rule's case is still run whenever the primal turns out lazy and right on Dask,
and skipped otherwise; one case per such rule checks that s2s.grad then returns nothing
silently (the function's own error, or an s2s error).  ``REFUSED`` lists the rules whose
gradient s2s refuses on Dask (a MissingRuleError naming the function and Dask: quantiles
need a sort), ``S2S_COMPUTES`` those whose gradient code still computes or fails on Dask
(not yet fixed in s2s): strict xfails, so a fix shows up.

CI's budget: by default every case of the rules with a Dask branch in s2s/runtime.py
(``DISPATCH_BRANCHES``) and the first case of each other rule run (about 30 s);
``S2S_DASK_ALL_CASES=1`` runs all of them (about 55 s).
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import s2s
from lazy_dask import Computed, refuse_to_compute
from test_rules import Case
from test_second_order_rules import SECOND_ORDER_CASES, Scalarised, assert_leaves_close

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


_refuse = refuse_to_compute


def _halves(n):
    return max(1, (n + 1) // 2)


# each splits some axis of length two or more in two chunks
CHUNKINGS = (
    lambda shape: tuple(_halves(n) for n in shape),                       # every axis
    lambda shape: (_halves(shape[0]),) + tuple(shape[1:]),               # the first only
    lambda shape: tuple(shape[:-1]) + (_halves(shape[-1]),),             # the last only
)


def chunked(array, chunking=CHUNKINGS[0]):
    """``array`` as a Dask array, split in two chunks along the axes ``chunking`` picks."""
    return da.from_array(array, chunks=chunking(array.shape))


NOT_IN_DASK = ("Dask does not implement this NumPy function (or this call of it): its "
               "__array_function__ computes the arguments and calls NumPy, so the user's "
               "function itself computes")
DASK_REFUSES = ("Dask raises on this call: a parameter, keyword, shape or mode it does not "
                "support (median without axis, reshape order=, repeat without axis...)")
DASK_DIFFERS = ("Dask's np.take defaults to axis=0 where NumPy flattens: a different primal")
FFT_CHUNKS = ("Dask's FFTs need one chunk along each transformed axis (tried: every axis "
              "split, only the first, only the last)")
LINALG_CHUNKS = ("Dask's linalg takes 2-D arrays in square or single-column chunks only "
                 "(tried: every axis split, only the first, only the last)")
SCIPY = ("SciPy converts its arguments with np.asarray, which computes a Dask array (only "
         "scipy.special's ufuncs dispatch): SciPy rules are not supported on Dask")

# rule name -> why Dask itself cannot evaluate the primal lazily, in some or all examples:
# such a case runs whenever one of CHUNKINGS makes its primal lazy and right on Dask
DASK_PRIMAL: dict[str, str] = {
    "array": NOT_IN_DASK, "array_split": NOT_IN_DASK,
    "cond": NOT_IN_DASK, "convolve": NOT_IN_DASK, "copy": NOT_IN_DASK,
    "correlate": NOT_IN_DASK, "cov": NOT_IN_DASK, "cross": NOT_IN_DASK,
    "cross_adjoint": NOT_IN_DASK, "det": NOT_IN_DASK, "diagflat": NOT_IN_DASK,
    "diff": NOT_IN_DASK, "dsplit": NOT_IN_DASK, "eig": NOT_IN_DASK, "eigh": NOT_IN_DASK,
    "eigvals": NOT_IN_DASK, "eigvalsh": NOT_IN_DASK, "full_like": NOT_IN_DASK,
    "gradient": NOT_IN_DASK, "hsplit": NOT_IN_DASK, "inner": NOT_IN_DASK,
    "interp": NOT_IN_DASK, "kron": NOT_IN_DASK, "matrix_power": NOT_IN_DASK,
    "partition": NOT_IN_DASK, "pinv": NOT_IN_DASK, "polyfit": NOT_IN_DASK,
    "polyval": NOT_IN_DASK, "real_if_close": NOT_IN_DASK, "select": NOT_IN_DASK,
    "slogdet": NOT_IN_DASK, "sort": NOT_IN_DASK, "split": NOT_IN_DASK,
    "take_along_axis": NOT_IN_DASK, "tensorinv": NOT_IN_DASK, "tensorsolve": NOT_IN_DASK,
    "trapezoid": NOT_IN_DASK, "vander": NOT_IN_DASK, "vsplit": NOT_IN_DASK,
    "average": DASK_REFUSES, "delete": DASK_REFUSES, "dot": DASK_REFUSES,
    "insert": DASK_REFUSES, "linspace": DASK_REFUSES, "median": DASK_REFUSES,
    "nan_to_num": DASK_REFUSES, "nanmedian": DASK_REFUSES, "nanpercentile": DASK_REFUSES,
    "nanquantile": DASK_REFUSES, "pad": DASK_REFUSES, "percentile": DASK_REFUSES,
    "ptp": DASK_REFUSES, "quantile": DASK_REFUSES, "ravel": DASK_REFUSES,
    "repeat": DASK_REFUSES, "reshape": DASK_REFUSES,
    "cholesky": LINALG_CHUNKS, "inv": LINALG_CHUNKS, "lstsq": LINALG_CHUNKS,
    "norm": LINALG_CHUNKS, "qr": LINALG_CHUNKS, "solve": LINALG_CHUNKS,
    "svd": LINALG_CHUNKS,
    "fft": FFT_CHUNKS, "fft2": FFT_CHUNKS, "fftn": FFT_CHUNKS, "hfft": FFT_CHUNKS,
    "ifft": FFT_CHUNKS, "ifft2": FFT_CHUNKS, "ifftn": FFT_CHUNKS, "ihfft": FFT_CHUNKS,
    "irfft": FFT_CHUNKS, "irfft2": FFT_CHUNKS, "irfftn": FFT_CHUNKS, "rfft": FFT_CHUNKS,
    "rfft2": FFT_CHUNKS, "rfftn": FFT_CHUNKS,
    "scipy.linalg.block_diag": SCIPY, "scipy.linalg.cho_factor": SCIPY,
    "scipy.linalg.cho_solve": SCIPY, "scipy.linalg.cholesky": SCIPY,
    "scipy.linalg.det": SCIPY, "scipy.linalg.eigh": SCIPY, "scipy.linalg.expm": SCIPY,
    "scipy.linalg.inv": SCIPY, "scipy.linalg.lu_factor": SCIPY,
    "scipy.linalg.lu_solve": SCIPY, "scipy.linalg.solve": SCIPY,
    "scipy.linalg.solve_sylvester": SCIPY, "scipy.linalg.solve_triangular": SCIPY,
    "scipy.linalg.sqrtm": SCIPY, "scipy.signal.convolve": SCIPY,
    "scipy.signal.correlate": SCIPY, "scipy.special.factorial": SCIPY,
    "scipy.special.fresnel": SCIPY, "scipy.special.log_softmax": SCIPY,
    "scipy.special.logsumexp": SCIPY, "scipy.special.multigammaln": SCIPY,
    "scipy.special.polygamma": SCIPY, "scipy.special.softmax": SCIPY,
    "scipy.stats.beta.cdf": SCIPY, "scipy.stats.beta.logcdf": SCIPY,
    "scipy.stats.beta.logpdf": SCIPY, "scipy.stats.beta.logsf": SCIPY,
    "scipy.stats.beta.pdf": SCIPY, "scipy.stats.beta.sf": SCIPY,
    "scipy.stats.binom.cdf": SCIPY, "scipy.stats.binom.logcdf": SCIPY,
    "scipy.stats.binom.logpmf": SCIPY, "scipy.stats.binom.logsf": SCIPY,
    "scipy.stats.binom.pmf": SCIPY, "scipy.stats.binom.sf": SCIPY,
    "scipy.stats.cauchy.cdf": SCIPY, "scipy.stats.cauchy.logcdf": SCIPY,
    "scipy.stats.cauchy.logpdf": SCIPY, "scipy.stats.cauchy.logsf": SCIPY,
    "scipy.stats.cauchy.pdf": SCIPY, "scipy.stats.cauchy.sf": SCIPY,
    "scipy.stats.chi2.cdf": SCIPY, "scipy.stats.chi2.logcdf": SCIPY,
    "scipy.stats.chi2.logpdf": SCIPY, "scipy.stats.chi2.logsf": SCIPY,
    "scipy.stats.chi2.pdf": SCIPY, "scipy.stats.chi2.sf": SCIPY,
    "scipy.stats.dirichlet.logpdf": SCIPY, "scipy.stats.dirichlet.pdf": SCIPY,
    "scipy.stats.expon.cdf": SCIPY, "scipy.stats.expon.logcdf": SCIPY,
    "scipy.stats.expon.logpdf": SCIPY, "scipy.stats.expon.logsf": SCIPY,
    "scipy.stats.expon.pdf": SCIPY, "scipy.stats.expon.sf": SCIPY,
    "scipy.stats.gamma.cdf": SCIPY, "scipy.stats.gamma.logcdf": SCIPY,
    "scipy.stats.gamma.logpdf": SCIPY, "scipy.stats.gamma.logsf": SCIPY,
    "scipy.stats.gamma.pdf": SCIPY, "scipy.stats.gamma.sf": SCIPY,
    "scipy.stats.laplace.cdf": SCIPY, "scipy.stats.laplace.logcdf": SCIPY,
    "scipy.stats.laplace.logpdf": SCIPY, "scipy.stats.laplace.logsf": SCIPY,
    "scipy.stats.laplace.pdf": SCIPY, "scipy.stats.laplace.sf": SCIPY,
    "scipy.stats.logistic.cdf": SCIPY, "scipy.stats.logistic.logcdf": SCIPY,
    "scipy.stats.logistic.logpdf": SCIPY, "scipy.stats.logistic.logsf": SCIPY,
    "scipy.stats.logistic.pdf": SCIPY, "scipy.stats.logistic.sf": SCIPY,
    "scipy.stats.lognorm.cdf": SCIPY, "scipy.stats.lognorm.logcdf": SCIPY,
    "scipy.stats.lognorm.logpdf": SCIPY, "scipy.stats.lognorm.logsf": SCIPY,
    "scipy.stats.lognorm.pdf": SCIPY, "scipy.stats.lognorm.sf": SCIPY,
    "scipy.stats.multivariate_normal.logpdf": SCIPY,
    "scipy.stats.multivariate_normal.pdf": SCIPY, "scipy.stats.nbinom.cdf": SCIPY,
    "scipy.stats.nbinom.logcdf": SCIPY, "scipy.stats.nbinom.logpmf": SCIPY,
    "scipy.stats.nbinom.logsf": SCIPY, "scipy.stats.nbinom.pmf": SCIPY,
    "scipy.stats.nbinom.sf": SCIPY, "scipy.stats.norm.cdf": SCIPY,
    "scipy.stats.norm.logcdf": SCIPY, "scipy.stats.norm.logpdf": SCIPY,
    "scipy.stats.norm.logsf": SCIPY, "scipy.stats.norm.pdf": SCIPY,
    "scipy.stats.norm.sf": SCIPY, "scipy.stats.poisson.cdf": SCIPY,
    "scipy.stats.poisson.logcdf": SCIPY, "scipy.stats.poisson.logpmf": SCIPY,
    "scipy.stats.poisson.logsf": SCIPY, "scipy.stats.poisson.pmf": SCIPY,
    "scipy.stats.poisson.sf": SCIPY, "scipy.stats.t.cdf": SCIPY,
    "scipy.stats.t.logcdf": SCIPY, "scipy.stats.t.logpdf": SCIPY,
    "scipy.stats.t.logsf": SCIPY, "scipy.stats.t.pdf": SCIPY, "scipy.stats.t.sf": SCIPY,
    "take": DASK_DIFFERS,
}

# rule name -> why s2s refuses the gradient on Dask (a MissingRuleError naming Dask)
REFUSED = {name: "the gradient sorts each lane (np.sort, np.take_along_axis) to find the "
                 "order statistics; Dask arrays have no sort"
           for name in ("median", "nanmedian", "quantile", "nanquantile", "percentile",
                        "nanpercentile")}

# rule name -> why s2s's gradient code still computes or fails on Dask: helpers of gradient
# code, met on Dask only by second derivatives (hvp, hessian) of the rules they serve
S2S_COMPUTES: dict[str, str] = {
    "column_stack_adjoint": "its VJP calls np.column_stack, which Dask does not implement",
    "inner_adjoint": "its VJP for the cotangent calls np.inner, which Dask does not "
                     "implement",
    "qr": "the adjoint checks that R has full rank (np.any on its diagonal) before it "
          "returns, which computes R",
    "select_adjoint": "its VJP calls np.select on a list of Dask arrays",
    "take_adjoint": "its VJP calls np.take(..., mode=), which Dask's take does not accept",
    "take_along_axis_adjoint": "its VJP calls np.take_along_axis, which Dask does not "
                               "implement",
}

# the arguments of those rules that compute (default: every argument)
COMPUTING_POSITIONS = {"inner_adjoint": {0}}


def dask_cases():
    for param in SECOND_ORDER_CASES:
        rule, specs, example, position = param.values
        if any(mark.name == "xfail" for mark in param.marks):
            continue                      # not differentiable as generated code yet
        case = Case(rule, specs, example)
        x = case.args[position]
        if not (isinstance(x, np.ndarray) and x.ndim >= 1 and x.dtype.kind == "f"):
            continue                      # a scalar, list or integer argument
        marks = list(param.marks)
        if rule.name in S2S_COMPUTES and position in COMPUTING_POSITIONS.get(rule.name,
                                                                            {position}):
            marks.append(pytest.mark.xfail(raises=(s2s.S2SError, Computed), strict=True,
                                           reason=S2S_COMPUTES[rule.name]))
        yield pytest.param(rule, specs, example, position, marks=marks, id=param.id)


ALL_DASK_CASES = list(dask_cases())

# the rules whose gradient has a branch for arrays of other libraries (s2s/runtime.py): every
# example of theirs runs; of the other rules, the first case (CI's time budget).  Set
# S2S_DASK_ALL_CASES=1 to run every case of every rule.
DISPATCH_BRANCHES = {
    "getitem", "take", "take_along_axis", "delete", "pad", "repeat", "diag", "diagonal",
    "trace", "diag_adjoint", "diagonal_adjoint", "cumprod", "cumprod_adjoint", "gradient",
    "gradient_adjoint", "gradient_of", "meshgrid", "index_adjoint", "index_accumulate",
    "adjoint_read", "array_adjoint", "list", "concatenate_adjoint", "hstack_adjoint",
    "vstack_adjoint", "dstack_adjoint", "fit_to", "half_spectrum", "double_spectrum",
    "powers_of", "median", "quantile",
}


def _sampled(cases):
    if os.environ.get("S2S_DASK_ALL_CASES"):
        return list(cases)
    seen, kept = set(), []
    for param in cases:
        name = param.values[0].name
        if name in DISPATCH_BRANCHES or name not in seen:
            kept.append(param)
            seen.add(name)
    return kept


DASK_CASES = _sampled(ALL_DASK_CASES)


def _primal_is_lazy_and_right(scalarised, x, dask_x) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dask.config.set(scheduler=_refuse):
                value = scalarised.function(dask_x)
            value = value.compute() if isinstance(value, da.Array) else value
        return bool(np.allclose(value, scalarised.function(x)))
    except Exception:                     # noqa: BLE001 - Dask's own refusal or computation
        return False


def _lazy_input(scalarised, x):
    """``x`` in Dask chunks its primal runs lazily and rightly on, else None."""
    for chunking in CHUNKINGS:
        dask_x = chunked(x, chunking)
        if dask_x.numblocks == (1,) * x.ndim:
            continue                      # no axis of length two or more: not split
        if _primal_is_lazy_and_right(scalarised, x, dask_x):
            return dask_x
    return None


@pytest.mark.parametrize(("rule", "specs", "example", "position"), DASK_CASES)
def test_gradient_on_dask_arrays_is_lazy_and_equals_numpy(rule, specs, example, position):
    scalarised = Scalarised(Case(rule, specs, example), position)
    x = scalarised.case.args[position]
    dask_x = chunked(x)
    if rule.name in DASK_PRIMAL:
        dask_x = _lazy_input(scalarised, x)
        if dask_x is None:
            pytest.skip(DASK_PRIMAL[rule.name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)     # Dask's "not implemented" notes
        with dask.config.set(scheduler=_refuse):
            if rule.name in REFUSED:
                with pytest.raises(s2s.MissingRuleError, match="Dask arrays"):
                    s2s.grad(scalarised.function)(dask_x)
                return
            gradient = s2s.grad(scalarised.function)(dask_x)
    assert isinstance(gradient, da.Array)
    assert gradient.shape == x.shape and gradient.dtype == x.dtype
    assert_leaves_close(gradient.compute(), scalarised.rule_gradient(x))


def test_every_listed_rule_is_a_registry_rule_with_a_reason():
    names = {param.values[0].name for param in ALL_DASK_CASES}
    listed = {**DASK_PRIMAL, **REFUSED, **S2S_COMPUTES}
    assert set(listed) <= names
    assert all(reason for reason in listed.values())
    assert not set(REFUSED) & set(S2S_COMPUTES)
    scipy = {name for name in names
             if name.startswith("scipy.") and not name.startswith("scipy.special.")}
    assert scipy <= {name for name, reason in DASK_PRIMAL.items() if reason == SCIPY}


def _first_case_of_each_rule(names):
    seen = set()
    for param in DASK_CASES:
        rule = param.values[0]
        if rule.name in names and rule.name not in seen:
            seen.add(rule.name)
            yield pytest.param(*param.values, id=param.id)


@pytest.mark.parametrize(("rule", "specs", "example", "position"),
                         list(_first_case_of_each_rule(DASK_PRIMAL)))
def test_a_primal_dask_cannot_run_lazily_is_never_a_silent_gradient(rule, specs, example,
                                                                    position):
    """Where Dask computes or refuses the primal itself, s2s.grad computes nothing more and
    returns nothing: the user's own function raises (the refusing scheduler, Dask's error),
    or an s2s error says why; never a gradient of another value.  (One case per rule.)"""
    scalarised = Scalarised(Case(rule, specs, example), position)
    x = scalarised.case.args[position]
    dask_x = chunked(x)
    if _primal_is_lazy_and_right(scalarised, x, dask_x):
        pytest.skip("this example runs lazily on Dask: tested above")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with dask.config.set(scheduler=_refuse), pytest.raises(Exception) as raised:
            s2s.grad(scalarised.function)(dask_x)
    own = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dask.config.set(scheduler=_refuse):
                scalarised.function(dask_x)
    except Exception as error:            # noqa: BLE001 - what the function itself raises
        own = type(error)
    assert isinstance(raised.value, s2s.S2SError) or raised.type is own


def test_an_index_held_in_a_dask_array_is_refused_clearly():
    """x[mask] with a Dask mask: the selection's size is unknown until computed, so the
    scatter of the cotangent is refused with an s2s error naming Dask."""
    x = chunked(np.arange(12.0).reshape(4, 3))

    def masked(x):
        return np.sum(x[x > 4.0] ** 2)

    with dask.config.set(scheduler=_refuse), pytest.raises(s2s.MissingRuleError,
                                                               match="masked: .*Dask arrays"):
        s2s.grad(masked)(x)


@pytest.mark.parametrize("index", [[0, 0, 2], np.array([True, False, True, True])],
                         ids=["repeated", "numpy-mask"])
def test_integer_and_boolean_indices_scatter_lazily(index):
    values = np.arange(12.0).reshape(4, 3) / 7.0

    def selected(x):
        return np.sum(np.sin(x[index]) * x[index])

    with dask.config.set(scheduler=_refuse):
        gradient = s2s.grad(selected)(chunked(values))
    assert isinstance(gradient, da.Array)
    np.testing.assert_allclose(gradient.compute(), s2s.grad(selected)(values), rtol=1e-12)
