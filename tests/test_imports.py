"""No import circles between the modules of nieuwsbrief: each stage reads only earlier ones.

Every ``import`` counts: at module level, inside a function, and under ``TYPE_CHECKING`` (an
annotation-only import is still a dependency a reader has to follow). The graph is read from the
source with ``ast``, so a circle hidden in a function body fails as surely as one at the top.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nieuwsbrief"

def imports_of(path: Path, modules: set[str]) -> Iterator[tuple[str, int]]:
    """Yield (module, line) for every import of a sibling module anywhere in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "nieuwsbrief" and len(parts) > 1 and parts[1] in modules:
                    yield parts[1], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                continue  # above the package: not ours
            if node.level == 1:
                parts = ["nieuwsbrief", *(node.module or "").split(".")]
            else:
                parts = (node.module or "").split(".")
            parts = [part for part in parts if part]
            if parts[:1] != ["nieuwsbrief"]:
                continue
            if len(parts) > 1:
                if parts[1] in modules:
                    yield parts[1], node.lineno
            else:  # from nieuwsbrief import articles, __version__
                for alias in node.names:
                    if alias.name in modules:
                        yield alias.name, node.lineno


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """Return, per module, the sibling modules it imports and the line of the first import."""
    modules = {path.stem for path in package.glob("*.py")}
    graph: dict[str, dict[str, int]] = {}
    for path in sorted(package.glob("*.py")):
        edges = graph.setdefault(path.stem, {})
        for target, line in imports_of(path, modules):
            if target != path.stem:
                edges.setdefault(target, line)
    return graph


def circles(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Return one circle (a path back to its start) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph is a few dozen modules
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, {})):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for group in groups:
        start = min(group)
        # Breadth-first from start back to start inside the group: the shortest circle.
        paths = {start: [start]}
        queue = [start]
        circle: list[str] | None = None
        while queue and circle is None:
            node = queue.pop(0)
            for target in sorted(graph.get(node, {})):
                if target not in group:
                    continue
                if target == start:
                    circle = [*paths[node], start]
                    break
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    queue.append(target)
        assert circle is not None
        found.append(circle)
    return found


def describe(circle: list[str], graph: Mapping[str, Mapping[str, int]]) -> str:
    steps = [
        f"{one}.py:{graph[one][other]} imports {other}"
        for one, other in itertools.pairwise(circle)
    ]
    return " -> ".join(circle) + " (" + "; ".join(steps) + ")"


def test_no_import_circles() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 20, "the package was not found where the test looks"
    found = circles(graph)
    assert not found, "import circle(s): " + " | ".join(describe(c, graph) for c in found)




def test_a_circle_through_a_function_level_import_is_named(tmp_path: Path) -> None:
    """The detector itself: a circle hidden in a function and one under TYPE_CHECKING."""
    package = tmp_path / "nieuwsbrief"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "alpha.py").write_text("from nieuwsbrief.beta import b\n", encoding="utf-8")
    (package / "beta.py").write_text(
        "def b():\n    from nieuwsbrief import gamma\n    return gamma\n", encoding="utf-8"
    )
    (package / "gamma.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import alpha\n",
        encoding="utf-8",
    )
    (package / "delta.py").write_text("import nieuwsbrief.alpha\n", encoding="utf-8")
    graph = import_graph(package)
    assert graph["beta"] == {"gamma": 2}
    assert graph["gamma"] == {"alpha": 3}
    assert graph["delta"] == {"alpha": 1}
    found = circles(graph)
    assert found == [["alpha", "beta", "gamma", "alpha"]]
    assert describe(found[0], graph) == (
        "alpha -> beta -> gamma -> alpha (alpha.py:1 imports beta; beta.py:2 imports gamma; "
        "gamma.py:3 imports alpha)"
    )
    (package / "gamma.py").write_text("import os\n", encoding="utf-8")
    assert circles(import_graph(package)) == []
