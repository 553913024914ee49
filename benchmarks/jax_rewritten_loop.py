"""The Euler case of ``suite.py --backend numba`` against jax.jit of the same loop rewritten
with ``jax.lax.fori_loop``: jax.jit of the plain Python loop unrolls 1,000 steps, and XLA had
not finished compiling its gradient after 18 minutes, so the suite does not time it.

    python benchmarks/jax_rewritten_loop.py      # needs jax (CPU) and numba

Prints the median and minimum time per gradient over interleaved rounds, and jax's first
call (tracing and compiling).  Both gradients are checked against the hand-written one.
"""
import os
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s2s    # noqa: E402
import suite  # noqa: E402


def euler_with_fori_loop(x, k):
    """suite.euler_ode, the loop written for jax."""
    dt = 0.001

    def step(index, x):
        return x + dt * (-k * x + jnp.sin(x))
    x = jax.lax.fori_loop(0, 1000, step, x)
    return jnp.sum(x ** 2)


def main() -> None:
    x, k = np.array([0.5, -0.3, 0.8]), np.array([0.7])
    want = suite.euler_ode_by_hand(x, k)
    start = time.perf_counter()
    jitted = jax.jit(jax.grad(euler_with_fori_loop, argnums=(0, 1)))
    jax.block_until_ready(jitted(x, k))
    first = time.perf_counter() - start
    compiled = s2s.differentiate(suite.euler_ode.function, wrt=(0, 1), backend="numba")
    for gradient in (jitted(x, k), compiled.grad(x, k)):
        for got, expected in zip(gradient, want):
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-9)
    variants = {"s2s numba": lambda: compiled.grad(x, k),
                "jax.jit, lax.fori_loop": lambda: jax.block_until_ready(jitted(x, k))}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(15):
        for name, variant in variants.items():
            start = time.perf_counter()
            for _ in range(100):
                variant()
            samples[name].append((time.perf_counter() - start) / 100)
    for name, times in samples.items():
        median, fastest = np.median(times) * 1e6, min(times) * 1e6
        print(f"{name:24s} median {median:7.1f} µs   min {fastest:7.1f} µs")
    print(f"jax.jit first call {first:.2f} s (jax {jax.__version__})")


if __name__ == "__main__":
    main()
