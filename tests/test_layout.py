"""The package's layout: each subpackage states its idea and exports its public names, imports point down the layers
only, no imports go round in a circle, and the worker side of the sandbox imports alone (autograder/__init__.py)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "autograder"
# Bottom first. A module may import its own unit and the units of lower layers; units of one layer are siblings and
# may not import each other. A unit is a subpackage or a top-level module; errors (the exception family) is the floor.
LAYERS = [
    {"errors"},
    {"sandbox"},
    {"course"},
    {"engine"},
    {"reports"},
    {"entry"},
    {"release", "selftest", "cluster"},
    {"run", "batch"},
    {"listing", "watch"},
    {"cli"},
    {"__main__"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _unit(module: str) -> str | None:
    """The unit a module belongs to; None for the root package itself (it holds only the version)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(module: str) -> list[tuple[int, str]]:
    """(line, module) for every import of an autograder module in ``module``, at any depth (lazy imports included)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from package import name`: the submodule when there is one, else the package that defines the name
            found += [(node.lineno, f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target) for a in node.names]
    return [(line, target) for line, target in found if target == "autograder" or target.startswith("autograder.")]


GRAPH = {module: _imports(module) for module in MODULES}


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES} - {None}
    assert units - set(RANK) == set(), "add the new subpackage or top-level module to LAYERS"
    assert set(RANK) - units == set(), "LAYERS names a unit that no longer exists"


@pytest.mark.parametrize("module", sorted(MODULES), ids=sorted(MODULES))
def test_imports_point_down_the_layers(module: str):
    unit = _unit(module)
    wrong = []
    for line, target in GRAPH[module]:
        other = _unit(target)
        if unit is None and target != module:
            wrong.append(f"line {line}: the root package imports {target}; it must import nothing of its own")
        elif other is not None and other != unit and RANK[other] >= RANK[unit]:
            where = "a sibling of" if RANK[other] == RANK[unit] else "a layer above"
            wrong.append(f"line {line}: imports {target} ({other} is {where} {unit})")
    assert wrong == [], f"{MODULES[module].relative_to(ROOT)}: " + "; ".join(wrong)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, or of one that imports itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, []):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_goes_round_in_a_circle():
    edges = {m: sorted({t for _, t in targets if t in MODULES}) for m, targets in GRAPH.items()}
    assert _cycles(edges) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        pytest.param({"a": ["b"], "b": ["c"], "c": []}, [], id="a-chain"),
        pytest.param({"a": ["b"], "b": ["a"]}, [["a", "b"]], id="two-modules"),
        pytest.param({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c"]], id="three-modules"),
        pytest.param({"a": ["a"]}, [["a"]], id="itself"),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, list[str]], expected: list[list[str]]):
    assert _cycles(graph) == expected


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_states_its_idea_and_exports_its_public_names(name: str):
    package = importlib.import_module(f"autograder.{name}")
    assert (package.__doc__ or "").strip(), f"autograder/{name}/__init__.py: no docstring stating the subpackage's idea"
    assert package.__all__, f"autograder/{name}/__init__.py: no __all__"
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert missing == [], f"autograder.{name}.__all__ names what it does not define: {missing}"


def test_the_worker_side_imports_alone():
    """A worker loads nothing of the referee and not the grader's side of the sandbox (workers, forkserver)."""
    probe = "import sys, autograder.sandbox.worker; print(' '.join(sorted(m for m in sys.modules if m.startswith('autograder'))))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split())
    assert "autograder.sandbox.worker" in loaded
    assert {m for m in loaded if m != "autograder" and not m.startswith("autograder.sandbox")} == set()
    assert loaded & {"autograder.sandbox.workers", "autograder.sandbox.forkserver"} == set()
