"""Peak memory and time of the gradient of a 10,000-step loop (explicit Euler, 3-vector).

Run:  python3 benchmarks/loop_memory.py

Compares s2s's generated gradient with a hand-written adjoint that keeps exactly what it
must (the trajectory x_0 ... x_{n-1}), and reports the values and bytes the generated
forward sweep saves per iteration.  Memory is measured with tracemalloc (peak bytes
allocated between the start of the gradient call and its end); times are medians of 7
runs without tracing.
"""
from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

import s2s

STEPS = 10_000
DT = 0.001


def euler(x, k):
    dt = 0.001
    for step in range(10000):
        x = x + dt * (-k * x + np.sin(x))
    return np.sum(x ** 2)


def euler_gradient_by_hand(x, k):
    trajectory = []
    for step in range(STEPS):
        trajectory.append(x)
        x = x + DT * (-k * x + np.sin(x))
    x_b = 2 * x
    k_b = np.zeros_like(k)
    for x_old in reversed(trajectory):
        k_b = k_b - np.sum(DT * x_b * x_old, keepdims=True).reshape(np.shape(k))
        x_b = x_b + DT * x_b * (-k + np.cos(x_old))
    return x_b, k_b


def peak_bytes(function, *args) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    function(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def best_time(function, *args, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def saved_per_iteration(x, k) -> tuple[float, float]:
    """Values and bytes the generated forward sweep saves, per loop iteration."""
    derivation = s2s.differentiate(euler, wrt=(0, 1)).specialized_derivation([x, k])
    _, pullback = derivation.module.function(x, k)
    cells = dict(zip(pullback.__code__.co_freevars, pullback.__closure__ or ()))
    saved = cells["_saved"].cell_contents if "_saved" in cells else []
    unique = {id(v): v for v in saved}
    size = sum(sys.getsizeof(v) for v in unique.values()) + 8 * len(saved)
    return len(saved) / STEPS, size / STEPS


def main() -> None:
    x = np.array([0.5, -0.3, 0.8])
    k = np.array([0.7])
    gradient = s2s.grad(euler, wrt=(0, 1))
    by_hand = euler_gradient_by_hand(x, k)
    for ours, theirs in zip(gradient(x, k), by_hand):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    gradient(x, k)                                    # generation and compilation first
    generated_peak = min(peak_bytes(gradient, x, k) for _ in range(3))
    hand_peak = min(peak_bytes(euler_gradient_by_hand, x, k) for _ in range(3))
    generated_time = best_time(gradient, x, k)
    hand_time = best_time(euler_gradient_by_hand, x, k)
    values, size = saved_per_iteration(x, k)
    print(f"gradient of a {STEPS}-step explicit Euler loop on a 3-vector")
    print(f"  s2s generated:  peak {generated_peak / 1e6:6.2f} MB   time {generated_time * 1e3:7.1f} ms")
    print(f"  hand-written:   peak {hand_peak / 1e6:6.2f} MB   time {hand_time * 1e3:7.1f} ms")
    print(f"  memory ratio {generated_peak / hand_peak:.2f}x, time ratio "
          f"{generated_time / hand_time:.2f}x")
    print(f"  saved per iteration: {values:.1f} values, {size:.0f} bytes")


if __name__ == "__main__":
    main()
