"""Rules for descriptive statistics: ``average`` (weights, ``returned``), ``median``,
``percentile``, ``quantile`` and their ``nan*`` forms, ``nanmax``, ``nanmin``, ``nanprod``,
``nanvar``, ``nanstd``, ``ptp``, ``cov``, ``corrcoef``, and the selection ``partition``.

Subgradients where values tie, as for ``max`` and ``min`` (:mod:`s2s.rules.reductions`):

* a quantile (``median``, ``percentile``, ``quantile``; every ``method``) interpolates
  between two order statistics; each one's weight is shared evenly among the entries equal
  to it (``np.median([1., 3., 3.])`` gives ``[0, 0.5, 0.5]``).  The weights come from NumPy
  itself (:func:`s2s.runtime.quantile_weights`), so they follow each method's definition.
  Not differentiated: ``q`` (a parameter: a differentiated ``q`` is refused);
  ``overwrite_input=True`` and ``weights=`` raise ``NotImplementedError`` when the
  derivative runs;
* ``nanmax``, ``nanmin`` and ``ptp`` share the cotangent evenly among tied extremes (``ptp``
  at both ends); NaN entries tie with nothing;
* ``partition`` is a rearrangement, like ``sort``: each entry gets the cotangent of the
  place it went to, tied entries in their order (a permutation, as ``sort``'s rule).

``nan*`` functions give NaN entries no gradient; a slice of NaNs only (a NaN result) gets
NaN or zero.  ``cov`` and ``corrcoef`` are differentiated in ``m``/``x`` and ``y``;
``fweights`` and ``aweights`` are parameters.  ``np.average`` with ``returned=True``
follows the multi-output convention of :mod:`s2s.rules.linalg` (a tuple ``g``: the
average's and the sum of weights' cotangents), and is differentiated in ``weights`` too.
"""
import numpy as np

from ..runtime import (
    average_layout,
    broadcast_like,
    count_valid,
    cov_weights,
    kept_shape,
    partition_sources,
    product_of_others,
    quantile_weights,
    reduced_axes,
    rows_adjoint,
    split_evenly,
    take_along_axis_adjoint,
    unbroadcast,
    variables_as_rows,
    zeros_for_none,
)
from .domains import Shaped, WithNaN
from .registry import POSITIVE, REAL, Domain, define, define_nondifferentiable

AXES = ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)})
NAN = WithNaN()

# Weights that depend on the order of values and masks only (split_evenly: max's ties).
define_nondifferentiable(average_layout, count_valid, cov_weights, kept_shape,
                         partition_sources, quantile_weights, reduced_axes, split_evenly)

# --- weighted averages ---------------------------------------------------------------------------


