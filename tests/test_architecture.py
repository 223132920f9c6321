"""The package's layering (DESIGN §1) and public names, checked from the source.

Imports point one way: core <- layers <- training <- models <- bench <- cli. text, data, io
and metrics never import the network code; viz sits beside training (core and layers
below it) to trace and diagnose them. A module-level or function-level
import that breaks the order fails here.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import rnnkit

SRC = Path(rnnkit.__file__).parent

#: subpackage -> the rnnkit subpackages it may import
ALLOWED = {
    "core": {"core"},
    "layers": {"core", "layers"},
    "training": {"core", "layers", "training", "data", "text", "io"},
    "models": {"core", "layers", "training", "models", "io", "text", "data", "metrics"},
    "bench": {"core", "layers", "training", "models", "io", "bench"},
    "cli": {
        "core",
        "layers",
        "training",
        "models",
        "io",
        "text",
        "data",
        "metrics",
        "viz",
        "bench",
        "cli",
    },
    "text": {"text", "io"},
    "data": {"data", "text", "io"},
    "io": {"io", "core"},
    "metrics": {"metrics"},
    "viz": {"viz", "metrics", "io", "core", "layers"},  # beside training (DESIGN §1)
}
#: modules every part may import
ANYWHERE = {"errors", "__init__"}


def _rnnkit_imports(path: Path) -> set[str]:
    """The first-level rnnkit subpackages a module imports (anywhere in its body)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "rnnkit":
                names = [f"rnnkit.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "rnnkit" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_point_downward(part: str) -> None:
    for path in sorted((SRC / part).rglob("*.py")):
        bad = _rnnkit_imports(path) - ALLOWED[part] - ANYWHERE - {"__version__"}
        assert not bad, f"{path.relative_to(SRC)} imports rnnkit.{sorted(bad)} (layering)"


def test_every_subpackage_is_covered() -> None:
    parts = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == set(ALLOWED)


@pytest.mark.parametrize("module", ["rnnkit", *(f"rnnkit.{p}" for p in sorted(ALLOWED))])
def test_all_lists_exactly_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    if module == "rnnkit.cli":
        return  # the command line, no Python API
    names = getattr(mod, "__all__", None)
    assert names is not None, f"{module} has no __all__"
    assert len(set(names)) == len(names), f"{module}.__all__ repeats a name"
    public = {
        name
        for name, obj in vars(mod).items()
        if not name.startswith("_")
        and not inspect.ismodule(obj)
        and not isinstance(obj, __future__._Feature)
    }
    assert set(names) - {"__version__"} == public, f"{module}.__all__ differs from its names"
    for name in names:
        obj = getattr(mod, name)
        if callable(obj):
            assert obj.__doc__, f"{module}.{name} has no docstring"


def test_no_pickle_anywhere() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import pickle" not in text and "allow_pickle=True" not in text, path
