"""``rnnkit train --task seq2seq``, ``rnnkit translate`` and ``evaluate`` on encoder-decoders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TINY_S2S = (
    "--hidden", "16", "--embed", "8", "--layers", "1", "--epochs", "25", "--batch-size", "8",
    "--lr", "0.02", "--dropout", "0",
)  # fmt: skip
WORDS = ["abc", "bca", "cab", "aab", "bba", "ccab", "abcc", "ba", "cb", "acbca", "cc", "bab"]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Words and their reversals, letters on the left, space-separated on the right."""
    path = tmp_path_factory.mktemp("s2s") / "reverse.tsv"
    lines = [f"{w}\t{' '.join(w[::-1].upper())}\n" for w in WORDS] * 5
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def s2s_model(tmp_path_factory: pytest.TempPathFactory, run_cli, pairs_file: Path) -> Path:
    out = tmp_path_factory.mktemp("s2s-model") / "m"
    r = run_cli(
        "train", "--task", "seq2seq", "--data", pairs_file, "--valid", pairs_file,
        "--target-level", "word", "--out", out, *TINY_S2S,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "validation" in r.out and "exact match" in r.out
    return out


def test_translate_prints_one_output_per_source(cli, s2s_model) -> None:
    r = cli("translate", s2s_model, "abc", "cab", "--beam", "3")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["abc\tC B A", "cab\tB A C"]
    j = cli("translate", s2s_model, "bca", "--json")
    rows = json.loads(j.out)
    assert rows[0]["output"] == "A C B" and rows[0]["tokens"] == ["A", "C", "B"]
    assert rows[0]["log_prob"] < 0


def test_evaluate_json_has_the_design_keys(cli, s2s_model, pairs_file) -> None:
    for beam in ("1", "4"):
        r = cli("evaluate", s2s_model, "--data", pairs_file, "--json", "--beam", beam)
        assert r.code == 0, r.err
        d = json.loads(r.out)
        assert {"exact_match", "token_error_rate", "n"} <= set(d)
        assert d["n"] == len(WORDS) * 5 and d["exact_match"] == 1.0
    text = cli("evaluate", s2s_model, "--data", pairs_file)
    assert "exact match 100.00%" in text.out


def test_sources_with_characters_never_seen_are_read_as_unk_and_counted(
    cli, s2s_model, tmp_path
) -> None:
    dirty = tmp_path / "dirty.tsv"
    dirty.write_text("ab(c\tC B A\ncab\tB A C\nz\tZ\n", encoding="utf-8")
    r = cli("evaluate", s2s_model, "--data", dirty, "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["unknown_tokens"] == 2 and d["n"] == 3 and "exact_match" in d
    plain = cli("evaluate", s2s_model, "--data", dirty)
    assert "2 source tokens not in the model's vocabulary read as <unk>" in plain.out
    t = cli("translate", s2s_model, "a(b", "cab")
    assert t.code == 0, t.err
    assert len(t.out.splitlines()) == 2 and t.out.splitlines()[1] == "cab\tB A C"
    assert t.err.startswith("warning: 1 source tokens not in the model's vocabulary")
    assert "'('" in t.err


def test_attention_plot_and_summary(cli, s2s_model, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "att.png"
    r = cli("translate", s2s_model, "abcc", "--plot", png)
    assert r.code == 0, r.err
    assert png.read_bytes()[:4] == b"\x89PNG"
    s = cli("summary", s2s_model)
    assert "encoder_bidirectional" in s.out and "attention" in s.out and "Total params" in s.out


def test_cmudict_files_train_with_their_own_format(cli, tmp_path) -> None:
    data = tmp_path / "tiny.dict"
    data.write_text("cat K AE1 T\nact AE1 K T # a comment\ntac T AE1 K\n" * 4)
    r = cli("train", "--task", "seq2seq", "--data", data, "--out", tmp_path / "m",
            "--valid-split", "0", *TINY_S2S[:-4])  # fmt: skip
    assert r.code == 0, r.err
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["training"]["settings"]["target_level"] == "word"
    e = cli("evaluate", tmp_path / "m", "--data", data, "--json")
    assert e.code == 0, e.err
    assert json.loads(e.out)["n"] == 12
    t = cli("translate", tmp_path / "m", "cat")
    assert t.code == 0, t.err
    phones = t.out.split("\t")[1].split()
    assert phones and all(p in {"K", "AE1", "T"} for p in phones)  # space-separated phones


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("translate", "{model}", "abc", "--beam", "0"),
            "--beam 0: the beam width must be at least 1",
        ),
        (("evaluate", "{model}", "--data", "{bad}", "--json"), "bad.tsv:2: one column"),
        (("evaluate", "{model}", "--data", "{pairs}", "--beam", "-1"), "--beam -1"),
        (("translate", "{model}", "   "), "source '   ' is empty"),
        (("translate", "{model}", "ab", "--beam", "2", "--plot", "x.png"), "greedy"),
        (("predict", "{model}", "abc"), "use rnnkit translate"),
        (
            ("train", "--task", "seq2seq", "--data", "{empty}", "--out", "{out}"),
            "the target is empty",
        ),
        (
            (
                "train",
                "--task",
                "seq2seq",
                "--data",
                "{pairs}",
                "--out",
                "{out}",
                "--pooling",
                "max",
            ),
            "--pooling does not apply to --task seq2seq",
        ),
        (
            ("train", "--task", "seq2seq", "--data", "{pairs}", "--out", "{out}", "--beam", "0"),
            "--beam 0: must be positive",
        ),
        (
            (
                "train",
                "--task",
                "seq2seq",
                "--data",
                "{pairs}",
                "--out",
                "{out}",
                "--sampling-ratio",
                "1.5",
            ),
            "--sampling-ratio 1.5",
        ),
        (
            (
                "train",
                "--task",
                "seq2seq",
                "--data",
                "{pairs}",
                "--out",
                "{out}",
                "--format",
                "conllu",
            ),
            "--format conllu does not apply",
        ),
        (
            (
                "train",
                "--task",
                "classify",
                "--data",
                "{pairs}",
                "--out",
                "{out}",
                "--source-level",
                "word",
            ),
            "--source-level applies to --task seq2seq only",
        ),
        (
            (
                "train",
                "--task",
                "lm",
                "--data",
                "{pairs}",
                "--out",
                "{out}",
                "--target-level",
                "char",
            ),
            "--target-level applies to --task seq2seq only",
        ),
        (
            ("evaluate", "{model}", "--data", "{pairs}", "--source-level", "word"),
            "a seq2seq model keeps its levels",
        ),
    ],
)
def test_user_mistakes_are_one_line(cli, user_error, s2s_model, pairs_file, tmp_path, snapshot,
                                    args, message) -> None:  # fmt: skip
    bad = tmp_path / "bad.tsv"
    bad.write_text("abc\tC B A\nlonely\n")
    empty = tmp_path / "empty.tsv"
    empty.write_text("abc\t\n")
    names = dict(model=s2s_model, bad=bad, pairs=pairs_file, empty=empty, out=tmp_path / "o")
    before = snapshot(s2s_model)
    r = cli(*(a.format(**{k: str(v) for k, v in names.items()}) for a in args))
    assert message in user_error(r)
    assert snapshot(s2s_model) == before  # nothing lost
    assert not (tmp_path / "o").exists()
