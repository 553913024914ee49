"""Draw the backward graph of a tape tensor, like torchviz's ``make_dot``.

``make_dot(t)`` walks ``t.grad_fn`` and its ``next_functions`` and describes the graph
in the DOT language: one box per backward node labelled with its name
(``MulBackward0``, ``AccumulateGrad``), one light blue box per leaf tensor labelled with
its shape (``(2, 2)``, preceded by its name when ``params`` gives one), and a green box
for the output.  Edges point from inputs to the nodes that consume them.  Node ids are
counters in visiting order, so the same graph always gives the same text.

The ``graphviz`` Python package is optional: with it, the result is a real
``graphviz.Digraph`` (render it, or display it in a notebook); without it, a
:class:`DotGraph` whose ``source`` holds the same DOT text and whose ``render`` and
``pipe`` raise :class:`GraphvizUnavailableError`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import S2SError
from .tape import Node, Tensor

__all__ = ["DotGraph", "GraphvizUnavailableError", "make_dot"]

_NODE_ATTRIBUTES = {
    "style": "filled",
    "shape": "box",
    "align": "left",
    "fontsize": "10",
    "ranksep": "0.1",
    "height": "0.2",
    "fontname": "monospace",
}
_GRAPH_ATTRIBUTES = {"size": "12,12"}
_OUTPUT_COLOR = "darkolivegreen1"
_LEAF_COLOR = "lightblue"


class GraphvizUnavailableError(S2SError, ImportError):
    """Rendering needs the ``graphviz`` Python package, which is not installed."""


def _shape_label(shape: tuple[int, ...]) -> str:
    """A shape as torchviz writes it: ``(2, 2)``, ``(3)``, ``()``."""
    return "(" + ", ".join(str(size) for size in shape) + ")"


def _tensor_label(value: Tensor, names: Mapping[int, str]) -> str:
    name = names.get(id(value), "")
    shape = _shape_label(value.shape)
    return f"{name}\\n {shape}" if name else shape   # DOT's line break, as torchviz


def _describe(output: Tensor, params: Mapping[str, Tensor] | None
              ) -> tuple[list[tuple[str, str, dict[str, str]]], list[tuple[str, str]]]:
    """The nodes ``(id, label, attributes)`` and edges ``(tail, head)`` of the drawing."""
    names = {id(value): name for name, value in (params or {}).items()}
    nodes: list[tuple[str, str, dict[str, str]]] = []
    edges: list[tuple[str, str]] = []
    ids: dict[Any, str] = {}

    def identify(item: Any) -> str:
        ids[item] = f"n{len(ids)}"
        return ids[item]

    output_id = identify(output)
    nodes.append((output_id, _tensor_label(output, names), {"fillcolor": _OUTPUT_COLOR}))
    if output.grad_fn is None:
        return nodes, edges
    root = output.grad_fn
    edges.append((identify(root), output_id))
    nodes.append((ids[root], root.name(), {}))
    stack: list[Node] = [root]
    while stack:                         # depth first, first input first, no recursion
        node = stack.pop()
        variable = getattr(node, "variable", None)
        if variable is not None:
            variable_id = identify(variable)
            nodes.append((variable_id, _tensor_label(variable, names),
                          {"fillcolor": _LEAF_COLOR}))
            edges.append((variable_id, ids[node]))
        discovered = []
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            if next_node not in ids:
                nodes.append((identify(next_node), next_node.name(), {}))
                discovered.append(next_node)
            edges.append((ids[next_node], ids[node]))
        stack.extend(reversed(discovered))
    return nodes, edges


def _quote(text: str) -> str:
    """A DOT string; escape sequences such as the ``\\n`` line break pass through."""
    escaped = text.replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attributes(attributes: Mapping[str, str]) -> str:
    return " ".join(f"{key}={_quote(value)}" for key, value in attributes.items())


class DotGraph:
    """The DOT text of a graph, for when the ``graphviz`` package is not installed."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def save(self, filename: str) -> str:
        """Write the DOT text to ``filename`` (no rendering needed); returns it."""
        with open(filename, "w", encoding="utf-8") as file:
            file.write(self.source)
        return filename

    def _unavailable(self, *args: Any, **kwargs: Any) -> Any:
        raise GraphvizUnavailableError(
            "rendering a graph needs the graphviz Python package (pip install graphviz) "
            "and the Graphviz `dot` program; the DOT text is in .source")

    render = pipe = view = _unavailable

    # --- notebook display ---------------------------------------------------------------

    def _repr_svg_(self) -> str | None:
        """The picture as SVG, drawn by Graphviz when it is installed; else None (IPython
        then shows the Markdown or text form)."""
        return _svg(self.source)

    def _repr_markdown_(self) -> str:
        return f"```dot\n{self.source.rstrip()}\n```\n"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.source.rstrip("\n"))


def _svg(source: str) -> str | None:
    """``source`` (DOT) drawn as SVG: by the graphviz package, else the ``dot`` program."""
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        try:
            return graphviz.Source(source).pipe(format="svg", encoding="utf-8")
        except Exception:                   # graphviz.ExecutableNotFound, a failing dot
            return None
    import shutil
    import subprocess
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and "<svg" in done.stdout else None


def _dot_text(nodes: list, edges: list) -> str:
    lines = ["digraph {",
             f"\tgraph [{_attributes(_GRAPH_ATTRIBUTES)}]",
             f"\tnode [{_attributes(_NODE_ATTRIBUTES)}]"]
    for node_id, label, attributes in nodes:
        lines.append(f"\t{node_id} [{_attributes({'label': label, **attributes})}]")
    for tail, head in edges:
        lines.append(f"\t{tail} -> {head}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def make_dot(output: Tensor, params: Mapping[str, Tensor] | None = None) -> Any:
    """The backward graph that ends in ``output``, as ``graphviz.Digraph`` or DOT text.

    ``params`` maps names to leaf tensors so their boxes show the name above the shape
    (torchviz's ``make_dot(y, params=dict(model.named_parameters()))``).  The result
    always has ``.source``, the DOT text.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"make_dot expects an s2s Tensor, got {type(output).__name__}")
    nodes, edges = _describe(output, params)
    try:
        import graphviz
    except ImportError:
        return DotGraph(_dot_text(nodes, edges))
    dot = graphviz.Digraph(node_attr=dict(_NODE_ATTRIBUTES),
                           graph_attr=dict(_GRAPH_ATTRIBUTES))
    for node_id, label, attributes in nodes:
        dot.node(node_id, label, **attributes)
    for tail, head in edges:
        dot.edge(tail, head)
    return dot
