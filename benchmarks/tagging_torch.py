"""The PyTorch peer of SequenceTagger on UD English-EWT UPOS and WNUT-17 NER.

    python benchmarks/tagging_torch.py {ewt,wnut17} [--chars] [--crf] [--iobes]
        [--embeddings FILE] [--pretrained-words N] [--freeze-embeddings] [--word-dropout P]
        [--hidden 100] [--max-minutes M]
        [--epochs 60] [--patience 8] [--threads N] [--seed 0]

The same network and budget as ``benchmarks/tagging.py`` with an LSTM tagger, so that
the figures sit side by side. The data goes through rnnkit's readers, vocabularies
and length-bucketed batches, so both sides see the same ids in the same batches:

- words lower-cased, every training word kept (``<pad>`` 0, ``<unk>`` 1; unseen words
  map to ``<unk>``); a 100-d embedding, or the file's vectors with ``--embeddings``
  (the same lower-case fallback; words the file lacks keep PyTorch's initialisation),
  whose ``--pretrained-words`` most frequent words join the vocabulary as rnnkit's do;
- with ``--chars``: each word's characters (case kept, at most 30: first 15 and last
  15) through 30-d embeddings and a bidirectional LSTM of 50 each way, its two final
  states joined onto the word embedding;
- dropout 0.5 -> bidirectional LSTM (``--hidden`` each way) -> dropout 0.5 -> linear;
- loss: cross-entropy summed over each sentence's tokens, mean over the sentences; or
  with ``--crf`` a linear-chain CRF (``pytorch-crf``), Viterbi for prediction;
- with ``--iobes``: BIO tags learnt as IOBES and predicted back in BIO, as
  SequenceTagger does by default (``pytorch-crf`` has no transition constraints, so
  an ill-formed path is read as the entity scores read it);
- Adam (lr 1e-3), global-norm clipping at 5, batches of 32, float32.

Training stops after ``--epochs``, after ``--patience`` epochs without a better dev
figure (entity F1 for BIO / IOBES tags, token accuracy otherwise), or when the
``--max-minutes`` budget runs out (checked after every batch; a cut epoch is still
scored on dev). The best dev epoch's weights tag the test split; a dev or test tag
never seen in training counts as wrong. Tokens per second count the training steps
(forward, backward, update) only. Needs PyTorch, pytorch-crf and ../shared/data.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchcrf
from tagging import DATA, load  # the splits rnnkit's side reads (benchmarks/tagging.py)
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.data import bucket_batches, read_embeddings
from rnnkit.metrics import entity_scores, tag_scheme
from rnnkit.metrics.schemes import bio_to_iobes, iobes_to_bio
from rnnkit.models.pretrained import with_file_words
from rnnkit.text import Vocabulary, char_vocabulary, encode_chars

BATCH = 32
CLIP = 5.0
DROPOUT = 0.5
WORD_DIM = 100  # without --embeddings
CHAR_DIM, CHAR_UNITS, MAX_CHARS = 30, 50, 30
EVAL_BATCH = 256


@dataclass
class Encoded:
    """One split as ids, one entry per sentence.

    words[i] : (T_i,) word ids; chars[i] : (T_i, L_i) character ids, 0 after a word's
    end; char_lengths[i] : (T_i,) characters per word; tags[i] : (T_i,) tag ids, -1 for
    a tag unseen in training (never a training target); gold[i] : the tags as read.
    """

    words: list[np.ndarray]
    chars: list[np.ndarray] | None
    char_lengths: list[np.ndarray] | None
    tags: list[np.ndarray]
    gold: list[list[str]]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(w) for w in self.words])


def encode(
    corpus, vocab: Vocabulary, chars: Vocabulary | None, labels: list[str], iobes: bool
) -> Encoded:
    """The ids of a split, with the training side's vocabularies and tag list (the
    tags converted to IOBES first with `iobes`, as SequenceTagger learns BIO tags)."""
    index = {t: k for k, t in enumerate(labels)}
    words = [vocab.encode([w.lower() for w in s]) for s in corpus.sentences]
    learnt = [bio_to_iobes(seq) for seq in corpus.tags] if iobes else corpus.tags
    tags = [np.array([index.get(t, -1) for t in seq]) for seq in learnt]
    char_ids = char_lengths = None
    if chars is not None:
        pairs = [encode_chars([s], chars, max_chars=MAX_CHARS) for s in corpus.sentences]
        char_ids = [ids[0] for ids, _ in pairs]  # (T_i, L_i)
        char_lengths = [n[0] for _, n in pairs]  # (T_i,)
    return Encoded(words, char_ids, char_lengths, tags, corpus.tags)


def pad(arrays: list[np.ndarray]) -> torch.Tensor:
    """Zero-padded (B, T, ...) int64 tensor of arrays (T_i, ...) with equal trailing
    shapes, except that a trailing axis takes its largest size."""
    shape = np.max([a.shape for a in arrays], axis=0)
    out = np.zeros((len(arrays), *shape), dtype=np.int64)
    for i, a in enumerate(arrays):
        out[(i, *(slice(0, n) for n in a.shape))] = a
    return torch.from_numpy(out)


def batch(data: Encoded, idx: np.ndarray) -> dict[str, torch.Tensor]:
    """The padded tensors of the sentences `idx`: words (B, T), lengths (B,), tags
    (B, T) (pads and unseen tags as 0: masked or never trained on), and with characters
    chars (B, T, L) and char_lengths (B, T)."""
    out = {
        "words": pad([data.words[i] for i in idx]),
        "lengths": torch.from_numpy(data.lengths[idx]),
        "tags": pad([np.maximum(data.tags[i], 0) for i in idx]),
    }
    if data.chars is not None and data.char_lengths is not None:
        out["chars"] = pad([data.chars[i] for i in idx])
        out["char_lengths"] = pad([data.char_lengths[i] for i in idx])
    return out


class Tagger(nn.Module):
    """[word embedding ; char BiLSTM] -> dropout -> BiLSTM -> dropout -> linear [-> CRF]."""

    def __init__(
        self,
        n_words: int,
        word_dim: int,
        n_chars: int | None,
        hidden: int,
        n_tags: int,
        crf: bool,
        word_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.word_dropout = word_dropout
        self.embed = nn.Embedding(n_words, word_dim, padding_idx=0)
        n_in = word_dim
        self.char_embed = self.char_lstm = None
        if n_chars is not None:
            self.char_embed = nn.Embedding(n_chars, CHAR_DIM, padding_idx=0)
            self.char_lstm = nn.LSTM(CHAR_DIM, CHAR_UNITS, bidirectional=True, batch_first=True)
            n_in += 2 * CHAR_UNITS
        self.drop = nn.Dropout(DROPOUT)
        self.lstm = nn.LSTM(n_in, hidden, bidirectional=True, batch_first=True)
        self.out = nn.Linear(2 * hidden, n_tags)
        self.crf = torchcrf.CRF(n_tags, batch_first=True) if crf else None

    def char_features(self, chars: torch.Tensor, char_lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, 2 * CHAR_UNITS): the final forward and backward states of each real
        word's characters, zeros in the padded word slots."""
        real = char_lengths > 0  # (B, T); NOTE: an empty token would count as a pad slot
        packed = pack_padded_sequence(
            self.char_embed(chars[real]),  # (N, L, CHAR_DIM), N real words
            char_lengths[real],
            batch_first=True,
            enforce_sorted=False,
        )
        _, (h_n, _) = self.char_lstm(packed)  # h_n: (2, N, CHAR_UNITS), in the input order
        z = torch.cat([h_n[0], h_n[1]], dim=-1)  # (N, 2 * CHAR_UNITS)
        out = z.new_zeros((*chars.shape[:2], z.shape[-1]))
        out[real] = z
        return out

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        """Emission scores (B, T, K) of a batch from :func:`batch`."""
        words = b["words"]
        if self.training and self.word_dropout:  # a word becomes <unk> (1), not its chars
            drop = (torch.rand(words.shape) < self.word_dropout) & (words != 0)
            words = torch.where(drop, torch.ones_like(words), words)
        x = self.embed(words)  # (B, T, word_dim)
        if self.char_lstm is not None:
            x = torch.cat([x, self.char_features(b["chars"], b["char_lengths"])], dim=-1)
        packed = pack_padded_sequence(
            self.drop(x), b["lengths"], batch_first=True, enforce_sorted=False
        )
        states, _ = self.lstm(packed)
        T = b["words"].shape[1]
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=T)  # (B, T, 2H)
        return self.out(self.drop(states))

    def loss(self, emissions: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean over the sentences of each one's loss (summed over its tokens)."""
        mask = b["words"] != 0  # (B, T); word id 0 is <pad> only
        if self.crf is not None:
            return -self.crf(emissions, b["tags"], mask, reduction="mean")
        nll = nn.functional.cross_entropy(emissions[mask], b["tags"][mask], reduction="sum")
        return nll / emissions.shape[0]

    def predict(self, emissions: torch.Tensor, b: dict[str, torch.Tensor]) -> list[list[int]]:
        """The tag ids of each sentence's real tokens."""
        if self.crf is not None:
            return self.crf.decode(emissions, b["words"] != 0)
        best = emissions.argmax(-1)  # (B, T)
        return [best[i, :n].tolist() for i, n in enumerate(b["lengths"].tolist())]


def build(args, vocab: Vocabulary, chars: Vocabulary | None, n_tags: int) -> Tagger:
    """The network, its word embedding started from ``--embeddings`` if given."""
    vectors = None if args.embeddings is None else read_embeddings(args.embeddings, vocab)
    word_dim = WORD_DIM if vectors is None else vectors.dim
    n_chars = None if chars is None else len(chars)
    net = Tagger(len(vocab), word_dim, n_chars, args.hidden, n_tags, args.crf, args.word_dropout)
    if vectors is not None:
        print(vectors.summary(), flush=True)
        # NOTE: vectors.vectors is in vocabulary order (read for vocab.tokens); the rows
        # the file lacks, and <pad>, keep what nn.Embedding gave them
        found = torch.from_numpy(vectors.found)
        found[vocab.pad_id] = False
        with torch.no_grad():
            net.embed.weight[found] = torch.from_numpy(vectors.vectors)[found]
    return net


def train_epoch(net, opt, data: Encoded, rng, deadline: float) -> tuple[float, int, float, bool]:
    """One pass in shuffled length buckets, cut after the batch that passes `deadline`:
    (mean loss per sentence, tokens trained, seconds of training steps, cut short)."""
    net.train()
    batches = bucket_batches(data.lengths, BATCH, rng)
    total, seen, tokens, busy = 0.0, 0, 0, 0.0
    for k, idx in enumerate(batches):
        b = batch(data, idx)
        t0 = time.perf_counter()
        loss = net.loss(net(b), b)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), CLIP)
        opt.step()
        busy += time.perf_counter() - t0
        total, seen = total + loss.item() * len(idx), seen + len(idx)
        tokens += int(b["lengths"].sum())
        if time.perf_counter() > deadline and k + 1 < len(batches):
            return total / seen, tokens, busy, True
    return total / seen, tokens, busy, False