def average_vjp_a(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    # The mean without weights; with them, a's share w / sum(w) of each average.
    if returned:
        average = ans[0]
        cotangent = zeros_for_none(g, ans)[0]
    else:
        average = ans
        cotangent = g
    if axis is not None and not keepdims:
        cotangent = np.expand_dims(cotangent, axis)
    if weights is None:
        return broadcast_like(cotangent / (np.size(a) / np.size(average)), a)
    layout = average_layout(np.shape(weights), np.shape(a), axis)
    aligned = np.reshape(np.transpose(weights, layout[0]), layout[1])
    return cotangent * aligned / np.sum(aligned, axis=axis, keepdims=True)


def average_vjp_weights(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    # d/dw of sum(w a) / sum(w) is (a - average) / sum(w); with returned, the sum of the
    # weights is an output too.
    if returned:
        average = ans[0]
        cotangent = zeros_for_none(g, ans)[0]
    else:
        average = ans
        cotangent = g
    if axis is not None and not keepdims:
        cotangent = np.expand_dims(cotangent, axis)
        average = np.expand_dims(average, axis)
    layout = average_layout(np.shape(weights), np.shape(a), axis)
    aligned = np.reshape(np.transpose(weights, layout[0]), layout[1])
    share = cotangent * (a - average) / np.sum(aligned, axis=axis, keepdims=True)
    if returned and axis is not None and not keepdims:
        share = share + np.expand_dims(zeros_for_none(g, ans)[1], axis)
    elif returned:
        share = share + zeros_for_none(g, ans)[1]
    return np.transpose(np.reshape(unbroadcast(share, aligned), layout[2]), layout[3])


def average_jvp_a(t, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    # (the average's tangent, zeros for the sum of weights) with returned.
    tangent = np.average(t, axis, weights, keepdims=keepdims)
    if returned:
        return (tangent, np.zeros_like(ans[1]))
    return tangent


def average_jvp_weights(t, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    if returned:
        average = ans[0]
    else:
        average = ans
    if axis is not None and not keepdims:
        average = np.expand_dims(average, axis)
    layout = average_layout(np.shape(weights), np.shape(a), axis)
    aligned = np.reshape(np.transpose(weights, layout[0]), layout[1])
    aligned_t = np.reshape(np.transpose(t, layout[0]), layout[1])
    total = np.sum(aligned, axis=axis, keepdims=keepdims)
    tangent = np.sum(aligned_t * (a - average), axis=axis, keepdims=keepdims) / total
    if returned:
        return (tangent, np.broadcast_to(np.sum(aligned_t, axis=axis, keepdims=keepdims),
                                         np.shape(ans[1])))
    return tangent


define(np.average, vjp=(average_vjp_a, None, average_vjp_weights),
       jvp=(average_jvp_a, None, average_jvp_weights), several_outputs=True, display="Average",
       domains=(REAL, Domain(integer=True), POSITIVE),
       examples=({"axis": None}, {"axis": 0}, {"axis": 1, "keepdims": True},
                 {"axis": None, "returned": True}, {"axis": (0, 1), "returned": True},
                 {"axis": 1, "returned": True}, {"axis": 0, "weights": None},
                 {"axis": 1, "weights": None, "returned": True}))

# --- order statistics ------------------------------------------------------------------------


def median_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # The weights of the one or two middle order statistics, ties sharing evenly.
    weights = quantile_weights(a, 0.5, axis, "linear", False, overwrite_input)
    return np.reshape(g, kept_shape(np.shape(a), axis)) * weights


def median_jvp(t, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    weights = quantile_weights(a, 0.5, axis, "linear", False, overwrite_input)
    return np.reshape(np.sum(weights * t, axis=axis), np.shape(ans))


define(np.median, vjp=median_vjp, jvp=median_jvp, display="Median",
       examples=AXES + ({"axis": -1},))


def quantile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                 keepdims=False, *, weights=None):
    # Each quantile interpolates two order statistics (ties sharing their weights evenly);
    # q's leading axes of the result are summed.
    shares = quantile_weights(a, q, axis, method, False, overwrite_input, weights)
    spread = np.reshape(g, kept_shape(np.shape(a), axis, np.shape(q))) * shares
    return np.sum(spread, axis=reduced_axes(np.ndim(q)))


def quantile_jvp(t, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                 keepdims=False, *, weights=None):
    shares = quantile_weights(a, q, axis, method, False, overwrite_input, weights)
    return np.reshape(np.sum(shares * t, axis=reduced_axes(np.ndim(a), axis, np.ndim(q))),
                      np.shape(ans))


define(np.quantile, vjp=quantile_vjp, jvp=quantile_jvp, display="Quantile",
       examples=({"q": 0.3}, {"q": [0.25, 0.5, 0.9], "axis": 0},
                 {"q": 0.7, "axis": 1, "keepdims": True, "method": "lower"},
                 {"q": np.array([[0.1, 0.6]]), "axis": (0, 1), "method": "midpoint"},
                 {"q": 0.4, "method": "nearest"}, {"q": 0.62, "method": "hazen", "axis": 0},
                 {"q": [0.2, 0.8], "method": "inverted_cdf", "axis": 1}))


def percentile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                   keepdims=False, *, weights=None):
    # The quantile at q / 100.
    shares = quantile_weights(a, np.asarray(q) / 100, axis, method, False, overwrite_input,
                              weights)
    spread = np.reshape(g, kept_shape(np.shape(a), axis, np.shape(q))) * shares
    return np.sum(spread, axis=reduced_axes(np.ndim(q)))


def percentile_jvp(t, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                   keepdims=False, *, weights=None):
    shares = quantile_weights(a, np.asarray(q) / 100, axis, method, False, overwrite_input,
                              weights)
    return np.reshape(np.sum(shares * t, axis=reduced_axes(np.ndim(a), axis, np.ndim(q))),
                      np.shape(ans))


define(np.percentile, vjp=percentile_vjp, jvp=percentile_jvp, display="Percentile",
       examples=({"q": 30}, {"q": [25, 50, 90], "axis": 1}, {"q": 70, "axis": 0,
                                                              "keepdims": True}))


def nanmedian_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # The median of the entries that are not NaN; NaN entries get no gradient.
    weights = quantile_weights(a, 0.5, axis, "linear", True, overwrite_input)
    return np.reshape(g, kept_shape(np.shape(a), axis)) * weights


def nanmedian_jvp(t, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    weights = quantile_weights(a, 0.5, axis, "linear", True, overwrite_input)
    return np.reshape(np.sum(weights * finite, axis=axis), np.shape(ans))


define(np.nanmedian, vjp=nanmedian_vjp, jvp=nanmedian_jvp, display="Nanmedian",
       domains=NAN, examples=AXES)


def nanquantile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False,
                    method="linear", keepdims=False, *, weights=None):
    shares = quantile_weights(a, q, axis, method, True, overwrite_input, weights)
    spread = np.reshape(g, kept_shape(np.shape(a), axis, np.shape(q))) * shares
    return np.sum(spread, axis=reduced_axes(np.ndim(q)))


def nanquantile_jvp(t, ans, a, q, axis=None, out=None, overwrite_input=False,
                    method="linear", keepdims=False, *, weights=None):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    shares = quantile_weights(a, q, axis, method, True, overwrite_input, weights)
    return np.reshape(np.sum(shares * finite, axis=reduced_axes(np.ndim(a), axis, np.ndim(q))),
                      np.shape(ans))


define(np.nanquantile, vjp=nanquantile_vjp, jvp=nanquantile_jvp, display="Nanquantile",
       domains=NAN, examples=({"q": 0.3}, {"q": [0.25, 0.9], "axis": 1},
                              {"q": 0.5, "axis": 0, "method": "higher"}))


def nanpercentile_vjp(g, ans, a, q, axis=None, out=None, overwrite_input=False,
                      method="linear", keepdims=False, *, weights=None):
    shares = quantile_weights(a, np.asarray(q) / 100, axis, method, True, overwrite_input,
                              weights)
    spread = np.reshape(g, kept_shape(np.shape(a), axis, np.shape(q))) * shares
    return np.sum(spread, axis=reduced_axes(np.ndim(q)))


def nanpercentile_jvp(t, ans, a, q, axis=None, out=None, overwrite_input=False,
                      method="linear", keepdims=False, *, weights=None):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    shares = quantile_weights(a, np.asarray(q) / 100, axis, method, True, overwrite_input,
                              weights)
    return np.reshape(np.sum(shares * finite, axis=reduced_axes(np.ndim(a), axis, np.ndim(q))),
                      np.shape(ans))


define(np.nanpercentile, vjp=nanpercentile_vjp, jvp=nanpercentile_jvp,
       display="Nanpercentile", domains=NAN,
       examples=({"q": 40}, {"q": [10, 60], "axis": 0, "keepdims": True}))


def partition_vjp(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    # A rearrangement along axis: each entry gets the cotangent of the place it went to.
    if axis is None:
        return np.reshape(take_along_axis_adjoint(g, np.ravel(a), partition_sources(a, ans, None),
                                                  0), np.shape(a))
    return take_along_axis_adjoint(g, a, partition_sources(a, ans, axis), axis)


def partition_jvp(t, ans, a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        return np.take_along_axis(np.ravel(t), partition_sources(a, ans, None), 0)
    return np.take_along_axis(t, partition_sources(a, ans, axis), axis)


define(np.partition, vjp=partition_vjp, jvp=partition_jvp, display="Partition",
       examples=({"kth": 2}, {"kth": 1, "axis": 0}, {"kth": [0, 3], "axis": None}))

# --- extremes and products ignoring NaN, the range ------------------------------------------------


def nanmax_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    # As max: ties share g evenly; NaN entries equal nothing.
    if axis is None or keepdims:
        return g * split_evenly(a == ans, a, axis)
    return np.expand_dims(g, axis) * split_evenly(a == np.expand_dims(ans, axis), a, axis)


def nanmax_jvp(t, ans, a, axis=None, out=None, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    if axis is None or keepdims:
        return np.sum(finite * split_evenly(a == ans, a, axis), axis=axis, keepdims=keepdims)
    weights = split_evenly(a == np.expand_dims(ans, axis), a, axis)
    return np.sum(finite * weights, axis=axis, keepdims=keepdims)


define(np.nanmax, vjp=nanmax_vjp, jvp=nanmax_jvp, display="Nanmax", domains=NAN,
       examples=AXES)


def nanmin_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    # As min: ties share g evenly; NaN entries equal nothing.
    if axis is None or keepdims:
        return g * split_evenly(a == ans, a, axis)
    return np.expand_dims(g, axis) * split_evenly(a == np.expand_dims(ans, axis), a, axis)


def nanmin_jvp(t, ans, a, axis=None, out=None, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    if axis is None or keepdims:
        return np.sum(finite * split_evenly(a == ans, a, axis), axis=axis, keepdims=keepdims)
    weights = split_evenly(a == np.expand_dims(ans, axis), a, axis)
    return np.sum(finite * weights, axis=axis, keepdims=keepdims)


define(np.nanmin, vjp=nanmin_vjp, jvp=nanmin_jvp, display="Nanmin", domains=NAN,
       examples=AXES)


def ptp_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    # max - min: ties share evenly at both ends.
    top = split_evenly(a == np.max(a, axis=axis, keepdims=True), a, axis)
    bottom = split_evenly(a == np.min(a, axis=axis, keepdims=True), a, axis)
    if axis is None or keepdims:
        return g * (top - bottom)
    return np.expand_dims(g, axis) * (top - bottom)


def ptp_jvp(t, ans, a, axis=None, out=None, keepdims=False):
    top = split_evenly(a == np.max(a, axis=axis, keepdims=True), a, axis)
    bottom = split_evenly(a == np.min(a, axis=axis, keepdims=True), a, axis)
    return np.sum(t * (top - bottom), axis=axis, keepdims=keepdims)


define(np.ptp, vjp=ptp_vjp, jvp=ptp_jvp, display="Ptp", examples=AXES)


def nanprod_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    # prod with NaN entries counted as ones (products of the others: exact at zeros); NaN
    # entries get no gradient.
    others = product_of_others(np.where(np.isnan(a), 1.0, a), axis)
    weights = np.where(np.isnan(a), 0.0, others)
    if axis is None or keepdims:
        return g * weights
    return np.expand_dims(g, axis) * weights


def nanprod_jvp(t, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    others = product_of_others(np.where(np.isnan(a), 1.0, a), axis)
    weights = np.where(np.isnan(a), 0.0, others)
    return np.sum(finite * weights, axis=axis, keepdims=keepdims)


define(np.nanprod, vjp=nanprod_vjp, jvp=nanprod_jvp, display="Nanprod",
       domains=WithNaN(0.5, 1.5), examples=AXES)


def nanvar_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # As var over the entries that are not NaN (they get no gradient).
    centred = np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True))
    count = count_valid(a, axis, ddof)
    if axis is None or keepdims:
        return 2 * g * centred / count
    return 2 * np.expand_dims(g, axis) * centred / count


def nanvar_jvp(t, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    centred = np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True))
    count = count_valid(a, axis, ddof)
    return 2 * np.sum(finite * centred / count, axis=axis, keepdims=keepdims)


define(np.nanvar, vjp=nanvar_vjp, jvp=nanvar_jvp, display="Nanvar", domains=NAN,
       examples=({}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "ddof": 1, "keepdims": True}))


def nanstd_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # As std over the entries that are not NaN; subgradient 0 where the deviation is 0.
    centred = np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True))
    count = count_valid(a, axis, ddof)
    if axis is None or keepdims:
        return g * centred / (count * np.where(ans == 0, 1.0, ans))
    kept = np.expand_dims(ans, axis)
    return np.expand_dims(g, axis) * centred / (count * np.where(kept == 0, 1.0, kept))


def nanstd_jvp(t, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    finite = np.where(np.isnan(a), 0.0, t)          # NaN entries' tangents: unused
    centred = np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True))
    spread = np.sum(finite * centred / count_valid(a, axis, ddof), axis=axis, keepdims=keepdims)
    return spread / np.where(ans == 0, 1.0, ans)


define(np.nanstd, vjp=nanstd_vjp, jvp=nanstd_jvp, display="Nanstd", domains=NAN,
       examples=({}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "ddof": 1, "keepdims": True}))

