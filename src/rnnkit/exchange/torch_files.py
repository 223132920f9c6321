"""PyTorch files: a network's ``state_dict`` as safetensors, and back to a model directory.

``rnnkit export DIR --format torch --out model.safetensors`` writes every parameter
under the name PyTorch's modules give it (:mod:`rnnkit.exchange.torch_module` builds
them), converted by :mod:`rnnkit.io.interop` for the recurrent layers (DESIGN §4):

=======================  ==================================  =========================
rnnkit                   PyTorch                             notes
=======================  ==================================  =========================
``embedding.E``          ``embedding.weight``                the same (N, e) array
``char_E``               ``char_embedding.weight``           character features
character layer: U, W,   ``char_rnn.weight_ih_l0``, ...      ``_l0_reverse``: backward
b                                                            direction
character CNN: W, b      ``char_conv.weight``, ``bias``      W (k, c, F) as nn.Conv1d's
                                                             (F, c, k)
recurrent layer k: U,    ``rnn.weight_ih_lk``, ...           ``_reverse``: backward
W, b                                                         direction
``dense.V``, ``c``       ``linear.weight`` = V.T, ``bias``
``crf.A``, start, end    ``crf.transitions``, ...            pytorch-crf's names
=======================  ==================================  =========================

The file's metadata holds ``torch_module`` (which modules to build) and ``rnnkit``
(the model directory's config and JSON files), so ``rnnkit import model.safetensors
--out DIR`` writes the model directory again, weights bit-identical: transposes and
gate blocks move, and a bias of zeros added back changes no bit. Weights trained in
PyTorch load the same way into a file of this form (the metadata says what the
network is).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ModelFileError
from rnnkit.exchange.portable import Portable, network_from_record, portable, save_imported
from rnnkit.exchange.stack import Stack, stack_of
from rnnkit.io import load_weights as read_safetensors
from rnnkit.io import read_weights_metadata, save_weights
from rnnkit.io.interop import from_torch, to_torch
from rnnkit.layers import CharCNN
from rnnkit.layers.recurrent import RecurrentLayer

__all__ = ["export_torch", "import_torch", "torch_module_spec", "torch_state_dict"]

Array = np.ndarray


def torch_state_dict(stack: Stack) -> dict[str, Array]:
    """The network's parameters under PyTorch's names (new arrays, their own dtype)."""
    sd: dict[str, Array] = {}
    if stack.embedding is not None:
        sd["embedding.weight"] = stack.embedding.params["E"].copy()
    if stack.chars is not None:
        sd["char_embedding.weight"] = stack.chars.embedding.params["E"].copy()
    if isinstance(stack.chars, CharCNN):  # W (k, c, F) -> nn.Conv1d's (F, c, k)
        sd["char_conv.weight"] = np.ascontiguousarray(stack.chars.params["W"].transpose(2, 1, 0))
        sd["char_conv.bias"] = stack.chars.params["b"].copy()
    elif stack.chars is not None:
        for j, rnn in enumerate(_char_directions(stack)):
            suffix = "_l0" + ("_reverse" if j else "")
            cell = rnn.cell.name
            sd.update({f"char_rnn.{n}": a for n, a in to_torch(cell, rnn.params, suffix).items()})
    for k, layer in enumerate(stack.recurrent):
        for j, rnn in enumerate(stack.directions_of(layer)):
            suffix = f"_l{k}" + ("_reverse" if j else "")
            sd.update({f"rnn.{n}": a for n, a in to_torch(stack.cell, rnn.params, suffix).items()})
    sd["linear.weight"] = np.ascontiguousarray(stack.dense.params["V"].T)
    sd["linear.bias"] = stack.dense.params["c"].copy()
    if stack.crf is not None:
        crf = stack.crf.params
        sd["crf.transitions"] = crf["A"].copy()
        sd["crf.start_transitions"] = crf["start"].copy()
        sd["crf.end_transitions"] = crf["end"].copy()
    return sd


def _char_directions(stack: Stack) -> list[RecurrentLayer]:
    """The character encoder's forward and backward recurrent layers."""
    assert stack.chars is not None and not isinstance(stack.chars, CharCNN)
    bi = stack.chars.rnn
    return [bi.forward_layer, bi.backward_layer]  # type: ignore[list-item]


