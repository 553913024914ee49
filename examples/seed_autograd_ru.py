"""Replays "PyTorch, Autograd и все-все-все" (a Russian notebook after the official autograd
tutorial: tensors from NumPy, is_leaf, backward with a vector, repeated backward calls) with
s2s: each cell on the runtime tape, as in PyTorch, and next to it the same function
differentiated ahead of time by @s2s.differentiate.

Run with:  python3 examples/seed_autograd_ru.py

The notebook's torch.randn cells use np.random.default_rng(0) here, so their printed numbers
differ from the notebook's; the other cells print the notebook's values.
"""
import numpy as np

import s2s


def cell(label: str, title: str) -> None:
    print(f"\n--- {label}: {title}")


# In [213]-[215]: out = mean(3 * (x + 2)^2)
@s2s.differentiate
def out_of(x):
    y = x + 2
    z = y * y * 3
    return z.mean()


# In [216]-[218]: y = x + 2, a tensor output
@s2s.differentiate
def plus_two(x):
    return x + 2


def main() -> None:
    rng = np.random.default_rng(0)
    # In [204]-[205]: %matplotlib inline and a commented-out conda install: nothing to replay.

    cell("In [206]", "randn(2, 2) that requires grad, and a tensor sharing a NumPy array")
    x = s2s.tensor(rng.standard_normal((2, 2)), requires_grad=True, dtype=np.float32)
    print(x)
    # From numpy: s2s.Tensor wraps the array without copying, like torch.from_numpy
    x = np.array([1., 2., 3.])  # Only Tensors of floating point dtype can require gradients
    x = s2s.Tensor(x)
    x.requires_grad_(True)      # _ above makes the change in place
    print(x)

    cell("In [207]", "x.data: the NumPy array itself")
    print(x.data)

    cell("In [208]-[210]", "a leaf created by the user: no grad, no grad_fn")
    x = s2s.tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    print(x.grad)
    print(x.grad_fn)  # we've created x ourselves

    cell("In [211]-[212]", "y = x + 2 has a grad_fn")
    y = x + 2
    print(y)
    print(y.grad_fn)

    cell("In [213]", "z = y * y * 3, out = z.mean()")
    z = y * y * 3
    out = z.mean()
    print(z)
    print(out)

    cell("In [214]", "leaves and requires_grad")
    print("Y is leaf : {}".format(y.is_leaf))
    print("Y req_grad : {}".format(y.requires_grad))
    print("Z is leaf : {}".format(z.is_leaf))
    print("Z req_grad : {}".format(z.requires_grad))
    print("X is leaf : {}".format(x.is_leaf))
    print("X req_grad : {}".format(x.requires_grad))

    cell("In [215]", "out.backward(): d(out)/dx")
    out.backward()
    print(x.grad)
    value, gradient = out_of.value_and_grad(np.ones((2, 2), dtype=np.float32))
    print(f"@s2s.differentiate: out = {value}, d(out)/dx =\n{gradient}")
    print(out_of.source, end="")

    cell("In [216]", "a tensor at the root: backward(ones)")
    x = s2s.tensor(np.ones((2, 2), dtype=np.float32))
    x.requires_grad_(True)
    y = x + 2
    y.backward(np.ones((2, 2), dtype=np.float32))
    print(x.grad)

    cell("In [217]", "z = y * y")
    z = y * y
    print(z)

    cell("In [218]", "backward three times with the same vector: the gradients add up")
    gradient = rng.standard_normal((2, 2)).astype(np.float32)
    # y = x + 2 saves no values, so its graph can be walked again without retain_graph
    for i in range(3):
        y.backward(gradient)
        print(x.grad)
    print("closed form 1 + 3 * gradient:\n", 1 + 3 * gradient)
    # Generated code: one pullback, called as often as wanted; the sum is explicit.
    _, pullback = plus_two.vjp(np.ones((2, 2), dtype=np.float32))
    total = pullback(np.ones((2, 2), dtype=np.float32))
    for i in range(3):
        total = total + pullback(gradient)
    print("@s2s.differentiate, ones + 3 pullbacks:\n", total)


if __name__ == "__main__":
    main()
