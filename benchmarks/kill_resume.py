"""Kill training runs with SIGKILL at random steps, resume them, compare with unbroken runs.

    python benchmarks/kill_resume.py [--trials 8] [--seed 1] [--json out.json]

Three small configurations, each with --checkpoint-every 3: a frames classifier with
dropout, an LSTM language model carrying its state between windows, and a seq2seq
model with scheduled sampling. Each is first trained without a break; then, for every
trial, started again, killed once its latest checkpoint passes a random step, resumed
with --resume, and its final weights compared byte for byte with the unbroken run's.
Needs ../shared/data (tinyshakespeare and cmudict_g2p).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAIN = [sys.executable, "-m", "rnnkit.cli.main", "train"]


def configs(root: Path) -> dict[str, list[str]]:
    rng = np.random.default_rng(0)
    lines = ["series_id,t,label,a,b,c"]
    for i in range(120):
        for t in range(int(rng.integers(4, 12))):
            a, b, c = rng.normal(loc=i % 3, size=3)
            lines.append(f"s{i},{t},{'xyz'[i % 3]},{a:.5f},{b:.5f},{c:.5f}")
    (root / "f.csv").write_text("\n".join(lines) + "\n")
    text = (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")[:40000]
    (root / "t.txt").write_text(text, encoding="utf-8")
    words = (DATA / "cmudict_g2p" / "cmudict-train.dict").read_text(encoding="utf-8")
    (root / "p.dict").write_text("".join(words.splitlines(keepends=True)[:1500]))
    every = ["--checkpoint-every", "3"]
    return {
        "frames": ["--task", "classify", "--data", str(root / "f.csv"), "--hidden", "24",
                   "--dropout", "0.3", "--epochs", "6", "--batch-size", "8",
                   "--patience", "100", *every],
        "lm": ["--task", "lm", "--data", str(root / "t.txt"), "--hidden", "32", "--bptt", "16",
               "--batch-size", "8", "--epochs", "3", "--dropout", "0.2", "--cell", "lstm",
               *every],
        "seq2seq": ["--task", "seq2seq", "--data", str(root / "p.dict"), "--hidden", "16",
                    "--epochs", "3", "--batch-size", "16", "--sampling-ratio", "0.3", *every],
    }  # fmt: skip


def latest_step(out: Path) -> int:
    try:
        return json.loads((out / "checkpoint" / "latest.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


def kill_after(argv: list[str], out: Path, step: int) -> tuple[int, int]:
    """Start a run; SIGKILL it once its checkpoint is at `step` or later."""
    proc = subprocess.Popen([*TRAIN, *argv, "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    seen = 0
    while proc.poll() is None:
        seen = latest_step(out)
        if seen >= step:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    return proc.wait(), seen


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=8, help="kills per configuration")
    p.add_argument("--seed", type=int, default=1, help="chooses the kill steps")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    if not (DATA / "tinyshakespeare").is_dir() or not (DATA / "cmudict_g2p").is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    pick = random.Random(args.seed)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, flags in configs(root).items():
            reference = root / f"{name}-reference"
            subprocess.run([*TRAIN, *flags, "--out", str(reference)], capture_output=True,
                           check=True)  # fmt: skip
            total = latest_step(reference)
            for trial in range(args.trials):
                out = root / f"{name}-{trial}"
                step = pick.randrange(1, total - 3)
                code, seen = kill_after(flags, out, step)
                resumed = subprocess.run([*TRAIN, *flags, "--out", str(out), "--resume"],
                                         capture_output=True, check=False)  # fmt: skip
                same = resumed.returncode == 0 and (
                    (out / "weights.safetensors").read_bytes()
                    == (reference / "weights.safetensors").read_bytes()
                )
                results.append({"config": name, "kill_after": step, "latest": seen,
                                "killed": code == -signal.SIGKILL, "identical": same})  # fmt: skip
                print(f"{name}: killed after step {step} (checkpoint {seen}), "
                      f"resumed {'identical' if same else 'DIFFERENT'}", flush=True)  # fmt: skip
                shutil.rmtree(out)
    n_same = sum(r["identical"] for r in results)
    print(f"{len(results)} trials, {sum(r['killed'] for r in results)} killed, {n_same} identical")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if n_same == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
