"""``rnnkit report DIR [--data FILE] [--out HTML]``: the page, where it goes, what it reads."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from html_page import read_page
from rnnkit.models import load_model

SECTIONS = ["Model", "Parameters", "Training curves", "Evaluation", "Gradients through time"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_cli, csv_data) -> Path:
    """A tiny classifier trained with a --test file and its gradient norms logged."""
    out = tmp_path_factory.mktemp("report") / "model"
    result = run_cli(
        "train", "--task", "classify", "--data", csv_data["train"], "--test", csv_data["test"],
        "--out", out, "--hidden", "6", "--embed", "6", "--epochs", "2", "--log-grad-norms",
    )  # fmt: skip
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="module")
def reported(trained, run_cli) -> tuple[Path, str]:
    """The report written into the model directory, and what the command printed."""
    result = run_cli("report", trained)
    assert result.code == 0, result.err
    return trained / "report.html", result.out


def _images(page) -> list[bytes]:
    return [base64.b64decode(src.split(",", 1)[1]) for src in page.srcs]


def test_the_page_is_written_beside_the_model_and_its_path_printed(reported) -> None:
    html, printed = reported
    assert printed.splitlines() == [f"report: {html}"]
    page = read_page(html.read_text(encoding="utf-8"))
    assert page.h2 == SECTIONS
    assert {"model", "parameters", "curves", "evaluation", "gradients"} <= set(page.ids)


def test_the_page_is_self_contained(reported) -> None:
    text = reported[0].read_text(encoding="utf-8")
    page = read_page(text)
    assert all(src.startswith("data:image/png;base64,") for src in page.srcs)
    assert all(href.startswith("#") for href in page.hrefs)
    assert "http://" not in text and "https://" not in text
    assert all(image.startswith(PNG_SIGNATURE) for image in _images(page))
    assert len(page.srcs) == 4  # curves, two confusion matrices (validation, test), norms


def test_the_page_shows_the_run_its_parameters_and_evaluation(reported, trained) -> None:
    page = read_page(reported[0].read_text(encoding="utf-8"))
    model = load_model(trained)
    assert f"Total params: {model.model_.count_params():,}" in page.text
    for name in ("recurrent_kernel", "weight_hh_l0 = W.T", "nn.Embedding weight"):
        assert name in page.text
    command = json.loads((trained / "config.json").read_text())["training"]["command"]
    assert command in page.text
    assert "test (" in page.text and "From evaluation.json, written by rnnkit train" in page.text
    for label in model.labels_:
        assert label in page.text
    assert "steps logged" in page.text
    assert "rnnkit diagnose DIR --data FILE" in page.text  # no gradients.png yet


def test_diagnoses_plot_is_embedded_when_present(trained, copy_model, cli, tmp_path) -> None:
    model = copy_model(trained)
    (model / "report.html").unlink(missing_ok=True)
    image = (model / "curves.png").read_bytes()  # any PNG stands for diagnose's plot
    (model / "gradients.png").write_bytes(image)
    out = tmp_path / "elsewhere" / "page.html"
    out.parent.mkdir()
    result = cli("report", model, "--out", out)
    assert result.code == 0 and result.out.strip() == f"report: {out}"
    assert not (model / "report.html").exists()
    page = read_page(out.read_text(encoding="utf-8"))
    assert image in _images(page)
    assert "gradients.png, written by rnnkit diagnose" in page.text


def test_a_broken_gradient_log_is_a_sentence_not_a_failure(trained, copy_model, cli) -> None:
    model = copy_model(trained)
    (model / "grad_norms.csv").write_text("not,a,log\n")
    assert cli("report", model).code == 0
    page = read_page((model / "report.html").read_text(encoding="utf-8"))
    assert "grad_norms.csv could not be read" in page.text
    assert "steps logged" not in page.text


def test_data_is_evaluated_as_rnnkit_evaluate_does(trained, cli, csv_data, tmp_path) -> None:
    expected = json.loads(cli("evaluate", trained, "--data", csv_data["test"], "--json").out)
    out = tmp_path / "r.html"
    assert cli("report", trained, "--data", csv_data["test"], "--out", out).code == 0
    page = read_page(out.read_text(encoding="utf-8"))
    assert f"--data {csv_data['test']}, evaluated when this page was made" in page.text
    assert f"{expected['n']}" in page.text and f"{expected['accuracy']:.4g}" in page.text


def test_data_measures_the_gradients_through_time(trained, cli, csv_data, tmp_path) -> None:
    out = tmp_path / "r.html"
    assert cli("report", trained, "--data", csv_data["test"], "--out", out).code == 0
    page = read_page(out.read_text(encoding="utf-8"))
    assert f"--data {csv_data['test']}, measured when this page was made" in page.text
    assert f"gradients through time: {trained.name} (rnn)" in page.text
    assert "||dL/dh_t||, mean over sequences" in page.text
    assert not (trained / "gradients.json").exists()  # measuring for a page writes nothing


def test_recorded_numbers_are_drawn_when_the_plot_is_gone(
    trained, copy_model, cli, csv_data
) -> None:
    model = copy_model(trained)
    assert cli("diagnose", model, "--data", csv_data["test"]).code == 0
    drawn = (model / "gradients.png").read_bytes()
    (model / "gradients.png").unlink()
    assert cli("report", model).code == 0
    page = read_page((model / "report.html").read_text(encoding="utf-8"))
    assert "gradients.json, written by rnnkit diagnose" in page.text
    assert drawn in _images(page)  # drawn again from the numbers, the same picture


def test_a_language_model_with_data(tmp_path, cli) -> None:
    text = tmp_path / "t.txt"
    text.write_text("the cell reads a state and writes another\n" * 30)
    argv = ["train", "--task", "lm", "--data", text, "--out", tmp_path / "lm", "--hidden", "6",
            "--embed", "4", "--epochs", "1", "--bptt", "8"]  # fmt: skip
    assert cli(*argv).code == 0
    assert cli("report", tmp_path / "lm", "--data", text).code == 0
    page = read_page((tmp_path / "lm" / "report.html").read_text(encoding="utf-8"))
    assert "perplexity" in page.text and "bits_per_token" in page.text


def test_the_baseline_gets_a_page_that_says_what_it_lacks(bow_model, copy_model, cli) -> None:
    model = copy_model(bow_model)
    assert cli("report", model).code == 0
    page = read_page((model / "report.html").read_text(encoding="utf-8"))
    assert page.h2 == SECTIONS
    assert "no trained layers" in page.text and "records no epochs" in page.text


@pytest.mark.parametrize(
    ("where", "extra", "message"),
    [
        ("missing", (), "no such model directory"),
        ("empty", (), "config.json: missing"),
        ("model", ("--out", "{tmp}/nowhere/r.html"), "--out {tmp}/nowhere/r.html: directory"),
        ("model", ("--out", "{tmp}"), "a directory; give the name of an HTML file"),
    ],
)
def test_user_mistakes_are_one_line(
    where, extra, message, trained, copy_model, cli, user_error, tmp_path, snapshot
) -> None:
    directory = {"missing": tmp_path / "missing", "empty": tmp_path / "empty"}.get(where)
    if where == "empty":
        directory.mkdir()
    if directory is None:
        directory = copy_model(trained)
    before = snapshot(tmp_path)
    argv = [a.format(tmp=tmp_path) for a in extra]
    line = user_error(cli("report", directory, *argv))
    assert message.format(tmp=tmp_path) in line
    assert snapshot(tmp_path) == before  # nothing written


def test_rnnkit_diagnoses_plot_and_tables_appear(trained, copy_model, cli, csv_data) -> None:
    model = copy_model(trained)
    assert cli("diagnose", model, "--data", csv_data["test"]).code == 0
    assert cli("report", model).code == 0
    page = read_page((model / "report.html").read_text(encoding="utf-8"))
    assert (model / "gradients.png").read_bytes() in _images(page)
    assert "gradients through time: model" in page.text  # the tables of gradients.json
