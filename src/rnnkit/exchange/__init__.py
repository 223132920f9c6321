"""Models that leave rnnkit and come back: ONNX, PyTorch and Keras files.

- :func:`export_onnx`: a graph of ONNX's own RNN, LSTM and GRU operators, with the
  vocabulary and labels in its metadata, for ONNX Runtime.

Every path is checked by running the other side in the tests.
"""

from rnnkit.exchange.onnx_export import export_onnx, onnx_model
from rnnkit.exchange.portable import Portable, portable
from rnnkit.exchange.torch_files import export_torch, import_torch

__all__ = ["Portable", "export_onnx", "export_torch", "import_torch", "onnx_model", "portable"]