def _load_state_dict(stack: Stack, sd: dict[str, Array], where: Path) -> None:
    """Copy a state_dict into the network's arrays (ModelFileError naming what is off)."""
    expected = torch_state_dict(stack)
    missing = sorted(set(expected) - set(sd))
    extra = sorted(set(sd) - set(expected))
    if missing or extra:
        raise ModelFileError(f"{where}: missing {missing or 'none'}, unexpected {extra or 'none'}")
    for name, want in expected.items():
        if sd[name].shape != want.shape or sd[name].dtype != want.dtype:
            raise ModelFileError(
                f"{where}: {name} is {sd[name].dtype} {sd[name].shape}, expected "
                f"{want.dtype} {want.shape}"
            )
    if stack.embedding is not None:
        np.copyto(stack.embedding.params["E"], sd["embedding.weight"])
    if stack.chars is not None:
        np.copyto(stack.chars.embedding.params["E"], sd["char_embedding.weight"])
    if isinstance(stack.chars, CharCNN):
        np.copyto(stack.chars.params["W"], sd["char_conv.weight"].transpose(2, 1, 0))
        np.copyto(stack.chars.params["b"], sd["char_conv.bias"])
    elif stack.chars is not None:
        char_sd = {n[len("char_rnn.") :]: a for n, a in sd.items() if n.startswith("char_rnn.")}
        for j, rnn in enumerate(_char_directions(stack)):
            suffix = "_l0" + ("_reverse" if j else "")
            for key, value in from_torch(rnn.cell.name, char_sd, suffix).items():
                np.copyto(rnn.params[key], value)
    rnn_sd = {n[len("rnn.") :]: a for n, a in sd.items() if n.startswith("rnn.")}
    for k, layer in enumerate(stack.recurrent):
        for j, rnn in enumerate(stack.directions_of(layer)):
            suffix = f"_l{k}" + ("_reverse" if j else "")
            for key, value in from_torch(stack.cell, rnn_sd, suffix).items():
                np.copyto(rnn.params[key], value)
    np.copyto(stack.dense.params["V"], sd["linear.weight"].T)
    np.copyto(stack.dense.params["c"], sd["linear.bias"])
    if stack.crf is not None:
        for key, name in (
            ("A", "transitions"),
            ("start", "start_transitions"),
            ("end", "end_transitions"),
        ):
            np.copyto(stack.crf.params[key], sd[f"crf.{name}"])


def torch_module_spec(model: Portable, stack: Stack) -> dict[str, Any]:
    """What :class:`~rnnkit.exchange.torch_module.RecurrentNet` builds (JSON-ready)."""
    spec = stack.config(model.inputs)
    crf = stack.crf
    if crf is not None and crf.constraints is not None:  # the scheme's allowed transitions
        keys = ("transitions", "start", "end")
        spec["crf_allowed"] = {
            key: np.asarray(ok).tolist() for key, ok in zip(keys, crf.constraints, strict=True)
        }
    scalings = {"input_scaling": model.input_scaling, "output_scaling": model.output_scaling}
    for name, scaling in scalings.items():
        spec[name] = (
            None if scaling is None else {"mean": scaling[0].tolist(), "std": scaling[1].tolist()}
        )
    return spec


def export_torch(directory: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write the model directory's network as a PyTorch safetensors file; its path."""
    model = portable(directory, "PyTorch")
    stack = stack_of(model.network, "PyTorch")
    metadata = {
        "torch_module": json.dumps(torch_module_spec(model, stack)),
        "rnnkit": json.dumps(model.metadata(), ensure_ascii=False),
    }
    path = Path(out)
    save_weights(path, torch_state_dict(stack), metadata=metadata)
    return path


def import_torch(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write the model directory of a file :func:`export_torch` wrote (or one of its form).

    The metadata's ``rnnkit`` entry gives the architecture, settings, vocabulary and
    JSON files; the tensors give the weights. The directory is loaded back as a
    check before this returns.
    """
    path = Path(path)
    record = read_weights_metadata(path).get("rnnkit")
    if record is None:
        raise ModelFileError(
            f"{path}: no 'rnnkit' metadata (the architecture, vocabulary and labels): "
            "write the file with rnnkit export --format torch, or copy that entry from one"
        )
    weights = read_safetensors(path)
    largest = max((d for a in weights.values() for d in a.shape), default=0)
    meta, network = network_from_record(record, largest, path)
    _load_state_dict(stack_of(network, "PyTorch"), weights, path)
    return save_imported(meta, network, out)
