"""Training curves and gradient-norm plots: real PNGs, the right panels, the best epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.training import read_grad_norms
from rnnkit.viz.curves import _history_figure, plot_grad_norms, plot_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _history(accuracy: bool = True, valid: bool = True, best: int | None = 2) -> dict:
    epochs = []
    for e, loss in enumerate((0.9, 0.6, 0.5), start=1):
        record = {"epoch": e, "loss": loss, "seconds": 0.1, "lr": 1e-3, "tokens_per_s": 1e4}
        if accuracy:
            record["accuracy"] = 1.0 - loss / 2
        if valid:
            record["val_loss"] = loss + 0.1 * (e == 3)
            if accuracy:
                record["val_accuracy"] = 0.9 - loss / 2
        epochs.append(record)
    return {"epochs": epochs, "best_epoch": best, "stopped": "epochs", "seconds": 0.3}


def test_writes_a_png_and_no_temporary_file(tmp_path: Path) -> None:
    out = plot_history(_history(), tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    assert out.read_bytes().startswith(PNG_SIGNATURE) and out.stat().st_size > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def _lines(ax) -> dict[str, list[float]]:
    return {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()}


def test_loss_and_accuracy_panels_with_the_best_epoch_marked() -> None:
    fig = _history_figure(_history(), "t", perplexity=False)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        lines = _lines(ax)
        assert lines["training"] == [1.0, 2.0, 3.0] and lines["validation"] == [1.0, 2.0, 3.0]
        assert lines["best epoch 2"] == [2, 2]  # a vertical line at x = 2
    val_loss = next(l for l in fig.axes[0].get_lines() if l.get_label() == "validation")
    assert list(val_loss.get_ydata()) == [0.9, 0.6, 0.6]


def test_a_regressor_has_one_panel_and_no_validation_no_second_line() -> None:
    fig = _history_figure(_history(accuracy=False, valid=False, best=None), "t", False)
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    assert list(_lines(fig.axes[0])) == ["training"]


def test_a_language_model_adds_perplexity_e_to_the_loss() -> None:
    fig = _history_figure(_history(), "t", perplexity=True)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "perplexity"]
    ppl = fig.axes[2]
    train = next(l for l in ppl.get_lines() if l.get_label() == "training")
    assert list(train.get_ydata()) == pytest.approx([2.4596, 1.8221, 1.6487], abs=1e-4)
    assert ppl.get_yscale() == "log"


@pytest.mark.parametrize(
    "history",
    [{}, {"epochs": []}, {"epochs": [{"epoch": 1}]}, {"epochs": [{"epoch": "1", "loss": 1}]}],
)
def test_a_history_without_epochs_is_a_data_error(tmp_path: Path, history) -> None:
    with pytest.raises(DataError, match="history: "):
        plot_history(history, tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, no_matplotlib) -> None:
    with pytest.raises(ConfigError, match=r"pip install 'rnnkit\[plot\]'") as info:
        plot_history(_history(), tmp_path / "c.png")
    assert isinstance(info.value.__cause__, ImportError)


def _grad_csv(path: Path, rows: int = 12) -> Path:
    lines = ["step,epoch,batch,global_norm,clipped,simple_rnn.W,dense.V"]
    for s in range(1, rows + 1):
        norm = 10.0 if s % 4 == 0 else 1.0 / s
        lines.append(f"{s},{1 + (s - 1) // 6},{1 + (s - 1) % 6},{norm},{int(norm > 5)},0.1,{norm}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grad_norms_are_read_by_column_and_drawn(tmp_path: Path) -> None:
    csv_path = _grad_csv(tmp_path / "grad_norms.csv")
    log = read_grad_norms(csv_path)
    assert list(log.params) == ["simple_rnn.W", "dense.V"]
    assert log.clipped.sum() == 3 and log.step[-1] == 12 and log.epoch[-1] == 2
    np.testing.assert_array_equal(log.params["dense.V"], log.global_norm)
    png = plot_grad_norms(log, tmp_path / "g.png", clip_norm=5.0)
    assert png.read_bytes().startswith(PNG_SIGNATURE)
