"""d2l.ai, automatic differentiation, exercise 4: plot f(x) = sin(x) and its derivative,
obtained by automatic differentiation rather than from the fact that f'(x) = cos(x).

Run with:  python3 examples/d2l_sin_derivative.py [output-directory]

The derivative is computed three ways (generated reverse-mode code, generated forward-mode
code, and the runtime tape, as d2l's PyTorch answer does), each checked against cos(x); the
plot is saved as sin_derivative.png (matplotlib, Agg backend: no display needed).
"""
import pathlib
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

import s2s  # noqa: E402


@s2s.differentiate
def f(x):
    return np.sin(x)


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    x = np.linspace(-2 * np.pi, 2 * np.pi, 201)
    ones = np.ones_like(x)

    # f is elementwise, so its Jacobian is diagonal: a cotangent (or tangent) of ones gives
    # the derivative at every point in one pass.
    value, pullback = f.vjp(x)
    reverse = pullback(ones)                     # torch: y.backward(torch.ones_like(x))
    _, forward = f.jvp((x,), (ones,))            # one forward pass with tangent x_d = 1
    t = s2s.tensor(x, requires_grad=True)        # the runtime tape, as in the notebooks
    np.sin(t).sum().backward()
    tape = t.grad.numpy()

    for name, derivative in (("reverse mode (f.vjp)", reverse), ("forward mode (f.jvp)", forward),
                             ("tape (backward)", tape)):
        error = np.max(np.abs(derivative - np.cos(x)))
        print(f"{name:<22} max |f'(x) - cos(x)| = {error:.1e}")
        assert error < 1e-12, name
    print("f'(0) =", float(reverse[100]), " f'(pi) =", float(reverse[150]))
    print(f.source, end="")

    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.plot(x, value, label="f(x) = sin(x)")
    axes.plot(x, reverse, label="f'(x), by s2s", linestyle="--")
    axes.set_xlabel("x")
    axes.set_ylim(-1.2, 1.6)
    axes.legend(loc="upper center", ncol=2)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path = folder / "sin_derivative.png"
    figure.savefig(path, dpi=80)
    plt.close(figure)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
