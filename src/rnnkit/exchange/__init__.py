"""Models that leave rnnkit and come back: ONNX, PyTorch and Keras files.

Every task model whose inference is one pass (classify, tag, lm, the frame models)
leaves as a file another framework runs, with its vocabulary, labels and scalings
beside the weights (:mod:`~rnnkit.exchange.portable`):

- :func:`export_onnx`: a graph of ONNX's own RNN, LSTM and GRU operators for ONNX
  Runtime (:mod:`~rnnkit.exchange.onnx_export`, :mod:`~rnnkit.exchange.onnx_graph`);
- :func:`export_torch`: a safetensors ``state_dict`` under PyTorch's names, which
  :mod:`rnnkit.exchange.torch_module` (torch and safetensors only) loads as an
  ``nn.Module``; :func:`import_torch` writes the model directory again;
- :func:`export_keras`: a ``.keras`` file for ``keras.saving.load_model``;
  :func:`import_keras` writes the model directory again.

The modules PyTorch and Keras build are read off the network by
:func:`~rnnkit.exchange.stack.stack_of`. What has no counterpart is refused in one
line naming it. Every path is checked by running the other side in the tests.

>>> sorted(name for name in __all__ if name.startswith(("export", "import")))
['export_keras', 'export_onnx', 'export_torch', 'import_keras', 'import_torch']
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
