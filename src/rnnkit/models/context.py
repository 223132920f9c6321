"""The context of an encoder-decoder: the encoder's final states start the decoder.

The encoder's final states (h, and c of an LSTM; those of both directions of a
bidirectional encoder) become every decoder layer's initial state as they are, where
they fit, or through a learned bridge s_0 = tanh([h_S; ...] W_br + b_br) (a Dense
layer) whose output is split into one state per decoder layer. Backward runs the same
path: the decoder's dL/d(initial states) are summed (every layer read the same
states) or go back through the bridge.

>>> import numpy as np
>>> h = np.ones((2, 3))                          # (B, d): one encoder state
>>> init, _ = decoder_states([h], None, n_layers=2, n_states=1)
>>> [s.shape for s in init]                      # the same h_0 for both decoder layers
[(2, 3), (2, 3)]
>>> encoder_state_grads(init, None, None, [h.shape], n_states=1)[0][0].tolist()
[2.0, 2.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.layers import Dense

__all__ = ["decoder_states", "encoder_state_grads"]

Array = np.ndarray


def decoder_states(
    enc_states: list[Array], bridge: Dense | None, n_layers: int, n_states: int
) -> tuple[list[Any], Any]:
    """One initial state per decoder layer (h, or the tuple (h, c) of an LSTM) from the
    encoder's final states, each (B, hidden); and the bridge's cache (None without)."""
    if bridge is None:  # the encoder's final states, as they are
        state = enc_states[0] if n_states == 1 else tuple(enc_states)
        return [state] * n_layers, None
    s = np.concatenate(enc_states, axis=-1)  # (B, n_enc_states * hidden)
    z, cache = bridge.forward(s)  # s_0 = tanh(s W_br + b_br)
    chunks = np.split(z, n_layers * n_states, axis=-1)
    init = [
        chunks[r * n_states] if n_states == 1 else tuple(chunks[r * n_states : (r + 1) * n_states])
        for r in range(n_layers)
    ]
    return init, cache


def encoder_state_grads(
    d_init: list[Any], bridge: Dense | None, cache: Any, shapes: list[tuple[int, ...]],
    n_states: int,
) -> list[Array]:  # fmt: skip
    """dL/d(encoder final states), of the given `shapes`, from the decoder layers'
    dL/d(initial states) (`cache`: the bridge's, from :func:`decoder_states`)."""
    parts = [d if n_states > 1 else (d,) for d in d_init]
    if bridge is None:  # every decoder layer read the same states: sum
        return [sum(p[i] for p in parts) for i in range(n_states)]
    dz = np.concatenate([g for p in parts for g in p], axis=-1)
    ds = bridge.backward(dz, cache)
    return np.split(ds, np.cumsum([s[-1] for s in shapes])[:-1], axis=-1)
