"""Recording the state gradients of a network's recurrent layers, one batch at a time.

:func:`rnnkit.viz.gradients.measure_gradients` reads a network through these helpers:
:func:`network_of` finds the network inside a task model, :func:`recurrent_layers`
names its recurrent layers, and :func:`record_pass` runs one batch forward and
backward with every recurrent layer's cache set to record (see
``RecurrentLayer.record_state_gradients``). Each layer gives one entry per state it
keeps: dL/dh_t under the layer's name, and for an LSTM also dL/dc_t, the gradient on
the cell state's own path, under the name with :data:`CELL_SUFFIX` appended. A
bidirectional layer gives the entries of both copies, " forward" and " backward".

>>> import numpy as np
>>> from rnnkit import LSTM, Bidirectional, Dense, Sequential
>>> from rnnkit.training import SequenceDataset
>>> net = Sequential([Bidirectional(LSTM(3)), Dense(1, "sigmoid")], input_dim=2, seed=0)
>>> net = net.compile("sgd", "binary_crossentropy")
>>> rng = np.random.default_rng(0)
>>> batch = SequenceDataset(list(rng.normal(size=(4, 5, 2))), [0, 1, 1, 0]).batch(np.arange(4))
>>> loss, records = record_pass(net, batch, "sequence_mean", recurrent_layers(net))
>>> [(name, dh.shape) for name, dh, _, _ in records]   # doctest: +NORMALIZE_WHITESPACE
[('layer 1 (bidirectional) forward', (4, 5, 3)),
 ('layer 1 (bidirectional) forward c', (4, 5, 3)),
 ('layer 1 (bidirectional) backward', (4, 5, 3)),
 ('layer 1 (bidirectional) backward c', (4, 5, 3))]
>>> net.zero_grad()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from rnnkit.errors import ConfigError

__all__ = ["CELL_SUFFIX", "loss_gradient", "network_of", "record_pass", "recurrent_layers"]

Array = np.ndarray
#: appended to a layer's entry name for its dL/dc_t (an LSTM's cell state)
CELL_SUFFIX = " c"


# -- the network: duck-typed, since viz sits beside the network code, not above it -----
def network_of(model: Any) -> tuple[Any, str, float | None]:
    """The network inside `model`, training's loss reduction, and the clip norm."""
    net = getattr(model, "model_", model)
    if not hasattr(net, "param_slots") or not hasattr(net, "backward"):
        what = "a fitted recurrent model, a compiled Sequential or an EncoderDecoder"
        raise ConfigError(f"a {type(model).__name__} has no gradients through time: give {what}")
    if not hasattr(net, "encoder") and getattr(net, "loss", None) is None:
        raise ConfigError("compile the network (choose its loss) before measuring its gradients")
    settings = getattr(model, "settings", {}) if net is not model else {}
    if getattr(model, "task", None) == "lm":
        reduction = "token_mean"  # what a language model trains with
    else:
        reduction = settings.get("reduction", getattr(net, "reduction", "sequence_mean"))
    clip = settings.get("clip_norm", getattr(net, "fit_defaults", {}).get("clip_norm"))
    return net, reduction, clip


def recurrent_layers(net: Any) -> list[tuple[str, Any, str | None]]:
    """(name, layer, why every step feeds the loss directly, or None) per recurrent layer."""
    if hasattr(net, "encoder"):  # an encoder-decoder
        why = "attention" if net.attention is not None else None
        found = [(l, why) for l in net.encoder if hasattr(l, "record_state_gradients")]
        found += [(l, "per-step outputs") for l in net.dec_rnns]
    else:
        rnns = [l for l in net.layers if hasattr(l, "record_state_gradients")]
        after = net.layers[net.layers.index(rnns[-1]) + 1 :] if rnns else []
        why = "per-step outputs" if net.output_spec.time else None
        why = "pooling" if any("pooling" in l.kind for l in after) else why
        found = [(l, why if rnns[-1].return_sequences else None) for l in rnns]
    if not found:
        raise ConfigError("the network has no recurrent layer: no gradient through time")
    return [(f"layer {i} ({l.name})", l, why) for i, (l, why) in enumerate(found, 1)]


def record_pass(net: Any, batch: Any, reduction: str, layers: list) -> tuple[float, list]:
    """One batch forward (dropout off) and backward, adding into the parameters' grads.

    Returns the batch's loss and, per layer, direction and state, (name, grad (B, T, d),
    lengths (B,), why): grad holds dL/dh_t (or dL/dc_t) as the layer's backward
    recorded it.
    """
    if hasattr(net, "encoder"):
        logits, _, cache = net.forward(batch.x, batch.mask, batch.y_in, batch.y_mask, False)
        records = _record(net.encoder, cache.encoder, layers, batch.lengths)
        records += _record(net.decoder, cache.decoder, layers, np.sum(batch.y_mask, axis=1))
        loss, mask = "sparse_categorical_crossentropy", batch.y_mask
    else:
        logits, cache = net.forward(batch.x, batch.mask, training=False, logits=True)
        records = _record(net.layers, cache, layers, batch.lengths)
        loss, mask = net.loss, batch.mask if net.output_spec.time else None
    if loss == "crf":  # a final CRF is its own loss; it adds its transitions' gradients too
        value, dlogits = net.output_layer.loss(logits, batch.y, mask, reduction=reduction)
    else:
        value, dlogits = loss_gradient(loss, logits, batch.y, mask, reduction)
    net.backward(dlogits, cache)
    return value, records


def _record(layers: list, caches: list, recurrent: list, lengths: Array) -> list:
    """Swap each recurrent layer's cache in `caches` for one that records its states'
    gradients; one (name, grad, lengths, why) per direction and state."""
    out = []
    for name, layer, why in recurrent:
        if layer in layers:
            i = layers.index(layer)
            caches[i], grads = layer.record_state_gradients(caches[i])
            sides = grads if "h" not in grads else {"": grads}  # bidirectional: two copies
            for side, states in sides.items():
                stem = f"{name} {side}" if side else name
                out += [(_entry(stem, s), g, lengths, why) for s, g in states.items()]
    return out


def _entry(stem: str, state: str) -> str:
    """The entry's name: the layer's for h, followed by the state's name for another
    state (:data:`CELL_SUFFIX` for the LSTM's c)."""
    return stem if state == "h" else f"{stem} {state}"


def loss_gradient(
    loss: str, logits: Array, y: Array, mask: Array | None, reduction: str
) -> tuple[float, Array]:
    """The training loss and dL/dlogits, from the losses the models train with."""
    if loss == "binary_crossentropy":
        value, dz = sigmoid_binary_cross_entropy(logits[..., 0], np.asarray(y), mask, reduction)
        return value, dz[..., None]
    if loss == "sparse_categorical_crossentropy":
        return softmax_cross_entropy(logits, np.asarray(y, dtype=np.int64), mask, reduction)
    if loss == "mse":
        return mse(logits, np.asarray(y), mask, reduction)
    raise ConfigError(f"loss={loss!r}: no gradient through time for this loss")
