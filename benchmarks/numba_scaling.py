"""How the numba backend's gradients scale: gradient ÷ numba-compiled primal at n = 10², 10³,
10⁴, 10⁵, for loops over whole arrays of n elements (what the lowering's fewer-arrays
rewrites and preallocated rows of saved arrays are for).

Run:  python3 benchmarks/numba_scaling.py           # needs numba

Each gradient is checked against the Python backend's at every n before it is timed; the
time per call is the best of seven.  The target is issue 18's: gradient ≤ 3× the compiled
primal, at every n.
"""
from __future__ import annotations

import time

import numpy as np

import s2s


def euler(x, k):
    dt = 0.001
    for step in range(100):
        x = x + dt * (-k * x + np.sin(x))
    return np.sum(x ** 2)


def damped_rnn(W, h, xs):
    for t in range(xs.shape[0]):
        h = 0.9 * h + 0.1 * np.tanh(W * h + xs[t])
    return np.sum(h * h)


def best_of(function, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def cases(n: int, rng: np.random.Generator):
    yield "euler, 100 steps", euler, (0, 1), (rng.normal(size=n), np.array([0.7]))
    yield "elementwise RNN, 20 steps", damped_rnn, (0, 1), (
        rng.normal(size=n) * 0.5, rng.normal(size=n), rng.normal(size=(20, n)))


def main() -> None:
    import numba
    rows = []
    compiled_primals: dict[str, object] = {}
    for n in (10 ** 2, 10 ** 3, 10 ** 4, 10 ** 5):
        for name, function, wrt, args in cases(n, np.random.default_rng(0)):
            gradient = s2s.differentiate(function, wrt=wrt, backend="numba", fallback="error")
            want = s2s.differentiate(function, wrt=wrt).grad(*args)
            for got, expected in zip(gradient.grad(*args), want):
                np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
            primal = compiled_primals.setdefault(name, numba.njit(function))
            primal(*args)
            primal_time = best_of(lambda: primal(*args))
            gradient_time = best_of(lambda: gradient.grad(*args))
            rows.append((name, n, primal_time, gradient_time))
    print(f"{'case':28s} {'n':>7s} {'primal':>10s} {'gradient':>10s} {'ratio':>6s}")
    for name, n, primal_time, gradient_time in rows:
        print(f"{name:28s} {n:>7d} {primal_time * 1e3:8.3f} ms {gradient_time * 1e3:8.3f} ms "
              f"{gradient_time / primal_time:5.2f}×")
    worst = max(gradient_time / primal_time for _, _, primal_time, gradient_time in rows)
    print(f"\ngradient ≤ 3× the compiled primal at every n: worst {worst:.2f}× "
          f"{'PASS' if worst <= 3 else 'MISS'}")


if __name__ == "__main__":
    main()
