"""The package's shape: every module imports, no import cycles between lensan's modules, and no module
reaches into another's `_private` names (docs/architecture.md: one rule in one place, layers that
only look down).

The import graph is read from the source (`ast`), lazy imports inside functions included: a cycle
that only a function-level import keeps from failing at import time is still a cycle a maintainer has
to untangle.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
from pathlib import Path

import pytest

from lensan import settings
from lensan_dev import airflow_harness

pytestmark = pytest.mark.unit

# Airflow reads its configuration once, at first import (some modules import it): the test home's.
for _key, _value in airflow_harness.airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ.setdefault(_key, _value)

PACKAGES = {"lensan": settings.PROJECT_ROOT / "plugins" / "lensan",
            "lensan_dev": settings.PROJECT_ROOT / "tools" / "lensan_dev"}
DAGS = settings.PROJECT_ROOT / "dags"


def _modules() -> dict[str, Path]:
    """Every module of lensan and lensan_dev: dotted name -> file."""
    found = {}
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of a file, nested ones included."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:   # relative: resolve against this module's package
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([module] if module else []))
            out.append((module, [alias.name for alias in node.names], node.lineno))
    return out


def _targets(module: str, names: list[str]) -> set[str]:
    """The lensan modules an import statement depends on (`from a import b`: a.b when b is a module)."""
    if module not in MODULES:
        return set()
    submodules = {f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES}
    return submodules if submodules and len(submodules) == len(names) else submodules | {module}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        edges = set()
        for module, names, _ in _imports(path, name):
            edges |= _targets(module, names)
        graph[name] = edges - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_imports():
    for name in MODULES:
        if not name.endswith(".__main__"):   # `python -m` entry points run on import
            importlib.import_module(name)
    walked = {m.name for p in PACKAGES for m in pkgutil.walk_packages(importlib.import_module(p).__path__, p + ".")}
    assert walked <= set(MODULES)


def test_the_graph_sees_imports():
    graph = _graph()
    assert "lensan.settings" in graph["lensan.calendar.periods"]
    assert "lensan.quality.summary" in graph["lensan.quality.policy"]      # from lensan.quality.summary import …
    assert "lensan.quality.checkpoints" in graph["lensan.orchestration.transform"]   # lazy, in a function
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles between lensan modules:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_names_across_modules():
    """`from lensan.x import _name` or `x._name` on an imported lensan module, outside lensan.x itself."""
    files = dict(MODULES) | {f"dags.{p.stem}": p for p in sorted(DAGS.glob("*.py"))}
    offences = []
    for name, path in files.items():
        imports = _imports(path, name)
        aliases = {}
        for module, names, line in imports:
            if not module.startswith(("lensan.", "lensan_dev.")) and module not in PACKAGES:
                continue
            for taken in names:
                if _private(taken) and module != name:
                    offences.append(f"{path.name}:{line} from {module} import {taken}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):   # names bound to lensan modules, e.g. `from lensan.db import warehouse as wh`
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
                target = aliases.get(node.value.id)
                if target and target != name:
                    offences.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr} ({target})")
    assert not offences, "private names used across modules:\n" + "\n".join(offences)