# --- covariance and correlation ---------------------------------------------------------------


def cov_vjp_m(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
              aweights=None, *, dtype=None):
    # c = Xc W Xc^T / fact, X the variables as rows (m's, then y's), Xc X centred by the
    # weighted means, W the weights: X's cotangent is (G + G^T) Xc W / fact (the centring
    # adds nothing: Xc W 1 = 0), cut back to m's rows.
    rows = variables_as_rows(m, y, rowvar)
    weights, fact = cov_weights(np.shape(rows)[1], bias, ddof, fweights, aweights)
    centred = rows - np.sum(rows * weights, axis=1, keepdims=True) / np.sum(weights)
    cotangent = np.reshape(g, (np.shape(rows)[0], np.shape(rows)[0]))
    return rows_adjoint((cotangent + cotangent.T) @ (centred * weights) / fact, m, y, rowvar, 0)


def cov_vjp_y(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
              aweights=None, *, dtype=None):
    rows = variables_as_rows(m, y, rowvar)
    weights, fact = cov_weights(np.shape(rows)[1], bias, ddof, fweights, aweights)
    centred = rows - np.sum(rows * weights, axis=1, keepdims=True) / np.sum(weights)
    cotangent = np.reshape(g, (np.shape(rows)[0], np.shape(rows)[0]))
    return rows_adjoint((cotangent + cotangent.T) @ (centred * weights) / fact, m, y, rowvar, 1)


