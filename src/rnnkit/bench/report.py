"""The benchmark result as a text table."""

from __future__ import annotations

from typing import Any

__all__ = ["format_table"]


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _side(row: dict[str, Any], side: str, key: str, fmt: str) -> str:
    """A number of one side, or n/a where that framework has no layer for the cell."""
    if side in row.get("not_available", ()):
        return "n/a"
    return _num(row.get(key), fmt)


def format_table(result: dict[str, Any]) -> str:
    """One row per (cell, configuration), then the per-cell summary and the machine."""
    has_torch = any("torch_tokens_per_s" in r for r in result["results"])
    has_keras = any("keras_tokens_per_s" in r for r in result["results"])
    head = ["cell", "config", "B x T x d, V", "rnnkit tok/s"]
    if has_torch:
        head += ["torch tok/s", "ratio", "no-oneDNN"]
    if has_keras:
        head += ["keras tok/s"]
    head += ["GFLOP/s", "% peak", "mem MiB rk/pt", "gen us/tok rk/pt"]
    rows = [head]
    for r in result["results"]:
        c = r["config"]
        shape = f"{c['batch']}x{c['steps']}x{c['hidden']}, {c['vocab']}"
        row = [r["cell"], c["name"], shape, _num(r["rnnkit_tokens_per_s"], ",.0f")]
        if has_torch:
            row += [_side(r, "torch", "torch_tokens_per_s", ",.0f")]
            row += [_side(r, "torch", "ratio", ".2f")]
            row += [_side(r, "torch", "ratio_no_onednn", ".2f")]
        if has_keras:
            row += [_side(r, "keras", "keras_tokens_per_s", ",.0f")]
        mem = (
            f"{_num(r.get('rnnkit_peak_mib'), '.0f')}/{_side(r, 'torch', 'torch_peak_mib', '.0f')}"
        )
        gen = (
            f"{_num(r.get('rnnkit_gen_us_per_token'), '.0f')}/"
            f"{_side(r, 'torch', 'torch_gen_us_per_token', '.0f')}"
        )
        row += [_num(r["rnnkit_gflops"], ".1f"), _num(100 * r["peak_fraction"], ".0f"), mem, gen]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.append("")
    missing = [(r["cell"], side) for r in result["results"] for side in r.get("not_available", ())]
    for cell, side in dict.fromkeys(missing):
        lines.append(f"{cell}: not available in {side}, which has no layer for this cell (n/a)")
    for cell, s in result.get("summary", {}).items():
        lines.append(
            f"{cell}: throughput ratio rnnkit/PyTorch geometric mean {s['geomean_ratio']:.2f}, "
            f"lowest {s['min_ratio']:.2f} (oneDNN off: {s['geomean_ratio_no_onednn']:.2f}, "
            f"lowest {s['min_ratio_no_onednn']:.2f}); "
            f"generation speed-up {s['geomean_gen_ratio']:.2f}"
        )
    sgemm = ", ".join(f"{k} {v:.0f}" for k, v in result["sgemm_gflops"].items())
    m = result["machine"]
    lines.append(
        f"SGEMM peak {result['sgemm_peak_gflops']:.0f} GFLOP/s ({sgemm}); "
        f"{result['threads']} threads; {m['cpu']}, {m['cores']} cores; "
        f"rnnkit's recurrences: {result.get('kernels', 'numpy')} (RNNKIT_KERNELS), "
        f"threads: {result.get('kernel_threads', 'blas')} (RNNKIT_THREADS)"
    )
    lines.append(
        "ratio: rnnkit tokens/s over PyTorch's (oneDNN on, its default); no-oneDNN: over "
        "PyTorch's with torch.backends.mkldnn.enabled = False; "
        "% peak: rnnkit's GFLOP/s over the SGEMM peak; "
        "mem: peak MiB of a training step above the process's baseline"
    )
    return "\n".join(lines)
