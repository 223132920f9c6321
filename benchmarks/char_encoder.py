"""Forward and backward time of CharEncoder and CharCNN, and of the same networks in PyTorch.

    python benchmarks/char_encoder.py [--batches 40] [--cell lstm] [--threads N]

Batches of 32 real sentences of UD English-EWT's training split, cut at 25 words and
12 characters a word, as a tagger meets them (random words of 1 to 12 characters when
the data is not in ../shared/data). Both sides run a 30-d character embedding and a
bidirectional recurrent layer of 50 units each way over every real word, in float32:
rnnkit's CharEncoder, and PyTorch's nn.Embedding and nn.LSTM / nn.GRU / nn.RNN over
the packed words (``pack_padded_sequence``) taking h_n of both directions. The loss is
the sum of the outputs times a fixed random array. The median and least time of a
forward and backward pass are printed per batch, with the mean per word, for rnnkit
(words grouped in buckets of similar length), rnnkit with every word in one bucket,
and PyTorch; then for the character CNN (``--char-cell cnn``: 100 filters of 3
characters and a max, as many features a word) in rnnkit and in PyTorch
(``nn.Conv1d(padding=1)`` over each word's embeddings, pads zeroed, a masked max).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from rnnkit.data import read_conllu
from rnnkit.layers import CharCNN, CharEncoder, Spec, char_encoder
from rnnkit.text import char_vocabulary, encode_chars, lengths_to_mask

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ud_english_ewt"
B, T, L, CHAR_DIM, UNITS = 32, 25, 12, 30, 50


def sentences(n: int, rng: np.random.Generator) -> list[list[str]]:
    """`n` sentences of EWT's training split (random words when it is missing)."""
    path = DATA / "en_ewt-ud-train.conllu"
    if path.is_file():
        corpus = read_conllu(path).sentences
        return [list(corpus[i])[:T] for i in rng.permutation(len(corpus))[:n]]
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return [
        ["".join(rng.choice(letters, rng.integers(1, L + 1))) for _ in range(rng.integers(5, T))]
        for _ in range(n)
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--cell", default="lstm", choices=["rnn", "lstm", "gru"])
    p.add_argument("--threads", type=int, default=None, help="PyTorch threads")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    text = sentences(B * args.batches, rng)
    chars = char_vocabulary(text)
    batches = []
    for i in range(0, len(text), B):
        part = text[i : i + B]
        ids, _ = encode_chars(part, chars, max_chars=L)
        mask = lengths_to_mask([len(s) for s in part], T=ids.shape[1])
        batches.append((ids, mask, rng.normal(size=(*ids.shape[:2], 2 * UNITS))))
    words = sum(int(m.sum()) for _, m, _ in batches)
    print(f"{len(batches)} batches of {B} sentences, {words / len(batches):.0f} words a batch")

    enc = CharEncoder(len(chars), CHAR_DIM, UNITS, cell=args.cell)
    enc.build(Spec("ids", len(chars)), np.random.default_rng(0))

    def rnnkit_step(ids, mask, R):
        _, cache = enc.forward(ids, mask=mask, training=True)
        enc.backward(R.astype(np.float32), cache)
        enc.zero_grad()

    def one_bucket_step(ids, mask, R):
        saved, char_encoder.STEP_ROWS = char_encoder.STEP_ROWS, 10**9
        try:
            rnnkit_step(ids, mask, R)
        finally:
            char_encoder.STEP_ROWS = saved

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[args.cell]
    emb = torch.nn.Embedding(len(chars), CHAR_DIM)
    net = rnn_cls(CHAR_DIM, UNITS, bidirectional=True, batch_first=True)
    pack = torch.nn.utils.rnn.pack_padded_sequence

    def torch_step(ids, mask, R):
        lengths = (ids != 0).sum(-1)
        keep = mask & (lengths > 0)
        words = torch.from_numpy(ids[keep])
        n = torch.from_numpy(lengths[keep])
        h = net(pack(emb(words), n, batch_first=True, enforce_sorted=False))[1]
        h = h[0] if args.cell == "lstm" else h  # (2, N, units)
        y = torch.zeros(R.shape, dtype=torch.float32)
        y[torch.from_numpy(keep)] = torch.cat([h[0], h[1]], dim=-1)
        (y * torch.from_numpy(R.astype(np.float32))).sum().backward()
        for module in (emb, net):
            module.zero_grad()

    cnn = CharCNN(len(chars), CHAR_DIM, 2 * UNITS)
    cnn.build(Spec("ids", len(chars)), np.random.default_rng(0))

    def cnn_step(ids, mask, R):
        _, cache = cnn.forward(ids, mask=mask, training=True)
        cnn.backward(R.astype(np.float32), cache)
        cnn.zero_grad()

    conv = torch.nn.Conv1d(CHAR_DIM, 2 * UNITS, 3, padding=1)

    def torch_cnn_step(ids, mask, R):
        keep = mask & (ids != 0).any(-1)
        words = torch.from_numpy(ids[keep])  # (N, L)
        real = words != 0
        z = conv((emb(words) * real[..., None]).transpose(1, 2))  # (N, F, L)
        h = z.masked_fill(~real[:, None, :], float("-inf")).amax(dim=2)
        y = torch.zeros(R.shape, dtype=torch.float32)
        y[torch.from_numpy(keep)] = h
        (y * torch.from_numpy(R.astype(np.float32))).sum().backward()
        for module in (emb, conv):
            module.zero_grad()

    threads = f"{torch.get_num_threads()} threads"
    steps = {
        "rnnkit CharEncoder": rnnkit_step,
        "rnnkit, all words in one bucket": one_bucket_step,
        f"PyTorch {torch.__version__}, {threads}": torch_step,
        "rnnkit CharCNN": cnn_step,
        f"PyTorch Conv1d, {threads}": torch_cnn_step,
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm-up: buffers, caches
        step(*batches[0])
    # NOTE: the contenders take turns on each batch, so a busy machine slows all alike
    for batch in batches:
        for name, step in steps.items():
            start = time.perf_counter()
            step(*batch)
            times[name].append(time.perf_counter() - start)
    for name, ts in times.items():
        print(
            f"{name:<34} median {1e3 * statistics.median(ts):6.2f} ms a batch, "
            f"min {1e3 * min(ts):6.2f} ms, {1e6 * sum(ts) / words:6.2f} us a word"
        )


if __name__ == "__main__":
    main()
