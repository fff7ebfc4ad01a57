"""The package's top-level units (a subpackage or a root module) import each other without a cycle.

The graph is built from the sources, every import statement counted (also those inside
functions, which defer a cost but are dependencies all the same), so a cycle is caught before it
makes a newcomer read two rooms to understand one.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "roots_pipeline"
ROOT_MODULES_AT_MOST = 6  # the shared model: document, errors, options, ledger, recipe (+ __init__)


def unit_of(module: str) -> str | None:
    """Return the top-level unit a `roots_pipeline…` module name belongs to (None for the package)."""
    parts = module.split(".")
    if parts[0] != PACKAGE.name or len(parts) < 2:
        return None
    unit = parts[1]
    return unit if (PACKAGE / unit).is_dir() or (PACKAGE / f"{unit}.py").is_file() else None


def import_graph() -> dict[str, dict[str, set[str]]]:
    """Return {unit: {imported unit: the files that import it}} over every import in the package."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        source = unit_of(".".join(relative.parts))
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                target = unit_of(name)
                if target and target != source:
                    graph[source][target].add(str(relative))
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Return the strongly connected components of more than one unit (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for other in graph.get(unit, {}):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == unit:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def test_no_import_cycle_between_top_level_units():
    graph = import_graph()
    assert graph["runner"]["stages"], "the graph must see the runner importing the stages"
    found = cycles(graph)
    details = [f"{a} -> {b} in {sorted(graph[a][b])}" for component in found
               for a in component for b in component if b in graph.get(a, {})]
    assert not found, "import cycles: " + "; ".join(details)


def test_cycle_detection_finds_a_planted_cycle():
    graph = {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}, "d": {"a": {"w"}}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_package_root_holds_only_the_shared_model():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= ROOT_MODULES_AT_MOST, modules
