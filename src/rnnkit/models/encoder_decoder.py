"""EncoderDecoder: the many-to-many network for outputs of another length than the input.

An encoder reads the whole source x_1 .. x_S (an embedding, then recurrent layers,
possibly stacked and bidirectional) into outputs e_1 .. e_S and final states. The
context starts the decoder: the encoder's final states as they are, or through a
learned bridge s_0 = tanh([h_S; ...] W_br + b_br) when the encoder is bidirectional,
or the sizes or cells differ (:mod:`rnnkit.models.context`). The decoder (an
embedding of the target tokens and recurrent layers) starts from ``<sos>`` and,
trained with teacher forcing, reads y_{t-1} at step t; its state h_t attends over
e_1 .. e_S (:class:`~rnnkit.layers.attention.Attention`) and the output layer gives
p(y_t | y_<t, x) = softmax(V h~_t + c). Generation stops at ``<eos>``.

Backward runs the same path in reverse: output layer, attention (whose gradient
reaches both the decoder states and every encoder output), the decoder's BPTT down to
its initial states, the bridge, and the encoder's BPTT from both its outputs and its
final states. All of it is the layers' own hand-written backward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.core.cells import cell_names
from rnnkit.errors import ConfigError
from rnnkit.layers import Bidirectional, Dense, Dropout, Embedding, Layer, Spec, cell_layer
from rnnkit.layers.attention import Attention
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models.context import decoder_states, encoder_state_grads
from rnnkit.models.layer_stack import LayerStack

__all__ = ["EncoderDecoder", "EncoderDecoderCache"]

Array = np.ndarray


@dataclass(frozen=True)
class EncoderDecoderCache:
    """What :meth:`EncoderDecoder.forward` hands its backward pass: each part's cache.

    encoder, decoder : one cache per layer of the encoder and of the decoder, in order
    bridge, attention, dropout : those layers' caches (None where there is no such layer)
    output : the output layer's
    shapes : the encoder outputs' shape (B, S, m) and its final states' shapes
    """

    encoder: list[Any]
    bridge: Any
    decoder: list[Any]
    attention: Any
    dropout: Any
    output: Any
    shapes: tuple[tuple[int, ...], list[tuple[int, ...]]]


class EncoderDecoder(LayerStack):
    """Encoder, bridge, decoder, attention and output layer (see the module docstring).

    Parameters
    ----------
    n_source, n_target : vocabulary sizes of the two sides
    embed_dim : size of both embeddings
    cell, hidden, layers, bidirectional : the encoder's recurrent layers
    decoder_cell, decoder_hidden, decoder_layers : the decoder's (unidirectional)
    attention : {"dot", "general", "additive", "none"}
    bridge : force a learned bridge even where the encoder's states fit the decoder
    dropout : between stacked layers and before the output layer
    embed_dropout : on both embeddings
    source_embedding : (n_source, embed_dim) array, optional
        The source embedding's starting value (pretrained word vectors); the target
        embedding is always learned from random.
    freeze_source : keep the source embedding as it starts (no gradient)
    """

    def __init__(
        self,
        *,
        n_source: int,
        n_target: int,
        embed_dim: int = 64,
        embed_scale: float = 0.05,
        cell: str = "gru",
        hidden: int = 128,
        layers: int = 1,
        bidirectional: bool = True,
        decoder_cell: str | None = None,
        decoder_hidden: int | None = None,
        decoder_layers: int = 1,
        attention: str = "dot",
        bridge: bool = False,
        dropout: float = 0.0,
        embed_dropout: float = 0.0,
        seed: int = 0,
        dtype: str = "float32",
        source_embedding: np.ndarray | None = None,
        freeze_source: bool = False,
    ) -> None:
        for name, c in (("cell", cell), ("decoder_cell", decoder_cell or cell)):
            if c not in cell_names():
                raise ConfigError(f"{name}={c!r} is not one of {', '.join(cell_names())}")
        enc_cell, dec_cell = cell_layer(cell), cell_layer(decoder_cell or cell)
        d_dec = int(decoder_hidden or (2 * hidden if bidirectional else hidden))
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        self.encoder = _stack(
            Embedding(
                n_source,
                embed_dim,
                scale=embed_scale,
                dtype=dtype,
                initial=source_embedding,
                trainable=not freeze_source,
            ),
            [  # the top layer also returns its final states: the context
                enc_cell(hidden, return_sequences=True, return_state=i == layers - 1, dtype=dtype)
                for i in range(layers)
            ],
            bidirectional,
            dropout,
            embed_dropout,
            "encoder",
            dtype,
        )
        self.decoder = _stack(
            Embedding(n_target, embed_dim, scale=embed_scale, dtype=dtype),
            [dec_cell(d_dec, return_sequences=True, dtype=dtype) for _ in range(decoder_layers)],
            False,
            dropout,
            embed_dropout,
            "decoder",
            dtype,
        )
        top = self.encoder[-1]
        top_rnn: Any = top.forward_layer if isinstance(top, Bidirectional) else top
        n_enc_states = top_rnn.n_states * (2 if bidirectional else 1)
        self.n_dec_states = dec_cell.n_states
        self.dec_rnns: list[Any] = [l for l in self.decoder if isinstance(l, RecurrentLayer)]
        spec = Spec("ids", n_source)
        for layer in self.encoder:
            spec = layer.build(spec, rng)
        m = spec.size  # encoder outputs: (B, S, m)
        spec = Spec("ids", n_target)
        for layer in self.decoder:
            spec = layer.build(spec, rng)
        fits = not bidirectional and hidden == d_dec and top_rnn.n_states == self.n_dec_states
        self.bridge: Dense | None = None
        if bridge or not fits:
            units = len(self.dec_rnns) * self.n_dec_states * d_dec
            self.bridge = Dense(units, "tanh", name="bridge", dtype=dtype)
            self.bridge.build(Spec("features", n_enc_states * hidden, time=False), rng)
        self.attention: Attention | None = None
        if attention != "none":
            self.attention = Attention(d_dec, attention, name="attention", dtype=dtype)
            self.attention.build_pair(d_dec, m, rng)
        self.dropout = Dropout(dropout, name="output_dropout", dtype=dtype) if dropout else None
        if self.dropout is not None:
            self.dropout.build(Spec("features", d_dec), rng)
        self.output = Dense(n_target, "softmax", name="output", dtype=dtype)
        self.output.build(Spec("features", d_dec), rng)
        self.layers: list[Layer] = [
            *self.encoder,
            *([self.bridge] if self.bridge else []),
            *self.decoder,
            *([self.attention] if self.attention else []),
            *([self.dropout] if self.dropout else []),
            self.output,
        ]
        self.dtype = np.dtype(dtype)
        self.name = "encoder_decoder"

    # -- parameters ----------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print every layer with its parameters' shapes, and the total."""
        rows = [("Layer (type)", "Param #", "Parameters")]
        for layer in self.layers:
            shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in layer.params.items())
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", str(layer.count_params()), shapes)
            )
        w = [max(len(r[i]) for r in rows) for i in range(2)]
        lines = ['Model: "encoder_decoder"']
        lines += [f"{a:<{w[0] + 4}}{b:>{w[1]}}  {c}".rstrip() for a, b, c in rows]
        lines.append(f"Total params: {self.count_params():,}")
        print_fn("\n".join(lines))

    # -- teacher-forced forward and backward ---------------------------------------
    def forward(
        self,
        x: Array,
        src_mask: Array | None,
        y_in: Array,
        y_mask: Array | None,
        training: bool = False,
    ) -> tuple[Array, Array | None, EncoderDecoderCache]:
        """Logits (B, T, V_target) for decoder inputs y_in (B, T) after source x (B, S).

        Returns the logits, the attention weights (B, T, S) (None without attention)
        and the cache :meth:`backward` needs.
        """
        src_mask = None if src_mask is None or np.all(src_mask) else src_mask
        y_mask = None if y_mask is None or np.all(y_mask) else y_mask
        h: Any = x
        enc_caches = []
        for layer in self.encoder:
            h, c = layer.forward(h, mask=src_mask, training=training)
            enc_caches.append(c)
        enc_out, *enc_states = h
        init, bridge_cache = self._decoder_states(enc_states)
        h, dec_caches, r = y_in, [], 0
        for layer in self.decoder:
            if isinstance(layer, RecurrentLayer):
                h, c = layer.forward(h, mask=y_mask, training=training, initial_state=init[r])
                r += 1
            else:
                h, c = layer.forward(h, mask=y_mask, training=training)
            dec_caches.append(c)
        alpha, att_cache = None, None
        if self.attention is not None:
            h, alpha, att_cache = self.attention.forward_pair(h, enc_out, src_mask)
        drop_cache = None
        if self.dropout is not None:
            h, drop_cache = self.dropout.forward(h, training=training)
        logits, out_cache = self.output.forward(h, mask=y_mask, logits=True)
        shapes = (enc_out.shape, [s.shape for s in enc_states])
        cache = EncoderDecoderCache(
            enc_caches, bridge_cache, dec_caches, att_cache, drop_cache, out_cache, shapes
        )
        return logits, alpha, cache

    def backward(self, dlogits: Array, cache: EncoderDecoderCache) -> None:
        """Add dL/dw of every layer into its ``grads`` from dL/dlogits (B, T, V)."""
        enc_shape, state_shapes = cache.shapes
        dh = self.output.backward(dlogits, cache.output)
        if self.dropout is not None:
            dh = self.dropout.backward(dh, cache.dropout)
        denc = np.zeros(enc_shape, dtype=self.dtype)
        if self.attention is not None:
            dh, denc = self.attention.backward_pair(dh, cache.attention)
        d_init: list[Any] = [None] * len(self.dec_rnns)
        r = len(self.dec_rnns)
        for layer, c in zip(reversed(self.decoder), reversed(cache.decoder), strict=True):
            out = layer.backward(dh, c)
            if isinstance(layer, RecurrentLayer):
                r -= 1
                dh, d_init[r] = out
            else:
                dh = out
        d_enc = encoder_state_grads(
            d_init, self.bridge, cache.bridge, state_shapes, self.n_dec_states
        )
        dy: Any = (denc, *d_enc)
        for layer, c in zip(reversed(self.encoder), reversed(cache.encoder), strict=True):
            dy = layer.backward(dy, c)

    def _decoder_states(self, enc_states: list[Array]) -> tuple[list[Any], Any]:
        """The context: each decoder layer's initial state, and the bridge's cache."""
        return decoder_states(enc_states, self.bridge, len(self.dec_rnns), self.n_dec_states)

    # -- step-by-step decoding (the decoding.StepModel protocol) ----------------------
    def begin(self, x: Array, src_mask: Array | None) -> tuple[Array, Array | None, list[Any]]:
        """Encode sources x (B, S): (encoder outputs, mask, decoder initial states)."""
        src_mask = None if src_mask is None or np.all(src_mask) else np.asarray(src_mask, bool)
        h: Any = x
        for layer in self.encoder:
            h = layer.forward(h, mask=src_mask)[0]
        enc_out, *enc_states = h
        init = self._decoder_states(enc_states)[0]
        return np.array(enc_out), src_mask, [_copy(s) for s in init]

    def step(self, tokens: Array, state: Any) -> tuple[Array, Any, Array | None]:
        """log p(y_t | y_<t, x) (N, V) for the previous tokens (N,), the new state and
        the attention weights (N, S) (None without attention)."""
        enc_out, src_mask, states = state
        h = self.decoder[0].forward(np.asarray(tokens))[0]  # (N, e): rows of E
        new = list(states)
        r = 0
        for layer in self.decoder[1:]:
            if isinstance(layer, RecurrentLayer):
                h, new[r] = layer.step(h, new[r])
                r += 1
        alpha = None
        if self.attention is not None:
            h, alpha, _ = self.attention.forward_pair(h[:, None], enc_out, src_mask)
            h, alpha = h[:, 0], alpha[:, 0]
        logits = self.output.forward(h, logits=True)[0]
        logits = logits - logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return logp, (enc_out, src_mask, new), alpha

    @staticmethod
    def take(state: Any, rows: Array) -> Any:
        """The decoding state of the given rows (to follow beams, or drop finished rows)."""
        enc_out, src_mask, states = state
        return (
            enc_out[rows],
            None if src_mask is None else src_mask[rows],
            [tuple(s[rows] for s in st) if isinstance(st, tuple) else st[rows] for st in states],
        )


def _copy(state: Any) -> Any:
    return tuple(np.array(s) for s in state) if isinstance(state, tuple) else np.array(state)


def _stack(embedding, rnns, bidirectional, dropout, embed_dropout, prefix, dtype) -> list[Layer]:
    """Embedding, optional dropout, recurrent layers with dropout between them; named
    ``<prefix>_<kind>``."""
    layers: list[Layer] = [embedding]
    if embed_dropout:
        layers.append(Dropout(embed_dropout, dtype=dtype))
    for i, rnn in enumerate(rnns):
        last = i == len(rnns) - 1
        layers.append(Bidirectional(rnn) if bidirectional else rnn)
        if dropout and not last:
            layers.append(Dropout(dropout, dtype=dtype))
    seen: dict[str, int] = {}
    for layer in layers:
        stem = f"{prefix}_{layer.kind}"
        k = seen.get(stem, 0)
        seen[stem] = k + 1
        layer.name = stem if k == 0 else f"{stem}_{k}"
    return layers
