"""LanguageModel: text corpora, truncated-BPTT streams, carried state, generation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.data import corpus as corpus_module
from rnnkit.data.corpus import corpus_from_text, read_corpus
from rnnkit.errors import ConfigError, DataError
from rnnkit.io.interop import to_torch
from rnnkit.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
from rnnkit.models import LanguageModel, load_model
from rnnkit.models.heads import compute_loss
from rnnkit.models.sequential import Sequential
from rnnkit.models.stateful import StatefulNetwork
from rnnkit.training import Batch, TextStreams

SHAKESPEARE = Path(__file__).resolve().parents[3] / "shared" / "data" / "tinyshakespeare"
CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 6


def small_lm(**settings) -> LanguageModel:
    base = dict(hidden=16, embed_dim=8, bptt=8, batch_size=4, epochs=3, verbose=0, seed=0)
    return LanguageModel(**{**base, **settings})


# -- the NAMASTE example ----------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_namaste_every_next_letter(cell: str) -> None:
    lm = LanguageModel(
        level="char", cell=cell, hidden=16, embed_dim=8, lr=0.02, epochs=150, bptt=8,
        batch_size=1, verbose=0,
    )  # fmt: skip
    lm.fit("namaste\n")
    prefixes = ["namaste"[:i] for i in range(1, 8)]
    assert [lm.predict_next(p) for p in prefixes] == ["a", "m", "a", "s", "t", "e", "\n"]
    assert lm.generate("n", 7, temperature=0) == "amaste\n"


# -- corpora ------------------------------------------------------------------------------
def test_char_corpus_streams_in_chunks(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8")
    whole = read_corpus(path, "char")
    monkeypatch.setattr(corpus_module, "CHUNK_CHARS", 7)  # many small reads
    pieces = read_corpus(path, "char")
    assert whole.vocab.tokens == sorted(set(TEXT))
    assert whole.ids.dtype == np.uint8
    np.testing.assert_array_equal(whole.ids, pieces.ids)
    assert whole.decode(whole.ids) == TEXT


def test_word_corpus_ends_lines_with_eos(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a b a\nc a\n", encoding="utf-8")
    corpus = read_corpus(path, "word")
    assert corpus.vocab.tokens[4:] == ["a", "b", "c"]
    assert corpus.vocab.decode(corpus.ids, strip_specials=False) == [
        "a", "b", "a", "<eos>", "c", "a", "<eos>",
    ]  # fmt: skip
    assert corpus.decode(corpus.ids) == "a b a\nc a\n"
    rare = read_corpus(path, "word", min_freq=2)
    assert rare.vocab.decode(rare.ids, strip_specials=False)[:3] == ["a", "<unk>", "a"]


def test_corpus_errors_name_the_file_and_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty\.txt: the text is empty"):
        read_corpus(empty, "char")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"ok\n\xff\xfe")
    with pytest.raises(DataError, match=r"bin\.txt:2: cannot decode bytes with encoding 'utf-8'"):
        read_corpus(binary, "char")
    vocab = corpus_from_text("abc\n", "char").vocab
    other = tmp_path / "other.txt"
    other.write_text("abc\nabz\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"other.txt:2: character 'z'"):
        read_corpus(other, "char", vocab=vocab)


def test_reading_with_unknown_skip_leaves_out_and_counts_what_the_vocabulary_lacks(
    tmp_path: Path,
) -> None:
    vocab = corpus_from_text("abc\n", "char").vocab
    other = tmp_path / "other.txt"
    other.write_text("abc\n(abz)\n", encoding="utf-8")
    corpus = read_corpus(other, "char", vocab=vocab, unknown="skip")
    assert corpus.decode(corpus.ids) == "abc\nab\n" and corpus.unknown == 3
    with pytest.raises(DataError, match="no token of the text"):
        corpus_from_text("xyz", "char", vocab=vocab, unknown="skip")
    with pytest.raises(ConfigError, match="unknown='drop'"):
        corpus_from_text("abc", "char", vocab=vocab, unknown="drop")
    words = corpus_from_text("the cat\n", "word")
    seen = corpus_from_text("the dog cat\n", "word", vocab=words.vocab)
    assert seen.unknown == 1 and len(seen) == 4  # "dog" is <unk>, and counted


def test_evaluate_scores_text_with_characters_never_seen() -> None:
    lm = small_lm().fit(TEXT)
    clean = lm.evaluate("the cat sat.\n")
    dirty = lm.evaluate("the (cat) sat.{\n")
    assert (clean.unknown, dirty.unknown) == (0, 3)
    assert dirty.n_tokens == clean.n_tokens and dirty.to_dict()["unknown_tokens"] == 3
    assert "3 characters not in the model's vocabulary left out" in dirty.format()
    words = small_lm(level="word").fit(TEXT)
    report = words.evaluate("the zebra sat on the sofa\n")
    assert report.unknown == 2 and "2 words not in the model's vocabulary" in report.format()


def test_split_holds_out_the_tail() -> None:
    corpus = corpus_from_text("abcdefghij", "char")
    head, tail = corpus.split(0.2)
    assert head.decode(head.ids) == "abcdefgh" and tail.decode(tail.ids) == "ij"
    with pytest.raises(DataError, match="too few"):
        corpus_from_text("ab", "char").split(0.1)


# -- streams ------------------------------------------------------------------------------
def test_stateful_streams_continue_row_by_row() -> None:
    ids = np.arange(103)
    streams = TextStreams(ids, batch_size=4, bptt=10)
    windows = streams.batches()
    batches = [streams.batch(w) for w in windows]
    assert [b.carry for b in batches] == [False] + [True] * (len(batches) - 1)
    rows = np.concatenate([b.x for b in batches], axis=1)  # each row one stream, in order
    np.testing.assert_array_equal(rows, np.arange(100).reshape(4, 25))
    targets = np.concatenate([b.y for b in batches], axis=1)
    np.testing.assert_array_equal(targets, rows + 1)
    assert streams.n_targets == 100


def test_random_partition_starts_every_window_from_zero() -> None:
    ids = np.arange(1000)
    streams = TextStreams(ids, batch_size=8, bptt=16, stateful=False)
    rng = np.random.default_rng(0)
    windows = streams.batches(rng=rng)
    batches = [streams.batch(w) for w in windows]
    assert not any(b.carry for b in batches)
    starts = np.concatenate([w.starts for w in windows])
    assert len(np.unique(starts)) == len(starts)
    assert len(set(np.diff(np.sort(starts)))) == 1  # consecutive, non-overlapping windows
    assert starts.min() < 16 and starts.max() + 16 < 1000
    for b in batches:
        np.testing.assert_array_equal(b.y, b.x + 1)
        assert b.x.shape[1] == 16
    assert not np.array_equal(starts, np.concatenate([w.starts for w in streams.batches(rng=rng)]))


# -- carried state and truncated BPTT -----------------------------------------------------
def _net(cell: str, V: int = 7, d: int = 5, dtype: str = "float64") -> Sequential:
    net = Sequential([Embedding(V, 4), CELLS[cell](d, return_sequences=True), Dense(V, "softmax")],
                     seed=3, dtype=dtype)  # fmt: skip
    net.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)
    return net


def _batch(x: np.ndarray, y: np.ndarray, carry: bool) -> Batch:
    B, T = x.shape
    return Batch(x, np.ones((B, T), bool), np.full(B, T), y, np.arange(B), carry=carry)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_carried_state_continues_the_sequence(cell: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 7, size=(3, 12))
    y = rng.integers(0, 7, size=(3, 12))
    net = _net(cell)
    whole = net.forward(x, logits=True)[0]
    stateful = StatefulNetwork(net)
    stateful.eval_batch(_batch(x[:, :5], y[:, :5], carry=False))
    carried = stateful.states["eval"]
    second = net.forward(x[:, 5:], logits=True, initial_states=carried)[0]
    np.testing.assert_allclose(second, whole[:, 5:], rtol=1e-12, atol=1e-14)
    fresh = net.forward(x[:, 5:], logits=True)[0]
    assert not np.allclose(fresh, whole[:, 5:])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradient_stops_at_the_window_start(cell: str) -> None:
    """The loss of a window that starts from a carried state, with that state held
    constant: the analytic gradient of every parameter matches central differences."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 7, size=(2, 6))
    y = rng.integers(0, 7, size=(2, 6))
    net = _net(cell)
    layer = net.layers[1]
    h0 = rng.normal(size=(2, 5))
    state = (h0, rng.normal(size=(2, 5))) if cell == "lstm" else h0
    model = StatefulNetwork(net)

    def loss() -> float:
        logits = net.forward(x, logits=True, initial_states=[state])[0]
        return compute_loss(net.loss, logits, y, None, "token_mean")[0]

    net.zero_grad()
    model.states["train"] = [state]
    model.train_batch(_batch(x, y, carry=True))
    params = {f"{l.name}.{k}": v for l in net.layers for k, v in l.params.items()}
    grads = {f"{l.name}.{k}": l.grads[k].copy() for l in net.layers for k in l.params}
    check_gradients(loss, params, grads)
    assert layer.grads["W"].any()


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_truncated_window_matches_torch(torch, cell: str) -> None:
    """One window from a carried state, against nn.Embedding -> nn.RNN/LSTM/GRU(h0)
    -> nn.Linear with the state detached (float64)."""
    V, d, B, T = 7, 5, 3, 6
    rng = np.random.default_rng(2)
    x = rng.integers(0, V, size=(B, T))
    y = rng.integers(0, V, size=(B, T))
    net = _net(cell, V, d)
    emb, rnn, out = net.layers
    h0 = rng.normal(size=(B, d))
    c0 = rng.normal(size=(B, d))
    state = (h0, c0) if cell == "lstm" else h0
    model = StatefulNetwork(net)
    net.zero_grad()
    model.states["train"] = [state]
    r = model.train_batch(_batch(x, y, carry=True))
    final = model.states["train"][0]

    t = torch.nn
    t_emb = t.Embedding(V, 4).double()
    t_rnn = {"rnn": t.RNN, "lstm": t.LSTM, "gru": t.GRU}[cell](4, d, batch_first=True).double()
    t_out = t.Linear(d, V).double()
    with torch.no_grad():
        t_emb.weight.copy_(torch.from_numpy(emb.params["E"]))
        for name, value in to_torch(cell, rnn.params).items():
            getattr(t_rnn, name).copy_(torch.from_numpy(value))
        t_out.weight.copy_(torch.from_numpy(out.params["V"].T))
        t_out.bias.copy_(torch.from_numpy(out.params["c"]))
    th0 = torch.from_numpy(h0)[None]
    t_state = (th0, torch.from_numpy(c0)[None]) if cell == "lstm" else th0
    hs, t_final = t_rnn(t_emb(torch.from_numpy(x)), t_state)
    logits = t_out(hs)
    t_loss = t.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y).reshape(-1))
    t_loss.backward()
    t_h = t_final[0] if cell == "lstm" else t_final
    values = {
        "loss": (np.float64(r.loss_sum / r.count), t_loss),
        "h_T": (final[0] if cell == "lstm" else final, t_h[0]),
    }
    if cell == "lstm":
        values["c_T"] = (final[1], t_final[1][0])
    ours_rnn = to_torch(cell, rnn.grads)
    grads = {"E": (emb.grads["E"], t_emb.weight.grad), "V": (out.grads["V"].T, t_out.weight.grad)}
    for name in ("weight_ih_l0", "weight_hh_l0"):
        grads[name] = (ours_rnn[name], getattr(t_rnn, name).grad)
    check_against_torch(values, grads)


