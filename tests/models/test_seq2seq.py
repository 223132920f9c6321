"""Seq2Seq, the task model: learning, decoding, scheduled sampling, files and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data.pairs import read_cmudict
from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.models import Seq2Seq, load_model
from rnnkit.models.decoding import greedy_search
from rnnkit.models.teacher_forcing import TeacherForcing
from rnnkit.training.pairs import PairDataset

CMUDICT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cmudict_g2p"
WORDS = ["abc", "bca", "cab", "aab", "bba", "ccab", "abcc", "ba", "cb", "acbca"]
SMALL = dict(
    embed_dim=8, hidden=12, layers=1, dropout=0.0, lr=0.02, batch_size=10, seed=0, verbose=0
)


@pytest.fixture(scope="module")
def reverser() -> Seq2Seq:
    """A small model that has learnt to spell words backwards."""
    src = [list(w) for w in WORDS] * 6
    return Seq2Seq(epochs=40, **SMALL).fit(src, [s[::-1] for s in src])


def test_learns_to_reverse_and_reports_it(reverser: Seq2Seq) -> None:
    src = [list(w) for w in WORDS]
    assert reverser.translate(src) == [s[::-1] for s in src]
    r = reverser.evaluate(src, [s[::-1] for s in src], beam=3)
    assert r.exact_match == 1.0 and r.token_error_rate == 0.0
    assert reverser.history_.epochs[-1]["loss"] < 0.1 * reverser.history_.epochs[0]["loss"]


def test_beam_search_agrees_with_greedy_on_a_confident_model(reverser: Seq2Seq) -> None:
    src = [list(w) for w in WORDS]
    greedy = reverser.decode(src)
    beam = reverser.decode(src, beam=4)
    assert [t.tolist() for t in greedy.tokens] == [t.tolist() for t in beam.tokens]
    assert np.all(beam.scores >= greedy.scores - 1e-4)
    assert greedy.attention is not None and beam.attention is None
    assert [a.shape for a in greedy.attention] == [(len(w), len(w)) for w in WORDS]


def test_save_and_load_give_the_same_outputs(reverser: Seq2Seq, tmp_path: Path) -> None:
    reverser.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, Seq2Seq)
    src = [list(w) for w in WORDS] + [list("zz")]  # unknown letters map to <unk>
    a, b = reverser.decode(src, beam=2), loaded.decode(src, beam=2)
    assert [t.tolist() for t in a.tokens] == [t.tolist() for t in b.tokens]
    np.testing.assert_array_equal(a.scores, b.scores)
    assert loaded.settings == reverser.settings


def test_a_tampered_model_directory_is_refused(reverser: Seq2Seq, tmp_path: Path) -> None:
    reverser.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["training"]["settings"]["hidden"] = 13
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="shape"):
        load_model(tmp_path / "m")
    config["training"]["settings"]["attention"] = "psychic"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="attention"):
        load_model(tmp_path / "m")


def test_full_scheduled_sampling_feeds_back_the_greedy_output(reverser: Seq2Seq) -> None:
    """With ratio 1 every fed token (after <sos>) is the model's own previous argmax:
    exactly what greedy decoding reads."""
    src = [reverser.source_vocab_.encode(list(w)) for w in WORDS]
    wrong = [np.array([reverser.vocab_["a"]] * (len(w) + 1)) for w in WORDS]  # all "a"
    data = PairDataset(src, wrong, sos_id=reverser._sos)
    batch = data.batch(np.arange(len(WORDS)))
    fed = TeacherForcing(reverser.model_, sampling_ratio=1.0).decoder_inputs(batch)
    out = greedy_search(
        reverser.model_, batch.x, batch.mask, sos_id=reverser._sos, eos_id=reverser._eos,
        max_lengths=np.full(len(WORDS), batch.y.shape[1]),
    )  # fmt: skip
    for row, w in enumerate(WORDS):
        n = len(w)  # the target has n + 1 tokens: the first n fed tokens after <sos>
        assert fed[row, 0] == reverser._sos
        assert fed[row, 1 : n + 1].tolist() == out.tokens[row][:n].tolist()
    none = TeacherForcing(reverser.model_, sampling_ratio=0.0).decoder_inputs(batch)
    assert none is batch.y_in


def test_scheduled_sampling_trains() -> None:
    src = [list(w) for w in WORDS] * 6
    model = Seq2Seq(epochs=30, sampling_ratio=0.25, **SMALL).fit(src, [s[::-1] for s in src])
    assert model.evaluate(src[:10], [s[::-1] for s in src[:10]]).exact_match >= 0.9


@pytest.mark.parametrize(
    ("sources", "targets", "message"),
    [
        ([["a"]], [[]], "pair 1: the target is empty"),
        ([[]], [["a"]], "pair 1: the source is empty"),
        (["ab"], [["a"]], "lists of tokens"),
        ([["a"], ["b"]], [["a"]], "2 sources but 1 targets"),
    ],
)
def test_bad_training_pairs(sources, targets, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Seq2Seq(**SMALL).fit(sources, targets)


def test_bad_settings_and_requests(reverser: Seq2Seq) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Seq2Seq(hiden=3)
    with pytest.raises(ConfigError, match="attention"):
        Seq2Seq(attention="psychic")
    with pytest.raises(ConfigError, match="beam"):
        Seq2Seq(beam=0)
    with pytest.raises(ConfigError, match="beam"):
        reverser.decode([list("ab")], beam=0)
    with pytest.raises(DataError, match="source 1 is empty"):
        reverser.translate([[]])
    with pytest.raises(ConfigError, match="not trained"):
        Seq2Seq().translate([list("ab")])


def test_grapheme_to_phoneme_on_real_words() -> None:
    """Two epochs on 12,000 CMUdict words (a few seconds) already spell most phones
    right on unseen words."""
    if not (CMUDICT / "cmudict-train.dict").exists():
        pytest.skip(f"CMUdict data not found at {CMUDICT}")
    train = read_cmudict(CMUDICT / "cmudict-train.dict")
    test = read_cmudict(CMUDICT / "cmudict-test.dict")
    model = Seq2Seq(hidden=64, layers=1, epochs=2, seed=0, verbose=0)
    model.fit(train.sources[:12000], train.targets[:12000])
    r = model.evaluate(test.sources[:500], test.targets[:500])
    assert r.token_error_rate < 0.4  # 0.32 when measured
    assert r.word_error_rate < 0.9  # 0.80
