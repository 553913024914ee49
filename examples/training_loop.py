"""A training loop with the generated gradient: a small neural network (2 inputs, 8 tanh
units, a logistic output) learns to separate two interleaved half-moons by gradient descent.

Run with:  python3 examples/training_loop.py [output-directory]

The loop mirrors the tutorials' cycle -- compute the loss, backward() into each parameter's
.grad, optimizer.step(), optimizer.zero_grad() -- with a tiny optimizer class, but the
gradient comes from the code @s2s.differentiate generated ahead of time.  The first steps are
repeated on the runtime tape (s2s.tensor, loss.backward()) to show both give the same
gradients.  The data are synthetic with a fixed seed; the loss curve is saved as
training_loss.png.
"""
import pathlib
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

import s2s  # noqa: E402

PARAMETERS = ("W1", "b1", "W2", "b2")


@s2s.differentiate(wrt=PARAMETERS)
def loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2                                  # logits, one per example
    return np.mean(np.logaddexp(0, z) - y * z)       # binary cross-entropy, stable form


class Parameter:
    """A NumPy array with a .grad slot, like a leaf tensor that requires grad."""

    def __init__(self, name, value):
        self.name = name
        self.data = np.array(value, dtype=np.float64)
        self.grad = None


def backward(params, gradients):
    """What loss.backward() does to the leaves: add each gradient into .grad."""
    for p, g in zip(params, gradients):
        p.grad = g.copy() if p.grad is None else p.grad + g


class SGD:
    """Gradient descent with momentum: torch.optim.SGD's step() and zero_grad()."""

    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def two_moons(n, rng):
    """n points on two interleaved half circles, labels 0 and 1, with a little noise."""
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + rng.normal(scale=0.1, size=(n, 2))
    return points - points.mean(axis=0), label.astype(np.float64)


def initial_parameters(rng):
    return [Parameter("W1", rng.normal(scale=1.0, size=(2, 8))), Parameter("b1", np.zeros(8)),
            Parameter("W2", rng.normal(scale=0.5, size=8)), Parameter("b2", np.zeros(1))]


def tape_gradients(params, X, y):
    """The same gradient on the runtime tape, the tutorials' way."""
    leaves = [s2s.tensor(p.data, requires_grad=True) for p in params]
    W1, b1, W2, b2 = leaves
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    value = np.mean(np.logaddexp(0, z) - y * z)
    value.backward()
    return value.item(), [leaf.grad.numpy() for leaf in leaves]


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    X, y = two_moons(200, rng)
    params = initial_parameters(rng)
    optimizer = SGD(params, lr=0.5, momentum=0.9)
    epochs, every = 300, 30
    print(f"data: X {X.shape}, y {y.shape}; parameters: "
          + ", ".join(f"{p.name} {p.data.shape}" for p in params))

    history = []
    for epoch in range(epochs + 1):
        value, gradients = loss.value_and_grad(*(p.data for p in params), X, y)
        if epoch < 3:                                  # the tape agrees, step by step
            tape_value, tape_grads = tape_gradients(params, X, y)
            difference = max(np.max(np.abs(g - t)) for g, t in zip(gradients, tape_grads))
            print(f"epoch {epoch}: generated loss {value:.6f}, tape loss {tape_value:.6f}, "
                  f"max |gradient difference| {difference:.1e}")
            assert difference < 1e-12
        history.append(value)
        if epoch % every == 0:
            print(f"epoch {epoch:4d}  loss {value:.4f}")
        if epoch == epochs:
            break
        backward(params, gradients)
        optimizer.step()
        optimizer.zero_grad()

    W1, b1, W2, b2 = (p.data for p in params)
    accuracy = np.mean(((np.tanh(X @ W1 + b1) @ W2 + b2) > 0) == (y == 1))
    print(f"loss went from {history[0]:.4f} to {history[-1]:.4f}; training accuracy "
          f"{accuracy:.1%}")

    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(history)
    axes.set_xlabel("epoch")
    axes.set_ylabel("binary cross-entropy")
    axes.set_title("gradient descent with the s2s-generated gradient")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path = folder / "training_loss.png"
    figure.savefig(path, dpi=80)
    plt.close(figure)
    print(f"loss curve saved to {path}")
    print("\nThe gradient code the loop calls (loss.source):")
    print(loss.source, end="")


if __name__ == "__main__":
    main()
