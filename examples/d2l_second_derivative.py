"""d2l.ai, automatic differentiation, exercise 1: second derivatives, and why they cost more
than first derivatives.

Run with:  python3 examples/d2l_second_derivative.py

s2s computes second derivatives by differentiating *generated code*: the gradient code of
f (a reverse sweep) is differentiated again in forward mode.  This script compares
s2s.grad(s2s.grad(f)) and s2s.hessian with the derivatives worked out by hand (and by
s2s.symbolic), prints the forward-over-reverse code, and counts the passes.
"""
import time

import numpy as np

import s2s


def f(x):
    return x ** 3 * np.sin(x)


def f_second_by_hand(x):          # (x^3 sin x)'' = 6x sin x + 6x^2 cos x - x^3 sin x
    return 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)


def logsumexp(x):
    return np.log(np.sum(np.exp(x)))


def logsumexp_hessian_by_hand(x):  # softmax p: H = diag(p) - p p^T
    p = np.exp(x) / np.sum(np.exp(x))
    return np.diag(p) - np.outer(p, p)


def median_time(function, *args, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


def main() -> None:
    print("f(x) = x**3 * sin(x)")
    second = s2s.grad(s2s.grad(f))
    third = s2s.grad(second)
    symbolic = s2s.symbolic(f)
    x_symbol = symbolic.symbols["x"]
    print("s2s.symbolic: f'(x) =", symbolic.derivative)
    print("              f''(x) =", symbolic.derivative.diff(x_symbol))
    worst = 0.0
    for x in (-2.0, -0.5, 0.0, 0.7, 1.3, 3.0):
        by_s2s, by_hand = second(x), f_second_by_hand(x)
        worst = max(worst, abs(by_s2s - by_hand))
        print(f"x = {x:5.2f}   grad(grad(f)) = {by_s2s:+.12f}   by hand = {by_hand:+.12f}")
    print(f"max |difference| = {worst:.1e}")
    assert worst < 1e-12
    x = 1.3
    third_by_sympy = float(symbolic.derivative.diff(x_symbol, 2).subs(x_symbol, x))
    print(f"third derivative at 1.3: grad(grad(grad(f))) = {third(x):+.12f}, "
          f"sympy = {third_by_sympy:+.12f}")
    assert abs(third(x) - third_by_sympy) < 1e-10

    print("\nThe code behind grad(grad(f)): forward mode (x_d) over the reverse sweep (_b):")
    gradient_code = s2s.differentiate(f).gradient_function()
    print(s2s.differentiate(gradient_code, wrt="x").forward_source, end="")

    print("\nlogsumexp(x) = log(sum(exp(x))), a function of a vector")
    x = np.random.default_rng(0).standard_normal(5)
    hessian = s2s.hessian(logsumexp)(x)
    error = np.max(np.abs(hessian - logsumexp_hessian_by_hand(x)))
    print("s2s.hessian(logsumexp)(x) =")
    print(np.array2string(hessian, precision=4, suppress_small=True))
    print(f"max |H - (diag(p) - p p^T)| = {error:.1e}")
    assert error < 1e-12
    v = np.random.default_rng(1).standard_normal(5)
    product = s2s.hvp(logsumexp, x, v)
    print(f"s2s.hvp(logsumexp, x, v) equals H @ v: {np.allclose(product, hessian @ v)}")

    # Exercise 1: a gradient is one reverse pass whatever n is; the Hessian needs one
    # forward-over-reverse pass per input (n of them), and each of those carries the primal
    # values, the adjoints and the tangents of both.
    n = 50
    x = np.random.default_rng(2).standard_normal(n)
    gradient = s2s.grad(logsumexp)
    hessian = s2s.hessian(logsumexp)
    gradient(x), hessian(x)          # generate the code once before timing
    t_gradient, t_hessian = median_time(gradient, x), median_time(hessian, x)
    print(f"\nn = {n}: the gradient takes 1 reverse pass, the Hessian {n} Hessian-vector "
          f"products (timings vary: {t_gradient * 1e3:.2f} ms vs {t_hessian * 1e3:.2f} ms, "
          f"{t_hessian / t_gradient:.0f}x)")


if __name__ == "__main__":
    main()
