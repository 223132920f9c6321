"""rnnkit.io's public names, and the promise that it knows nothing of layers or models."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnkit.io

ALLOWED_IMPORTS = {
    "numpy",
    "safetensors",
    "safetensors.numpy",
    "rnnkit",
    "rnnkit.errors",
    "rnnkit.core.cells",  # interop reads the cells' PyTorch gate orders from their registry
}
STDLIB = {
    "collections.abc",
    "dataclasses",
    "hashlib",
    "json",
    "math",
    "os",
    "pathlib",
    "re",
    "tempfile",
    "typing",
}


def test_all_lists_each_public_name_once():
    assert len(rnnkit.io.__all__) == len(set(rnnkit.io.__all__))
    for name in rnnkit.io.__all__:
        assert getattr(rnnkit.io, name) is not None, name
    public = {name for name in vars(rnnkit.io) if not name.startswith("_")}
    submodules = {"atomic", "integrity", "interop", "model_dir", "weights"}
    assert public - submodules == set(rnnkit.io.__all__)


def test_imports_only_numpy_safetensors_and_errors():
    package = Path(rnnkit.io.__file__).parent
    found = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    outside = {
        name
        for name in found - STDLIB - {"__future__"}
        if name not in ALLOWED_IMPORTS and not name.startswith("rnnkit.io")
    }
    assert outside == set()
