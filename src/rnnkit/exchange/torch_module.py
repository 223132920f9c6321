"""The ``torch.nn.Module`` of a network that ``rnnkit export --format torch`` wrote.

This file needs only PyTorch and safetensors, and nothing of rnnkit: copy it into a
project that has no rnnkit. The safetensors file holds the ``state_dict`` under
PyTorch's own names (``embedding.weight``, ``rnn.weight_ih_l0``, ...,
``linear.weight``) and, in its metadata, ``torch_module``: the JSON that says which
modules to build, and ``rnnkit``: the vocabulary, labels and scalings.

.. code-block:: python

    import torch
    from torch_module import load          # or: from rnnkit.exchange.torch_module import load
    net, info = load("model.safetensors")
    ids = torch.tensor([[5, 9, 2], [7, 4, 0]])           # padded with 0
    probs = net(ids, torch.tensor([3, 2]))                # lengths

The network: an ``nn.Embedding`` (or one-hot vectors, or real-valued frames
standardised with the training mean and std), one ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``
of ``num_layers`` layers fed a packed batch (so padding never changes a result),
then what the output layer reads: the last real state (``pooling`` "last"), the mean
or maximum over the real steps, or every step ("none", zeros at pads), and
``nn.Linear`` with its softmax or sigmoid. A CRF tagger returns the emission scores;
``crf.transitions``, ``crf.start_transitions`` and ``crf.end_transitions`` have the
names and meaning of pytorch-crf's ``CRF`` (``torchcrf.CRF(K, batch_first=True)``
loads them), whose ``decode`` is the Viterbi search; ``net.crf.constrained()`` gives
them with -inf where the tagging scheme (BIO, IOBES) forbids, as rnnkit decodes.

A tagger with character features (``char_features`` in the spec) reads (B, T, 1 + L)
ids: each word's id, then its character ids, 0 after the last. The characters go
through ``char_embedding`` and the bidirectional ``char_rnn``, one packed sequence a
word; the final states of the two directions, ``[h_fwd_n ; h_bwd_1]``, are joined onto
the word's embedding. A character CNN (``kind`` "cnn") instead zeroes the embeddings
of each word's pad positions, runs ``char_conv`` (``nn.Conv1d`` of ``window``
characters, ``padding=window // 2``) and takes each filter's max over the word's real
characters only. A word of no characters (a pad slot) gets zero features.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["RecurrentNet", "load"]

RNNS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CRFScores(nn.Module):
    """The transition scores of a CRF, under pytorch-crf's names.

    `allowed` (the ``crf_allowed`` metadata, or None) says which transitions, first
    and last tags the tagging scheme allows; :meth:`constrained` gives the scores
    with -inf elsewhere, as rnnkit's Viterbi reads them.
    """

    def __init__(self, num_tags: int, allowed: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.start_transitions = nn.Parameter(torch.zeros(num_tags))
        self.end_transitions = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # [from, to]
        for key in ("transitions", "start", "end"):
            ok = torch.tensor(allowed[key]) if allowed else torch.ones(self._shape(key, num_tags))
            self.register_buffer(f"allowed_{key}", ok.bool(), persistent=False)

    @staticmethod
    def _shape(key: str, k: int) -> tuple[int, ...]:
        return (k, k) if key == "transitions" else (k,)

    def constrained(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """transitions (K, K), start and end (K,), -inf where the scheme forbids."""
        scores = (self.transitions, self.start_transitions, self.end_transitions)
        keys = ("transitions", "start", "end")
        return tuple(  # type: ignore[return-value]
            s.masked_fill(~self.get_buffer(f"allowed_{k}"), float("-inf"))
            for s, k in zip(scores, keys, strict=True)
        )


class RecurrentNet(nn.Module):
    """Embedding (with a tagger's character encoder), stacked recurrent layers,
    pooling and a linear output layer.

    Parameters
    ----------
    spec : dict
        The ``torch_module`` metadata: inputs ("ids", "one_hot", "frames"),
        vocab_size, input_size, cell, nonlinearity, hidden_size, num_layers,
        bidirectional, pooling, output_size, output_activation, crf, and for frames
        the scalings (``input_scaling``, ``output_scaling``: mean and std lists);
        ``char_features`` (kind "rnn": n_chars, char_dim, units, cell, nonlinearity;
        kind "cnn": n_chars, char_dim, filters, window) or None.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self.spec = spec
        chars: dict[str, Any] = spec.get("char_features") or {}
        cnn = chars.get("kind") == "cnn"  # a file without "kind" holds a recurrent encoder
        if spec["inputs"] == "ids":
            features = 0 if not chars else chars["filters"] if cnn else 2 * chars["units"]
            self.embedding = nn.Embedding(spec["vocab_size"], spec["input_size"] - features)
        if chars:
            self.char_embedding = nn.Embedding(chars["n_chars"], chars["char_dim"])
        if cnn:  # each word read by a convolution over its characters and a max
            self.char_conv = nn.Conv1d(
                chars["char_dim"], chars["filters"], chars["window"], padding=chars["window"] // 2
            )
        elif chars:  # each word read from its characters, both ways
            self.char_rnn = RNNS[chars["cell"]](
                chars["char_dim"],
                chars["units"],
                bidirectional=True,
                batch_first=True,
                **({"nonlinearity": chars["nonlinearity"]} if chars["cell"] == "rnn" else {}),
            )
        options: dict[str, Any] = (
            {"nonlinearity": spec["nonlinearity"]} if spec["cell"] == "rnn" else {}
        )
        self.rnn = RNNS[spec["cell"]](
            spec["input_size"],
            spec["hidden_size"],
            num_layers=spec["num_layers"],
            bidirectional=spec["bidirectional"],
            batch_first=True,
            **options,
        )
        directions = 2 if spec["bidirectional"] else 1
        self.linear = nn.Linear(directions * spec["hidden_size"], spec["output_size"])
        if spec["crf"]:
            self.crf = CRFScores(spec["output_size"], spec.get("crf_allowed"))
        for name in ("input_scaling", "output_scaling"):
            scaling = spec.get(name)
            if scaling is not None:  # buffers: not in the state_dict's parameters
                self.register_buffer(
                    f"{name}_mean",
                    torch.tensor(scaling["mean"], dtype=torch.float64),
                    persistent=False,
                )
                self.register_buffer(
                    f"{name}_std",
                    torch.tensor(scaling["std"], dtype=torch.float64),
                    persistent=False,
                )

    def char_features(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``[h_fwd_n ; h_bwd_1]`` (B, T, 2 u), or the CNN's max of each filter (B, T, F),
        of each word from its character ids (B, T, L), 0 after the last; zeros at pad
        slots and words of no characters."""
        B, T, _ = chars.shape
        n = (chars != 0).sum(dim=-1)  # (B, T) characters of each word
        real = torch.arange(T, device=chars.device)[None, :] < lengths.to(chars.device)[:, None]
        keep = real & (n > 0)  # packing refuses a length of 0: those words stay zero
        conv = getattr(self, "char_conv", None)
        if conv is not None:
            return self.char_cnn(conv, chars, keep)
        out = self.char_embedding.weight.new_zeros(B, T, 2 * self.char_rnn.hidden_size)
        if keep.any():
            e = self.char_embedding(chars[keep])  # (N, L, c): the N words read
            packed = pack_padded_sequence(e, n[keep].cpu(), batch_first=True, enforce_sorted=False)
            _, state = self.char_rnn(packed)
            h_n = state[0] if isinstance(self.char_rnn, nn.LSTM) else state  # (2, N, u)
            out[keep] = torch.cat([h_n[0], h_n[1]], dim=-1)  # forward's last, backward's first
        return out

    def char_cnn(self, conv: nn.Conv1d, chars: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Each filter's max over the real characters of each kept word (B, T, F)."""
        out = self.char_embedding.weight.new_zeros(*keep.shape, conv.out_channels)
        if keep.any():
            ids = chars[keep]  # (N, L): the N words read
            is_char = (ids != 0)[:, None, :]  # (N, 1, L)
            e = self.char_embedding(ids).transpose(1, 2) * is_char  # (N, c, L), zeros at pads
            z = conv(e).masked_fill(~is_char, float("-inf"))  # (N, F, L): pads never win
            out[keep] = z.amax(dim=-1)
        return out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Outputs (B, k), or (B, T, k) with zeros at pads, from (B, T) ids, (B, T, 1 + L)
        word and character ids, or (B, T, F) frames, and the real length of each
        sequence (B,)."""
        spec, dtype = self.spec, self.linear.weight.dtype
        if spec.get("char_features") is not None:  # (B, T, 1 + L) -> (B, T, e + 2 u)
            x = torch.cat([self.embedding(x[..., 0]), self.char_features(x[..., 1:], lengths)], -1)
        elif spec["inputs"] == "ids":
            x = self.embedding(x)
        elif spec["inputs"] == "one_hot":
            x = nn.functional.one_hot(x, spec["vocab_size"]).to(dtype)
        elif spec.get("input_scaling") is not None:
            mean, std = self.get_buffer("input_scaling_mean"), self.get_buffer("input_scaling_std")
            x = ((x - mean) / std).to(dtype)
        T = x.shape[1]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        if spec["pooling"] == "last":  # the last layer's final states, both directions
            h_n = state[0] if spec["cell"] == "lstm" else state  # (L D, B, d)
            directions = 2 if spec["bidirectional"] else 1
            h = torch.cat(list(h_n[-directions:]), dim=-1)  # (B, D d)
        else:
            h, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # zeros at pads
            real = torch.arange(T, device=h.device)[None, :] < lengths.to(h.device)[:, None]
            if spec["pooling"] == "mean":
                h = h.sum(dim=1) / lengths.to(h)[:, None]
            elif spec["pooling"] == "max":
                h = h.masked_fill(~real[:, :, None], float("-inf")).amax(dim=1)
        y = self.linear(h)
        activation = spec["output_activation"]
        if activation == "softmax":
            y = torch.softmax(y, dim=-1)
        elif activation != "linear":
            y = getattr(torch, activation)(y)  # sigmoid, tanh, relu
        if spec.get("output_scaling") is not None:
            y = y * self.get_buffer("output_scaling_std") + self.get_buffer("output_scaling_mean")
        if spec["pooling"] == "none":
            y = y * real[:, :, None]  # pad steps output zero
        return y


def load(path: str) -> tuple[RecurrentNet, dict[str, Any]]:
    """The network of an exported file, in eval mode, and its ``rnnkit`` metadata."""
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
    net = RecurrentNet(json.loads(metadata["torch_module"]))
    state = load_file(path)
    net.to(next(iter(state.values())).dtype)
    net.load_state_dict(state)
    return net.eval(), json.loads(metadata.get("rnnkit", "{}"))
