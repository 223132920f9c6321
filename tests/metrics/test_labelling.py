"""LabellingReport: token scores over real tokens, entity scores for BIO and IOBES, unknown
gold tags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data.tagged import read_conll
from rnnkit.errors import ConfigError, DataError, ShapeError, VocabularyError
from rnnkit.metrics.labelling import UNKNOWN_TAG, LabellingReport

TOKEN_KEYS = {"accuracy", "per_class_accuracy", "confusion_matrix", "labels", "n"}
TAG_KEYS = TOKEN_KEYS | {"precision", "recall", "f1", "macro_f1", "unknown_tags"}
ENTITY_KEYS = {"entity_precision", "entity_recall", "entity_f1", "entity_per_type"}
NER = ["O", "B-a", "I-a", "B-b", "I-b"]
NER_IOBES = ["O", "B-a", "I-a", "E-a", "S-a", "B-b", "I-b", "E-b", "S-b"]
WNUT_DEV = Path(__file__).resolve().parents[2].parent / "shared/data/wnut17/emerging.dev.conll"


def test_pos_tags_by_hand() -> None:
    true = [["DET", "NOUN", "VERB"], ["NOUN"]]
    pred = [["DET", "VERB", "VERB"], ["NOUN"]]
    report = LabellingReport.from_sequences(true, pred, labels=["DET", "NOUN", "VERB", "ADJ"])
    assert report.n == 4 and report.accuracy == 0.75 and report.unknown_tags == 0
    np.testing.assert_array_equal(report.cm, [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0] * 4])
    np.testing.assert_allclose(report.per_class_accuracy, [1, 0.5, 1, np.nan])
    assert report.macro_f1 == pytest.approx((1 + 2 / 3 + 2 / 3) / 3, abs=1e-15)  # ADJ unseen
    assert report.entities is None and report.entity_f1 is None
    d = report.to_dict()
    assert set(d) == TAG_KEYS
    assert d["per_class_accuracy"]["ADJ"] is None  # nan in JSON
    json.dumps(d, allow_nan=False)
    assert report.format() == report.tokens.format()


def test_bio_tags_add_entity_scores() -> None:
    true = [["B-a", "I-a", "O", "B-b"], ["O", "B-a"]]
    pred = [["B-a", "I-a", "O", "O"], ["O", "I-a"]]  # b missed; a lone I-a starts an a
    report = LabellingReport.from_sequences(true, pred, labels=NER)
    assert report.accuracy == pytest.approx(4 / 6, abs=1e-15)
    assert report.entity_f1 == pytest.approx(2 * 2 / (3 + 2), abs=1e-15)
    d = report.to_dict()
    assert set(d) == TAG_KEYS | ENTITY_KEYS
    assert d["entity_precision"] == 1.0
    assert d["entity_recall"] == pytest.approx(2 / 3, abs=1e-15)
    assert d["entity_per_type"]["b"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0, "correct": 0,
    }  # fmt: skip
    assert d["per_class_accuracy"]["I-b"] is None  # never true: nan, None in JSON
    assert json.loads(json.dumps(d, allow_nan=False)) == d


def test_iobes_tags_add_entity_scores() -> None:
    true = [["B-a", "E-a", "O", "S-b"], ["O", "S-a"]]
    pred = [["B-a", "E-a", "O", "O"], ["O", "E-a"]]  # b missed; a lone E-a is an a
    report = LabellingReport.from_sequences(true, pred, labels=NER_IOBES)
    assert report.accuracy == pytest.approx(4 / 6, abs=1e-15)
    assert report.entity_f1 == pytest.approx(2 * 2 / (3 + 2), abs=1e-15)
    d = report.to_dict()
    assert set(d) == TAG_KEYS | ENTITY_KEYS
    assert d["entity_precision"] == 1.0 and d["entity_recall"] == pytest.approx(2 / 3, abs=1e-15)
    assert d["entity_per_type"]["b"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0, "correct": 0,
    }  # fmt: skip
    assert report.format(digits=2).split("\n")[-4:] == [
        "entity  support  predicted  correct  precision  recall    f1",
        "a             2          2        2       1.00    1.00  1.00",
        "b             1          0        0       0.00    0.00  0.00",
        "(all)         3          2        2       1.00    0.67  0.80",
    ]


def test_unknown_gold_tags_keep_their_meaning_under_iobes() -> None:
    # S-c and B-c E-c were never seen: missed entities; MISC is no entity. With BIO
    # labels, an unknown S-c is not of the scheme: O, as MISC.
    true = [["S-c", "B-c", "E-c", "MISC", "S-a"]]
    pred = [["O", "O", "O", "O", "S-a"]]
    iobes = LabellingReport.from_sequences(true, pred, labels=NER_IOBES)
    assert iobes.unknown_tags == 4 and (iobes.entities or {})["support"] == 3
    assert (iobes.entities or {})["per_type"]["c"]["support"] == 2
    bio = LabellingReport.from_sequences([["S-c", "B-c", "MISC", "B-a"]],
                                         [["O", "O", "O", "B-a"]], labels=NER)  # fmt: skip
    assert bio.unknown_tags == 3 and (bio.entities or {})["support"] == 2  # S-c: O


def test_unknown_gold_tags_are_counted_and_scored_as_errors() -> None:
    # "B-c" and "MISC" were never seen in training: the model cannot predict them.
    true = [["B-a", "B-c", "I-c", "O"], ["MISC", "O"]]
    pred = [["B-a", "B-b", "O", "O"], ["O", "O"]]
    report = LabellingReport.from_sequences(true, pred, labels=NER)
    assert report.unknown_tags == 3 and report.n == 6
    assert report.accuracy == pytest.approx(3 / 6, abs=1e-15)
    assert report.labels == [*NER, UNKNOWN_TAG]
    np.testing.assert_array_equal(report.cm[-1], [2, 0, 0, 1, 0, 0])  # never predicted
    np.testing.assert_array_equal(report.cm[:, -1], 0)
    assert report.per_class_accuracy[-1] == 0.0
    assert report.tokens.precision[NER.index("O")] == 0.5  # 2 of the 4 predicted O
    # the true c entity is missed; MISC is no entity; the predicted b is wrong
    assert (report.entities or {})["support"] == 2 and report.entity_f1 == 0.5
    assert report.to_dict()["unknown_tags"] == 3
    lines = report.format(digits=2).split("\n")
    assert lines[1] == "unknown gold tags 3 (not among the labels; errors)"
    assert lines[-1] == "(all)         2          2        1       0.50    0.50  0.50"


def test_unknown_row_name_never_clashes_with_a_label() -> None:
    report = LabellingReport.from_sequences([["x", "y"]], [["x", "x"]], ["x", "<unknown>"])
    assert report.unknown_tags == 1 and report.labels == ["x", "<unknown>", "<<unknown>>"]


def test_predicted_tags_must_be_labels() -> None:
    with pytest.raises(VocabularyError, match=r"pred_tag_seqs\[1\]\[0\]: 'B-c' is not a label$"):
        LabellingReport.from_sequences([["O"], ["O"]], [["O"], ["B-c"]], labels=NER)


@pytest.mark.parametrize(
    ("true", "pred", "labels", "error", "message"),
    [
        ([["O"]], [["O"], ["O"]], NER, ShapeError, r"pred_tag_seqs: 2 sentences, .* has 1"),
        ([["O", "O"]], [["O"]], NER, ShapeError, r"pred_tag_seqs\[0\]: 1 tags for a .* of 2"),
        ([["O"]], [["O"]], [], ConfigError, r"labels: empty"),
        ([["O"]], [["O"]], "OB", ConfigError, r"labels: expected a sequence of tag names"),
        ([["O"]], [["O"]], ["O", "O"], ConfigError, r"labels: duplicate label 'O'"),
    ],
)
def test_from_sequences_errors(true, pred, labels, error, message) -> None:
    with pytest.raises(error, match=message):
        LabellingReport.from_sequences(true, pred, labels)


def _padded(
    rng: np.random.Generator, n_labels: int, unknown: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, T) gold and predicted ids with garbage at the pads, and the mask."""
    lengths = rng.integers(1, 9, size=7)
    mask = np.arange(8) < lengths[:, None]
    y_true = np.where(mask, rng.integers(0, n_labels, size=mask.shape), 99)
    y_pred = np.where(mask, rng.integers(0, n_labels, size=mask.shape), -5)
    if unknown:
        y_true[rng.random(mask.shape) < 0.15] = -1
    return y_true, y_pred, mask


