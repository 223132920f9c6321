"""Generation (one-to-many): run a trained model one step at a time and sample from it.

A model whose output layer gives a distribution over the next token (a language
model: ``Embedding -> recurrent layers -> Dense(V, "softmax")``) generates text by
feeding each token it samples back in as the next input. The recurrent layers carry
their state from step to step, so every step costs one cell update per layer, not a
pass over the whole text so far.

First the prime (the text the user starts from) is read token by token; the state
after its last token gives the distribution of the first new token.

>>> import numpy as np
>>> from rnnkit import Dense, Embedding, Sequential, SimpleRNN
>>> lm = Sequential([Embedding(5, 4), SimpleRNN(8), Dense(5, "softmax")], seed=0)
>>> out = generate(lm, [1, 2], length=6, rng=np.random.default_rng(0))
>>> out.shape, bool(((out >= 0) & (out < 5)).all())
((6,), True)
>>> np.array_equal(out, generate(lm, [1, 2], length=6, rng=np.random.default_rng(0)))
True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rnnkit.core.sampling import sample_logits
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Dense, Dropout, Embedding, OneHot
from rnnkit.layers.recurrent import RecurrentLayer

__all__ = ["generate", "iter_generate", "step_model"]

Array = np.ndarray
_STATELESS = (Embedding, OneHot, Dropout, Dense)


def step_model(model: Any, x_t: Array, states: list[Any] | None = None) -> tuple[Array, list[Any]]:
    """One step of every layer: logits (B, k) of the output layer, and the new states.

    Parameters
    ----------
    model : Sequential (or anything with ``layers``) of Embedding / OneHot, Dropout,
        SimpleRNN / LSTM / GRU layers and a final Dense.
    x_t : (B,) ids, or (B, n_in) vectors for a model of real-valued inputs.
    states : one entry per recurrent layer (None: zero states), as returned before.
    """
    layers = model.layers
    recurrent = [layer for layer in layers if isinstance(layer, RecurrentLayer)]
    new_states = [None] * len(recurrent) if states is None else list(states)
    if len(new_states) != len(recurrent):
        raise ShapeError(f"{len(new_states)} states given for {len(recurrent)} recurrent layers")
    if not isinstance(layers[-1], Dense):
        raise ConfigError("stepping a model needs a final Dense output layer")
    x, r = x_t, 0
    for layer in layers[:-1]:
        if isinstance(layer, RecurrentLayer):
            x, new_states[r] = layer.step(x, new_states[r])
            r += 1
        elif isinstance(layer, _STATELESS):
            x = layer.forward(x)[0]  # inference: dropout is the identity
        else:
            raise ConfigError(
                f"{layer.name}: a {type(layer).__name__} cannot run one step at a time"
            )
    logits = layers[-1].forward(x, logits=True)[0]
    return logits, new_states


def iter_generate(
    model: Any,
    prime: Sequence[int] | Array,
    length: int,
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    states: list[Any] | None = None,
    exclude: Sequence[int] = (),
) -> Iterator[Array]:
    """Yield `length` sampled tokens one at a time, each a (B,) array (B = 1 for a 1-D prime).

    `prime` is (P,) ids for one stream or (B, P) for B streams, P >= 1; `states` as in
    :func:`step_model` (for instance a decoder started from a given vector); the ids in
    `exclude` are never sampled (a language model's ``<pad>`` and ``<sos>``).
    """
    ids = np.asarray(prime)
    ids = ids[None] if ids.ndim == 1 else ids
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ShapeError(f"the prime must be (P,) or (B, P) ids with P >= 1, got {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ShapeError(f"the prime must be token ids, got dtype {ids.dtype}")
    if int(length) < 1:
        raise ConfigError(f"length={length}: must be at least 1")
    for t in range(ids.shape[1]):  # read the prime
        logits, states = step_model(model, ids[:, t], states)
    banned = np.asarray(exclude, dtype=np.intp)
    for i in range(int(length)):
        if banned.size:
            logits[:, banned] = -np.inf
        token = sample_logits(logits, rng, temperature, top_k)
        yield token
        if i + 1 < length:
            logits, states = step_model(model, token, states)


def generate(
    model: Any,
    prime: Sequence[int] | Array,
    length: int,
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    states: list[Any] | None = None,
) -> Array:
    """`length` sampled token ids after `prime`: (length,) for a 1-D prime, else (B, length).

    Same model, prime and seed of `rng`: the same tokens. See :func:`iter_generate`.
    """
    tokens = list(
        iter_generate(
            model, prime, length, rng=rng, temperature=temperature, top_k=top_k, states=states
        )
    )
    out = np.stack(tokens, axis=1)  # (B, length)
    return out[0] if np.asarray(prime).ndim == 1 else out