# -- training, scoring, generation --------------------------------------------------------
def test_untrained_loss_is_about_ln_v_and_training_lowers_it() -> None:
    lm = small_lm(epochs=8, lr=1e-2)
    lm.fit(TEXT)
    V = len(lm.vocab_)
    assert abs(lm.initial_loss_ - math.log(V)) < 0.6  # about ln V: near-uniform outputs
    report = lm.evaluate(TEXT)
    assert report.loss < 0.6 * math.log(V)
    assert report.n_tokens > 0.9 * len(TEXT)
    d = report.to_dict()
    assert set(d) == {"loss", "perplexity", "bits_per_token", "n_tokens", "unknown_tokens"}
    assert d["perplexity"] == pytest.approx(math.exp(d["loss"]))
    assert d["bits_per_token"] == pytest.approx(d["loss"] / math.log(2))


@pytest.mark.parametrize("stateful", [True, False])
def test_history_counts_tokens(stateful: bool) -> None:
    lm = small_lm(stateful=stateful, epochs=2)
    lm.fit(TEXT[:-40], valid=TEXT[-40:])
    assert len(lm.history_.epochs) == 2
    assert all(np.isfinite(e["val_loss"]) for e in lm.history_.epochs)


def test_sampling_is_deterministic_under_a_seed(tmp_path: Path) -> None:
    lm = small_lm().fit(TEXT)
    a = lm.generate("the ", 60, seed=5, temperature=0.8, top_k=5)
    assert a == lm.generate("the ", 60, seed=5, temperature=0.8, top_k=5)
    assert a != lm.generate("the ", 60, seed=6, temperature=0.8, top_k=5)
    assert len(a) == 60 and set(a) <= set(TEXT)
    lm.save(tmp_path / "lm")
    again = load_model(tmp_path / "lm")
    assert isinstance(again, LanguageModel)
    assert again.generate("the ", 60, seed=5, temperature=0.8, top_k=5) == a
    assert again.evaluate(TEXT).loss == pytest.approx(lm.evaluate(TEXT).loss, rel=1e-6)


