"""The tutorials' first graph, drawn from s2s's tape (torchviz's make_dot).

Run with:  python3 examples/graph_picture.py [output-directory]

Prints the DOT text of the backward graph of a = mean(3 * (x - 2)^2), and renders it to
PNG when the Graphviz `dot` program is installed (the graphviz Python package comes with
`pip install -e ".[graph]"`; the `dot` program with your system's package manager).
"""
import pathlib
import shutil
import sys

import numpy as np

import s2s
from s2s.graph import GraphvizUnavailableError


def main() -> None:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    x = s2s.tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float32)
    y = x - 2
    z = y * y * 3
    a = z.mean()
    print("y.grad_fn:", y.grad_fn)
    print("y.grad_fn.next_functions:", y.grad_fn.next_functions)
    graph = s2s.make_dot(a, params={"x": x})
    print(graph.source)
    (folder / "graph.dot").write_text(graph.source)
    rendered = None
    if shutil.which("dot"):
        try:
            rendered = graph.render(str(folder / "graph"), format="png", cleanup=True)
        except GraphvizUnavailableError:  # the graphviz Python package is not installed
            pass
    if rendered:
        print(f"picture saved to {rendered}")
    else:
        print(f"DOT text saved to {folder / 'graph.dot'} (install Graphviz to render it)")
    a.backward()
    print("x.grad:", x.grad)


if __name__ == "__main__":
    main()
