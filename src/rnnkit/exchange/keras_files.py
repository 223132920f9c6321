"""Keras files: a network as a ``.keras`` file that ``keras.saving.load_model`` opens, and back.

rnnkit's parameters are already in Keras's layout (DESIGN §4: U is ``kernel``, W
``recurrent_kernel``, b ``bias``, the GRU's two bias rows are ``reset_after=True``),
so each layer's ``get_weights()`` list is its rnnkit arrays unchanged, and the round
trip through a ``.keras`` file is bit-identical. Each Keras layer keeps its rnnkit
name.

============================  ============================================================
rnnkit                        Keras 3
============================  ============================================================
Embedding                     ``Embedding(N, e, mask_zero=True)``: id 0 (``<pad>``) masks
OneHot                        ``Embedding(N, N, mask_zero=True)`` holding the identity
frames, standardised          ``Masking(0.0)`` then ``Normalization(mean, variance)``
SimpleRNN / LSTM / GRU        ``SimpleRNN`` / ``LSTM`` / ``GRU(reset_after=True)``
Bidirectional (concat)        ``Bidirectional(merge_mode="concat")``
mean pooling                  ``GlobalAveragePooling1D`` (honours the mask)
max pooling                   ``GlobalMaxPooling1D`` (ignores the mask; see below)
Dense                         ``Dense``
regression targets' units     ``Rescaling(scale=std, offset=mean)``
WordCharEmbedding             inputs ``ids`` (B, T) and ``chars`` (B, T, L); ``Embedding``
                              of each, ``mask_zero=True``; ``TimeDistributed`` over the
                              words of a ``Bidirectional`` character layer (its final
                              states); ``Concatenate``
CharCNN                       ``TimeDistributed(Conv1D(F, k, padding="same"))`` over the
                              character embeddings, pads zeroed, and a max over the real
                              characters (below)
============================  ============================================================

A tagger with character features has two inputs: ``ids``, each word's id, and
``chars``, its character ids (0 after the last), the columns 0 and 1 .. L of rnnkit's
(B, T, 1 + L) input. A word of no characters is all mask to the character layer,
whose states stay zero: the features rnnkit gives it. The three layers keep names
derived from rnnkit's layer (``<name>_words``, ``<name>_char_embedding``,
``<name>_char_rnn``), the ``Concatenate`` its own name.

A character CNN (``<name>_char_conv``) reads characters without a mask (``Conv1D``
has none): a constant one-column ``Embedding`` (``<name>_char_real``, 0 for ``<pad>``,
1 for a character) zeroes the pads' embeddings before the convolution, ``Rescaling``
turns it into -1e30 at pads before ``GlobalMaxPooling1D`` (a pad never wins), and its
own max over the word multiplies the result (a word of no characters gets zeros).
``Masking(0.0)`` masks the pad slots of the features, since ``Concatenate`` keeps a
step any input keeps. All built in: ``keras.saving.load_model`` needs no rnnkit.

Masking differs. rnnkit and ONNX Runtime output zeros at padded steps. Keras 3 (3.15
on the torch backend, checked in the tests) carries the previous output through the
masked steps of a one-direction layer with ``return_sequences``, and writes zeros
there in a ``Bidirectional`` one; the real steps agree either way. So per-step
outputs agree on real steps only, and ``GlobalMaxPooling1D``, which ignores the mask,
agrees with rnnkit after a one-direction layer (the carried copies of the last output
change no maximum) but not after a bidirectional one (its zeros could): that
combination is refused. A frame whose features are all exactly 0 is a pad to
``Masking``.

The file is the zip Keras writes, with one more entry, ``rnnkit.json``: the model
directory's config and JSON files (the vocabulary and labels), which Keras ignores
and ``rnnkit import model.keras --out DIR`` reads to write the model directory again.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, ModelFileError
from rnnkit.exchange.portable import (
    Portable,
    network_from_record,
    portable,
    require,
    save_imported,
)
from rnnkit.exchange.stack import Stack, stack_of
from rnnkit.layers import CRF, Bidirectional, CharCNN, CharEncoder, Layer, WordCharEmbedding

__all__ = ["RNNKIT_ENTRY", "export_keras", "import_keras", "keras_model"]

#: the entry of the .keras zip that carries the model directory's JSON
RNNKIT_ENTRY = "rnnkit.json"
#: what a pad position of a character CNN's outputs gets before the max: below any
#: filter's output, yet finite (0 times it is 0 for a word of no characters)
PAD_SCORE = -1e30


def keras_model(model: Portable) -> Any:
    """A ``keras.Model`` with the network's layers and weights (Keras 3)."""
    keras = require("keras")
    stack = _keras_stack(model)
    dtype = model.network.layers[-1].dtype.name
    L = keras.layers
    if model.inputs == "frames":
        F = int(model.network.input_dim or 0)
        inp = keras.Input((None, F), dtype=dtype, name="frames")
        x = L.Masking(0.0, name="masking")(inp)
        if model.input_scaling is not None:
            mean, std = model.input_scaling
            x = L.Normalization(
                mean=mean.tolist(), variance=(std**2).tolist(), name="standardize", dtype=dtype
            )(x)
    else:
        inp = keras.Input((None,), dtype="int32", name="ids")
        x = inp
    inputs = [inp]
    for layer in model.network.layers:
        if isinstance(layer, WordCharEmbedding):  # a second input: the words' characters
            inputs.append(keras.Input((None, None), dtype="int32", name="chars"))
            x = _word_chars(keras, layer, x, inputs[-1], dtype)
        elif _has_counterpart(layer):
            x = _keras_layer(keras, stack, layer, dtype)(x)
    if model.output_scaling is not None:
        mean, std = model.output_scaling
        x = L.Rescaling(scale=std.tolist(), offset=mean.tolist(), name="target_units", dtype=dtype)(
            x
        )
    return keras.Model(inputs if len(inputs) > 1 else inp, x, name=model.network.name)


