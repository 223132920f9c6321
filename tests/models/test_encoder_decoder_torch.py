"""The encoder-decoder with attention against the same network written in PyTorch.

The twin is built from torch's own modules (nn.Embedding, nn.RNN / nn.LSTM / nn.GRU
run on packed padded batches, nn.Linear) with rnnkit's weights exported through
:mod:`rnnkit.io.interop`, and Luong attention written out in torch ops, source pads
masked with -inf. On a padded batch whose sources and targets have other lengths,
the logits, the attention weights and the gradient of every parameter must agree in
float64 (the tolerances of :func:`reference.check_against_torch`).
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch
from rnnkit.io.interop import from_torch, to_torch
from rnnkit.layers import Bidirectional
from rnnkit.models.encoder_decoder import EncoderDecoder

SRC_LENGTHS = np.array([5, 2, 4, 3])
TGT_LENGTHS = np.array([3, 6, 1, 4])
N_SRC, N_TGT, EMBED, HIDDEN = 9, 7, 3, 4

CASES = {
    "bi-gru, general, bridge": ("gru", True, "general"),
    "lstm, dot, states as they are": ("lstm", False, "dot"),
    "bi-rnn, additive, bridge": ("rnn", True, "additive"),
    "gru, dot, states as they are": ("gru", False, "dot"),
}


def _t(torch, a):
    return torch.from_numpy(np.ascontiguousarray(a))


class TorchTwin:
    """The same encoder-decoder in torch, holding the rnnkit network's weights."""

    def __init__(self, torch, net: EncoderDecoder, cell: str, bi: bool, score: str) -> None:
        nn = torch.nn
        self.torch, self.net, self.cell, self.bi, self.score = torch, net, cell, bi, score
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        enc_emb, enc_rnn = net.encoder
        dec_emb, dec_rnn = net.decoder
        self.enc_emb = nn.Embedding(N_SRC, EMBED).double()
        self.dec_emb = nn.Embedding(N_TGT, EMBED).double()
        self.enc = module(EMBED, HIDDEN, batch_first=True, bidirectional=bi).double()
        self.dec = module(EMBED, dec_rnn.units, batch_first=True).double()
        state = {}
        if isinstance(enc_rnn, Bidirectional):
            state.update(to_torch(cell, enc_rnn.forward_layer.params, "_l0"))
            state.update(to_torch(cell, enc_rnn.backward_layer.params, "_l0_reverse"))
        else:
            state.update(to_torch(cell, enc_rnn.params, "_l0"))
        self.enc.load_state_dict({k: _t(torch, v) for k, v in state.items()})
        self.dec.load_state_dict(
            {k: _t(torch, v) for k, v in to_torch(cell, dec_rnn.params).items()}
        )
        self.enc_emb.load_state_dict({"weight": _t(torch, enc_emb.params["E"])})
        self.dec_emb.load_state_dict({"weight": _t(torch, dec_emb.params["E"])})
        self.w = {  # every other weight as a leaf tensor, under rnnkit's name
            f"{layer.name}.{k}": _t(torch, v.copy()).requires_grad_()
            for layer in (net.bridge, net.attention, net.output)
            if layer is not None
            for k, v in layer.params.items()
        }

    def forward(self, x, src_len, y_in, tgt_len):
        torch, w = self.torch, self.w
        pack = torch.nn.utils.rnn.pack_padded_sequence
        unpack = torch.nn.utils.rnn.pad_packed_sequence
        e = self.enc_emb(_t(torch, x))
        out, state = self.enc(pack(e, _t(torch, src_len), batch_first=True, enforce_sorted=False))
        enc_out, _ = unpack(out, batch_first=True, total_length=x.shape[1])  # (B, S, m)
        states = state if self.cell == "lstm" else (state,)
        if self.net.bridge is None:  # the encoder's final states start the decoder
            h0 = states if self.cell == "lstm" else states[0]
        else:  # rnnkit concatenates h_fwd[, c_fwd], h_bwd[, c_bwd]
            parts = [s[k] for k in range(2 if self.bi else 1) for s in states]
            s0 = torch.tanh(torch.cat(parts, dim=-1) @ w["bridge.V"] + w["bridge.c"])
            h0 = s0[None]
        d = self.dec_emb(_t(torch, y_in))
        out, _ = self.dec(pack(d, _t(torch, tgt_len), batch_first=True, enforce_sorted=False), h0)
        h, _ = unpack(out, batch_first=True, total_length=y_in.shape[1])  # (B, T, d)
        if self.score == "dot":
            scores = h @ enc_out.transpose(1, 2)
        elif self.score == "general":
            scores = (h @ w["attention.W_a"]) @ enc_out.transpose(1, 2)
        else:
            hw, ew = h @ w["attention.W_1"], enc_out @ w["attention.W_2"]
            scores = torch.tanh(hw[:, :, None] + ew[:, None]) @ w["attention.v"]
        src_mask = np.arange(x.shape[1])[None] < src_len[:, None]
        scores = scores.masked_fill(~_t(torch, src_mask)[:, None, :], float("-inf"))
        alpha = torch.softmax(scores, dim=-1)
        ctx = alpha @ enc_out
        att = torch.tanh(torch.cat([ctx, h], dim=-1) @ w["attention.W_c"] + w["attention.b_c"])
        return att @ w["output.V"] + w["output.c"], alpha

    def grads(self) -> dict[str, object]:
        out = {k: t.grad for k, t in self.w.items()}
        net = self.net
        out[f"{net.encoder[0].name}.E"] = self.enc_emb.weight.grad
        out[f"{net.decoder[0].name}.E"] = self.dec_emb.weight.grad
        for rnn, module, prefix in ((net.encoder[1], self.enc, ""), (net.decoder[1], self.dec, "")):
            suffixes = (
                {"forward_": "_l0", "backward_": "_l0_reverse"}
                if self.bi and rnn is net.encoder[1]
                else {prefix: "_l0"}
            )
            for p, suffix in suffixes.items():
                g = {k: v.grad.numpy() for k, v in module.named_parameters() if k.endswith(suffix)}
                if self.cell != "gru":  # import sums the two biases: count db once
                    g["bias_hh" + suffix] = np.zeros_like(g["bias_hh" + suffix])
                for k, v in from_torch(self.cell, g, suffix).items():
                    out[f"{rnn.name}.{p}{k}"] = v
        return out


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_logits_attention_and_gradients_match_torch(torch, case: str) -> None:
    cell, bi, score = CASES[case]
    rng = np.random.default_rng(11)
    net = EncoderDecoder(
        n_source=N_SRC, n_target=N_TGT, embed_dim=EMBED, hidden=HIDDEN, cell=cell,
        bidirectional=bi, attention=score, embed_scale=0.8, seed=4, dtype="float64",
    )  # fmt: skip
    assert (net.bridge is not None) == bi
    S, T = SRC_LENGTHS.max(), TGT_LENGTHS.max()
    src_mask = np.arange(S)[None] < SRC_LENGTHS[:, None]
    y_mask = np.arange(T)[None] < TGT_LENGTHS[:, None]
    x = rng.integers(1, N_SRC, size=(4, S)) * src_mask
    y_in = rng.integers(1, N_TGT, size=(4, T)) * y_mask
    R = rng.normal(size=(4, T, N_TGT)) * y_mask[:, :, None]  # the loss is sum(R * logits)

    net.zero_grad()
    logits, alpha, cache = net.forward(x, src_mask, y_in, y_mask, training=True)
    net.backward(R, cache)

    twin = TorchTwin(torch, net, cell, bi, score)
    t_logits, t_alpha = twin.forward(x, SRC_LENGTHS, y_in, TGT_LENGTHS)
    (t_logits * _t(torch, R)).sum().backward()

    real = y_mask[:, :, None]
    values = {
        "logits": (logits * real, t_logits.detach() * _t(torch, real)),
        "alpha": (alpha * real, t_alpha.detach() * _t(torch, real)),
    }
    t_grads = twin.grads()
    ours = {key: g for key, _, g, _ in net.param_slots()}
    assert set(ours) == set(t_grads)
    check_against_torch(values, {k: (ours[k], t_grads[k]) for k in ours})
