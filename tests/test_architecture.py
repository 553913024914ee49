"""The import graph of s2s's modules, read with ``ast``: it has no cycle.

Every ``import`` counts, also those inside functions (a deferred import hides a cycle, it
does not remove it).  The layers: the pipeline and ``api`` at the bottom, ``export`` and
``verify`` on top of ``api``, ``cli`` on top of everything; ``display`` (highlighting for the
command line and notebooks) and ``version`` import nothing of s2s.  The package's
``__init__`` imports everything, so no module may import the package itself.
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).parent.parent / "s2s"


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(name: str) -> set[str]:
    """The s2s modules ``name`` imports anywhere in its text (``from .x import y`` counts as
    ``s2s.x.y`` when that is a module, else ``s2s.x``)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "s2s")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1]
                                + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "s2s":
                base = node.module
            else:
                continue
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    found.discard(name)
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read():
    assert "s2s.pipeline" in GRAPH["s2s.api"]
    assert "s2s.api" in GRAPH["s2s.export"] and "s2s.api" in GRAPH["s2s.verify.check"]
    assert {"s2s.display", "s2s.export"} <= GRAPH["s2s.cli"]


def test_find_cycle_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_import_graph_is_acyclic():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_the_package_itself():
    assert [name for name, targets in GRAPH.items() if "s2s" in targets and name != "s2s"] == []


@pytest.mark.parametrize("name, forbidden", [
    ("s2s.api", {"s2s.cli", "s2s.export", "s2s.verify"}),
    ("s2s.export", {"s2s.cli", "s2s.verify"}),
    ("s2s.verify", {"s2s.cli", "s2s.export"}),
])
def test_layers(name, forbidden):
    """``api`` knows none of its consumers; ``export`` and ``verify`` know only ``api``."""
    members = [module for module in GRAPH if module == name or module.startswith(name + ".")]
    imported = {target for module in members for target in GRAPH[module]}
    reached = {target for target in imported
               if any(target == f or target.startswith(f + ".") for f in forbidden)}
    assert reached == set()


@pytest.mark.parametrize("name", ["s2s.display", "s2s.version"])
def test_leaf_modules_import_nothing_of_s2s(name):
    assert GRAPH[name] == set()
