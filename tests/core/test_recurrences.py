"""The compiled recurrences against the NumPy reference, and the switch between them.

Specified here: on the compiled path every scan and backward pass of
:mod:`rnnkit.core.recurrences` fills the same buffers as the reference, for every
cell and option (a mask, per-step gradients or none, recorded state gradients, both
GRU forms, given final-state gradients), in float64 to 1e-12 and in float32 to its
rounding; the float32 tanh and sigmoid are within a few roundings of the true
functions over their whole range; RNNKIT_KERNELS and :func:`use_kernels` choose the
path, a wrong name and an absent compiled path are refused with one ConfigError.
The layers' gradient checks and PyTorch parity tests run on both paths through the
``kernels`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.core import kernels, recurrences
from rnnkit.core.kernels import kernel_path, use_kernels
from rnnkit.errors import ConfigError

T, B, D = 7, 4, 5
#: float64: both paths do the same arithmetic in another order. float32: the compiled
#: tanh is a rational function within 4e-7 of the true one, NumPy's within an ulp, and
#: the difference grows a little through the steps: agreement to a few roundings of
#: values of order 1 to 10.
TOLERANCES = {np.float64: (1e-12, 1e-13), np.float32: (2e-6, 2e-6)}


def _run(
    cell: str, dtype, masked: bool, per_step: bool, reset_after: bool = True, side=False, D=D
) -> dict:
    """Forward and backward of `cell` on fixed random buffers of D units; every array they
    fill (`side`: the gated cells' dA with their gates side by side, (T, B, g d))."""
    rng = np.random.default_rng(3)
    g = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    normal = lambda *shape, scale=1.0: (rng.normal(size=shape) * scale).astype(dtype)  # noqa: E731
    xw, W, h0, c0 = normal(g, T, B, D), normal(D, g * D, scale=0.6), normal(B, D), normal(B, D)
    mask = rng.random((T, B)) > 0.3 if masked else None
    dH = normal(T, B, D) if per_step else None
    dh_last, dc_last, b_h = normal(B, D), normal(B, D), normal(3 * D)
    rec = {k: np.zeros((T, B, D), dtype) for k in ("dh", "dc")} if per_step else {}
    H = np.empty((T + 1, B, D), dtype)
    H[0] = h0
    if cell == "rnn":
        H[1:] = xw[0]
        recurrences.rnn_scan(H, W, mask)
        dA, dW, dh0 = recurrences.rnn_backward(dH, dh_last, H, W, mask, dh_out=rec.get("dh"))
        return {"H": H, "dA": dA, "dW": dW, "dh0": dh0, **rec}
    G = xw.copy()
    if cell == "lstm":
        C, TC = np.empty_like(H), np.empty((T, B, D), dtype)
        C[0] = c0
        recurrences.lstm_scan(G, H, C, TC, W, mask)
        rows = np.full((T, B, 4 * D), np.nan, dtype) if side else None
        dA, dW, dh0, dc0 = recurrences.lstm_backward(
            dH, dh_last, dc_last, H, C, G, TC, W, mask, dh_out=rec.get("dh"), dc_out=rec.get("dc"),
            rows=rows,
        )  # fmt: skip
        assert dA is rows if side else dA.shape == (4, T, B, D)
        return {"G": G, "H": H, "C": C, "TC": TC, "dA": dA, "dW": dW, "dh0": dh0, "dc0": dc0, **rec}
    S = np.empty((T, B, D), dtype)
    recurrences.gru_scan(G, H, S, W, mask, recurrent_bias=b_h, reset_after=reset_after)
    rows = np.full((T, B, 3 * D), np.nan, dtype) if side else None
    dA, dW, db_h, dh0 = recurrences.gru_backward(
        dH, dh_last, H, G, S, W, mask, reset_after=reset_after, dh_out=rec.get("dh"), rows=rows
    )
    assert dA is rows if side else dA.shape == (3, T, B, D)
    return {"G": G, "H": H, "S": S, "dA": dA, "dW": dW, "db_h": db_h, "dh0": dh0, **rec}


#: how a kernel runs: one loop, its rows in three parts, or its units in two or three
#: parts that meet once a step (D 5: parts of 2 and 3 units, or 1, 2 and 2)
SPLITS = {
    "one-loop": lambda: recurrences.use_row_parts(1),
    "3-row-parts": lambda: recurrences.use_row_parts(3),
    "2-unit-parts": lambda: recurrences.use_unit_parts(2),
    "3-unit-parts": lambda: recurrences.use_unit_parts(3),
}


@pytest.mark.parametrize("parts", list(SPLITS))
@pytest.mark.parametrize("products", ["per-gate", "one"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("per_step", [False, True], ids=["last", "per-step"])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize(
    "cell", ["rnn", "lstm", "lstm-side", "gru", "gru-side", "gru-reset-before", "gru-side-before"]
)
def test_compiled_fills_what_the_reference_fills(
    compiled, cell, masked, per_step, dtype, products, parts
):
    # products: the gated kernels' h_{t-1} W, and its gradient, per gate or in one;
    # parts: the batch's 4 rows in one loop, or split 1 + 1 + 2 over the team's threads,
    # or the units of every row split over two or three threads
    # -side: dA returned with its gates side by side, fewer products per step backward
    name, reset_after = cell.split("-")[0], not cell.endswith("before")
    results = {}
    for path in kernels.KERNEL_PATHS:
        with (
            use_kernels(path),
            recurrences.use_products(products),
            SPLITS[parts](),
        ):
            results[path] = _run(name, dtype, masked, per_step, reset_after, "-side" in cell)
    rtol, atol = TOLERANCES[dtype]
    reference, ours = results["numpy"], results["compiled"]
    assert reference.keys() == ours.keys()
    for key, want in reference.items():
        if want is None:
            assert ours[key] is None, key
            continue
        assert ours[key].dtype == want.dtype, key
        np.testing.assert_allclose(ours[key], want, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru-reset-before"])
def test_unit_parts_on_whole_cache_lines_give_what_one_loop_gives(compiled, cell):
    """D 48 in three parts of 16 units (the parts' bounds on 64-byte lines), padded,
    float64: the same arithmetic per unit as one loop."""
    name, reset_after = cell.split("-")[0], not cell.endswith("before")
    results = {}
    for split in ("one-loop", "3-unit-parts"):
        with use_kernels("compiled"), SPLITS[split]():
            results[split] = _run(name, np.float64, True, True, reset_after, D=48)
    for key, want in results["one-loop"].items():
        if want is not None:
            np.testing.assert_allclose(results["3-unit-parts"][key], want, 1e-12, 1e-13, key)


@pytest.mark.parametrize("reset_after", [True, False])
def test_a_single_step_reads_the_gates_of_W_in_place(compiled, reset_after):
    """T * B < d (generation): the forward kernels read W_k as columns of W, no copy."""
    rng = np.random.default_rng(1)
    d = 9
    W4, W3 = rng.normal(size=(d, 4 * d)), rng.normal(size=(d, 3 * d))
    x4, x3 = rng.normal(size=(4, 1, 1, d)), rng.normal(size=(3, 1, 1, d))  # (g, T, B, d)
    h0 = rng.normal(size=(1, d))
    results = {}
    for path in kernels.KERNEL_PATHS:
        with use_kernels(path):
            G, H, C, TC = x4.copy(), np.stack([h0, h0]), np.stack([h0, h0]), np.zeros((1, 1, d))
            recurrences.lstm_scan(G, H, C, TC, W4)
            G3, H3, S = x3.copy(), np.stack([h0, h0]), np.zeros((1, 1, d))
            recurrences.gru_scan(G3, H3, S, W3, reset_after=reset_after)
            results[path] = (G, H, C, TC, G3, H3, S)
    for ours, want in zip(results["compiled"], results["numpy"], strict=True):
        np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-13)


def test_float32_activations_are_within_a_few_roundings(compiled):
    """tanh through a tanh RNN with W = 0, the sigmoid through an LSTM's input gate."""
    x = np.linspace(-12, 12, 48_001, dtype=np.float32)[:, None]  # (B, d = 1)
    N = len(x)
    H = np.stack([np.zeros_like(x), x])  # (T + 1, B, 1): h_0 = 0, then x_t U + b = x
    with use_kernels("compiled"):
        recurrences.rnn_scan(H, np.zeros((1, 1), np.float32))
    assert np.abs(H[1] - np.tanh(x.astype(np.float64))).max() < 5e-7
    G = np.zeros((4, 1, N, 1), np.float32)  # gates i, f, g, o of one step
    G[0, 0] = x
    H, C, TC = (np.zeros(shape, np.float32) for shape in [(2, N, 1), (2, N, 1), (1, N, 1)])
    with use_kernels("compiled"):
        recurrences.lstm_scan(G, H, C, TC, np.zeros((1, 4), np.float32))
    assert np.abs(G[0, 0] - 1 / (1 + np.exp(-x.astype(np.float64)))).max() < 5e-7


def test_other_activations_and_dtypes_run_the_reference(compiled):
    """What the kernels do not cover (relu, float16) is computed by the reference."""
    rng = np.random.default_rng(0)
    H = rng.normal(size=(4, 2, 3)).astype(np.float16)
    W = rng.normal(size=(3, 3)).astype(np.float16)
    with use_kernels("numpy"):
        want = recurrences.rnn_scan(H.copy(), W, activation="relu")
        want16 = recurrences.rnn_scan(H.copy(), W)
    with use_kernels("compiled"):
        np.testing.assert_array_equal(recurrences.rnn_scan(H.copy(), W, activation="relu"), want)
        np.testing.assert_array_equal(recurrences.rnn_scan(H.copy(), W), want16)


def test_the_environment_variable_chooses_and_use_kernels_overrides(monkeypatch, compiled):
    monkeypatch.setenv("RNNKIT_KERNELS", "numpy")
    assert kernel_path() == "numpy"
    with use_kernels("compiled"):
        assert kernel_path() == "compiled"
        with use_kernels("numpy"):
            assert kernel_path() == "numpy"
        assert kernel_path() == "compiled"
    monkeypatch.setenv("RNNKIT_KERNELS", "compiled")
    assert kernel_path() == "compiled"
    monkeypatch.delenv("RNNKIT_KERNELS")
    assert kernel_path() == "compiled"  # the default where it is built


def test_the_products_are_chosen_by_the_threads_and_size_unless_told():
    with recurrences.use_products("auto"):
        small = recurrences._one_product(32, 128, 4, 1)  # 2.1M multiply-adds
        assert small == (kernels.blas_threads() > 1)
        assert not recurrences._one_product(64, 256, 4, 1)  # 16.8M: per gate
        assert not recurrences._one_product(32, 128, 4, 2)  # rows split: one thread each
    with recurrences.use_products("one"):
        assert recurrences._one_product(64, 256, 4, 2)
    with pytest.raises(ConfigError, match="products='both' is not one of auto, one, per-gate"):
        with recurrences.use_products("both"):
            pass


def test_a_wrong_name_is_refused(monkeypatch):
    monkeypatch.setenv("RNNKIT_KERNELS", "cuda")
    with pytest.raises(ConfigError, match=r"^RNNKIT_KERNELS='cuda' is not one of numpy, compiled$"):
        kernel_path()


def test_the_compiled_path_asked_for_but_absent_is_one_error(monkeypatch):
    monkeypatch.setattr(kernels, "compiled_unavailable", lambda: "they are not built")
    monkeypatch.delenv("RNNKIT_KERNELS", raising=False)
    assert kernel_path() == "numpy"  # absent: the reference runs, by default
    monkeypatch.setenv("RNNKIT_KERNELS", "compiled")
    with pytest.raises(ConfigError, match=r"asked for but they are not built$"):
        kernel_path()
    with pytest.raises(ConfigError, match=r"asked for but they are not built$"):
        recurrences.rnn_scan(np.zeros((2, 1, 1)), np.zeros((1, 1)))


@pytest.mark.parametrize("shape", [(1, 1), (33, 65), (128, 512), (64, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_backward_kernels_transpose_W_exactly(compiled, shape, dtype):
    """W^T for the backward kernels, a tiled copy: whole tiles, partial ones, one entry."""
    W = np.random.default_rng(0).normal(size=shape).astype(dtype)
    with use_kernels("compiled"):
        WT = recurrences._transposed(W, None)
    assert WT.flags.c_contiguous and np.array_equal(WT, W.T)


def test_pointer_is_the_arrays_first_byte():
    """kernels.pointer reads a writable contiguous array's address through the buffer
    protocol and any other array's through NumPy's ctypes: the same address."""
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    frozen = a.copy()
    frozen.flags.writeable = False
    for arr in (a, a[1], a[:, 1], frozen, np.zeros((0, 3))):
        assert kernels.pointer(arr) == arr.ctypes.data
    assert kernels.pointer(None) is None