@pytest.mark.parametrize("labels", [NER, NER_IOBES, ["NOUN", "VERB", "DET"]])
@pytest.mark.parametrize("unknown", [False, True])
def test_from_ids_equals_from_sequences(
    rng: np.random.Generator, labels: list[str], unknown: bool
) -> None:
    y_true, y_pred, mask = _padded(rng, len(labels), unknown)
    # the name of an unknown gold tag is lost in ids; "MISC" is not BIO, so O for entities
    names = [*labels, "MISC"]
    true = [[names[i] for i in row[m]] for row, m in zip(y_true, mask, strict=True)]
    pred = [[names[i] for i in row[m]] for row, m in zip(y_pred, mask, strict=True)]
    from_ids = LabellingReport.from_ids(y_true, y_pred, labels, mask=mask)
    assert from_ids.to_dict() == LabellingReport.from_sequences(true, pred, labels).to_dict()
    assert from_ids.n == mask.sum() and (from_ids.unknown_tags > 0) is unknown


def test_from_ids_without_mask_scores_every_position() -> None:
    report = LabellingReport.from_ids(np.array([[0, 1]]), np.array([[0, 0]]), ["O", "B-a"])
    assert report.n == 2 and report.accuracy == 0.5 and report.entity_f1 == 0.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "mask", "error", "message"),
    [
        ([0, 1], [0, 1], None, ShapeError, r"expected two \(B, T\) arrays, got \(2,\)"),
        ([[0, 1]], [[0]], None, ShapeError, r"expected two \(B, T\) arrays"),
        ([[0.0, 1.0]], [[0, 1]], None, ShapeError, r"y_true: expected integer tag ids"),
        ([[0, 1]], [[0, 1]], [[1, 1]], ShapeError, r"mask: expected a boolean array"),
        ([[0, 1]], [[0, 1]], [[True]], ShapeError, r"mask: expected a boolean array"),
        ([[0, 1]], [[0, 7]], None, DataError, r"y_pred: tag id 7 outside 0\.\.2"),
    ],
)
def test_from_ids_errors(y_true, y_pred, mask, error, message) -> None:
    with pytest.raises(error, match=message):
        LabellingReport.from_ids(np.array(y_true), np.array(y_pred), ["O", "B-a", "I-a"], mask)


