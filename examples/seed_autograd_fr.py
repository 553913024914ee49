"""Replays "Calcul de gradients avec Autograd" (a French PyTorch course notebook: grad_fn,
backward with and without a vector argument, gradient accumulation, an optimizer step) with
s2s: each cell on the runtime tape, as in PyTorch, and next to it the same computation as
a function that @s2s.differentiate turns into gradient code ahead of time.

Run with:  python3 examples/seed_autograd_fr.py

The notebook's torch.rand cells use np.random.default_rng(0) here, so their printed numbers
differ from the notebook's; every value is checked against its closed form.
"""
import numpy as np

import s2s


def cell(label: str, title: str) -> None:
    print(f"\n--- {label}: {title}")


# In [3]-[7]: z = mean(2 * (x + 2)^2), whose gradient is 4 * (x + 2) / n
@s2s.differentiate
def mean_of_squares(x):
    y = x + 2
    z = y * y * 2
    return z.mean()


# In [10]-[11]: the same without the mean: a vector output
@s2s.differentiate
def squares(x):
    y = x + 2
    z = y * y * 2
    return z


# In [12]-[13]: the toy model whose gradient accumulates
@s2s.differentiate
def model_output(weights):
    return (weights * 3).sum()


class SGD:
    """The two methods of torch.optim.SGD the notebook calls, for s2s tensors."""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def step(self):
        with s2s.no_grad():                 # the update itself is not recorded
            for p in self.params:
                if p.grad is not None:
                    p -= self.lr * p.grad    # in place: p stays the same leaf

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


def main() -> None:
    rng = np.random.default_rng(0)
    # In [1]: import torch -> import numpy as np, s2s (above).

    cell("In [2]", "x = rand(3) that requires grad (torch.rand -> default_rng(0).random)")
    x = s2s.tensor(rng.random(3, dtype=np.float32), requires_grad=True)
    print(x)

    cell("In [3]", "y = x + 2 records an AddBackward0")
    y = x + 2
    print(y)

    cell("In [4]", "z = y * y * 2")
    z = y * y * 2
    print(z)

    cell("In [5]", "z = z.mean()")
    z = z.mean()
    print(z)

    cell("In [6]-[7]", "z.backward(), then x.grad")
    z.backward()   # dz/dx
    print(x.grad)
    print("closed form 4 * (x + 2) / 3:", 4 * (x.data + 2) / 3)
    print("@s2s.differentiate:", mean_of_squares.grad(x.data))

    cell("In [8]", "without requires_grad nothing is recorded")
    x = s2s.tensor(rng.random(5, dtype=np.float32))
    y = x + 2
    z = y * y * 2
    c = z.mean()
    print((x, y, z, c))

    cell("In [9]", "c.backward() has nothing to differentiate")
    try:
        c.backward()
    except RuntimeError as e:
        print("RuntimeError:", e)
    # The generated-code counterpart: differentiating with respect to no parameter.
    try:
        s2s.grad(mean_of_squares, wrt=())
    except s2s.WrtError as e:
        print("s2s.WrtError:", e)

    cell("In [10]", "backward() on a vector output needs a vector")
    x = s2s.tensor(rng.random(3, dtype=np.float32), requires_grad=True)
    y = x + 2
    z = y * y * 2
    try:
        z.backward()
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        squares.grad(x.data)
    except s2s.NonScalarOutputError as e:
        print("s2s.NonScalarOutputError:", e)

    cell("In [11]", "z.backward(v): the vector-Jacobian product v^T dz/dx")
    v = s2s.tensor([0.1, 1.0, 0.01], dtype=np.float32)
    z.backward(v)
    print(x.grad)
    print("closed form 4 * (x + 2) * v:", 4 * (x.data + 2) * v.data)
    value, pullback = squares.vjp(x.data)
    print("@s2s.differentiate, squares.vjp(x)[1](v):", pullback(v.data))

    # Text cell: three ways to stop tracking history.
    cell("text", "requires_grad_(False), detach(), no_grad()")
    x = s2s.tensor(rng.random(3, dtype=np.float32), requires_grad=True)
    print("x.detach():", x.detach())
    with s2s.no_grad():
        print("under no_grad, x + 2:", x + 2)
    print("x.requires_grad_(False):", x.requires_grad_(False))
    print("in generated code, s2s.stop_gradient(y) is y.detach()")

    cell("In [12]", "gradients accumulate in .grad across backward() calls")
    weights = s2s.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    for epoch in range(4):
        output = (weights * 3).sum()
        output.backward()
        print(weights.grad)

    cell("In [13]", "so the loop clears them with weights.grad.zero_()")
    weights = s2s.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    for epoch in range(4):
        output = (weights * 3).sum()
        output.backward()
        print(weights.grad)
        weights.grad.zero_()
    # Generated code returns a fresh gradient on every call: nothing accumulates.
    print("@s2s.differentiate, 4 calls:",
          [model_output.grad(np.ones(4, dtype=np.float32)).tolist() for _ in range(4)])

    cell("In [14]", "an optimizer's step() and zero_grad()")
    optimizer = SGD([weights], lr=0.01)
    optimizer.step()        # the gradient was zeroed above: weights stay at 1
    optimizer.zero_grad()
    print(weights)
    (weights * 3).sum().backward()
    optimizer.step()        # now with a gradient of 3: 1 - 0.01 * 3
    optimizer.zero_grad()
    print(weights, weights.grad)


if __name__ == "__main__":
    main()
