"""The package's layering (DESIGN §1), public names and test folders, checked from the source.

Imports point one way: core <- layers <- training <- models <- bench, exchange <- cli,
and training <- distributed <- cli. text, data, io and metrics never import the network
code (io may read the cell descriptions of core); viz sits beside training (core and
layers below it) to trace and diagnose them; nothing below the top imports the
top-level package. Beyond the layering: no import cycles between modules, and no module
imports another module's private names. The tests mirror the package (tests/core for
rnnkit.core, ...) and never skip for want of one of rnnkit's own modules.

How imports are read. Every import statement anywhere in a module's body counts: at the
top, inside a function, under ``if TYPE_CHECKING:`` (a function-level import hides a
cycle, it does not remove one). ``from rnnkit.x import name`` imports the module
``rnnkit.x.name`` when that is a submodule, else the package ``rnnkit.x`` (its
``__init__``). Importing ``rnnkit.x.y`` does not count as importing the package
``rnnkit.x``, although Python runs that ``__init__`` first: every module is inside its
own package, so counting it would make every package a cycle.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
import itertools
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import pytest

import rnnkit

SRC = Path(rnnkit.__file__).parent
TESTS = Path(__file__).parent

#: subpackage -> the rnnkit subpackages it may import
ALLOWED = {
    "core": {"core"},
    "layers": {"core", "layers"},
    "training": {"core", "layers", "training", "data", "text", "io"},
    # MPI data parallelism: drives training's loop through its ParallelGroup protocol
    "distributed": {"core", "layers", "training", "data", "text", "io", "distributed"},
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
        "distributed",
        "exchange",
        "cli",
    },
    # exchange: networks leaving for ONNX, PyTorch and Keras files, and coming back
    "exchange": {"core", "layers", "models", "io", "exchange"},
    "text": {"text", "io"},
    "data": {"data", "text", "io"},
    # core: interop reads each cell's gate orders from its description (core.cells),
    # pure data that imports no layer
    "io": {"io", "core"},
    "metrics": {"metrics"},
    "viz": {"viz", "metrics", "io", "core", "layers"},  # beside training (DESIGN §1)
}
#: top-level modules every part may import; they import none of the parts
ANYWHERE = {"errors", "version"}

#: files at the top of tests/: helpers shared across folders, and this test
TEST_HELPERS = {
    "conftest.py",
    "reference.py",
    "hostile.py",
    "html_page.py",
    "tiny_models.py",
    "format_samples.py",
    "scripted.py",
    "data_parallel.py",
    "exported.py",
    "spelling.py",
    "test_architecture.py",
}
#: test folders named after no subpackage: the fuzz tests span every reader
TEST_FOLDERS_ACROSS = {"fuzz"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: every module of the package by dotted name (a package by its own name, for its __init__)
MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}
PACKAGES = sorted(name for name, path in MODULES.items() if path.name == "__init__.py")


@dataclass(frozen=True)
class Import:
    """One rnnkit module imported by another, and the name taken from it, if any."""

    importer: str
    module: str
    name: str | None  # `from module import name`, name not a submodule; else None
    line: int

    @property
    def edge(self) -> str:
        return f"{self.importer} -> {self.module}"

    @property
    def where(self) -> str:
        return f"{MODULES[self.importer].relative_to(SRC.parent.parent)}:{self.line}"


def _is_rnnkit(name: str) -> bool:
    return name == "rnnkit" or name.startswith("rnnkit.")


def _from_base(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports_of(importer: str) -> list[Import]:
    """Every rnnkit import anywhere in `importer`'s body, resolved to modules."""
    found = []
    for node in ast.walk(ast.parse(MODULES[importer].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                Import(importer, a.name, None, node.lineno)
                for a in node.names
                if _is_rnnkit(a.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(importer, node)
            if not _is_rnnkit(base):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append(
                    Import(importer, sub, None, node.lineno)
                    if sub in MODULES
                    else Import(importer, base, a.name, node.lineno)
                )
    return found


IMPORTS = [imp for module in MODULES for imp in _imports_of(module)]


def _part(module: str) -> str:
    """The first-level name under rnnkit (``rnnkit`` itself for the top-level package)."""
    return module.split(".")[1] if module != "rnnkit" else "rnnkit"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_point_downward(part: str) -> None:
    bad = [
        f"{imp.importer} imports {imp.module} ({imp.where})"
        for imp in IMPORTS
        if _part(imp.importer) == part and _part(imp.module) not in ALLOWED[part] | ANYWHERE
    ]
    allowed = ", ".join(sorted(ALLOWED[part] | ANYWHERE))
    assert not bad, f"rnnkit.{part} may import only {allowed} (layering):\n" + "\n".join(bad)


def test_modules_imported_anywhere_import_no_part() -> None:
    bad = [
        f"{imp.importer} imports {imp.module} ({imp.where})"
        for imp in IMPORTS
        if _part(imp.importer) in ANYWHERE and _part(imp.module) not in ANYWHERE
    ]
    assert not bad, "every part imports errors and version, so they import none:\n" + "\n".join(bad)


def test_every_subpackage_is_covered() -> None:
    parts = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == set(ALLOWED)


def _node(package: str, module: str) -> str | None:
    """What stands for `module` in `package`'s graph: the package's own ``__init__``, or
    the child (module or subpackage) holding it; None for a module outside `package`."""
    if module == package:
        return package
    if not module.startswith(f"{package}."):
        return None
    return f"{package}.{module[len(package) + 1 :].split('.')[0]}"


def _graph(package: str) -> dict[str, dict[str, list[Import]]]:
    """`package`'s children and the imports between them."""
    edges: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for imp in IMPORTS:
        a, b = _node(package, imp.importer), _node(package, imp.module)
        if a and b and a != b and imp.module in MODULES:
            edges[a][b].append(imp)
    return edges


def _path(edges: dict[str, dict[str, list[Import]]], start: str, goal: str) -> list[str] | None:
    """The shortest chain of imports start -> ... -> goal, or None."""
    before: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges.get(node, {})):
            if nxt not in before:
                before[nxt] = node
                if nxt == goal:
                    chain = [goal]
                    while chain[-1] != start or len(chain) == 1:
                        chain.append(before[chain[-1]])
                    return chain[::-1]
                queue.append(nxt)
    return None


def _cycles(package: str) -> list[str]:
    """One shortest cycle for each tangle (modules that all reach each other) between
    `package`'s children, as text naming the import behind each step."""
    edges = _graph(package)
    covered: set[str] = set()
    found = []
    for start in sorted(edges):
        chain = _path(edges, start, start)
        if start in covered or chain is None:
            continue
        tangle = {n for n in edges if _path(edges, start, n) and _path(edges, n, start)}
        covered |= tangle
        steps = [f"{a} -> {b} ({edges[a][b][0].where})" for a, b in itertools.pairwise(chain)]
        if len(tangle) > len(chain) - 1:
            steps.append(f"(one of the cycles among {', '.join(sorted(tangle))})")
        found.append("\n  ".join(steps))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles_inside_a_package(package: str) -> None:
    """No cycle between the children of `package`: its modules, its subpackages (each
    standing for every module in it) and its own ``__init__``.

    An ``__init__`` importing its own submodules, to re-export them, is not a cycle by
    itself; a submodule importing its own package's ``__init__`` is one (that
    ``__init__`` imports the submodule), and so are two subpackages importing each other.
    Checked for every package, the top one included, this means no cycle anywhere in the
    module graph.
    """
    cycles = _cycles(package)
    assert not cycles, f"import cycles inside {package}:\n  " + "\n\n  ".join(cycles)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_owner(module: str) -> str | None:
    """The package a private module (``rnnkit.x._y``) belongs to, or None if public."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[:i])
    return None


def _private_uses(importer: str) -> list[str]:
    """Private names `importer` reads from other modules: imported, or as an attribute
    of a module it imported (``toy._step`` after ``from rnnkit.viz import toy``)."""
    tree = ast.parse(MODULES[importer].read_text(encoding="utf-8"))
    bound = {}  # local name -> the rnnkit module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _is_rnnkit(a.name):  # `import rnnkit.a.b` binds rnnkit, `... as m` binds m
                    bound[a.asname or "rnnkit"] = a.name if a.asname else "rnnkit"
        elif isinstance(node, ast.ImportFrom) and _is_rnnkit(base := _from_base(importer, node)):
            subs = {a.asname or a.name: f"{base}.{a.name}" for a in node.names}
            bound.update({k: v for k, v in subs.items() if v in MODULES})
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            dotted, value = [], node.value
            while isinstance(value, ast.Attribute):
                dotted.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                module = ".".join([bound[value.id], *dotted])
                if module in MODULES and module != importer:
                    uses.append(f"{importer} -> {module}.{node.attr}")
    return uses


def _private_imports() -> set[str]:
    found = {
        f"{imp.edge}.{imp.name}"
        for imp in IMPORTS
        if imp.name and _is_private(imp.name) and imp.module != imp.importer
    }
    for module in MODULES:
        found.update(_private_uses(module))
    for imp in IMPORTS:
        owner = _private_owner(imp.module)
        if owner is not None and _node(owner, imp.importer) is None:
            found.add(imp.edge)
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    """``from rnnkit.a.b import _x`` is for rnnkit.a.b alone, and a private module
    (``rnnkit.a._b``) for its own package: move a shared piece down into a module both
    can import, and make it public there."""
    bad = sorted(_private_imports())
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)


def test_tests_mirror_the_package() -> None:
    """Each test folder is named after the subpackage it tests (tests/layers for
    rnnkit.layers, ...); only shared helpers lie at the top of tests/."""
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    stray = sorted(folders - set(ALLOWED) - TEST_FOLDERS_ACROSS)
    assert not stray, f"tests/{stray}: no rnnkit subpackage of that name"
    loose = sorted(p.name for p in TESTS.glob("test_*.py") if p.name not in TEST_HELPERS)
    assert not loose, f"tests/{loose}: move into the folder of the subpackage they test"


def test_no_test_skips_for_want_of_rnnkit_itself() -> None:
    """``pytest.importorskip`` is for optional libraries (torch, keras): a test that
    skipped when one of rnnkit's own modules failed to import would hide the failure."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip"
                and node.args
                and not (
                    isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and not _is_rnnkit(node.args[0].value)
                )
            ):
                found.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not found, "importorskip of rnnkit's own modules (or of a computed name):\n" + (
        "\n".join(found)
    )


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
