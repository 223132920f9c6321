"""render_report: one well-formed, self-contained page with every section, all text escaped."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from html_page import read_page
from rnnkit.training import read_grad_norms
from rnnkit.viz.report import LayerRow, ParamRow, ReportInputs, render_report, write_report

SECTIONS = {
    "model": "Model",
    "parameters": "Parameters",
    "curves": "Training curves",
    "evaluation": "Evaluation",
    "gradients": "Gradients through time",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _config(task: str = "classify") -> dict:
    epochs = [
        {"epoch": 1, "loss": 0.9, "accuracy": 0.5, "val_loss": 0.8, "val_accuracy": 0.6},
        {"epoch": 2, "loss": 0.7, "accuracy": 0.7, "val_loss": 0.75, "val_accuracy": 0.65},
    ]
    return {
        "task": task,
        "architecture": {"class": "Sequential"},
        "rnnkit": "0.1.0",
        "training": {
            "settings": {"hidden": 3, "cell": "rnn", "clip_norm": 1.0, "note": "<script>"},
            "history": {"epochs": epochs, "best_epoch": 2, "stopped": "epochs"},
            "command": "rnnkit train --data 'a&b.csv'",
            "seed": 7,
            "train_seconds": 1.25,
        },
    }


def _layers() -> list[LayerRow]:
    return [
        LayerRow("one_hot", "OneHot"),
        LayerRow("simple_rnn", "SimpleRNN", [
            ParamRow("U", "U", "kernel", "weight_ih_l0 = U.T", (5, 3), 15),
            ParamRow("W", "W", "recurrent_kernel", "weight_hh_l0 = W.T", (3, 3), 9),
            ParamRow("b", "b", "bias", "bias_ih_l0 + bias_hh_l0 = b", (3,), 3),
        ]),
        LayerRow("dense", "Dense", [
            ParamRow("V", "V", "kernel", "nn.Linear weight = V.T", (3, 1), 3),
            ParamRow("c", "c", "bias", "nn.Linear bias = c", (1,), 1),
        ]),
    ]  # fmt: skip


def _classification() -> dict:
    labels = ["<unk>", "neg", "pos"]
    return {
        "accuracy": 0.75,
        "per_class_accuracy": {"<unk>": None, "neg": 0.5, "pos": 1.0},
        "confusion_matrix": [[0, 0, 0], [1, 1, 0], [0, 0, 2]],
        "labels": labels,
        "n": 4,
        "precision": dict.fromkeys(labels, 1.0),
        "recall": dict.fromkeys(labels, 0.5),
        "f1": dict.fromkeys(labels, 0.6667),
        "macro_f1": 0.6667,
    }


def _full(tmp_path: Path) -> ReportInputs:
    csv_path = tmp_path / "grad_norms.csv"
    csv_path.write_text(
        "step,epoch,batch,global_norm,clipped,simple_rnn.W\n1,1,1,2.0,1,2.0\n2,1,2,0.5,0,0.5\n"
    )
    evaluation = {"parts": {"test": {"data": "t.csv", "report": _classification()}}}
    return ReportInputs(
        tmp_path, _config(), _layers(), evaluation, "evaluation.json",
        gradients_png=PNG, gradients_text="W's gradient <vanishes>",
        grad_norms=read_grad_norms(csv_path),
    )  # fmt: skip


@pytest.fixture(scope="module")
def full_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page of every input, rendered once (drawing its figures takes a moment)."""
    return render_report(_full(tmp_path_factory.mktemp("report")))


def _self_contained(page) -> None:
    assert page.srcs and all(s.startswith("data:image/png;base64,") for s in page.srcs)
    assert all(h.startswith("#") for h in page.hrefs)
    assert not {"script", "link", "iframe"} & page.tags


def test_a_full_page_is_well_formed_self_contained_and_escaped(full_html: str) -> None:
    html = full_html
    page = read_page(html)
    assert page.h2 == list(SECTIONS.values())
    assert set(SECTIONS) <= set(page.ids)
    assert page.hrefs == [f"#{anchor}" for anchor in SECTIONS]
    _self_contained(page)
    assert len(page.srcs) == 4  # curves, confusion matrix, gradients.png, gradient norms
    assert PNG in [base64.b64decode(s.split(",", 1)[1]) for s in page.srcs]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;unk&gt;" in html and "&lt;vanishes&gt;" in html
    assert "rnnkit train --data 'a&b.csv'" in page.text
    assert "Total params: 31" in page.text  # the lecture's model: 27 + 4


def test_the_parameter_table_names_every_parameter(full_html: str) -> None:
    page = read_page(full_html)
    for name in ("recurrent_kernel", "weight_ih_l0 = U.T", "nn.Linear weight = V.T", "(5, 3)"):
        assert name in page.text


def test_the_epoch_table_marks_the_best_epoch(full_html: str) -> None:
    html = full_html
    best = html.split('<tr class="best">', 1)[1].split("</tr>", 1)[0]
    assert best.startswith('<td class="num">2</td>')
    assert html.count('<tr class="best">') == 1


def test_every_empty_section_says_why_and_how_to_fill_it() -> None:
    page = read_page(render_report(ReportInputs(Path("m"), {"task": "classify"})))
    assert page.h2 == list(SECTIONS.values())
    assert page.srcs == []
    for hint in (
        "records no training settings",
        "no trained layers",
        "records no epochs",
        "Nothing was evaluated",
        "rnnkit diagnose DIR --data FILE",
        "train with --log-grad-norms",
    ):
        assert hint in page.text


def test_other_reports_become_tables(tmp_path: Path) -> None:
    parts = {
        "validation": {"data": "v.txt", "report": {"loss": 1.5, "perplexity": 4.48}},
        "test": {"data": "t.csv", "report": {"mse": 0.25, "per_output_mse": {"y1": 0.2}}},
    }
    inputs = ReportInputs(tmp_path, _config("lm"), evaluation={"parts": parts})
    page = read_page(render_report(inputs))
    for text in ("validation (v.txt)", "perplexity", "4.48", "per_output_mse", "y1"):
        assert text in page.text
    assert len(page.srcs) == 1  # the curves: neither report has a confusion matrix


def test_without_matplotlib_the_tables_stay_and_each_figure_says_why(
    tmp_path: Path, no_matplotlib
) -> None:
    page = read_page(render_report(_full(tmp_path)))
    assert page.srcs == [page.srcs[0]] and page.srcs[0].endswith(base64.b64encode(PNG).decode())
    assert page.text.count("Figures need matplotlib: pip install 'rnnkit[plot]'") == 3
    assert "Total params: 31" in page.text and "0.75" in page.text


def test_write_report_replaces_the_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.html"
    out.parent.mkdir()
    out.write_text("old")
    assert write_report(ReportInputs(tmp_path, {"task": "lm"}), out) == out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


@pytest.mark.parametrize("value", [np.float64(0.5), (1, 2), [3]])
def test_settings_of_any_json_type_show_as_text(value) -> None:
    config = _config()
    config["training"]["settings"]["odd"] = value
    assert "odd" in read_page(render_report(ReportInputs(Path("m"), config))).text
