"""``rnnkit import FILE --out DIR``: a PyTorch or Keras file written by ``rnnkit export``,
as a model directory again.

``FILE`` is a ``.safetensors`` file of PyTorch ``state_dict`` names (``--format torch``)
or a ``.keras`` file (``--format keras``); its metadata gives the architecture, the
vocabulary and the labels. The directory is opened as a model before the command
says it is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError
from rnnkit.exchange import import_keras, import_torch

__all__ = ["VERB", "add_parser", "run"]

#: the verb's name (``import`` is a Python keyword, so the module cannot be called so)
VERB = "import"

#: file name ending -> the function that reads it
READERS = {".safetensors": import_torch, ".keras": import_keras}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``import`` verb."""
    p = sub.add_parser(VERB, help="turn an exported PyTorch or Keras file into a model directory")
    p.add_argument("file", help="a .safetensors (PyTorch) or .keras file written by rnnkit export")
    p.add_argument("--out", required=True, help="the model directory to write")
    return p


def run(args: argparse.Namespace) -> int:
    """Write the model directory and say where."""
    path = Path(args.file)
    reader = READERS.get(path.suffix)
    if reader is None:
        raise ConfigError(f"{path}: give a .safetensors (PyTorch) or .keras file")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    out = reader(path, args.out)
    print(f"wrote {out}")
    return 0
