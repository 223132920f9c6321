"""BIO and IOBES entity spans and scores, checked by hand and against seqeval (default,
conlleval mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.data.tagged import read_conll
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.entities import bio_spans, entity_scores, iobes_spans, is_bio, tag_scheme

seqeval_metrics = pytest.importorskip("seqeval.metrics")
from seqeval.metrics.sequence_labeling import (  # noqa: E402
    get_entities,
    precision_recall_fscore_support,
)

WNUT_DEV = Path(__file__).resolve().parents[2].parent / "shared/data/wnut17/emerging.dev.conll"
BIO_TAGS = ["O", "B-a", "I-a", "B-b", "I-b", "B-creative-work", "I-creative-work"]
tag_seqs = st.lists(st.sampled_from(BIO_TAGS), max_size=12)
IOBES_TAGS = [*BIO_TAGS, "E-a", "S-a", "E-b", "S-b", "E-creative-work", "S-creative-work"]
# F1 is 2 tp / (2 tp + fp + fn) here and 2 P R / (P + R) in seqeval: equal in exact
# arithmetic, a few ulps apart in floating point.
ULPS = 1e-14


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["O", "B-person", "I-person"], True),
        (["B-creative-work", "I-creative-work"], True),
        (["O"], True),
        ([], False),
        (["O", "NOUN"], False),
        (["O", "B-"], False),
        (["O", "E-person"], False),
        (["O", "S-person"], False),
        (["o", "b-person"], False),
    ],
)
def test_is_bio(labels: list[str], expected: bool) -> None:
    assert is_bio(labels) is expected
    assert is_bio(iter(labels)) is expected


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        ([], set()),
        (["O", "O"], set()),
        (["B-a", "I-a", "O", "B-b"], {("a", 0, 2), ("b", 3, 4)}),
        (["B-a", "B-a", "I-a"], {("a", 0, 1), ("a", 1, 3)}),  # B- always begins anew
        (["I-a", "I-a", "O"], {("a", 0, 2)}),  # I- at the start begins an entity
        (["O", "I-a", "B-a"], {("a", 1, 2), ("a", 2, 3)}),  # I- after O too
        (["B-a", "I-b", "I-b"], {("a", 0, 1), ("b", 1, 3)}),  # I- of another type too
        (["B-creative-work", "I-creative-work"], {("creative-work", 0, 2)}),
    ],
)
def test_bio_spans_by_hand(tags: list[str], spans: set) -> None:
    assert bio_spans(tags) == spans


def test_bio_spans_refuses_other_schemes() -> None:
    with pytest.raises(DataError, match=r"tags\[1\]: 'E-a' is not a BIO tag"):
        bio_spans(["B-a", "E-a"])


@settings(max_examples=300)
@given(tags=tag_seqs)
def test_bio_spans_equal_seqeval(tags: list[str]) -> None:
    expected = {(kind, start, end + 1) for kind, start, end in get_entities(tags)}
    assert bio_spans(tags) == expected


def _seqeval_scores(true: list[list[str]], pred: list[list[str]]) -> dict:
    """seqeval's micro and per-type figures, in entity_scores' layout."""
    prfs = precision_recall_fscore_support
    p, r, f, s = prfs(true, pred, average="micro", zero_division=0)
    types = sorted({k for k, _, _ in get_entities(true)} | {k for k, _, _ in get_entities(pred)})
    per_type = {}
    if types:  # seqeval cannot average over no type at all
        for kind, *row in zip(types, *prfs(true, pred, average=None, zero_division=0), strict=True):
            per_type[kind] = dict(zip(("precision", "recall", "f1", "support"), row, strict=True))
    return {"precision": p, "recall": r, "f1": f, "support": s, "per_type": per_type}


def _assert_same(ours: dict, theirs: dict) -> None:
    for key in ("precision", "recall", "f1"):
        assert ours[key] == pytest.approx(theirs[key], rel=ULPS, abs=ULPS)
    assert list(ours["per_type"]) == list(theirs["per_type"])
    for kind, scores in theirs["per_type"].items():
        mine = ours["per_type"][kind]
        assert mine["support"] == scores["support"]
        for key in ("precision", "recall", "f1"):
            assert mine[key] == pytest.approx(scores[key], rel=ULPS, abs=ULPS)


@st.composite
def sentence_pairs(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    true = draw(st.lists(tag_seqs, min_size=1, max_size=6))
    pred = [
        draw(st.lists(st.sampled_from(BIO_TAGS), min_size=len(t), max_size=len(t))) for t in true
    ]
    return true, pred


@settings(max_examples=200)
@given(pair=sentence_pairs())
def test_entity_scores_equal_seqeval(pair: tuple[list[list[str]], list[list[str]]]) -> None:
    true, pred = pair
    ours = entity_scores(true, pred)
    if ours["support"] + ours["predicted"] == 0:
        assert (ours["precision"], ours["recall"], ours["f1"], ours["per_type"]) == (0, 0, 0, {})
        return
    _assert_same(ours, _seqeval_scores(true, pred))
    counts = [(s["support"], s["predicted"], s["correct"]) for s in ours["per_type"].values()]
    assert (ours["support"], ours["predicted"], ours["correct"]) == tuple(
        map(sum, zip(*counts, strict=True))
    )


def test_entity_scores_by_hand() -> None:
    true = [["B-a", "I-a", "O", "B-b"], ["B-a"]]
    pred = [["B-a", "I-a", "O", "O"], ["B-b"]]
    scores = entity_scores(true, pred)
    assert (scores["support"], scores["predicted"], scores["correct"]) == (3, 2, 1)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(1 / 3, abs=1e-16)
    assert scores["f1"] == pytest.approx(2 / 5, abs=1e-16)
    assert scores["per_type"]["a"] == {
        "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3, abs=1e-16),
        "support": 2, "predicted": 1, "correct": 1,
    }  # fmt: skip
    assert scores["per_type"]["b"]["f1"] == 0.0  # one true b missed, one false b


def test_entities_do_not_cross_sentences() -> None:
    # One sentence ending in B-a and the next starting with I-a: two entities, not one.
    scores = entity_scores([["B-a"], ["I-a"]], [["B-a"], ["I-a"]])
    assert scores["support"] == 2 and scores["f1"] == 1.0


def test_entity_scores_errors() -> None:
    with pytest.raises(ShapeError, match=r"pred_seqs: 1 sentences, but true_seqs has 2"):
        entity_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(ShapeError, match=r"pred_seqs\[1\]: 1 tags for a sentence of 2"):
        entity_scores([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(DataError, match=r"pred_seqs\[1\]\[0\]: 'PER' is not a BIO tag"):
        entity_scores([["O"], ["O"]], [["O"], ["PER"]])
    with pytest.raises(DataError, match=r"true_seqs\[0\]\[0\]: 'S-a' is not a BIO tag"):
        entity_scores([["S-a"]], [["O"]], scheme="BIO")


def test_wnut17_gold_against_perturbed_tags_equals_seqeval() -> None:
    if not WNUT_DEV.is_file():
        pytest.skip(f"WNUT-17 dev file not found at {WNUT_DEV}")
    gold = read_conll(WNUT_DEV).tags
    labels = sorted({tag for seq in gold for tag in seq})
    rng = np.random.default_rng(17)
    pred = []
    for seq in gold:  # a fifth of the tags replaced at random: broken and invented entities
        swap = rng.random(len(seq)) < 0.2
        pred.append([str(rng.choice(labels)) if s else t for t, s in zip(seq, swap, strict=True)])
    ours = entity_scores(gold, pred)
    _assert_same(ours, _seqeval_scores(gold, pred))
    assert ours["support"] == 836 and 0.2 < ours["f1"] < 0.9
    assert ours["f1"] == pytest.approx(
        seqeval_metrics.f1_score(gold, pred, zero_division=0), rel=ULPS
    )
    report = seqeval_metrics.classification_report(gold, pred, output_dict=True, zero_division=0)
    for kind, scores in ours["per_type"].items():
        assert scores["support"] == report[kind]["support"]
        assert scores["f1"] == pytest.approx(report[kind]["f1-score"], rel=ULPS, abs=ULPS)
    perfect = entity_scores(gold, gold)
    assert perfect["f1"] == 1.0 and perfect["correct"] == 836


# -- IOBES ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["O", "B-person", "I-person"], "BIO"),
        (["O"], "BIO"),
        (["O", "B-person", "I-person", "E-person", "S-person"], "IOBES"),
        (["O", "S-person"], "IOBES"),
        (["E-creative-work"], "IOBES"),
        ([], None),
        (["O", "NOUN"], None),
        (["O", "E-"], None),
        (["O", "S-person", "X-person"], None),
        (["o", "s-person"], None),
    ],
)
def test_tag_scheme(labels: list[str], expected: str | None) -> None:
    assert tag_scheme(labels) == expected
    assert tag_scheme(iter(labels)) == expected
    assert is_bio(labels) is (expected == "BIO")  # is_bio: BIO only, as before


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        ([], set()),
        (["B-a", "I-a", "E-a", "O", "S-b"], {("a", 0, 3), ("b", 4, 5)}),
        (["S-a", "S-a"], {("a", 0, 1), ("a", 1, 2)}),
        (["B-a", "E-a", "E-a"], {("a", 0, 2), ("a", 2, 3)}),  # E- after E- stands alone
        (["S-a", "I-a", "E-a"], {("a", 0, 1), ("a", 1, 3)}),  # I- after S- begins anew
        (["O", "E-a", "O"], {("a", 1, 2)}),  # E- after O: an entity of one token
        (["B-a", "I-a", "O"], {("a", 0, 2)}),  # no E-: the entity ends at the O
        (["B-a", "I-a"], {("a", 0, 2)}),  # ... or at the sentence end
        (["B-a", "S-a"], {("a", 0, 1), ("a", 1, 2)}),
        (["B-a", "E-b"], {("a", 0, 1), ("b", 1, 2)}),  # another type begins anew
        (["B-a", "I-a", "B-a", "E-a"], {("a", 0, 2), ("a", 2, 4)}),
        (["B-creative-work", "E-creative-work"], {("creative-work", 0, 2)}),
        (["B-a", "I-a", "O", "B-b"], {("a", 0, 2), ("b", 3, 4)}),  # BIO tags read alike
    ],
)
def test_iobes_spans_by_hand(tags: list[str], spans: set) -> None:
    assert iobes_spans(tags) == spans
    expected = {(kind, start, end + 1) for kind, start, end in get_entities(tags)}
    assert spans == expected  # seqeval agrees on every case


def test_iobes_spans_refuses_other_tags() -> None:
    with pytest.raises(DataError, match=r"tags\[1\]: 'PER' is not an IOBES tag \(O, B-<type>"):
        iobes_spans(["S-a", "PER"])


@settings(max_examples=300)
@given(tags=st.lists(st.sampled_from(IOBES_TAGS), max_size=12))
def test_iobes_spans_equal_seqeval(tags: list[str]) -> None:
    expected = {(kind, start, end + 1) for kind, start, end in get_entities(tags)}
    assert iobes_spans(tags) == expected


@settings(max_examples=300)
@given(tags=tag_seqs)
def test_iobes_spans_of_bio_tags_are_the_bio_spans(tags: list[str]) -> None:
    assert iobes_spans(tags) == bio_spans(tags)


def _to_iobes(tags: list[str]) -> list[str]:
    """Well-formed IOBES tags of the entities of well-formed BIO `tags`."""
    out = []
    for i, tag in enumerate(tags):
        ends = i + 1 == len(tags) or tags[i + 1] != f"I-{tag[2:]}"
        if tag == "O":
            out.append(tag)
        elif tag[:2] == "B-":
            out.append(("S-" if ends else "B-") + tag[2:])
        else:
            out.append(("E-" if ends else "I-") + tag[2:])
    return out


#: one entity as BIO tags: B- then one or two I- at most
ENTITY = st.sampled_from(["a", "b", "creative-work"]).flatmap(
    lambda kind: st.integers(1, 3).map(lambda size: [f"B-{kind}"] + [f"I-{kind}"] * (size - 1))
)
#: a well-formed IOBES sentence: entities and O, written as IOBES
WELL_FORMED = st.lists(st.one_of(st.just(["O"]), ENTITY), max_size=5).map(
    lambda parts: _to_iobes([t for part in parts for t in part])
)


@st.composite
def iobes_pairs(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    """Well-formed true sentences; each prediction well-formed (cut or padded with O to
    the sentence's length, which may leave an entity without its E-) or random tags."""
    true = draw(st.lists(WELL_FORMED, min_size=1, max_size=6))
    pred = []
    for seq in true:
        n = len(seq)
        noise = st.lists(st.sampled_from(IOBES_TAGS), min_size=n, max_size=n)
        fitted = WELL_FORMED.map(lambda tags, n=n: (tags + ["O"] * n)[:n])
        pred.append(draw(st.one_of(noise, fitted)))
    return true, pred


@settings(max_examples=300)
@given(pair=iobes_pairs())
def test_iobes_entity_scores_equal_seqeval(pair: tuple[list[list[str]], list[list[str]]]) -> None:
    true, pred = pair
    ours = entity_scores(true, pred)
    assert ours == entity_scores(true, pred, scheme="IOBES")  # BIO tags alone read alike
    if ours["support"] + ours["predicted"] == 0:
        assert (ours["precision"], ours["recall"], ours["f1"], ours["per_type"]) == (0, 0, 0, {})
        return
    _assert_same(ours, _seqeval_scores(true, pred))


@settings(max_examples=200)
@given(true=st.lists(st.lists(st.sampled_from(IOBES_TAGS), max_size=10), min_size=1, max_size=5))
def test_iobes_entity_scores_of_random_tags_equal_seqeval(true: list[list[str]]) -> None:
    pred = [list(reversed(seq)) for seq in true]  # ill-formed on both sides
    ours = entity_scores(true, pred)
    if ours["support"] + ours["predicted"]:
        _assert_same(ours, _seqeval_scores(true, pred))


def test_iobes_entity_scores_by_hand() -> None:
    true = [["B-a", "E-a", "O", "S-b"], ["S-a"]]
    pred = [["B-a", "E-a", "O", "O"], ["S-b"]]
    scores = entity_scores(true, pred)
    assert (scores["support"], scores["predicted"], scores["correct"]) == (3, 2, 1)
    assert scores["per_type"]["a"]["recall"] == 0.5 and scores["per_type"]["b"]["f1"] == 0.0


def test_the_scheme_comes_from_both_sides_or_is_given() -> None:
    # B-a I-a read as BIO is one entity either way; an S- in the prediction makes it IOBES
    assert entity_scores([["B-a", "I-a"]], [["S-a", "O"]])["predicted"] == 1
    with pytest.raises(DataError, match=r"pred_seqs\[0\]\[0\]: 'S-a' is not a BIO tag"):
        entity_scores([["B-a", "I-a"]], [["S-a", "O"]], scheme="BIO")
    with pytest.raises(ConfigError, match=r"scheme='BIOES': use 'BIO' or 'IOBES'"):
        entity_scores([["O"]], [["O"]], scheme="BIOES")


def _bio_to_iobes(tags: list[str]) -> list[str]:
    """IOBES tags of the same entities as BIO `tags` (read as seqeval reads them: a lone
    I-x begins an entity)."""
    starts = {start for _, start, _ in bio_spans(tags)}
    ends = {end - 1 for _, _, end in bio_spans(tags)}
    out = []
    for i, tag in enumerate(tags):
        if tag == "O":
            out.append(tag)
        else:
            prefix = {(True, True): "S-", (True, False): "B-", (False, True): "E-"}
            out.append(prefix.get((i in starts, i in ends), "I-") + tag[2:])
    return out


def test_wnut17_tags_as_iobes_score_as_bio() -> None:
    if not WNUT_DEV.is_file():
        pytest.skip(f"WNUT-17 dev file not found at {WNUT_DEV}")
    gold = read_conll(WNUT_DEV).tags
    labels = sorted({tag for seq in gold for tag in seq})
    rng = np.random.default_rng(5)
    pred = []
    for seq in gold:  # a fifth of the tags replaced at random
        swap = rng.random(len(seq)) < 0.2
        pred.append([str(rng.choice(labels)) if s else t for t, s in zip(seq, swap, strict=True)])
    gold_iobes = [_bio_to_iobes(seq) for seq in gold]
    pred_iobes = [_bio_to_iobes(seq) for seq in pred]
    assert tag_scheme(t for seq in gold_iobes for t in seq) == "IOBES"
    bio = entity_scores(gold, pred)
    iobes = entity_scores(gold_iobes, pred_iobes)
    assert iobes == bio and bio["support"] == 836
    _assert_same(iobes, _seqeval_scores(gold_iobes, pred_iobes))
