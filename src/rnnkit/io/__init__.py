"""Reading and writing models: safetensors weights, JSON configs, atomic files.

A trained model is a directory (see :mod:`rnnkit.io.model_dir`): ``config.json``,
``weights.safetensors`` and, when the model reads text, ``vocab.json``. Every file is
written to a temporary name and renamed, so a crash leaves the old file whole, and
nothing is ever unpickled, so loading a model never executes code. This package knows
nothing of layers or models; :mod:`rnnkit.models` turns what it reads into a network.

>>> import tempfile
>>> import numpy as np
>>> from rnnkit.io import load_model_dir, save_model_dir
>>> rng = np.random.default_rng(0)
>>> weights = {"rnn.U": rng.normal(size=(5, 3)), "rnn.W": rng.normal(size=(3, 3))}
>>> config = {"task": "classify", "architecture": {"cell": "rnn", "units": 3}}
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = save_model_dir(tmp, config=config, weights=weights, vocab={"tokens": ["movie"]})
...     model = load_model_dir(tmp)
>>> model.config["format"], model.config["version"], model.config["files"]
('rnnkit-model', 1, ['weights.safetensors', 'vocab.json'])
>>> all(np.array_equal(model.weights[name], weights[name]) for name in weights)
True
>>> model.vocab
{'tokens': ['movie']}
"""

from rnnkit.io.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    json_safe,
    read_json,
)
from rnnkit.io.model_dir import (
    CONFIG_FILE,
    FORMAT,
    VERSION,
    VOCAB_FILE,
    WEIGHTS_FILE,
    ModelFiles,
    load_model_dir,
    read_config,
    save_model_dir,
)
from rnnkit.io.weights import (
    decode_weights,
    encode_weights,
    expect_shapes,
    load_weights,
    read_weights_metadata,
    save_weights,
)

__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "VERSION",
    "VOCAB_FILE",
    "WEIGHTS_FILE",
    "ModelFiles",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "decode_weights",
    "encode_weights",
    "expect_shapes",
    "json_safe",
    "load_model_dir",
    "load_weights",
    "read_config",
    "read_json",
    "read_weights_metadata",
    "save_model_dir",
    "save_weights",
]
