"""Gradients on a ``dask.distributed`` cluster (two worker processes on the loopback), and
derivative functions that pickle: the graph s2s returns for Dask data runs on the workers
with the same numbers as NumPy in memory, and a gradient function sent to a worker keeps
its generated code there.

Reference: the in-memory NumPy gradient, itself checked against central finite differences
in float64 (``reference.numerical_gradient``).
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import s2s
from reference import numerical_gradient

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
cloudpickle = pytest.importorskip("cloudpickle")


def logistic_loss(w, x, y):
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


RNG = np.random.default_rng(20261203)
N, D = 20_000, 4
X = RNG.normal(size=(N, D))
W = RNG.normal(size=D) * 0.5
Y = (RNG.uniform(size=N) < 1.0 / (1.0 + np.exp(-(X @ W)))) * 1.0
CHUNK = 1_600                                     # 13 chunks of rows


def made_in_a_closure(scale):
    """A loss that cloudpickle sends by value (a closure), with a local helper it calls:
    its code arrives without a file name to read the source from."""
    def softplus(t):
        return np.log1p(np.exp(t))

    def loss(w, x, y):
        z = x @ w
        return scale * np.mean(softplus(z) - y * z)

    return loss


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       silence_logs=40)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_the_numpy_reference_gradient_matches_finite_differences():
    x, y = X[:200], Y[:200]
    np.testing.assert_allclose(s2s.grad(logistic_loss)(W, x, y),
                               numerical_gradient(logistic_loss, (W, x, y), 0),
                               rtol=1e-6, atol=1e-8)


def test_the_gradient_graph_runs_on_a_local_cluster(client):
    x = da.from_array(X, chunks=(CHUNK, D))
    y = da.from_array(Y, chunks=CHUNK)
    assert x.numblocks[0] >= 10
    value, gradient = s2s.value_and_grad(logistic_loss)(W, x, y)
    only_gradient = s2s.grad(logistic_loss)(W, x, y)
    assert isinstance(gradient, da.Array) and isinstance(only_gradient, da.Array)
    value, gradient = dask.compute(value, gradient)          # the client is the scheduler
    [only_gradient] = client.gather(client.compute([only_gradient]))
    expected_value, expected = s2s.value_and_grad(logistic_loss)(W, X, Y)
    np.testing.assert_allclose(gradient, expected, rtol=1e-10)
    np.testing.assert_allclose(only_gradient, expected, rtol=1e-10)
    assert value == pytest.approx(expected_value, rel=1e-10)
    assert value == pytest.approx(logistic_loss(W, X, Y), rel=1e-12)


def _generated_on_this_process(function, *args):
    """The gradient and the mode a worker differentiated ``function`` in."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", s2s.FallbackWarning)     # the tape would be a failure
        return function.grad(*args), function.mode


def test_a_differentiated_closure_sent_to_a_worker_generates_code_there(client):
    loss = s2s.differentiate(made_in_a_closure(2.0))           # never called here: no code yet
    x, y = X[:500], Y[:500]
    gradient, mode = client.submit(_generated_on_this_process, loss, W, x, y).result()
    assert mode == "source"
    np.testing.assert_allclose(gradient, numerical_gradient(made_in_a_closure(2.0), (W, x, y),
                                                            0), rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("error::s2s.FallbackWarning")
@pytest.mark.parametrize("called_first", [False, True])
def test_gradient_functions_pickle_with_cloudpickle_and_keep_generated_code(called_first):
    loss = made_in_a_closure(0.5)
    x, y = X[:300], Y[:300]
    expected = numerical_gradient(loss, (W, x, y), 0)
    differentiable = s2s.differentiate(loss)
    gradient, value_and_gradient = s2s.grad(loss), s2s.value_and_grad(loss)
    if called_first:
        gradient(W, x, y)
        differentiable.grad(W, x, y)
    loaded = cloudpickle.loads(cloudpickle.dumps(differentiable))
    assert loaded.mode == "source"
    assert loaded.source == differentiable.source          # the same generated code
    np.testing.assert_allclose(loaded.grad(W, x, y), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cloudpickle.loads(cloudpickle.dumps(gradient))(W, x, y),
                               expected, rtol=1e-6, atol=1e-8)
    value, pulled = cloudpickle.loads(cloudpickle.dumps(value_and_gradient))(W, x, y)
    np.testing.assert_allclose(pulled, expected, rtol=1e-6, atol=1e-8)
    assert value == pytest.approx(loss(W, x, y))


@pytest.mark.filterwarnings("error::s2s.FallbackWarning")
def test_a_lambda_pickled_by_value_keeps_its_generated_code():
    scale = 3.0
    energy = s2s.differentiate(lambda v: scale * np.sum(np.tanh(v) ** 2))
    loaded = cloudpickle.loads(cloudpickle.dumps(energy))
    assert loaded.mode == "source"
    v = RNG.normal(size=5)
    np.testing.assert_allclose(loaded.grad(v), 6.0 * np.tanh(v) * (1.0 - np.tanh(v) ** 2),
                               rtol=1e-12)


def test_a_module_level_function_pickles_by_reference_with_plain_pickle():
    loaded = pickle.loads(pickle.dumps(s2s.differentiate(logistic_loss)))
    x, y = X[:200], Y[:200]
    assert loaded.mode == "source"
    np.testing.assert_allclose(loaded.grad(W, x, y),
                               numerical_gradient(logistic_loss, (W, x, y), 0), rtol=1e-6,
                               atol=1e-8)
