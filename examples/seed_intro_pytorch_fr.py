"""Replays "Introduction à PyTorch" (a French course notebook: autograd on scalars, then on
X @ W + b, then the chain rule by hand) with s2s: each cell on the runtime tape, as in
PyTorch, and next to it the same function differentiated ahead of time by @s2s.differentiate.

Run with:  python3 examples/seed_intro_pytorch_fr.py

Every cell of this notebook is deterministic: the printed gradients are the notebook's.
"""
import numpy as np

import s2s


def cell(label: str, title: str) -> None:
    print(f"\n--- {label}: {title}")


# In [4] and In [5]: y = w * x + b
@s2s.differentiate(wrt=("x", "w", "b"))
def affine(x, w, b):
    z = w * x
    y = z + b
    return y


# In [6]: y = sum(X @ W + b)
@s2s.differentiate(wrt=("X", "W", "b"))
def linear(X, W, b):
    z1 = X @ W
    z2 = z1 + b
    y = z2.sum()
    return y


# In [7], case 2: Z = X @ W alone; its pullback takes dy/dZ by hand
@s2s.differentiate(wrt="X")
def product(X, W):
    return X @ W


X_DATA = [[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], [10., 11., 12.]]
W_DATA = [[1., 2.], [4., 5.], [7., 8.]]


def main() -> None:
    # In [1]: import torch -> import numpy as np, s2s (above).

    cell("In [2]", "a two-dimensional array and its shape")
    x = s2s.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    print(x.shape)

    cell("In [3]", "the same with autograd switched on")
    x = s2s.tensor(X_DATA, requires_grad=True)
    print(x)

    cell("In [4]", "autograd on scalars: y = 2*x + 3")
    x = s2s.tensor(1., requires_grad=True)
    w = s2s.tensor(2.)
    b = s2s.tensor(3.)
    print(x.grad)  # None
    z = w * x
    y = z + b
    y.backward(s2s.tensor(1.))
    print(x.grad)  # x.grad = 2
    print("@s2s.differentiate(wrt='x'):", s2s.grad(affine, wrt="x")(1., 2., 3.))

    cell("In [5]", "three leaves: dy/dx, dy/dw, dy/db")
    x = s2s.tensor(4., requires_grad=True)
    w = s2s.tensor(2., requires_grad=True)
    b = s2s.tensor(3., requires_grad=True)
    print(x.grad)  # None
    print(w.grad)  # None
    print(b.grad)  # None
    z = w * x
    y = z + b
    y.backward(s2s.tensor(1.))
    print(x.grad)  # x.grad = 2.
    print(w.grad)  # w.grad = 4.
    print(b.grad)  # b.grad = 1.
    print("@s2s.differentiate(wrt=('x', 'w', 'b')):", affine.grad(4., 2., 3.))
    print(affine.source, end="")

    cell("In [6]", "the same with 2-D leaves: y = sum(X @ W + b)")
    X = s2s.tensor(X_DATA, requires_grad=True)   # 4x3
    W = s2s.tensor(W_DATA, requires_grad=True)   # 3x2
    b = s2s.tensor([4., 5.], requires_grad=True)
    z1 = X.matmul(W)
    z2 = z1 + b
    y = z2.sum()
    y.backward(s2s.tensor(1.))
    print(X.grad)
    print(W.grad)
    print(b.grad)
    print("shapes:", X.grad.shape, W.grad.shape, b.grad.shape)
    X_grad, W_grad, b_grad = linear.grad(np.array(X_DATA), np.array(W_DATA), np.array([4., 5.]))
    print(f"@s2s.differentiate(wrt=('X', 'W', 'b')):\n{X_grad}\n{W_grad}\n{b_grad}")
    print(linear.source, end="")

    cell("In [7]", "the chain rule: case 1 (autograd all the way) and case 2 (dy/dZ by hand)")
    # CASE 1
    X = s2s.tensor(X_DATA, requires_grad=True)
    W = s2s.tensor(W_DATA, requires_grad=True)
    Z = X.matmul(W)
    y = Z.sum()
    y.backward(s2s.tensor(1.))
    print(X.grad)
    # CASE 2
    X = s2s.tensor(X_DATA, requires_grad=True)
    W = s2s.tensor(W_DATA, requires_grad=True)
    Z = X.matmul(W)
    y = Z.sum()
    dy_dZ = np.ones(Z.shape, dtype=np.float32)   # the derivative of sum
    Z.backward(dy_dZ)
    print(X.grad)
    # The same two cases with generated code: linear's gradient, and product's pullback
    # called with dy/dZ.
    _, pullback = product.vjp(np.array(X_DATA), np.array(W_DATA))
    case_2 = pullback(np.ones((4, 2)))
    print("@s2s.differentiate, case 2 equals case 1:", np.array_equal(case_2, X_grad))
    print(case_2)


if __name__ == "__main__":
    main()
