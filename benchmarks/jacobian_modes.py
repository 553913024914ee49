"""Forward versus reverse mode: the cost of a Jacobian of R^n -> R^m, tall and wide.

Run:  python3 benchmarks/jacobian_modes.py

Reverse mode builds a Jacobian one row (one pullback) per output; forward mode one column
(one JVP) per input.  So forward mode wins when n < m (tall Jacobians), reverse mode when
n > m (wide ones, such as the gradient of a loss).  Times are medians of repeated runs.
"""
from __future__ import annotations

import time

import numpy as np

import s2s

W_TALL = np.random.default_rng(0).normal(size=(200, 4))
W_WIDE = np.random.default_rng(1).normal(size=(4, 200))


def tall(x):                      # R^4 -> R^200
    return np.tanh(W_TALL @ x) * np.sum(x ** 2)


def wide(x):                      # R^200 -> R^4
    return np.tanh(W_WIDE @ x) * np.sum(x ** 2)


def median_time(function, *args, repeats: int = 9) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


def main() -> None:
    print(f"{'case':<22}{'forward':>12}{'reverse':>12}   faster")
    for name, function, n in (("tall R^4 -> R^200", tall, 4), ("wide R^200 -> R^4", wide, 200)):
        x = np.random.default_rng(2).normal(size=n)
        forward = s2s.jacobian(function, mode="forward")
        reverse = s2s.jacobian(function, mode="reverse")
        np.testing.assert_allclose(forward(x), reverse(x), rtol=1e-10, atol=1e-12)
        t_forward, t_reverse = median_time(forward, x), median_time(reverse, x)
        winner = "forward" if t_forward < t_reverse else "reverse"
        ratio = max(t_forward, t_reverse) / min(t_forward, t_reverse)
        print(f"{name:<22}{t_forward * 1e3:>10.2f}ms{t_reverse * 1e3:>10.2f}ms   "
              f"{winner}, {ratio:.0f}x")


if __name__ == "__main__":
    main()
