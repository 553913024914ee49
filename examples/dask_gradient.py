"""Gradient descent on more data than the process holds: a logistic regression fit to
2 x 10^7 rows that Dask generates chunk by chunk, with s2s's generated gradient.

Run with:  python3 examples/dask_gradient.py [--rows N] [--chunk N] [--steps N]
(the environment variable S2S_DASK_EXAMPLE_ROWS sets the default of --rows; the tests run
the example small with it).

The loss is plain NumPy code.  Called on Dask arrays, the generated gradient code builds a
Dask graph instead of computing (NumPy's functions dispatch to Dask), so

    value, g = dask.compute(*s2s.value_and_grad(loss)(w, x, y))

is one pass over the data per step: each chunk of rows is generated, used for both the
loss and the gradient, and dropped.  The data (1.4 GB at 2 x 10^7 rows) never exist in
memory at once; the peak resident memory printed at the end is that of a few chunks.
"""
import argparse
import os
import resource
import sys
import time

import dask
import dask.array as da
import numpy as np

import s2s

FEATURES = 8
TRUE_W = np.array([1.5, -2.0, 1.0, 0.5, -0.5, 0.25, 0.0, -1.0])
STEP_SIZE = 4.0                  # 1 / (the loss's curvature bound 1/4 for unit features)


def loss(w, x, y):
    """The mean negative log-likelihood of labels y in {0, 1} under p = sigmoid(x @ w)."""
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def make_data(rows: int, chunk: int, seed: int = 0):
    """Features and labels as lazy Dask arrays, generated chunk by chunk on demand."""
    rng = da.random.default_rng(seed)
    x = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    u = rng.random(rows, chunks=chunk)
    y = (u < 1.0 / (1.0 + np.exp(-(x @ TRUE_W)))).astype(np.float64)
    return x, y


def peak_resident_bytes() -> int:
    """This process's peak resident memory (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int,
                        default=int(os.environ.get("S2S_DASK_EXAMPLE_ROWS", 20_000_000)))
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per chunk")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("output", nargs="?", help="ignored (the examples' common argument)")
    options = parser.parse_args()
    chunk = min(options.chunk, options.rows)
    x, y = make_data(options.rows, chunk)
    data_bytes = x.nbytes + y.nbytes
    print(f"data: {options.rows} rows x {FEATURES} features in {x.numblocks[0]} chunks of "
          f"{chunk} rows, {data_bytes / 1e9:.2f} GB as float64 (never in memory at once)")

    value_and_grad = s2s.value_and_grad(loss)
    w = np.zeros(FEATURES)
    start = time.perf_counter()
    for step in range(options.steps):
        value, g = dask.compute(*value_and_grad(w, x, y))   # one pass: loss and gradient
        print(f"step {step:2d}  loss {value:.6f}  |gradient| {np.linalg.norm(g):.6f}")
        w = w - STEP_SIZE * g
    elapsed = time.perf_counter() - start
    print(f"w after {options.steps} steps: {np.array2string(w, precision=4)}")
    print(f"true w:             {np.array2string(TRUE_W, precision=4)}")
    peak = peak_resident_bytes()
    print(f"{options.steps} passes over the data in {elapsed:.1f} s; peak resident memory "
          f"{peak / 1e9:.2f} GB for {data_bytes / 1e9:.2f} GB of data "
          f"({peak / data_bytes:.2f} x)")


if __name__ == "__main__":
    main()
