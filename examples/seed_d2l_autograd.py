"""Replays d2l.ai's "Automatic Differentiation" section (French edition, the PyTorch tab)
with s2s: each cell on the runtime tape, as in PyTorch, and next to it the same function
differentiated ahead of time by @s2s.differentiate.  The MXNet and TensorFlow tabs compute
the same values and are not replayed separately.

Run with:  python3 examples/seed_d2l_autograd.py

The section's random cell (torch.randn) uses np.random.default_rng(0) here.  Exercises 2
and 3 are answered at the end; exercises 4 to 8 have their own scripts
(d2l_sin_derivative.py, d2l_exercise6.py, forward_vs_reverse.py, and
d2l_second_derivative.py for exercise 1).
"""
import numpy as np

import s2s


def cell(label: str, title: str) -> None:
    print(f"\n--- {label}: {title}")


# "A Simple Function": y = 2 x^T x
@s2s.differentiate
def two_x_dot_x(x):
    return 2 * np.dot(x, x)


@s2s.differentiate
def total(x):
    return x.sum()


# "Backward for Non-Scalar Variables": y = x * x with a cotangent of ones
@s2s.differentiate
def square(x):
    return x * x


# "Detaching Computation": z = u * x with u = x * x detached
@s2s.differentiate
def detached(x):
    y = x * x
    u = s2s.stop_gradient(y)
    z = u * x
    return z.sum()


# "Gradients and Python Control Flow"
@s2s.differentiate
def f(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def main() -> None:
    # %load_ext d2lbook.tab and the framework imports: numpy and s2s (above).

    cell("n=7", "x = arange(4.0)")
    x = s2s.tensor(np.arange(4.0, dtype=np.float32))
    print(x)

    cell("n=9", "x.requires_grad_(True); the gradient starts as None")
    x.requires_grad_(True)  # Better create `x = s2s.tensor(..., requires_grad=True)`
    print(x.grad)           # The default value is None

    cell("n=11", "y = 2 * dot(x, x)")
    y = 2 * np.dot(x, x)
    print(y)

    cell("n=12", "y.backward(); x.grad")
    y.backward()
    print(x.grad)

    cell("n=14", "x.grad == 4 * x")
    print(x.grad == 4 * x)
    print("@s2s.differentiate:", two_x_dot_x.grad(x.data),
          np.array_equal(two_x_dot_x.grad(x.data), 4 * x.data))
    print(two_x_dot_x.source, end="")

    cell("n=20", "reset the gradient, then y = x.sum()")
    x.grad.zero_()  # Reset the gradient
    y = x.sum()
    y.backward()
    print(x.grad)
    print("@s2s.differentiate:", total.grad(x.data))

    cell("non-scalar", "y = x * x; y.backward(gradient=ones(len(y)))")
    x.grad.zero_()
    y = x * x
    y.backward(gradient=np.ones(len(y), dtype=np.float32))  # Faster: y.sum().backward()
    print(x.grad)
    _, pullback = square.vjp(x.data)
    print("@s2s.differentiate, square.vjp(x)[1](ones):", pullback(np.ones(4, dtype=np.float32)))

    cell("n=21", "detaching: z = u * x with u = y.detach()")
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    print(x.grad == u)
    print("@s2s.differentiate with s2s.stop_gradient:", detached.grad(x.data),
          np.array_equal(detached.grad(x.data), x.data * x.data))

    cell("detach", "the graph leading to y is still there: x.grad == 2 * x")
    x.grad.zero_()
    y.sum().backward()
    print(x.grad == 2 * x)

    cell("control flow", "d = f(a) for a random scalar a (randn -> default_rng(0))")
    a = s2s.tensor(np.random.default_rng(0).standard_normal(), requires_grad=True,
                   dtype=np.float32)
    d = f(a)
    d.backward()
    print("a =", a)
    print("d =", d)
    print("a.grad =", a.grad)
    print("a.grad == d / a:", a.grad == d / a)
    a_value = a.data
    print("@s2s.differentiate: f.grad(a) =", f.grad(a_value),
          "== f(a) / a:", f.grad(a_value) == f(a_value) / a_value)
    print("and for -a, where the else branch runs: f.grad(-a) =", f.grad(-a_value))
    print(f.source, end="")

    cell("exercise 2", "run backward twice")
    x = s2s.tensor(np.arange(4.0, dtype=np.float32), requires_grad=True)
    y = 2 * np.dot(x, x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as e:
        print("RuntimeError:", e)
    y = 2 * np.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    print("with retain_graph=True the three passes add up to 12 * x:", x.grad)
    _, pullback = two_x_dot_x.vjp(x.data)
    print("a generated pullback keeps its values in its closure; called twice:",
          pullback(1.0), pullback(1.0))

    cell("exercise 3", "a vector a: f(a) is a vector, so backward needs a cotangent")
    a_vector = np.random.default_rng(1).standard_normal(3).astype(np.float32)
    a = s2s.tensor(a_vector, requires_grad=True)
    d = f(a)
    try:
        d.backward()
    except RuntimeError as e:
        print("RuntimeError:", e)
    d.backward(np.ones(3, dtype=np.float32))
    print("with a cotangent of ones, a.grad =", a.grad)
    print("the Jacobian is diagonal, every entry d / a:")
    print(s2s.jacobian(f)(a_vector))


if __name__ == "__main__":
    main()