def cov_jvp_m(t, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
              aweights=None, *, dtype=None):
    rows = variables_as_rows(m, y, rowvar)
    if y is None:
        rows_t = variables_as_rows(t, None, rowvar)
    else:
        rows_t = variables_as_rows(t, np.zeros_like(y), rowvar)
    weights, fact = cov_weights(np.shape(rows)[1], bias, ddof, fweights, aweights)
    centred = rows - np.sum(rows * weights, axis=1, keepdims=True) / np.sum(weights)
    centred_t = rows_t - np.sum(rows_t * weights, axis=1, keepdims=True) / np.sum(weights)
    product = (centred_t * weights) @ centred.T / fact
    return np.reshape(product + product.T, np.shape(ans))


def cov_jvp_y(t, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None,
              aweights=None, *, dtype=None):
    rows = variables_as_rows(m, y, rowvar)
    rows_t = variables_as_rows(np.zeros_like(m), t, rowvar)
    weights, fact = cov_weights(np.shape(rows)[1], bias, ddof, fweights, aweights)
    centred = rows - np.sum(rows * weights, axis=1, keepdims=True) / np.sum(weights)
    centred_t = rows_t - np.sum(rows_t * weights, axis=1, keepdims=True) / np.sum(weights)
    product = (centred_t * weights) @ centred.T / fact
    return np.reshape(product + product.T, np.shape(ans))


