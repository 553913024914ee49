"""Gradients on Dask arrays (NumPy's dispatch): the same numbers as on NumPy arrays, Dask
arrays back, and nothing computed that the function itself does not compute.

Reference: the NumPy gradient of the same function checked against central finite
differences in float64 (``reference.numerical_gradient``).  A scheduler that raises proves
laziness: any computation inside s2s would call it.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import s2s
from reference import numerical_gradient

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


def _refuse(*args, **kwargs):
    raise AssertionError("a Dask graph was computed before the user's .compute()")


def chunked(array):
    return da.from_array(array, chunks=tuple(max(1, (n + 1) // 2) for n in array.shape))


def logistic_loss(w, x, y):
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def layer_energy(x, w):
    return np.sum(np.tanh(x @ w) ** 2) / x.shape[0]


def elementwise_chain(x):
    return np.sum(np.log(1.0 + np.exp(np.sin(x)) ** 2) * x.T.T, axis=None)


def with_reductions(x):
    return np.max(x, axis=0).sum() + np.linalg.norm(x) + np.std(x) + np.prod(x[:2, :2] + 3.0)


RNG = np.random.default_rng(20261202)
X = RNG.normal(size=(40, 3))
Y = (RNG.uniform(size=40) < 0.5) * 1.0
W = RNG.normal(size=3)


@pytest.mark.parametrize("function, args, wrt", [
    (logistic_loss, (W, X, Y), (0, 1)),
    (layer_energy, (X, RNG.normal(size=(3, 4))), (0, 1)),
    (elementwise_chain, (X,), 0),
    (with_reductions, (RNG.normal(size=(6, 5)),), 0),
])
def test_gradients_on_dask_arrays_equal_the_numpy_ones_and_stay_lazy(function, args, wrt):
    dask_args = tuple(chunked(a) for a in args)
    with dask.config.set(scheduler=_refuse):
        gradients = s2s.grad(function, wrt=wrt)(*dask_args)
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    assert all(isinstance(g, da.Array) for g in gradients)
    computed = dask.compute(*gradients)
    for position, gradient, dask_gradient in zip(positions, computed, gradients):
        assert dask_gradient.shape == args[position].shape
        assert dask_gradient.dtype == args[position].dtype
        expected = numerical_gradient(function, args, position)
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7)


def test_numpy_parameters_with_dask_data_give_a_lazy_gradient():
    with dask.config.set(scheduler=_refuse):
        value, gradient = s2s.value_and_grad(logistic_loss)(W, chunked(X), chunked(Y))
    assert isinstance(gradient, da.Array) and gradient.shape == W.shape
    value, gradient = dask.compute(value, gradient)       # shared work done once
    np.testing.assert_allclose(gradient, numerical_gradient(logistic_loss, (W, X, Y), 0),
                               rtol=1e-5, atol=1e-7)
    assert value == pytest.approx(logistic_loss(W, X, Y))


def test_vjp_jvp_hvp_and_hessian_on_dask_arrays():
    w = RNG.normal(size=(3, 4))
    v = RNG.normal(size=(40, 4))
    t = RNG.normal(size=(40, 3))
    with dask.config.set(scheduler=_refuse):
        _, pullback = s2s.vjp(lambda x: np.tanh(x @ w), chunked(X))
        cotangent = pullback(chunked(v))
        _, tangent = s2s.jvp(lambda x: np.tanh(x @ w), (chunked(X),), (chunked(t),))
        product = s2s.hvp(logistic_loss, chunked(W), chunked(np.ones(3)), chunked(X), chunked(Y))
        hessian = s2s.hessian(logistic_loss)(chunked(W), chunked(X), chunked(Y))
    cotangent, tangent, product, hessian = dask.compute(cotangent, tangent, product, hessian)
    np.testing.assert_allclose(cotangent, (v * (1 - np.tanh(X @ w) ** 2)) @ w.T, rtol=1e-10)
    np.testing.assert_allclose(tangent, (1 - np.tanh(X @ w) ** 2) * (t @ w), rtol=1e-10)
    expected = s2s.hessian(logistic_loss)(W, X, Y)
    np.testing.assert_allclose(hessian, expected, rtol=1e-10)
    np.testing.assert_allclose(product, expected @ np.ones(3), rtol=1e-10)
    column = numerical_gradient(lambda w: s2s.grad(logistic_loss)(w, X, Y)[0], (W + 0.0,), 0)
    np.testing.assert_allclose(expected[0], column, rtol=1e-5, atol=1e-7)


def test_specializations_are_keyed_by_the_array_type():
    f = s2s.differentiate(lambda x: np.mean(np.sin(x)))
    numpy_code = f.source_for(X)
    dask_code = f.source_for(chunked(X))
    assert "np.full(" in numpy_code               # a new NumPy array of the known shape
    assert "np.full(" not in dask_code and "np.size(" not in dask_code
    assert "dask.array.Array" in repr(s2s.shapes.argument_shape(chunked(X)))


def test_float32_stays_float32():
    x = chunked(X.astype(np.float32))
    gradient = s2s.grad(elementwise_chain)(x)
    assert gradient.dtype == np.float32


def test_unknown_chunk_sizes_run_the_generic_code():
    x = chunked(X)
    kept = x[x[:, 0] > -100.0]                    # every row kept; Dask does not know it
    assert np.isnan(kept.shape[0])
    assert s2s.shapes.argument_shape(kept) is None


def test_a_condition_on_values_is_computed_as_the_function_computes_it():
    def clipped(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(-x)

    gradient = s2s.grad(clipped)(chunked(X))
    np.testing.assert_allclose(gradient.compute(), numerical_gradient(clipped, (X,), 0),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.filterwarnings("ignore::s2s.FallbackWarning")
def test_the_tape_refuses_dask_arrays_with_a_clear_error():
    def tried(x):
        try:
            y = np.sin(x)
        except ValueError:
            y = x
        return np.sum(y)

    with pytest.raises(s2s.S2SError, match="records NumPy arrays only"):
        s2s.grad(tried)(chunked(X))
    with pytest.raises(s2s.S2SError, match="records NumPy arrays only"):
        s2s.tensor(chunked(X))


def test_exported_module_runs_on_dask_arrays(tmp_path):
    path = tmp_path / "logistic_gradient.py"
    s2s.export(logistic_loss, str(path), wrt=0, dispatch=True)
    sys.path.insert(0, str(tmp_path))
    try:
        import logistic_gradient
    finally:
        sys.path.remove(str(tmp_path))
    with dask.config.set(scheduler=_refuse):
        gradient = logistic_gradient.grad_logistic_loss(W, chunked(X), chunked(Y))
    np.testing.assert_allclose(gradient.compute(),
                               numerical_gradient(logistic_loss, (W, X, Y), 0), rtol=1e-5,
                               atol=1e-7)


def test_cupy_arrays_keep_their_type():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:                             # noqa: BLE001 - no GPU here
        pytest.skip("no GPU")
    gradient = s2s.grad(elementwise_chain)(cupy.asarray(X))
    assert isinstance(gradient, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(gradient),
                               numerical_gradient(elementwise_chain, (X,), 0), rtol=1e-5)
