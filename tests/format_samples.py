"""One small file of every data format, for the tests of the format registry
(tests/data/test_formats.py) and of the command line's format choices
(tests/cli/test_cli_registry.py); and a frames CSV of three labels that trains in a
moment (tests/cli/test_cli_resume.py, test_cli_stopping.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: format name -> (file name, contents); label-files and npz are written by write_sample
SAMPLES: dict[str, tuple[str, str]] = {
    "table": ("t.csv", "text,label\ngood film,pos\nbad plot,neg\n"),
    "label-files": ("labels", ""),
    "conllu": ("t.conllu", "1\tthe\tthe\tDET\tDT\t_\t0\t_\t_\t_\n\n"),
    "conll": ("t.conll", "Paris\tB-loc\nrocks\tO\n"),
    "text": ("t.txt", "ROMEO: hello\n"),
    "pairs": ("p.tsv", "abc\tC B A\n"),
    "cmudict": ("c.dict", "ab AE1 B\n"),
    "frames": ("f.csv", "series_id,t,label,a\ns,0,x,1\ns,1,x,2\n"),
    "npz": ("z.npz", ""),
}


def write_sample(root: Path, name: str) -> Path:
    """The sample of format `name` written under `root`; returns its path."""
    file, contents = SAMPLES[name]
    path = root / file
    if name == "label-files":
        path.mkdir()
        (path / "Pos.txt").write_text("good film\n")
        (path / "Neg.txt").write_text("bad plot\n")
    elif name == "npz":
        np.savez(path, X=np.ones((2, 3, 1)), lengths=np.array([3, 2]), y=np.array(["a", "b"]))
    else:
        path.write_text(contents, encoding="utf-8")
    return path


def frames_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """`n` short real-valued sequences of three labels (x, y, z: their features' mean is
    the label's index), written to `path` in the frames format."""
    rng = np.random.default_rng(seed)
    lines = ["series_id,t,label,a,b,c"]
    for i in range(n):
        label = i % 3
        for t in range(int(rng.integers(4, 12))):
            a, b, c = rng.normal(loc=label, size=3)
            lines.append(f"s{i},{t},{'xyz'[label]},{a:.5f},{b:.5f},{c:.5f}")
    path.write_text("\n".join(lines) + "\n")
    return path