def test_format_golden() -> None:
    report = LabellingReport.from_sequences(
        [["B-a", "I-a"], ["MISC"]], [["B-a", "O"], ["O"]], labels=["O", "B-a", "I-a"]
    )
    assert report.format(digits=2) == "\n".join(
        [
            "accuracy 0.33  n 3  macro F1 0.25",
            "unknown gold tags 1 (not among the labels; errors)",
            "",
            "label      support  accuracy  precision  recall    f1",
            "O                0         -       0.00    0.00  0.00",
            "B-a              1      1.00       1.00    1.00  1.00",
            "I-a              1      0.00       0.00    0.00  0.00",
            "<unknown>        1      0.00       0.00    0.00  0.00",
            "",
            "true \\ predicted  O  B-a  I-a  <unknown>",
            "O                 0    0    0          0",
            "B-a               0    1    0          0",
            "I-a               1    0    0          0",
            "<unknown>         1    0    0          0",
            "",
            "entity  support  predicted  correct  precision  recall    f1",
            "a             1          1        0       0.00    0.00  0.00",
            "(all)         1          1        0       0.00    0.00  0.00",
        ]
    )


def test_wnut17_perturbed_equals_sklearn_and_seqeval() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    seqeval_metrics = pytest.importorskip("seqeval.metrics")
    if not WNUT_DEV.is_file():
        pytest.skip(f"WNUT-17 dev file not found at {WNUT_DEV}")
    gold = read_conll(WNUT_DEV).tags
    labels = sorted({tag for seq in gold for tag in seq})
    rng = np.random.default_rng(2017)
    pred = []
    for seq in gold:  # a tenth of the tags replaced at random
        swap = rng.random(len(seq)) < 0.1
        pred.append([str(rng.choice(labels)) if s else t for t, s in zip(seq, swap, strict=True)])
    report = LabellingReport.from_sequences(gold, pred, labels)
    flat_true = [t for seq in gold for t in seq]
    flat_pred = [t for seq in pred for t in seq]
    assert report.n == 15733
    assert report.accuracy == pytest.approx(
        sklearn_metrics.accuracy_score(flat_true, flat_pred), rel=1e-15
    )
    p, r, f1, support = sklearn_metrics.precision_recall_fscore_support(
        flat_true, flat_pred, labels=labels, zero_division=0
    )
    np.testing.assert_allclose(report.tokens.precision, p, rtol=1e-14)
    np.testing.assert_allclose(report.tokens.recall, r, rtol=1e-14)
    np.testing.assert_allclose(report.tokens.f1, f1, rtol=1e-14)
    np.testing.assert_array_equal(report.tokens.support, support)
    assert report.macro_f1 == pytest.approx(
        sklearn_metrics.f1_score(flat_true, flat_pred, average="macro"), rel=1e-14
    )
    assert report.entity_f1 == pytest.approx(
        seqeval_metrics.f1_score(gold, pred, zero_division=0), rel=1e-14
    )
