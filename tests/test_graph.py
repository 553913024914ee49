"""Tests of s2s.graph.make_dot: the DOT text of a tape's backward graph."""
from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pytest

from s2s.graph import DotGraph, GraphvizUnavailableError, make_dot
from s2s.tape import tensor


def _seed000_graph():
    x = tensor([[1, 2], [3, 4]], requires_grad=True, dtype=np.float32)
    y = x - 2
    z = y * y * 3
    return x, z.mean()


def _labels(source: str) -> list[str]:
    return re.findall(r'label="?([^"\]]*)"?', source)


@pytest.fixture(params=["graphviz", "fallback"])
def backend(request, monkeypatch):
    """Run a test with the graphviz package and with the hand-written fallback."""
    if request.param == "graphviz":
        pytest.importorskip("graphviz")
    else:
        monkeypatch.setitem(sys.modules, "graphviz", None)    # import graphviz fails
    return request.param


def test_node_names_and_leaf_shape(backend):
    x, a = _seed000_graph()
    source = make_dot(a).source
    assert source.startswith("digraph {")
    for name in ("MeanBackward0", "MulBackward0", "SubBackward0", "AccumulateGrad"):
        assert name in source
    assert source.count("MulBackward0") == 2
    assert "(2, 2)" in source                      # the leaf x shows its shape
    assert "lightblue" in source and "darkolivegreen1" in source
    # mean <- mul <- mul <- sub (twice: y * y) <- AccumulateGrad <- x, and mean -> output
    assert source.count("->") == 7


def test_edges_follow_next_functions(backend):
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    out = np.sin(x) @ w
    source = make_dot(out).source
    ids = {label: node for node, label in re.findall(r"(n\d+) \[label=\"?([^\"\]]*)", source)}
    assert ids["MmBackward0"] and ids["SinBackward0"]
    assert f"{ids['SinBackward0']} -> {ids['MmBackward0']}" in source
    assert "(3)" in source and "(3, 1)" in source and "(1)" in source


def test_same_graph_gives_the_same_text(backend):
    _, first = _seed000_graph()
    _, second = _seed000_graph()
    assert make_dot(first).source == make_dot(second).source
    assert "0x" not in make_dot(first).source      # counters, not memory addresses


def test_params_name_the_leaves(backend):
    x, a = _seed000_graph()
    source = make_dot(a, params={"x": x}).source
    assert "x\\n (2, 2)" in source


def test_leaf_and_untracked_tensors(backend):
    leaf = tensor([1.0, 2.0], requires_grad=True)
    assert _labels(make_dot(leaf).source) == ["(2)"]
    assert "->" not in make_dot(tensor(3.0)).source


def test_long_chain_is_drawn_without_recursion(backend):
    x = tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5_000):
        y = y * 1.0
    assert make_dot(y).source.count("MulBackward0") == 5_000


def test_fallback_object_without_graphviz(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    _, a = _seed000_graph()
    graph = make_dot(a)
    assert isinstance(graph, DotGraph)
    assert str(graph) == graph.source
    target = graph.save(str(tmp_path / "graph.dot"))
    assert open(target, encoding="utf-8").read() == graph.source
    for method in (graph.render, graph.pipe):
        with pytest.raises(GraphvizUnavailableError, match="pip install graphviz"):
            method()
    with pytest.raises(ImportError):
        graph.render()


def test_real_digraph_when_graphviz_is_installed():
    graphviz = pytest.importorskip("graphviz")
    _, a = _seed000_graph()
    assert isinstance(make_dot(a), graphviz.Digraph)


def test_rendering_with_the_dot_program():
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz `dot` program is not installed")
    _, a = _seed000_graph()
    svg = make_dot(a).pipe(format="svg").decode()
    assert "<svg" in svg and "MeanBackward0" in svg


def test_rejects_non_tensors():
    with pytest.raises(TypeError):
        make_dot(np.ones(2))
