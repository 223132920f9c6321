"""rnnkit.text as a package: its public names and its place in the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnkit.text

TEXT_DIR = Path(rnnkit.text.__file__).parent


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(rnnkit.text) if not name.startswith("_")}
    modules = {"encode", "tokenize", "vocab", "bow"}
    assert set(rnnkit.text.__all__) == public - modules
    assert len(rnnkit.text.__all__) == len(set(rnnkit.text.__all__))
    for name in rnnkit.text.__all__:
        obj = getattr(rnnkit.text, name)
        if callable(obj):
            assert obj.__doc__, f"rnnkit.text.{name} has no docstring"


def test_text_imports_nothing_above_it() -> None:
    """text/ sits beside core/: it may use rnnkit.errors, rnnkit.io and itself."""
    for path in sorted(TEXT_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("rnnkit"):
                    assert name in ("rnnkit.errors", "rnnkit.io.atomic") or name.startswith(
                        "rnnkit.text"
                    ), f"{path.name} imports {name}"