def tag(net, data: Encoded, labels: list[str], iobes: bool = False) -> list[list[str]]:
    """The predicted tags of every sentence, in order (IOBES given back in BIO with
    `iobes`)."""
    net.eval()
    pred: list[list[str]] = [[] for _ in data.words]
    order = np.argsort(data.lengths, kind="stable")  # by length: little of a batch is padding
    batches = [order[i : i + EVAL_BATCH] for i in range(0, len(order), EVAL_BATCH)]
    with torch.no_grad():
        for idx in batches:
            b = batch(data, idx)
            for i, ids in zip(idx, net.predict(net(b), b), strict=True):
                pred[i] = [labels[k] for k in ids]
    return [iobes_to_bio(seq) for seq in pred] if iobes else pred


def score(gold: list[list[str]], pred: list[list[str]], scheme: str | None) -> dict:
    """Token accuracy, and entity precision, recall and F1 when `scheme` is BIO / IOBES."""
    pairs = [(g, p) for gs, ps in zip(gold, pred, strict=True) for g, p in zip(gs, ps, strict=True)]
    right = sum(g == p for g, p in pairs)
    out = {"accuracy": right / len(pairs)}
    if scheme is not None:
        out.update({k: v for k, v in entity_scores(gold, pred, scheme).items() if k != "per_type"})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", choices=["ewt", "wnut17"])
    p.add_argument("--chars", action="store_true", help="join a character BiLSTM's features")
    p.add_argument("--crf", action="store_true", help="a CRF over the tag scores")
    p.add_argument("--iobes", action="store_true", help="learn BIO tags as IOBES, score BIO")
    p.add_argument("--embeddings", type=Path, help="pretrained word vectors (GloVe, ...)")
    p.add_argument(
        "--pretrained-words",
        type=int,
        default=100_000,
        help="with --embeddings: the file's N most frequent words join the "
        "vocabulary, as SequenceTagger's pretrained_words (0: training words only)",
    )
    p.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="keep the word embedding as --embeddings gives it",
    )
    p.add_argument(
        "--word-dropout",
        type=float,
        default=0.0,
        help="training words replaced by <unk> with this probability",
    )
    p.add_argument("--hidden", type=int, default=100, help="LSTM units each way")
    p.add_argument("--max-minutes", type=float, help="wall-clock budget of training")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--patience", type=int, default=8, help="epochs without a better dev figure")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    where = DATA / ("ud_english_ewt" if args.corpus == "ewt" else "wnut17")
    if not where.is_dir():
        print(f"no data at {where}: nothing to run")
        return 0
    if args.epochs < 1 or args.patience < 1 or args.hidden < 1 or args.threads < 1:
        p.error("--epochs, --patience, --hidden and --threads take integers >= 1")
    if args.embeddings is not None and not args.embeddings.is_file():
        p.error(f"--embeddings: no file {args.embeddings}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train, dev, test = load(args.corpus)
    scheme = tag_scheme({t for seq in train.tags for t in seq})
    if args.iobes and scheme != "BIO":
        p.error("--iobes: the training tags are not BIO")
    learnt = [bio_to_iobes(seq) for seq in train.tags] if args.iobes else train.tags
    labels = sorted({t for seq in learnt for t in seq})  # as SequenceTagger orders them
    figure = "entity f1" if scheme else "accuracy"
    vocab = Vocabulary.build([[w.lower() for w in s] for s in train.sentences], min_freq=1)
    if args.embeddings is not None and args.pretrained_words:
        vocab = with_file_words(vocab, args.embeddings, args.pretrained_words, lower=True)
    chars = char_vocabulary(train.sentences) if args.chars else None
    tr, dv, te = (encode(c, vocab, chars, labels, args.iobes) for c in (train, dev, test))
    net = build(args, vocab, chars, len(labels))
    if args.freeze_embeddings:
        net.embed.weight.requires_grad_(False)
    opt = torch.optim.Adam([q for q in net.parameters() if q.requires_grad], lr=1e-3)
    print(f"{len(train)} train, {len(dev)} dev, {len(test)} test sentences; {len(vocab)} words, "
          f"{len(labels)} tags ({scheme or 'not BIO'})", flush=True)  # fmt: skip

    start = time.perf_counter()
    budget = float("inf") if args.max_minutes is None else 60.0 * args.max_minutes
    deadline = start + budget
    best, best_epoch, best_state, tokens, busy = -1.0, 0, None, 0, 0.0
    epoch = 0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        loss, n, dt, cut = train_epoch(net, opt, tr, rng, deadline)
        tokens, busy = tokens + n, busy + dt
        dev_scores = score(dv.gold, tag(net, dv, labels, args.iobes), scheme)
        value = dev_scores["f1" if scheme else "accuracy"]
        print(f"epoch {epoch}{' (cut)' if cut else ''}  loss {loss:.4f}  dev {figure} "
              f"{value:.4f}  {time.perf_counter() - t0:.1f}s", flush=True)  # fmt: skip
        if value > best:
            best, best_epoch = value, epoch
            best_state = copy.deepcopy(net.state_dict())
        if cut or time.perf_counter() > deadline or epoch - best_epoch >= args.patience:
            break
    seconds = time.perf_counter() - start

    net.load_state_dict(best_state)
    report = score(te.gold, tag(net, te, labels, args.iobes), scheme)
    entities = ""
    if scheme:
        entities = (f"  test entity P/R/F1 {report['precision']:.4f} {report['recall']:.4f} "
                    f"{report['f1']:.4f}")  # fmt: skip
    emb = "none" if args.embeddings is None else args.embeddings.name
    if args.embeddings is not None:
        emb += f" words+{args.pretrained_words}{' frozen' if args.freeze_embeddings else ''}"
    print(f"torch {args.corpus} chars={args.chars} crf={args.crf} iobes={args.iobes} emb={emb} "
          f"word_dropout={args.word_dropout} "
          f"threads={args.threads}: test acc {report['accuracy']:.4f}{entities}  "
          f"dev {figure} {best:.4f}  best epoch {best_epoch}/{epoch}  train {seconds:.0f}s  "
          f"{tokens / busy:,.0f} tok/s", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
