"""``rnnkit bench``: it runs, prints its table and JSON, and its two sides agree.

Nothing here asserts a time. What is asserted: the table and the JSON have every
column and key, rnnkit and PyTorch start from the same loss (the same network, the
same weights, the same batch), and mistakes end with one line and exit code 2.
"""

from __future__ import annotations

import json

import pytest

SMALL = ("bench", "--quick", "--no-memory", "--config", "tiny", "--repeats", "1", "--threads", "1")


def test_quick_bench_prints_the_table(run_cli, torch):
    r = run_cli(*SMALL, "--cell", "rnn", "gru")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split()[:5] == ["cell", "config", "B", "x", "T"]
    assert "torch tok/s" in lines[0] and "ratio" in lines[0] and "% peak" in lines[0]
    assert "no-oneDNN" in lines[0]  # the ratio against PyTorch with oneDNN off
    rows = [line.split() for line in lines[1:3]]
    assert [row[:2] for row in rows] == [["rnn", "tiny"], ["gru", "tiny"]]
    assert any(line.startswith("rnn: throughput ratio") for line in lines)
    assert any(line.startswith("SGEMM peak") and "recurrences: " in line for line in lines)
    assert "rnn tiny ..." in r.err  # progress goes to stderr, the table to stdout


def test_bench_json_has_the_documented_keys_and_equal_first_losses(run_cli, torch):
    r = run_cli(*SMALL, "--cell", "lstm", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert set(result) >= {"results", "sgemm_peak_gflops", "summary", "threads", "machine"}
    (row,) = result["results"]
    assert row["cell"] == "lstm" and row["config"]["name"] == "tiny"
    for key in ("rnnkit_tokens_per_s", "torch_tokens_per_s", "ratio", "rnnkit_gflops"):
        assert row[key] > 0, key
    assert row["ratio"] == pytest.approx(row["rnnkit_tokens_per_s"] / row["torch_tokens_per_s"])
    plain = row["rnnkit_tokens_per_s"] / row["torch_no_onednn_tokens_per_s"]
    assert row["ratio_no_onednn"] == pytest.approx(plain)  # PyTorch with oneDNN off
    assert row["kernels"] == result["kernels"] and result["kernels"] in ("numpy", "compiled")
    assert result["kernel_threads"] in ("team", "blas")  # who ran OpenBLAS's products
    assert 0 < row["peak_fraction"] < 2
    assert row["rnnkit_gen_us_per_token"] > 0 and row["torch_gen_us_per_token"] > 0
    assert row["same_loss"], row["first_loss"]  # the same network on both sides
    assert result["threads"] == 1 and result["sgemm_peak_gflops"] > 0


def test_bench_without_torch_has_rnnkit_columns_only(run_cli):
    r = run_cli(*SMALL, "--cell", "rnn", "--no-torch", "--json")
    assert r.code == 0, r.err
    (row,) = json.loads(r.out)["results"]
    assert "torch_tokens_per_s" not in row and "ratio" not in row
    assert "torch_no_onednn_tokens_per_s" not in row
    assert row["rnnkit_tokens_per_s"] > 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--threads", "0"), "error: threads=0: must be at least 1"),
        (("--repeats", "0"), "error: repeats=0: must be at least 1"),
        (("--config", "huge"), "error: rnnkit bench: argument --config: invalid choice"),
    ],
)
def test_bad_bench_flags_end_with_one_line(run_cli, flags, message):
    r = run_cli("bench", "--quick", *flags)
    assert r.code == 2
    assert r.err.startswith(message) and r.err.count("\n") == 1, r.err


def test_a_wrong_kernel_path_ends_with_one_line(run_cli, monkeypatch):
    monkeypatch.setenv("RNNKIT_KERNELS", "gpu")
    r = run_cli(*SMALL, "--no-torch")
    assert r.code == 2
    assert r.err == "error: RNNKIT_KERNELS='gpu' is not one of numpy, compiled\n", r.err
