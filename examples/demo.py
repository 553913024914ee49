"""The main demo: a NumPy function, the gradient code s2s generates for it, and its values.

Run with:  python3 examples/demo.py
"""
import inspect

import numpy as np

import s2s


@s2s.differentiate
def f(x):
    y = x - 2
    z = y * y * 3
    return z.mean()


@s2s.differentiate(wrt=("X", "W", "b"))
def linear(X, W, b):
    return np.sum(X @ W + b)


def main():
    print("The function (the first cell of the autograd tutorial):\n")
    print(inspect.getsource(f.function))
    print("The gradient code s2s generated for it, ahead of time (f.source):\n")
    print(f.source)
    x = np.array([[1, 2], [3, 4]], dtype=np.float32)
    value, gradient = f.value_and_grad(x)
    print(f"f(x) = {value}")
    print(f"df/dx =\n{gradient}\n")
    print("What grad and vjp ran: the code specialized to x's shape at the first call "
          "(f.source_for(x)):\n")
    print(f.source_for(x))

    X = np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]])
    W = np.array([[1., 2.], [4., 5.], [7., 8.]])
    b = np.array([4., 5.])
    X_grad, W_grad, b_grad = linear.grad(X, W, b)
    print("sum(X @ W + b):")
    print(f"dX =\n{X_grad}\ndW =\n{W_grad}\ndb = {b_grad}")


if __name__ == "__main__":
    main()