define(np.cov, vjp=(cov_vjp_m, cov_vjp_y), jvp=(cov_jvp_m, cov_jvp_y), display="Cov",
       domains=(Shaped(shape=(3, 5)), Shaped(shape=(2, 5))),
       examples=({}, {"bias": True}, {"ddof": 2}, {"fweights": np.array([1, 2, 1, 3, 1])},
                 {"aweights": np.array([0.5, 1.0, 2.0, 1.5, 0.2]), "ddof": 1},
                 {"rowvar": False, "y": None}))


def corrcoef_vjp_x(g, ans, x, y=None, rowvar=True, *, dtype=None):
    # r = c / (s s^T) with s = sqrt(diag c): c's cotangent is G / (s s^T) minus, on the
    # diagonal, (row sums + column sums of G r) / (2 s^2); then through cov (cov_vjp_m).
    rows = variables_as_rows(x, y, rowvar)
    centred = rows - np.mean(rows, axis=1, keepdims=True)
    scale = np.shape(rows)[1] - 1
    c = centred @ centred.T / scale
    s = np.sqrt(np.diagonal(c))
    cotangent = np.reshape(g, np.shape(c))
    weighted = cotangent * c / np.outer(s, s)
    c_b = cotangent / np.outer(s, s) \
        - np.diag((np.sum(weighted, axis=0) + np.sum(weighted, axis=1)) / (2 * s * s))
    return rows_adjoint((c_b + c_b.T) @ centred / scale, x, y, rowvar, 0)


def corrcoef_vjp_y(g, ans, x, y=None, rowvar=True, *, dtype=None):
    rows = variables_as_rows(x, y, rowvar)
    centred = rows - np.mean(rows, axis=1, keepdims=True)
    scale = np.shape(rows)[1] - 1
    c = centred @ centred.T / scale
    s = np.sqrt(np.diagonal(c))
    cotangent = np.reshape(g, np.shape(c))
    weighted = cotangent * c / np.outer(s, s)
    c_b = cotangent / np.outer(s, s) \
        - np.diag((np.sum(weighted, axis=0) + np.sum(weighted, axis=1)) / (2 * s * s))
    return rows_adjoint((c_b + c_b.T) @ centred / scale, x, y, rowvar, 1)


