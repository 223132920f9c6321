"""Models that leave rnnkit and come back: ONNX, PyTorch and Keras files.

- :func:`export_onnx`: a graph of ONNX's own RNN, LSTM and GRU operators, with the
  vocabulary and labels in its metadata, for ONNX Runtime.

Every path is checked by running the other side in the tests.
"""

from rnnkit.exchange.keras_files import export_keras, import_keras, keras_model
from rnnkit.exchange.onnx_export import export_onnx, onnx_model
from rnnkit.exchange.portable import Portable, portable
from rnnkit.exchange.torch_files import export_torch, import_torch

__all__ = [
    "Portable",
    "export_keras",
    "export_onnx",
    "export_torch",
    "import_keras",
    "import_torch",
    "keras_model",
    "onnx_model",
    "portable",
]
