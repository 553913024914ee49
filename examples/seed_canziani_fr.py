"""Replays "Autograd : différenciation automatique" (the French translation of Alfredo
Canziani's NYU Deep Learning notebook 03) with s2s: every cell on the runtime tape, as in
PyTorch, and next to it the same computation as a function that @s2s.differentiate turns
into gradient code ahead of time.

Run with:  python3 examples/seed_canziani_fr.py [output-directory]

The notebook's random cell (torch.randn) uses np.random.default_rng(0) here, so its printed
numbers differ from the notebook's; the deterministic cells print the notebook's values.
"""
import pathlib
import sys
import tempfile

import numpy as np

import s2s


def cell(label: str, title: str) -> None:
    print(f"\n--- {label}: {title}")


# In [9]'s computation as a function: the generated code replaces the recorded graph.
@s2s.differentiate
def mean_of_squares(x):
    y = x - 2
    z = y * y * 3
    return z.mean()


# In [14]'s dynamic graph: the while loop is reversed as a loop that runs _n0 times.
@s2s.differentiate
def doubling(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return y


# In [18] and In [19]: z = w @ x, with respect to both leaves or w alone.
@s2s.differentiate(wrt=("x", "w"))
def w_at_x(x, w):
    return w @ x


@s2s.differentiate(wrt="w")
def w_at_x_wrt_w(x, w):
    return w @ x


# In [20]: what torch.no_grad() records, as generated code: nothing flows back.
@s2s.differentiate(wrt="w")
def w_at_x_no_grad(x, w):
    return s2s.stop_gradient(w @ x)


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    # In [1]: import torch -> import numpy as np, s2s (above).

    cell("In [2]", "a 2x2 tensor that accumulates gradients")
    x = s2s.tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float32)
    print(x)

    cell("In [3]", "subtract 2 from every element")
    y = x - 2
    print(y)

    cell("In [4]", "y was made by an operation, so it has a grad_fn")
    print(y.grad_fn)

    cell("In [None]", "x was created by the user: no grad_fn")
    print(x.grad_fn)

    cell("In [6]-[8]", "digging deeper")
    print(y.grad_fn)
    print(y.grad_fn.next_functions[0][0])
    print(y.grad_fn.next_functions[0][0].variable)

    cell("In [9]", "more operations on y")
    z = y * y * 3
    a = z.mean()
    print(z)
    print(a)

    cell("In [10]/[21]", "make_dot(a): the computational graph")
    graph = s2s.make_dot(a, params={"x": x})
    (folder / "canziani_graph.dot").write_text(graph.source)
    print(graph.source, end="")
    print(f"(DOT text saved to {folder / 'canziani_graph.dot'})")

    cell("In [12]-[13]", "a.backward(), then print(x.grad)")
    a.backward()
    print(x.grad)

    print("\n@s2s.differentiate, the same function as generated code:")
    value, gradient = mean_of_squares.value_and_grad(np.array([[1, 2], [3, 4]], dtype=np.float32))
    print(f"mean_of_squares(x) = {value}")
    print(f"mean_of_squares.grad(x) =\n{gradient}")
    print(mean_of_squares.source, end="")

    cell("In [14]", "dynamic graphs: a while loop (x = randn(3) -> default_rng(0))")
    start = np.random.default_rng(0).standard_normal(3).astype(np.float32)
    x = s2s.tensor(start, requires_grad=True)
    y = x * 2
    i = 0
    while np.linalg.norm(y.data) < 1000:   # y.data.norm() in the notebook
        y = y * 2
        i += 1
    print(y)

    cell("In [15]", "backward on a non-scalar needs the gradient (cotangent) argument")
    gradients = s2s.tensor([0.1, 1.0, 0.0001])
    y.backward(gradients)
    print(x.grad)

    cell("In [16]", "the number of doublings")
    print(i)

    print("\n@s2s.differentiate: the pullback takes the same cotangent")
    value, pullback = doubling.vjp(start)
    print("doubling(x) =", value)
    print("pullback(gradients) =", pullback(np.array([0.1, 1.0, 0.0001], dtype=np.float32)))
    print(doubling.source, end="")

    cell("In [17]-[18]", "inference: x and w both accumulate gradients")
    n = 3
    x = s2s.tensor(np.arange(1., n + 1, dtype=np.float32), requires_grad=True)
    w = s2s.tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    z = w @ x
    z.backward()
    print(x.grad, w.grad, sep="\n")
    x_np, w_np = np.arange(1., n + 1, dtype=np.float32), np.ones(n, dtype=np.float32)
    print("@s2s.differentiate(wrt=('x', 'w')):", *w_at_x.grad(x_np, w_np))

    cell("In [19]", "only w accumulates gradients")
    x = s2s.tensor(np.arange(1., n + 1, dtype=np.float32))
    w = s2s.tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    z = w @ x
    z.backward()
    print(x.grad, w.grad, sep="\n")
    print("@s2s.differentiate(wrt='w'):", w_at_x_wrt_w.grad(x_np, w_np))

    cell("In [20]", "nothing is recorded under no_grad()")
    x = s2s.tensor(np.arange(1., n + 1, dtype=np.float32))
    w = s2s.tensor(np.ones(n, dtype=np.float32), requires_grad=True)
    with s2s.no_grad():
        z = w @ x
    try:
        z.backward()   # raises: z has no grad_fn
    except RuntimeError as e:
        print('RuntimeError!!! >:[')
        print(e)
    print("@s2s.differentiate with s2s.stop_gradient(w @ x): the gradient is",
          w_at_x_no_grad.grad(x_np, w_np))


if __name__ == "__main__":
    main()
