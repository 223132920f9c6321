"""The kernels' team of threads, which runs OpenBLAS's parallel products and the rows of
split recurrences.

Specified here: with the team (the default, ``RNNKIT_THREADS=team``) NumPy's products
give the very bits they give on OpenBLAS's own threads, and the team's workers are the
ones that ran them; a recurrence split into row parts gives what one loop gives, to
float32 rounding; a forked child, several Python threads at once and a product inside
a split all finish with the right numbers instead of waiting forever; idle workers
sleep after a short spin; a wrong
``RNNKIT_THREADS`` is one ConfigError.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rnnkit.core import kernels, recurrences
from rnnkit.core.kernels import use_kernels, use_team
from rnnkit.core.workspace import Workspace

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture(scope="module")
def lib():
    if kernels.compiled_unavailable():
        pytest.skip(f"the compiled kernels cannot run: {kernels.compiled_unavailable()}")
    if kernels._numpy_openblas() is None:
        pytest.skip("the team needs the OpenBLAS of NumPy's wheel (this NumPy has another BLAS)")
    with use_kernels("compiled"):
        yield kernels.compiled_library()


def _operands(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A product OpenBLAS splits over two threads (m n k far above its threshold)."""
    rng = np.random.default_rng(seed)
    return rng.random((512, 384), np.float32), rng.random((384, 640), np.float32)


def _lstm(parts: int, seed: int = 1, units: bool = False) -> list[np.ndarray]:
    """An LSTM scan and backward pass at B 32, d 64 split into `parts` row parts (or
    unit parts)."""
    rng = np.random.default_rng(seed)
    T, B, d = 10, 32, 64
    G = rng.normal(size=(4, T, B, d)).astype(np.float32)
    W = (rng.normal(size=(d, 4 * d)) / 8).astype(np.float32)
    H, C = np.zeros((T + 1, B, d), np.float32), np.zeros((T + 1, B, d), np.float32)
    TC = np.empty((T, B, d), np.float32)
    dH = rng.normal(size=(T, B, d)).astype(np.float32)
    split = recurrences.use_unit_parts if units else recurrences.use_row_parts
    with split(parts):
        recurrences.lstm_scan(G, H, C, TC, W)
        dA, dW, dh0, dc0 = recurrences.lstm_backward(dH, None, None, H, C, G, TC, W)
    return [H, C, dA.copy(), dW, dh0.copy(), dc0.copy()]


def test_numpy_products_on_the_team_give_openblas_bits(lib):
    a, b = _operands()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with use_team(False):
            before = lib.rnnkit_team_blas_calls()
            want = a @ b
            assert lib.rnnkit_team_blas_calls() == before  # OpenBLAS's threads ran it
        with use_team(True):
            got = a @ b
    assert np.array_equal(got, want)
    assert lib.rnnkit_team_blas_calls() == before + 1  # handed to the team
    assert lib.rnnkit_team_workers() >= 1  # whose worker ran the second job


