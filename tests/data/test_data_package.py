"""rnnkit.data as a package: its public names and its place in the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnkit.data

DATA_DIR = Path(rnnkit.data.__file__).parent
ALLOWED = ("rnnkit.errors", "rnnkit.text", "rnnkit.data")


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(rnnkit.data) if not name.startswith("_")}
    modules = {"batching", "bundled", "table"}
    assert set(rnnkit.data.__all__) == public - modules
    assert len(rnnkit.data.__all__) == len(set(rnnkit.data.__all__))
    for name in rnnkit.data.__all__:
        obj = getattr(rnnkit.data, name)
        if callable(obj):
            assert obj.__doc__, f"rnnkit.data.{name} has no docstring"


def test_data_imports_no_network_code() -> None:
    """data/ may use rnnkit.errors, rnnkit.text and itself, nothing above them."""
    for path in sorted(DATA_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("rnnkit"):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"
