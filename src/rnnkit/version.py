"""rnnkit's version, in a module of its own so that any part of the package can read it.

The lowest layers (``io`` writes it into every model directory) cannot import the
top-level package, which imports them; ``pyproject.toml`` reads the version from here
too (``[tool.setuptools.dynamic]``), so it is written once.

>>> __version__
'0.1.0'
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
