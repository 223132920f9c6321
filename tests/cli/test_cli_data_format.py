"""The data format a model was trained on, kept in config.json ``data``: ``evaluate``,
``report``, ``diagnose`` and ``predict`` read files of the same kind with it when the
format flags are left out; a flag given always wins; older model directories (no
entry) still load and read files with the flags' defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.conftest import TINY

MR_FLAGS = ("--encoding", "latin-1", "--no-header", "--label-col", "0", "--text-col", "1")


@pytest.fixture(scope="module")
def mr_model(tmp_path_factory: pytest.TempPathFactory, run_cli, mr_sample: Path) -> Path:
    out = tmp_path_factory.mktemp("mr-model") / "m"
    r = run_cli("train", "--task", "classify", "--data", mr_sample, "--out", out, *TINY, *MR_FLAGS)
    assert r.code == 0, r.err
    return out


def test_train_records_how_it_read_the_data(mr_model: Path) -> None:
    config = json.loads((mr_model / "config.json").read_text())
    assert config["data"] == {
        "format": "table", "suffix": ".tsv", "encoding": "latin-1", "header": False,
        "label_col": "0", "text_col": "1", "delimiter": None,
    }  # fmt: skip
    assert config["training"]["data"].endswith("mr_sample.tsv")  # the run record is kept


def test_evaluate_report_and_diagnose_need_no_format_flags_again(
    cli, mr_model: Path, mr_sample: Path
) -> None:
    flagged = cli("evaluate", mr_model, "--data", mr_sample, "--json", *MR_FLAGS)
    plain = cli("evaluate", mr_model, "--data", mr_sample, "--json")
    assert plain.code == 0, plain.err
    assert json.loads(plain.out) == json.loads(flagged.out)
    assert json.loads(plain.out)["n"] == 300
    report = cli("report", mr_model, "--data", mr_sample)
    assert report.code == 0, report.err
    diagnose = cli("diagnose", mr_model, "--data", mr_sample, "--batches", "1")
    assert diagnose.code == 0, diagnose.err


def test_a_flag_given_wins_over_the_recorded_one(cli, user_error, mr_model, mr_sample) -> None:
    line = user_error(cli("evaluate", mr_model, "--data", mr_sample, "--encoding", "utf-8"))
    assert "cannot decode bytes with encoding 'utf-8'" in line


def test_a_file_of_another_kind_and_an_older_model_get_the_defaults(
    cli, user_error, copy_model, mr_model, mr_sample, tmp_path, write_csv
) -> None:
    # a CSV with a header: not the kind of file the model was trained on
    csv = write_csv(tmp_path / "reviews.csv", [("a fine film", "1"), ("a dull plot", "0")])
    r = cli("evaluate", mr_model, "--data", csv, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["n"] == 2
    old = copy_model(mr_model)
    config = json.loads((old / "config.json").read_text())
    del config["data"]  # as written before the entry existed
    (old / "config.json").write_text(json.dumps(config))
    line = user_error(cli("evaluate", old, "--data", mr_sample))
    assert "cannot decode bytes with encoding 'utf-8'" in line
    r = cli("evaluate", old, "--data", mr_sample, "--json", *MR_FLAGS)
    assert r.code == 0, r.err
    config["data"] = {"format": "table", "suffix": ".tsv", "encoding": 3, "header": "no"}
    (old / "config.json").write_text(json.dumps(config))  # hand-edited: ignored, not trusted
    assert "--encoding latin-1" in user_error(cli("evaluate", old, "--data", mr_sample))