def corrcoef_jvp_x(t, ans, x, y=None, rowvar=True, *, dtype=None):
    rows = variables_as_rows(x, y, rowvar)
    if y is None:
        rows_t = variables_as_rows(t, None, rowvar)
    else:
        rows_t = variables_as_rows(t, np.zeros_like(y), rowvar)
    centred = rows - np.mean(rows, axis=1, keepdims=True)
    centred_t = rows_t - np.mean(rows_t, axis=1, keepdims=True)
    c = centred @ centred.T
    product = centred_t @ centred.T
    c_t = product + product.T
    s = np.sqrt(np.diagonal(c))
    r = c / np.outer(s, s)
    relative = np.diagonal(c_t) / (2 * s * s)
    tangent = c_t / np.outer(s, s) - r * (relative[:, None] + relative[None, :])
    return np.reshape(tangent, np.shape(ans))


def corrcoef_jvp_y(t, ans, x, y=None, rowvar=True, *, dtype=None):
    rows = variables_as_rows(x, y, rowvar)
    rows_t = variables_as_rows(np.zeros_like(x), t, rowvar)
    centred = rows - np.mean(rows, axis=1, keepdims=True)
    centred_t = rows_t - np.mean(rows_t, axis=1, keepdims=True)
    c = centred @ centred.T
    product = centred_t @ centred.T
    c_t = product + product.T
    s = np.sqrt(np.diagonal(c))
    r = c / np.outer(s, s)
    relative = np.diagonal(c_t) / (2 * s * s)
    tangent = c_t / np.outer(s, s) - r * (relative[:, None] + relative[None, :])
    return np.reshape(tangent, np.shape(ans))


define(np.corrcoef, vjp=(corrcoef_vjp_x, corrcoef_vjp_y), jvp=(corrcoef_jvp_x, corrcoef_jvp_y),
       display="Corrcoef", domains=(Shaped(shape=(3, 5)), Shaped(shape=(2, 5))),
       examples=({}, {"rowvar": False, "y": None}))

# --- the covariance's rows: a linear assembly and its transpose --------------------------------


def variables_as_rows_vjp_m(g, ans, m, y=None, rowvar=True):
    return rows_adjoint(g, m, y, rowvar, 0)


def variables_as_rows_vjp_y(g, ans, m, y=None, rowvar=True):
    return rows_adjoint(g, m, y, rowvar, 1)


def variables_as_rows_jvp_m(t, ans, m, y=None, rowvar=True):
    if y is None:
        return variables_as_rows(t, None, rowvar)
    return variables_as_rows(t, np.zeros_like(y), rowvar)


def variables_as_rows_jvp_y(t, ans, m, y=None, rowvar=True):
    return variables_as_rows(np.zeros_like(m), t, rowvar)


define(variables_as_rows, vjp=(variables_as_rows_vjp_m, variables_as_rows_vjp_y),
       jvp=(variables_as_rows_jvp_m, variables_as_rows_jvp_y), display="Cat", linear=True,
       domains=(Shaped(shape=(3, 4)), Shaped(shape=(2, 4))),
       examples=({}, {"rowvar": False, "y": None}))


def rows_adjoint_vjp_g(g, ans, h, m, y=None, rowvar=True, which=0):
    # The transpose: g put into m's (or y's) rows, zeros in the others.
    if which == 0 and y is None:
        return variables_as_rows(g, None, rowvar)
    if which == 0:
        return variables_as_rows(g, np.zeros_like(y), rowvar)
    return variables_as_rows(np.zeros_like(m), g, rowvar)


def rows_adjoint_jvp_g(t, ans, h, m, y=None, rowvar=True, which=0):
    return rows_adjoint(t, m, y, rowvar, which)


define(rows_adjoint, vjp=(rows_adjoint_vjp_g, None, None), jvp=(rows_adjoint_jvp_g, None, None),
       display="RowsAdjoint", linear=True,
       domains=(Shaped(shape=(5, 4)), Shaped(shape=(3, 4)), Shaped(shape=(2, 4))),
       examples=({"which": 0}, {"which": 1}))