def test_generation_from_a_start_token_and_a_given_state() -> None:
    lm = small_lm(cell="lstm").fit(TEXT)
    assert len(lm.generate(None, 20, seed=0)) == 20
    d = lm.settings["hidden"]
    h = np.full(d, 0.5)
    from_state = lm.generate(None, 40, seed=1, state=(h, -h))
    assert from_state != lm.generate(None, 40, seed=1)
    assert from_state == lm.generate(None, 40, seed=1, state=[(h, -h)])


def test_word_level_generation_joins_words() -> None:
    lm = small_lm(level="word", epochs=30, lr=1e-2).fit(TEXT)
    text = lm.generate("the", 12, temperature=0)
    assert text.startswith(" ")
    words = text.split()
    assert words and set(words) <= set(TEXT.split())


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="empty"):
        small_lm().fit("")
    lm = small_lm().fit(TEXT)
    with pytest.raises(DataError, match=r"'Z', 'Q' not in the model's characters|'Q', 'Z'"):
        lm.generate("ZQ", 5)
    with pytest.raises(ConfigError, match="length=0"):
        lm.generate("the", 0)
    with pytest.raises(ConfigError, match="bidirectional"):
        LanguageModel(bidirectional=True)


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="../shared/data/tinyshakespeare is absent")
def test_tinyshakespeare_learns_in_seconds() -> None:
    """A few hundred steps on real text beat the unigram distribution by a margin."""
    corpus = read_corpus(SHAKESPEARE / "input.txt", "char")
    assert len(corpus.vocab) == 65
    train, valid = corpus.split(0.1)
    train.ids = train.ids[:200_000]
    valid.ids = valid.ids[:20_000]
    lm = LanguageModel(hidden=128, epochs=2, verbose=0).fit_corpus(train, valid)
    counts = np.bincount(train.ids, minlength=65) + 1
    p = counts / counts.sum()
    unigram = float(-np.log(p[valid.ids[1:]]).mean())  # about 3.3 nats
    assert lm.evaluate_ids(valid.ids).loss < unigram - 0.8
