"""What leaves rnnkit with a network: the layers other frameworks have, and the files
that tell a user how to feed it.

Every task model whose inference is one pass through a :class:`~rnnkit.models.Sequential`
can leave: the classifiers (text and frames), the taggers, the frame regressor and the
language model (its next-token distribution at every step). What it reads and writes
travels beside it: the model directory's ``vocab.json`` (tokens and labels) and any
further JSON file (``features.json``: the feature names, their scaling, and the
regressor's targets and their scaling), with the settings that say how text becomes
ids. A seq2seq model is two networks joined by attention and a search (greedy or beam)
that feeds each output back in, not one pass: it leaves for ONNX only, as two graphs
(:mod:`rnnkit.exchange.onnx_seq2seq`).

Anything without a counterpart is refused in one line that names it
(:class:`~rnnkit.errors.ConfigError`):

>>> from rnnkit.layers import TimeDistributed, Dense
>>> check_layers([TimeDistributed(Dense(2))], "ONNX")
Traceback (most recent call last):
...
rnnkit.errors.ConfigError: cannot export to ONNX: layer TimeDistributed has no counterpart there
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from rnnkit.core.crf import constrain
from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.io import ModelFiles, load_model_dir, save_model_dir
from rnnkit.layers import (
    CRF,
    Bidirectional,
    CharEncoder,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    OneHot,
    WordCharEmbedding,
)
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.layers.registry import layer_from_config
from rnnkit.models import (
    BagOfWordsClassifier,
    FrameRegressor,
    Seq2Seq,
    Sequential,
    load_model,
)
from rnnkit.models.persist import SIZE_KEYS, nested_items

__all__ = [
    "EXTRAS",
    "Portable",
    "check_layers",
    "directory_metadata",
    "network_from_record",
    "portable",
    "require",
    "save_imported",
]

#: the layers every exporter handles (CRF: as emission scores and its transitions;
#: WordCharEmbedding: a recurrent character encoder is checked as a recurrent layer,
#: a CharCNN is a convolution and a masked max everywhere)
SUPPORTED = (
    Embedding,
    OneHot,
    Dropout,
    RecurrentLayer,
    Bidirectional,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Dense,
    CRF,
)
#: the activations each framework's recurrent layers share with rnnkit
ACTIVATIONS = ("tanh", "relu", "sigmoid")
#: the settings that say how text becomes ids (max_word_chars: characters per word)
TOKENIZER = ("level", "lower", "char_features", "max_word_chars", "source_level", "target_level")
#: the pip extra that brings each optional module
EXTRAS = {"onnx": "onnx", "onnx.numpy_helper": "onnx", "keras": "keras", "torch": "torch"}


def require(module: str) -> ModuleType:
    """Import an optional module, or say in one line which extra brings it.

    Keras runs on the PyTorch backend unless ``KERAS_BACKEND`` names another: the
    keras extra brings PyTorch, not TensorFlow.
    """
    if module == "keras" and "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module, module)
        raise ConfigError(f"{module} is not installed: pip install 'rnnkit[{extra}]'") from None


@dataclass(frozen=True)
class Portable:
    """A trained network and what a user of another framework needs to run it.

    Attributes
    ----------
    task : str
        "classify", "tag", "lm" or "regress".
    network : Sequential
        The layers, in order.
    inputs : {"ids", "frames"}
        Token ids (B, T) or real-valued frames (B, T, F).
    input_scaling : (mean, std) of (F,) arrays, or None
        Frames are standardised, (x - mean) / std, before the first layer.
    output_scaling : (mean, std) of (k,) arrays, or None
        The regressor's outputs go back to the targets' units, y std + mean.
    files : ModelFiles
        The model directory it came from (its config and JSON files travel along).
    """

    task: str
    network: Sequential
    inputs: str
    input_scaling: tuple[np.ndarray, np.ndarray] | None
    output_scaling: tuple[np.ndarray, np.ndarray] | None
    files: ModelFiles

    @property
    def per_step(self) -> bool:
        """Whether the network gives an output at every step (B, T, k)."""
        return bool(self.network.output_spec.time)

    @property
    def crf(self) -> CRF | None:
        """The final CRF layer, or None."""
        out = self.network.output_layer
        return out if isinstance(out, CRF) else None

    def crf_scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The CRF's transitions (K, K), start and end (K,) as its Viterbi uses them:
        -inf where the tagging scheme forbids (O then I-X in BIO); None without a CRF."""
        crf = self.crf
        if crf is None:
            return None
        return constrain(crf.params["A"], crf.params["start"], crf.params["end"], crf.constraints)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready: what the inputs and outputs mean, and the model directory's JSON.

        ``config`` is the directory's ``config.json`` (less its file list and digests),
        ``vocab`` its ``vocab.json``, ``files`` its further JSON files by name: enough
        to write the model directory again (``rnnkit import``).
        """
        settings = self.files.config.get("training", {}).get("settings", {})
        return {
            "task": self.task,
            "inputs": self.inputs,
            "per_step": self.per_step,
            "tokenizer": {k: settings[k] for k in TOKENIZER if k in settings},
            **directory_metadata(self.files),
        }


def directory_metadata(files: ModelFiles) -> dict[str, Any]:
    """A model directory's JSON, ready to travel: ``config`` (less its file list and
    digests), ``vocab`` (vocab.json) and ``files`` (the further JSON files by name)."""
    config = {k: v for k, v in files.config.items() if k not in ("files", "sha256")}
    return {"vocab": files.vocab, "files": files.extra, "config": config}


def portable(directory: str | os.PathLike[str], target: str) -> Portable:
    """Load a model directory and check that every layer has a counterpart in `target`.

    ConfigError in one line for a task or layer that cannot leave (seq2seq: two
    networks and a search; the bag-of-words baseline: not a network).
    """
    model = load_model(directory)
    files = load_model_dir(directory)
    if isinstance(model, Seq2Seq):
        raise ConfigError(
            f"cannot export to {target}: a seq2seq model is two networks and a search "
            "(beam or greedy) that feeds each output back in; --format onnx writes its "
            "encoder and one decoder step as two graphs"
        )
    if isinstance(model, BagOfWordsClassifier):
        raise ConfigError(f"cannot export to {target}: the bag-of-words baseline is not a network")
    network = model.model_
    check_layers(network.layers, target)
    scaler = getattr(model, "scaler_", None)
    target_scaler = model.target_scaler_ if isinstance(model, FrameRegressor) else None
    return Portable(
        task=model.task,
        network=network,
        inputs="frames" if network.input_dim is not None else "ids",
        input_scaling=None if scaler is None else (scaler.mean, scaler.std),
        output_scaling=None if target_scaler is None else (target_scaler.mean, target_scaler.std),
        files=files,
    )


def check_layers(layers: list[Layer], target: str) -> None:
    """ConfigError naming the first layer (or setting) `target` has no counterpart for."""
    for layer in layers:
        if isinstance(layer, WordCharEmbedding):
            if isinstance(layer.chars, CharEncoder):  # a CharCNN has no setting to refuse
                check_layers([layer.chars.rnn], target)  # the encoder's
            continue
        if not isinstance(layer, SUPPORTED):
            raise ConfigError(
                f"cannot export to {target}: layer {type(layer).__name__} has no counterpart there"
            )
        if isinstance(layer, Bidirectional) and (
            layer.merge_mode != "concat" or layer.concat_input
        ):
            raise ConfigError(
                f"cannot export to {target}: {layer.name} merges its directions with "
                f"merge_mode={layer.merge_mode!r}, concat_input={layer.concat_input}; "
                "only 'concat' has a counterpart"
            )
        rnn = layer.forward_layer if isinstance(layer, Bidirectional) else layer
        if isinstance(rnn, RecurrentLayer):
            _check_recurrent(rnn, target)


def _check_recurrent(rnn: RecurrentLayer, target: str) -> None:
    activation = rnn.activation
    gate = getattr(rnn, "recurrent_activation", "sigmoid")
    if activation not in ACTIVATIONS or gate != "sigmoid":
        raise ConfigError(
            f"cannot export to {target}: {rnn.name} uses activation={activation!r}, "
            f"recurrent_activation={gate!r}; give one of {', '.join(ACTIVATIONS)} and sigmoid"
        )
    if target == "PyTorch" and rnn.cell.name != "rnn" and activation != "tanh":
        raise ConfigError(
            f"cannot export to {target}: {rnn.name} is a {rnn.cell.name} with "
            f"activation={activation!r}; nn.{rnn.cell.torch} has tanh only"
        )
    if rnn.return_state:
        raise ConfigError(f"cannot export to {target}: {rnn.name} returns its states")


def network_from_record(record: str, largest: int, path: Path) -> tuple[dict[str, Any], Sequential]:
    """The metadata an exported file carries (JSON text) and the untrained network it
    describes; ModelFileError naming `path` if it describes none.

    `largest` is the largest dimension of the file's tensors: a size in the
    architecture beyond it is refused before anything is built (building allocates
    every parameter, so a size of 2**40 would ask for terabytes first).
    """
    try:
        meta = json.loads(record)
        config = meta["config"]
        arch = config["architecture"]
        for key, value in nested_items(arch):
            if key in SIZE_KEYS and value is not None and not 0 < int(value) <= largest:
                raise ValueError(f"{key}={value!r}: no tensor in the file is that large")
        layers = [layer_from_config(spec) for spec in arch["layers"]]
        network = Sequential(layers, input_dim=arch.get("input_dim"), seed=arch.get("seed", 0))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = exc.args[0] if exc.args else type(exc).__name__
        raise ModelFileError(
            f"{path}: the 'rnnkit' metadata does not describe a network ({detail})"
        ) from None
    return meta, network


def save_imported(meta: dict[str, Any], network: Sequential, out: str | os.PathLike[str]) -> Path:
    """Write the model directory of an imported network, then open it as a check."""
    save_model_dir(
        out,
        config=meta["config"],
        weights=network.named_weights(),
        vocab=meta.get("vocab"),
        extra_json=meta.get("files") or {},
    )
    load_model(out)  # the directory opens as the task model it was
    return Path(out)