@pytest.mark.parametrize("units", [False, True], ids=["rows", "units"])
@pytest.mark.parametrize("parts", [2, 3, 5])
def test_a_split_recurrence_gives_what_one_loop_gives(lib, parts, units):
    # units: d 64 in parts of 32 + 32, 16 + 16 + 32 (whole cache lines), or 12 + 13 +
    # 13 + 13 + 13, that meet at every step
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        whole, split = _lstm(1), _lstm(parts, units=units)
    for want, got in zip(whole, split, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_idle_workers_sleep(lib):
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        _lstm(5)  # four workers
        a, b = _operands()
        a @ b  # a job for one of them
        time.sleep(10 * kernels.TEAM_SPIN_US / 1e6)
        assert lib.rnnkit_team_workers() >= 4
        assert lib.rnnkit_team_sleepers() == lib.rnnkit_team_workers()  # none spins idle


def test_the_rows_are_split_only_where_it_pays(lib):
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert recurrences.kernel_parts(40, 32, 128, 4) == 2  # a sentiment LSTM: 84M
        assert recurrences.kernel_parts(20, 16, 32, 4) == 1  # tiny: 1.3M multiply-adds
        assert recurrences.kernel_parts(1, 1, 512, 4) == 1  # generation: one row, one step
        assert recurrences.kernel_parts(40, 12, 512, 1) == 1  # 12 rows: one part of 8 at most
        large = recurrences.kernel_parts(100, 128, 1024, 3, forward=True)  # a large GRU
        assert large == 2 | recurrences.UNITS  # its units split, each part all of W_k's rows
        assert recurrences.kernel_parts(100, 128, 1024, 3) == 2  # backward: the rows
        assert recurrences.kernel_parts(100, 128, 1024, 1, forward=True) == 2  # tanh RNN: rows
        assert recurrences.kernel_parts(100, 64, 512, 4, forward=True) == 2  # medium: rows
        with use_team(False):  # OpenBLAS's threads would spin on the second core
            assert recurrences.kernel_parts(40, 32, 128, 4) == 1
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert recurrences.kernel_parts(40, 32, 128, 4) == 1  # one thread: one loop
    with pytest.raises(kernels.ConfigError, match="row parts=0 is not a whole number >= 1"):
        with recurrences.use_row_parts(0):
            pass
    with pytest.raises(kernels.ConfigError, match="unit parts=True is not a whole number"):
        with recurrences.use_unit_parts(True):
            pass


def test_splits_are_counted(lib):
    """kernels.split_counts: a kernel that kernel_parts splits counts as split (or as
    skipped, while splitting backs off); one split by use_row_parts does not."""
    rng = np.random.default_rng(2)
    T, B, d = 10, 16, 128  # 10.5M multiply-adds over 16 rows: two parts
    G = rng.normal(size=(4, T, B, d)).astype(np.float32)
    W = (rng.normal(size=(d, 4 * d)) / 16).astype(np.float32)
    H, C = np.zeros((T + 1, B, d), np.float32), np.zeros((T + 1, B, d), np.float32)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert recurrences.kernel_parts(T, B, d, 4) == 2
        before = kernels.split_counts()
        _lstm(2)
        assert kernels.split_counts() == before
        recurrences.lstm_scan(G, H, C, np.empty((T, B, d), np.float32), W)
    after = kernels.split_counts()
    assert after["split"] + after["skipped"] == before["split"] + before["skipped"] + 1
    assert before["missed"] <= after["missed"] <= after["split"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_unit_parts_multiply_by_their_own_columns_of_W(lib, cell):
    """Two unit parts of d 32 lay their units' columns of every W_k side by side in the
    workspace's room (d, g d), part 0's 16 units first: the kernel ran split by units,
    not by rows (which would give the same results)."""
    rng = np.random.default_rng(4)
    g, T, B, d = {"lstm": 4, "gru": 3}[cell], 3, 4, 32
    G = rng.normal(size=(g, T, B, d)).astype(np.float32)
    W = rng.normal(size=(d, g * d)).astype(np.float32)
    H = np.zeros((T + 1, B, d), np.float32)
    ws = Workspace()
    with recurrences.use_unit_parts(2):
        if cell == "lstm":
            C, TC = np.zeros_like(H), np.empty((T, B, d), np.float32)
            recurrences.lstm_scan(G, H, C, TC, W, ws=ws)
        else:
            recurrences.gru_scan(G, H, np.empty((T, B, d), np.float32), W, ws=ws)
    room = ws.take("W_units", W.shape, W.dtype).reshape(-1)
    for part, units in enumerate((slice(0, 16), slice(16, 32))):
        want = np.concatenate([W[:, k * d : (k + 1) * d][:, units] for k in range(g)], axis=1)
        got = room[part * d * g * 16 : (part + 1) * d * g * 16].reshape(d, g * 16)
        np.testing.assert_array_equal(got, want)


def test_unit_splits_are_counted(lib, monkeypatch):
    """A forward kernel whose units kernel_parts splits counts as split too."""
    rng = np.random.default_rng(3)
    T, B, d = 4, 8, 512
    monkeypatch.setattr(recurrences, "UNIT_AREA", B * d)
    G = rng.normal(size=(3, T, B, d)).astype(np.float32)
    W = (rng.normal(size=(d, 3 * d)) / 32).astype(np.float32)
    H, S = np.zeros((T + 1, B, d), np.float32), np.empty((T, B, d), np.float32)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert recurrences.kernel_parts(T, B, d, 3, forward=True) == 2 | recurrences.UNITS
        before = kernels.split_counts()
        recurrences.gru_scan(G, H, S, W)
    after = kernels.split_counts()
    assert after["split"] + after["skipped"] == before["split"] + before["skipped"] + 1


def _in_child(queue) -> None:
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"), use_kernels("compiled"):
        a, b = _operands()
        queue.put([a @ b, *_lstm(2)])


def test_a_forked_child_starts_its_own_team(lib):
    a, b = _operands()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        want = [a @ b, *_lstm(2)]  # the parent's team is running now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_python_threads_at_once_all_finish_right(lib):
    a, b = _operands()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        want_product, want_lstm = a @ b, _lstm(2)
        errors: list[str] = []

        def work() -> None:
            for _ in range(10):
                if not np.array_equal(a @ b, want_product):
                    errors.append("product")
                for w, g in zip(want_lstm, _lstm(2), strict=True):
                    if not np.allclose(g, w, rtol=1e-5, atol=1e-6):
                        errors.append("lstm")

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is still waiting"
    assert errors == []


def test_a_wrong_thread_mode_is_one_error(lib):
    env = {**os.environ, "RNNKIT_THREADS": "gpu", "RNNKIT_KERNELS": "compiled"}
    code = "from rnnkit.core import kernels; kernels.compiled_library()"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode != 0
    assert "ConfigError: RNNKIT_THREADS='gpu' is not one of team, blas" in run.stderr
    # the command line: one line and exit code 2, before any work
    rnnkit = Path(sys.executable).with_name("rnnkit")
    argv = [rnnkit, "bench", "--quick", "--no-torch", "--no-memory", "--config", "tiny"]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr == "error: RNNKIT_THREADS='gpu' is not one of team, blas\n"