def _keras_stack(model: Portable) -> Stack:
    """The stack, with the refusals particular to Keras."""
    stack = stack_of(model.network, "Keras")
    if stack.crf is not None:
        raise ConfigError("cannot export to Keras: layer CRF has no counterpart there")
    if stack.pooling == "max" and stack.directions == 2:
        raise ConfigError(
            "cannot export to Keras: max pooling after a bidirectional layer (Keras's "
            "GlobalMaxPooling1D ignores the mask, and its pads are zeros)"
        )
    return stack


def _has_counterpart(layer: Layer) -> bool:
    return type(layer).__name__ not in ("Dropout", "CRF")


def _char_layer_names(layer: WordCharEmbedding) -> tuple[str, str, str]:
    """The Keras names of the word embedding, the character embedding and the
    character layer, in the order of the layer's parameters."""
    reader = "char_conv" if isinstance(layer.chars, CharCNN) else "char_rnn"
    return f"{layer.name}_words", f"{layer.name}_char_embedding", f"{layer.name}_{reader}"


def _word_chars(keras: Any, layer: WordCharEmbedding, ids: Any, chars: Any, dtype: str) -> Any:
    """[word embedding ; character features] (B, T, e + w) from ids (B, T) and
    characters (B, T, L): ``Embedding`` on the characters, then ``TimeDistributed``
    over the words of a ``Bidirectional`` layer's final states (w = 2 u) or of a
    masked convolution and max (w = F, :func:`_char_cnn`).

    A word of no characters gets zeros, as rnnkit gives: all mask to the recurrent
    layer, whose states stay at zero; multiplied by 0 after the CNN's max.
    """
    L = keras.layers
    words_name, embedding_name, reader_name = _char_layer_names(layer)
    E = layer.words.params["E"]
    words = L.Embedding(E.shape[0], E.shape[1], mask_zero=True, name=words_name, dtype=dtype)
    enc = layer.chars
    C = enc.embedding.params["E"]
    recurrent = isinstance(enc, CharEncoder)  # a mask for the recurrent layer only
    char_embedding = L.Embedding(
        C.shape[0], C.shape[1], mask_zero=recurrent, name=embedding_name, dtype=dtype
    )
    e = words(ids)  # (B, T, e)
    if isinstance(enc, CharEncoder):
        rnn: Any = enc.rnn.forward_layer
        options = {"reset_after": rnn.reset_after} if rnn.cell.name == "gru" else {}
        cell = getattr(L, rnn.cell.keras)
        inner = cell(rnn.units, activation=rnn.activation, dtype=dtype, **options)
        both = L.Bidirectional(inner, merge_mode="concat", dtype=dtype)
        reader = L.TimeDistributed(both, name=reader_name, dtype=dtype)
        c = reader(char_embedding(chars))  # (B, T, 2 u)
        reader_weights = enc.rnn.get_weights()
    else:
        conv = L.Conv1D(enc.filters, enc.window, padding="same", dtype=dtype)
        reader = L.TimeDistributed(conv, name=reader_name, dtype=dtype)
        c = _char_cnn(keras, layer, reader, char_embedding(chars), chars, dtype)  # (B, T, F)
        reader_weights = [enc.params["W"], enc.params["b"]]  # Conv1D's kernel layout
    for keras_layer, weights in ((words, [E]), (char_embedding, [C]), (reader, reader_weights)):
        keras_layer.set_weights(weights)
    return L.Concatenate(name=layer.name, dtype=dtype)([e, c])


