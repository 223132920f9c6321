"""plot_confusion_matrix: a real PNG, written atomically, without pyplot."""

from __future__ import annotations

import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnkit.viz
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.viz import plot_confusion_matrix
from rnnkit.viz.plots import _confusion_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, read from the IHDR chunk that opens every PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_writes_a_png_and_no_temporary_file(tmp_path: Path, cm3) -> None:
    cm, labels = cm3
    out = plot_confusion_matrix(cm, labels, tmp_path / "cm.png")
    assert out == tmp_path / "cm.png"
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_accepts_a_str_path_and_normalize_and_title(tmp_path: Path, cm3) -> None:
    cm, labels = cm3
    out = plot_confusion_matrix(cm, labels, str(tmp_path / "n.png"), normalize=True, title="t")
    assert isinstance(out, Path) and out.read_bytes().startswith(PNG_SIGNATURE)


def test_normalized_and_counts_images_differ(tmp_path: Path, cm3) -> None:
    cm, labels = cm3
    counts = plot_confusion_matrix(cm, labels, tmp_path / "a.png").read_bytes()
    fractions = plot_confusion_matrix(cm, labels, tmp_path / "b.png", normalize=True).read_bytes()
    assert counts != fractions


def cell_texts(fig) -> list[list[str]]:
    """The annotations of the heat map, as a (K, K) grid by (row, column) position."""
    ax = fig.axes[0]
    k = len(ax.get_yticks())
    grid = [[""] * k for _ in range(k)]
    for text in ax.texts:
        j, i = text.get_position()
        grid[round(i)][round(j)] = text.get_text()
    return grid


def test_cells_show_counts_and_both_axes_are_labelled(cm3) -> None:
    cm, labels = cm3
    fig = _confusion_figure(
        np.array([[1234567, 3], [0, 12]]), ["a", "b"], normalize=False, title=None
    )
    assert cell_texts(fig) == [["1234567", "3"], ["0", "12"]]
    fig = _confusion_figure(cm, labels, normalize=False, title="sentiment")
    ax = fig.axes[0]
    assert cell_texts(fig) == [[str(x) for x in row] for row in cm.tolist()]
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted", "true", "sentiment")
    # Rows are true classes, coloured by their share: the image's row 1 is cm's second row.
    np.testing.assert_allclose(ax.images[0].get_array()[1], cm[1] / cm[1].sum(), atol=1e-15)


def test_a_small_class_is_coloured_as_plainly_as_a_large_one() -> None:
    cm = np.array([[900, 100], [1, 9]])  # both classes: 90% right
    image = _confusion_figure(cm, ["big", "small"], normalize=False, title=None).axes[0].images[0]
    np.testing.assert_allclose(np.diag(image.get_array()), [0.9, 0.9])
    assert cell_texts(_confusion_figure(cm, ["big", "small"], normalize=False, title=None)) == [
        ["900", "100"],
        ["1", "9"],
    ]


def test_normalize_divides_each_row_by_its_true_count(cm3) -> None:
    cm, labels = cm3
    fig = _confusion_figure(cm, labels, normalize=True, title=None)
    rows = cm / cm.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), rows, rtol=0, atol=1e-15)
    assert cell_texts(fig) == [[f"{x:.2f}" for x in row] for row in rows]
    assert fig.axes[0].get_title() == "Confusion matrix (row-normalised)"


def test_a_row_without_examples_is_fine(tmp_path: Path) -> None:
    cm = np.array([[3, 1], [0, 0]])
    out = plot_confusion_matrix(cm, ["a", "b"], tmp_path / "cm.png", normalize=True)
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_figure_grows_with_the_number_of_classes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    cm20 = rng.integers(0, 30, size=(20, 20)) + np.diag(rng.integers(100, 300, size=20))
    labels20 = [f"TAG_{i:02d}" for i in range(20)]
    small = png_size(plot_confusion_matrix([[5, 1], [2, 4]], ["n", "p"], tmp_path / "2.png"))
    large = png_size(plot_confusion_matrix(cm20, labels20, tmp_path / "20.png"))
    assert large[0] > 1.5 * small[0] and large[1] > 1.5 * small[1]


def test_replaces_an_existing_file(tmp_path: Path, cm3) -> None:
    cm, labels = cm3
    target = tmp_path / "cm.png"
    target.write_bytes(b"old")
    plot_confusion_matrix(cm, labels, target)
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_a_new_plot_is_readable_as_any_new_file_is(tmp_path: Path, cm3) -> None:
    """0o666 minus the umask, as open() gives, not a private temporary file's 0o600."""
    umask = os.umask(0o022)
    try:
        plot_confusion_matrix(*cm3, tmp_path / "cm.png")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "cm.png").stat().st_mode) == 0o644


def test_a_failed_render_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, cm3, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    cm, labels = cm3
    target = tmp_path / "cm.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        plot_confusion_matrix(cm, labels, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_missing_matplotlib_gives_a_config_error(tmp_path: Path, cm3, no_matplotlib) -> None:
    cm, labels = cm3
    with pytest.raises(ConfigError) as info:
        plot_confusion_matrix(cm, labels, tmp_path / "cm.png")
    assert str(info.value) == "plotting needs matplotlib: pip install 'rnnkit[plot]'"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("cm", "labels", "name", "error", "argument"),
    [
        ([[1, 2, 3]], ["a"], "cm.png", ShapeError, "cm"),
        ([[1, 2], [3, 4]], ["a"], "cm.png", ShapeError, "labels"),
        ([[1, -2], [3, 4]], ["a", "b"], "cm.png", DataError, "cm"),
        ([[1, 2], [3, 4]], ["a", "b"], "cm.pdf", ConfigError, "path"),
        ([[1, 2], [3, 4]], ["a", "b"], "missing/cm.png", ConfigError, "path"),
    ],
)
def test_errors_name_the_argument(tmp_path: Path, cm, labels, name, error, argument) -> None:
    with pytest.raises(error) as info:
        plot_confusion_matrix(cm, labels, tmp_path / name)
    assert str(info.value).startswith(f"{argument}:") and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_neither_import_nor_plot_touches_pyplot(tmp_path: Path) -> None:
    # A fresh interpreter: other tests in this process may have imported pyplot.
    script = (
        "import sys, rnnkit.viz\n"
        "assert 'matplotlib' not in sys.modules, 'importing rnnkit.viz imported matplotlib'\n"
        "rnnkit.viz.plot_confusion_matrix([[1, 0], [0, 1]], ['a', 'b'], sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plotting imported pyplot'\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path / "c.png")]
    subprocess.run(command, check=True, capture_output=True, text=True)
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_SIGNATURE)


def test_all_is_the_public_api() -> None:
    assert rnnkit.viz.__all__ == [
        "GradientDiagnosis",
        "ReportInputs",
        "Trace",
        "measure_gradients",
        "plot_attention",
        "plot_confusion_matrix",
        "plot_grad_norms",
        "plot_gradients",
        "plot_history",
        "render_report",
        "trace",
        "write_report",
    ]
