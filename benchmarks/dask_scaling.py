"""Gradients on large data: NumPy in memory vs Dask (threads, and a 2-process LocalCluster),
time and peak resident memory at 10⁶, 10⁷ and 10⁸ rows.

Run:  python3 benchmarks/dask_scaling.py                 # 10⁶, 10⁷, 10⁸ rows
      python3 benchmarks/dask_scaling.py --quick         # 10⁶ and 10⁷ rows only
      python3 benchmarks/dask_scaling.py --sizes 1e6,3e7 --numpy-max 3e7

The function is a logistic-regression loss (``loss`` below) of parameters ``w`` of shape
(4,) and data ``x`` (rows, 4), ``y`` (rows,) in float64; each measurement is one
``value_and_grad`` call (for Dask: ``dask.compute(*s2s.value_and_grad(loss)(w, x, y))``,
one pass computing both), the best of ``--repeat`` calls after one call that generates the
code.  Configurations:

* ``numpy``: NumPy arrays in memory (numpy's generator), up to ``--numpy-max`` rows
  (default 10⁷: at 10⁸ rows x alone is 3.2 GB and the intermediates of the gradient a
  few more; ``--numpy-max 1e8`` allows it on a 24 GiB machine).
* ``dask-memory``: the same NumPy arrays as Dask arrays (``da.from_array``) in chunks
  of ``--chunk`` rows, the threaded scheduler: the gradient's own cost on data that fits.
* ``dask-generated``: data made chunk by chunk by ``dask.array.random`` during the pass
  (its time includes making the data: the column "generation alone" is that part), the
  threaded scheduler.  Nothing but a few chunks is ever resident.
* ``cluster-generated``: the same on ``dask.distributed.LocalCluster(n_workers=2,
  threads_per_worker=1, processes=True)`` on the loopback; the memory is the client's
  peak plus each worker's (``ru_maxrss`` read on the workers with ``client.run``).

Each configuration runs in a fresh Python process, so its ``ru_maxrss`` (peak resident
memory) is its own.  Targets (issue 17): on data that fits, Dask's gradient within 2x of
NumPy's at 10⁷ rows; Dask's peak memory bounded by a few chunks, not by the data size.
Not run in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

FEATURES = 4
W = np.array([0.5, -1.0, 0.25, 2.0])
CONFIGS = ("numpy", "dask-memory", "dask-generated", "cluster-generated")


def loss(w, x, y):
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def _peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _numpy_data(rows: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, FEATURES))
    y = (rng.random(rows) < 0.5).astype(np.float64)
    return x, y


def _generated_data(rows: int, chunk: int):
    import dask.array as da
    rng = da.random.default_rng(0)
    x = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    y = (rng.random(rows, chunks=chunk) < 0.5).astype(np.float64)
    return x, y


def _best(call, repeat: int) -> float:
    call()                                    # generates (and specializes) the code
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(config: str, rows: int, chunk: int, repeat: int) -> dict:
    """One configuration, in this (fresh) process: best time and peak memory."""
    import s2s
    value_and_grad = s2s.value_and_grad(loss)
    result: dict = {"config": config, "rows": rows}
    if config == "numpy":
        x, y = _numpy_data(rows)
        result["time"] = _best(lambda: value_and_grad(W, x, y), repeat)
        result["rss"] = _peak_bytes()
        return result
    import dask
    if config == "dask-memory":
        import dask.array as da
        x_, y_ = _numpy_data(rows)
        x = da.from_array(x_, chunks=(chunk, FEATURES))
        y = da.from_array(y_, chunks=chunk)
        result["time"] = _best(lambda: dask.compute(*value_and_grad(W, x, y)), repeat)
        result["rss"] = _peak_bytes()
        return result
    x, y = _generated_data(rows, chunk)
    if config == "dask-generated":
        result["generation"] = _best(lambda: dask.compute(x.sum(), y.sum()), 1)
        result["time"] = _best(lambda: dask.compute(*value_and_grad(W, x, y)), repeat)
        result["rss"] = _peak_bytes()
        return result
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        result["generation"] = _best(lambda: dask.compute(x.sum(), y.sum()), 1)
        result["time"] = _best(lambda: dask.compute(*value_and_grad(W, x, y)), repeat)
        workers = client.run(_peak_bytes)
        result["client_rss"] = _peak_bytes()
        result["worker_rss"] = sorted(workers.values())
        result["rss"] = result["client_rss"] + sum(result["worker_rss"])
    return result


def _run_fresh(config: str, rows: int, chunk: int, repeat: int) -> dict:
    command = [sys.executable, __file__, "--measure", config, "--sizes", str(rows),
               "--chunk", str(chunk), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{config} at {rows} rows failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _gb(value: float) -> str:
    return f"{value / 1e9:.2f} GB"


def _sizes(text: str) -> list[int]:
    return [int(float(size)) for size in text.split(",") if size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10⁶ and 10⁷ rows only")
    parser.add_argument("--sizes", type=_sizes, help="comma-separated row counts (1e6,1e7)")
    parser.add_argument("--numpy-max", type=float, default=1e7,
                        help="largest row count NumPy runs at in memory (default 1e7)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per Dask chunk")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="comma-separated, of: " + ", ".join(CONFIGS))
    parser.add_argument("--measure", help=argparse.SUPPRESS)   # one run, in a fresh process
    options = parser.parse_args()
    sizes = options.sizes or ([10**6, 10**7] if options.quick else [10**6, 10**7, 10**8])
    if options.measure:
        print(json.dumps(measure(options.measure, sizes[0], min(options.chunk, sizes[0]),
                                 options.repeat)))
        return
    configs = [config.strip() for config in options.configs.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, chunks of "
          f"{options.chunk} rows, {FEATURES} features, float64, best of {options.repeat}\n")
    print("| rows | configuration | data | value and gradient | x NumPy | generation alone "
          "| peak RSS | x NumPy |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rows in sizes:
        numpy = None
        data = rows * (FEATURES + 1) * 8
        for config in configs:
            if config == "numpy" and rows > options.numpy_max:
                print(f"| {rows:.0e} | numpy | {_gb(data)} | skipped (--numpy-max) | | | | |")
                continue
            if config == "dask-memory" and rows > options.numpy_max:
                continue                      # it holds the NumPy arrays too
            result = _run_fresh(config, rows, min(options.chunk, rows), options.repeat)
            if config == "numpy":
                numpy = result
            time_ratio = f"{result['time'] / numpy['time']:.2f}" if numpy else ""
            rss_ratio = f"{result['rss'] / numpy['rss']:.2f}" if numpy else ""
            generation = f"{result['generation']:.2f} s" if "generation" in result else ""
            rss = _gb(result["rss"])
            if "worker_rss" in result:
                rss += (f" (client {_gb(result['client_rss'])}, workers "
                        + " + ".join(_gb(r) for r in result["worker_rss"]) + ")")
            print(f"| {rows:.0e} | {config} | {_gb(data)} | {result['time']:.3f} s | "
                  f"{time_ratio} | {generation} | {rss} | {rss_ratio} |", flush=True)


if __name__ == "__main__":
    main()