def _char_cnn(
    keras: Any, layer: WordCharEmbedding, conv: Any, e: Any, chars: Any, dtype: str
) -> Any:
    """Each filter's max over each word's real characters (B, T, F), from the
    embeddings `e` (B, T, L, c) and ids `chars` (B, T, L); zeros for a word of none."""
    L = keras.layers
    n = layer.chars.n_chars
    real = L.Embedding(n, 1, trainable=False, name=f"{layer.name}_char_real", dtype=dtype)
    is_char = real(chars)  # (B, T, L, 1): 1 at characters, 0 at pads
    real.set_weights([(np.arange(n) > 0).astype(dtype)[:, None]])
    z = conv(L.Multiply(dtype=dtype)([e, is_char]))  # (B, T, L, F), the pads read as zeros
    pad_scores = L.Rescaling(-PAD_SCORE, offset=PAD_SCORE, dtype=dtype)(is_char)  # 0 or -1e30
    top = L.TimeDistributed(L.GlobalMaxPooling1D(dtype=dtype), dtype=dtype)
    some = L.TimeDistributed(L.GlobalMaxPooling1D(dtype=dtype), dtype=dtype)
    best = top(L.Add(dtype=dtype)([z, pad_scores]))  # (B, T, F): a pad never wins
    c = L.Multiply(dtype=dtype)([best, some(is_char)])  # (B, T, 1): 0 for a word of none
    # Concatenate keeps a step when any input's mask does: without a mask of its own
    # (False at pad slots, whose features are zeros) the features would unmask every pad
    return L.Masking(0.0, dtype=dtype)(c)


def _keras_layer(keras: Any, stack: Stack, layer: Layer, dtype: str) -> Any:
    """The Keras layer of one rnnkit layer, its weights set, named as in rnnkit."""
    L, name = keras.layers, layer.name
    kind = type(layer).__name__
    if kind == "Embedding":
        E = layer.params["E"]
        out = L.Embedding(E.shape[0], E.shape[1], mask_zero=True, name=name, dtype=dtype)
        weights = [E]
    elif kind == "OneHot":
        n = int(layer.depth)  # type: ignore[attr-defined]
        out = L.Embedding(n, n, mask_zero=True, trainable=False, name=name, dtype=dtype)
        weights = [np.eye(n, dtype=dtype)]
    elif kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        pool = getattr(L, kind)(name=name, dtype=dtype)

        def quiet_pool(x: Any) -> Any:
            with warnings.catch_warnings():  # NOTE: the mask it drops: see the docstring
                warnings.filterwarnings("ignore", "Layer .* does not support masking")
                return pool(x)

        return quiet_pool
    elif kind == "Dense":
        out = L.Dense(layer.units, activation=layer.activation, name=name, dtype=dtype)  # type: ignore[attr-defined]
        weights = layer.get_weights()
    else:  # a recurrent layer, or Bidirectional around one
        rnn: Any = stack.directions_of(layer)[0]
        options = {"reset_after": rnn.reset_after} if rnn.cell.name == "gru" else {}
        cls = getattr(L, rnn.cell.keras)
        both = isinstance(layer, Bidirectional)
        inner = cls(
            rnn.units,
            activation=rnn.activation,
            return_sequences=rnn.return_sequences,
            dtype=dtype,
            name=None if both else name,
            **options,
        )
        out = L.Bidirectional(inner, merge_mode="concat", name=name, dtype=dtype) if both else inner
        weights = layer.get_weights()

    def build_and_set(x: Any) -> Any:
        y = out(x)
        out.set_weights(weights)
        return y

    return build_and_set


def export_keras(directory: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write the model directory's network as a ``.keras`` file; returns its path."""
    path = Path(out)
    if path.suffix != ".keras":
        raise ConfigError(f"{path}: a Keras file's name must end in .keras")
    model = portable(directory, "Keras")
    keras_model(model).save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(RNNKIT_ENTRY, json.dumps(model.metadata(), ensure_ascii=False))
    return path


def import_keras(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write the model directory of a ``.keras`` file :func:`export_keras` wrote.

    The weights come from Keras's own loading of the file, layer by layer by name; the
    architecture, vocabulary and labels from its ``rnnkit.json``. The directory is
    loaded back as a check before this returns.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            record = archive.read(RNNKIT_ENTRY).decode("utf-8")
    except KeyError:
        raise ModelFileError(
            f"{path}: no {RNNKIT_ENTRY} (the architecture, vocabulary and labels): write "
            "the file with rnnkit export --format keras"
        ) from None
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not a .keras file ({exc})") from None
    keras = require("keras")
    loaded = keras.saving.load_model(path)
    largest = max((d for w in loaded.weights for d in w.shape), default=0)
    meta, network = network_from_record(record, largest, path)
    for layer in network.layers:
        if not layer.params or isinstance(layer, CRF):
            continue
        names = _char_layer_names(layer) if isinstance(layer, WordCharEmbedding) else (layer.name,)
        weights = []
        for name in names:
            try:
                found = loaded.get_layer(name)
            except ValueError:
                raise ModelFileError(f"{path}: no Keras layer named {name!r}") from None
            weights += [np.asarray(keras.ops.convert_to_numpy(w)) for w in found.weights]
        layer.set_weights(weights)
    return save_imported(meta, network, out)
