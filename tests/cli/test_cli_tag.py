"""``rnnkit train --task tag``, ``rnnkit tag`` and ``evaluate`` on taggers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

TINY_TAG = ("--hidden", "8", "--embed", "8", "--epochs", "3", "--lr", "0.02")
DET, NOUN, VERB = ("the", "a"), ("cat", "dog", "film"), ("runs", "ends")


def _sentences(n: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append(
            [
                (str(rng.choice(DET)), "DET"),
                (str(rng.choice(NOUN)), "NOUN"),
                (str(rng.choice(VERB)), "VERB"),
            ]
        )
    return out


def _conllu(sentences) -> str:
    blocks = []
    for k, sentence in enumerate(sentences):
        lines = [f"# sent_id = s{k}"]
        for i, (word, tag) in enumerate(sentence, start=1):
            lines.append(f"{i}\t{word}\t{word}\t{tag}\t_\t_\t0\t_\t_\t_")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n"


def _conll_bio(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(n):
        who = str(rng.choice(["Ann", "Bob"]))
        blocks.append(f"{who}\tB-person\nSmith\tI-person\nruns\tO\n.\tO")
    return "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def pos_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pos")
    (d / "train.conllu").write_text(_conllu(_sentences(120, 0)))
    (d / "test.conllu").write_text(_conllu(_sentences(30, 1)))
    return d


@pytest.fixture(scope="module")
def pos_model(pos_files, run_cli):
    out = pos_files / "model"
    r = run_cli(
        "train", "--task", "tag", "--data", pos_files / "train.conllu", "--out", out, *TINY_TAG
    )
    assert r.code == 0, r.err
    return out


def test_train_tag_saves_a_tagger_and_reports_validation(pos_model) -> None:
    config = json.loads((pos_model / "config.json").read_text())
    assert config["task"] == "tag"
    assert config["training"]["settings"]["bidirectional"] is True
    assert json.loads((pos_model / "vocab.json").read_text())["labels"] == ["DET", "NOUN", "VERB"]


def test_tag_prints_token_tag_pairs(pos_model, run_cli) -> None:
    r = run_cli("tag", pos_model, "the cat runs", "a dog ends")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["the/DET cat/NOUN runs/VERB", "a/DET dog/NOUN ends/VERB"]
    r = run_cli("tag", pos_model, "the film runs", "--json")
    assert json.loads(r.out) == [
        {"tokens": ["the", "film", "runs"], "tags": ["DET", "NOUN", "VERB"]}
    ]


def test_evaluate_json_has_the_tag_keys(pos_model, pos_files, run_cli) -> None:
    r = run_cli("evaluate", pos_model, "--data", pos_files / "test.conllu", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    for key in ("accuracy", "per_class_accuracy", "confusion_matrix", "labels", "n", "macro_f1"):
        assert key in d
    assert "entity_f1" not in d  # UPOS tags are not BIO
    assert d["n"] == 90 and np.trace(np.array(d["confusion_matrix"])) == round(d["accuracy"] * 90)


def test_bio_tags_add_entity_f1(tmp_path, run_cli) -> None:
    (tmp_path / "train.conll").write_text(_conll_bio(80, 0))
    (tmp_path / "test.conll").write_text(_conll_bio(20, 1))
    out = tmp_path / "ner"
    r = run_cli(
        "train", "--task", "tag", "--data", tmp_path / "train.conll", "--out", out, *TINY_TAG
    )
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert all("  val_entity_f1 " in line for line in lines if line.startswith("epoch "))
    followed = "early stopping and the kept epoch follow the validation entity F1"
    assert f"{followed} (BIO tags)" in lines  # no pretrained vectors: learnt as given
    r = run_cli("evaluate", out, "--data", tmp_path / "test.conll", "--json")
    d = json.loads(r.out)
    assert 0.0 <= d["entity_f1"] <= 1.0 and set(d["labels"]) == {"B-person", "I-person", "O"}


def test_iobes_tags_follow_the_entity_f1(tmp_path, run_cli) -> None:
    for name, seed in (("train", 0), ("test", 1)):
        bio = _conll_bio(40 if name == "train" else 10, seed)
        iobes = bio.replace("I-person", "E-person").replace("runs\tO", "runs\tS-verb")
        (tmp_path / f"{name}.conll").write_text(iobes)
    out = tmp_path / "ner"
    r = run_cli(
        "train", "--task", "tag", "--data", tmp_path / "train.conll", "--out", out, *TINY_TAG
    )
    assert r.code == 0, r.err
    assert "early stopping and the kept epoch follow the validation entity F1 (IOBES tags)" in (
        r.out.splitlines()
    )
    r = run_cli("evaluate", out, "--data", tmp_path / "test.conll", "--json")
    d = json.loads(r.out)
    assert 0.0 <= d["entity_f1"] <= 1.0 and set(d["entity_per_type"]) <= {"person", "verb"}


def test_pos_tags_follow_the_token_accuracy(pos_files, tmp_path, run_cli) -> None:
    data = pos_files / "train.conllu"
    r = run_cli("train", "--task", "tag", "--data", data, "--out", tmp_path / "m", *TINY_TAG)
    assert r.code == 0, r.err
    assert "val_entity_f1" not in r.out
    line = "early stopping and the kept epoch follow the validation token accuracy"
    assert f"{line} (the tags are neither BIO nor IOBES)" in r.out.splitlines()
    r = run_cli("train", "--task", "tag", "--data", data, "--out", tmp_path / "m",
                "--valid-split", "0", *TINY_TAG)  # fmt: skip
    assert r.code == 0 and "early stopping" not in r.out  # nothing validated, nothing followed


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--pooling", "max"], "--pooling"),
        (["--model", "bow-nb"], "--model"),
        (["--format", "table"], "--format"),
        (["--layers", "0"], "--layers"),
    ],
)
def test_flags_that_do_not_fit_tagging_are_refused(pos_files, tmp_path, run_cli, argv, named):
    out = tmp_path / "m"
    r = run_cli(
        "train",
        "--task",
        "tag",
        "--data",
        pos_files / "train.conllu",
        "--out",
        out,
        *TINY_TAG,
        *argv,
    )
    assert r.code == 2 and r.err.startswith("error: ") and named in r.err
    assert r.err.count("\n") == 1 and not out.exists()


def test_a_validation_tag_never_seen_in_training_is_scored_wrong_not_fatal(
    tmp_path, run_cli
) -> None:
    train, valid = tmp_path / "train.conll", tmp_path / "valid.conll"
    train.write_text(_conll_bio(40, 0), encoding="utf-8")
    valid.write_text(_conll_bio(5, 1) + "\nin\tO\nParis\tB-city\n", encoding="utf-8")
    for crf in ((), ("--crf",)):
        out = tmp_path / f"m{len(crf)}"
        r = run_cli("train", "--task", "tag", "--data", train, "--valid", valid, "--out", out,
                    *TINY_TAG, *crf)  # fmt: skip
        assert r.code == 0, r.err
        notes = [line for line in r.out.splitlines() if "never seen in training" in line]
        assert notes == [
            f"note: {valid}: 1 token with a tag never seen in training (B-city); "
            "validation scores it as wrong"
        ]
        assert "unknown gold tags 1" in r.out
        history = json.loads((out / "config.json").read_text())["training"]["history"]
        assert all(np.isfinite(e["val_loss"]) for e in history["epochs"])


def test_on_bad_lines_leaves_out_a_dirty_line_and_says_so_once(
    tmp_path, run_cli, user_error
) -> None:
    data = tmp_path / "tweets.conll"
    # a token that was whitespace: a lone space (a sentence break), then "<TAB>O"
    data.write_text(_conll_bio(40, 0) + "\n \n\tO\nhi\tO\n", encoding="utf-8")
    out = tmp_path / "m"
    argv = ("train", "--task", "tag", "--data", data, "--out", out, *TINY_TAG)
    where = len(_conll_bio(40, 0).splitlines()) + 3  # the line of "<TAB>O"
    line = user_error(run_cli(*argv))
    assert line == (
        f"error: {data}:{where}: empty token before the tab "
        "(--on-bad-lines skip leaves such lines out)"
    )
    summary = f"skipped 1 bad line of {data} (first: line {where}: empty token before the tab)"
    skip = run_cli(*argv, "--on-bad-lines", "skip")
    assert skip.code == 0, skip.err
    assert skip.err.splitlines().count(summary) == 1 and "warning" not in skip.err
    warn = run_cli(*argv, "--on-bad-lines", "warn")
    assert warn.code == 0, warn.err
    assert f"warning: {data}: line {where}: empty token before the tab" in warn.err.splitlines()
    assert summary in warn.err.splitlines()
    conllu = tmp_path / "t.conllu"
    conllu.write_text(_conllu(_sentences(3, 0)))
    refused = user_error(
        run_cli("train", "--task", "tag", "--data", conllu, "--out", out, "--on-bad-lines", "skip")
    )
    assert refused.startswith("error: --on-bad-lines applies to") and "not to CoNLL-U" in refused


def test_malformed_conllu_names_file_and_line(tmp_path, run_cli) -> None:
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tthe\tthe\tDET\t_\t_\t0\t_\t_\t_\nx\tcat\tcat\tNOUN\t_\t_\t0\t_\t_\t_\n\n")
    r = run_cli("train", "--task", "tag", "--data", bad, "--out", tmp_path / "m", *TINY_TAG)
    assert r.code == 2 and f"{bad}:2" in r.err and r.err.count("\n") == 1


def test_predict_on_a_tagger_and_tag_on_a_classifier_are_refused(pos_model, run_cli) -> None:
    r = run_cli("predict", pos_model, "the cat runs")
    assert r.code == 2 and "rnnkit tag" in r.err


# -- --crf: emission scores and a CRF, decoded by Viterbi --------------------------------


@pytest.fixture(scope="module")
def crf_files(tmp_path_factory, run_cli):
    d = tmp_path_factory.mktemp("crf")
    (d / "train.conll").write_text(_conll_bio(80, 0))
    (d / "test.conll").write_text(_conll_bio(20, 1))
    r = run_cli("train", "--task", "tag", "--crf", "--iobes", "--data", d / "train.conll",
                "--out", d / "model", "--test", d / "test.conll", *TINY_TAG)  # fmt: skip
    assert r.code == 0, r.err
    followed = "early stopping and the kept epoch follow the validation entity F1"
    assert f"{followed} (BIO tags, learnt as IOBES)" in r.out
    return d


def test_train_crf_saves_a_crf_tagger(crf_files) -> None:
    config = json.loads((crf_files / "model" / "config.json").read_text())
    assert config["training"]["settings"]["crf"] is True
    assert config["architecture"]["loss"] == "crf"
    last = config["architecture"]["layers"][-1]
    # the BIO tags were learnt as IOBES: the CRF knows where an entity ends
    assert last["class"] == "CRF" and last["config"]["scheme"] == "IOBES"
    assert last["config"]["tags"] == ["B-person", "E-person", "O"]
    vocab = json.loads((crf_files / "model" / "vocab.json").read_text())
    assert vocab["labels"] == last["config"]["tags"] and vocab["given_scheme"] == "BIO"
    evaluation = json.loads((crf_files / "model" / "evaluation.json").read_text())
    assert "test" in json.dumps(evaluation)


def test_tag_and_evaluate_a_crf_tagger(crf_files, run_cli) -> None:
    r = run_cli("tag", crf_files / "model", "Ann Smith runs .", "--json")
    assert r.code == 0, r.err
    [tagged] = json.loads(r.out)
    assert tagged["tokens"] == ["Ann", "Smith", "runs", "."] and len(tagged["tags"]) == 4
    r = run_cli("evaluate", crf_files / "model", "--data", crf_files / "test.conll", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    keys = ("accuracy", "per_class_accuracy", "confusion_matrix", "labels", "n", "macro_f1")
    assert all(key in d for key in keys) and 0.0 <= d["entity_f1"] <= 1.0
    assert d["n"] == 80 and np.array(d["confusion_matrix"]).sum() == 80
    assert d["labels"] == ["B-person", "I-person", "O"]  # learnt as IOBES, scored in BIO
    assert set(tagged["tags"]) <= {"B-person", "I-person", "O"}


def test_diagnose_and_report_a_crf_tagger_and_trace_refuses_it(crf_files, tmp_path, run_cli):
    model = tmp_path / "model"
    shutil.copytree(crf_files / "model", model)
    r = run_cli("diagnose", model, "--data", crf_files / "test.conll")
    assert r.code == 0, r.err
    assert "crf.A" in r.out  # the CRF's transitions have a gradient norm too
    r = run_cli("report", model, "--data", crf_files / "test.conll")
    assert r.code == 0, r.err
    assert "Not measured" not in (model / "report.html").read_text()
    r = run_cli("trace", model, "Ann Smith runs .")
    assert r.code == 2 and r.err.startswith("error: ") and "CRF" in r.err
    assert r.err.count("\n") == 1


def test_crf_is_refused_off_text_tagging(crf_files, reviews, write_csv, tmp_path, run_cli):
    texts = write_csv(tmp_path / "r.csv", reviews(30, 0))
    frames = tmp_path / "f.csv"
    rows = [f"s{i},{t},{'a' if t < 2 else 'b'},{t * 0.1},{i * 0.1}" for i in range(6)
            for t in range(4)]  # fmt: skip
    frames.write_text("series_id,t,label,x1,x2\n" + "\n".join(rows) + "\n")
    for task, data, label in (("classify", texts, "classify"),
                              ("tag", frames, "tag on real-valued frames")):  # fmt: skip
        out = tmp_path / task
        r = run_cli("train", "--task", task, "--crf", "--data", data, "--out", out,
                    "--hidden", "8", "--epochs", "1")  # fmt: skip
        assert r.code == 2, r.err
        assert r.err == f"error: --crf does not apply to --task {label}\n"
        assert not out.exists()
