"""``rnnkit export DIR --format onnx|torch|keras --out PATH``: a file another framework runs.

- ``onnx``: a graph of ONNX's RNN, LSTM and GRU operators for ONNX Runtime, the
  vocabulary and labels in its metadata (extra ``rnnkit[onnx]``); a seq2seq model as
  two graphs, its encoder and one decoder step;
- ``torch``: a safetensors file of ``state_dict`` names, which
  :mod:`rnnkit.exchange.torch_module` turns into a ``torch.nn.Module``;
- ``keras``: a ``.keras`` file that ``keras.saving.load_model`` opens (extra
  ``rnnkit[keras]``).

A layer or task with no counterpart is refused in one line that names it.
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnkit.exchange import export_keras, export_onnx, export_torch

__all__ = ["FORMATS", "add_parser", "run"]

#: format name -> the function that writes it from a model directory
FORMATS = {"onnx": export_onnx, "torch": export_torch, "keras": export_keras}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``export`` verb."""
    p = sub.add_parser("export", help="write a model as an ONNX, PyTorch or Keras file")
    p.add_argument("model_dir", help="a model directory written by rnnkit train")
    p.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        dest="fmt",
        help="onnx (for ONNX Runtime), torch (a safetensors state_dict) or keras (.keras)",
    )
    p.add_argument("--out", required=True, help="the file to write (.onnx, .safetensors, .keras)")
    return p


def run(args: argparse.Namespace) -> int:
    """Write the file and say where."""
    written = FORMATS[args.fmt](args.model_dir, args.out)
    for path in written if isinstance(written, list) else [written]:
        print(f"wrote {path} ({args.fmt})")
    return 0
