"""d2l.ai, automatic differentiation, exercises 5 to 7: f(x) = log(x^2) * sin(x) + 1/x.

Run with:  python3 examples/d2l_exercise6.py [output-directory]

* Exercise 5, the dependency graph from x to f(x): drawn from the runtime tape by
  s2s.make_dot; the DOT text is saved as exercise6_graph.dot, and rendered to PNG when the
  Graphviz `dot` program and the graphviz Python package are installed.
* Exercise 6, df/dx by the chain rule: s2s.symbolic gives the symbolic form; the generated
  reverse sweep holds one adjoint statement per node of the graph.
* Exercise 7, evaluating it from x to f (forward mode, tangents x_d) and from f back to x
  (reverse mode, adjoints x_b): both generated codes are printed and compared.
"""
import pathlib
import shutil
import sys
import tempfile

import numpy as np

import s2s
from s2s.graph import GraphvizUnavailableError


@s2s.differentiate
def f(x):
    return np.log(x ** 2) * np.sin(x) + 1 / x


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)

    print("Exercise 5: the dependency graph of f(x) = log(x**2) * sin(x) + 1/x")
    x = s2s.tensor(1.5, requires_grad=True, dtype=np.float64)
    y = np.log(x ** 2) * np.sin(x) + 1 / x
    graph = s2s.make_dot(y, params={"x": x})
    print(graph.source, end="")
    (folder / "exercise6_graph.dot").write_text(graph.source)
    rendered = None
    if shutil.which("dot"):
        try:
            rendered = graph.render(str(folder / "exercise6_graph"), format="png", cleanup=True)
        except GraphvizUnavailableError:  # the graphviz Python package is not installed
            pass
    if rendered:
        print(f"picture saved to {rendered}")
    else:
        print(f"DOT text saved to {folder / 'exercise6_graph.dot'} "
              "(install Graphviz to render it)")
    y.backward()
    print("tape: x.grad at x = 1.5:", x.grad)

    print("\nExercise 6: the chain rule, symbolically (s2s.symbolic)")
    symbolic = s2s.symbolic(f)
    print(symbolic)
    print("and as generated code, one adjoint (_b) per node, from f back to x:")
    print(f.source, end="")

    print("\nExercise 7: forward (x to f) and reverse (f to x) give the same derivative")
    print(f.forward_source, end="")
    exact = symbolic.lambdify()
    points = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
    print(f"{'x':>5} {'forward (f.jvp)':>18} {'reverse (f.grad)':>18} {'symbolic':>18}")
    for point in points:
        _, forward = f.jvp((float(point),), (1.0,))
        reverse = f.grad(float(point))
        reference = exact(point)
        print(f"{point:5.2f} {forward:18.12f} {reverse:18.12f} {reference:18.12f}")
        assert abs(forward - reference) < 1e-12 and abs(reverse - reference) < 1e-12
    print("all three agree to 1e-12")


if __name__ == "__main__":
    main()
