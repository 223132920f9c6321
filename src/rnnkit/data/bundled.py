"""Datasets shipped inside the package, readable with no download.

MR (Pang & Lee 2005): 10,662 movie-review snippets labelled ``"1"`` (positive) or
``"0"`` (negative), split 8,530 / 1,066 / 1,066 into train, dev and test. See
``rnnkit/data/bundled/MR_NOTICE.md`` for the citation, license and how the split was
made.

>>> test = load_mr("test")
>>> len(test.texts)
1066
>>> test.labels[0], test.texts[0]
('1', 'offers a breath of the fresh air of true sophistication . ')
"""

from __future__ import annotations

import gzip
from importlib import resources

from rnnkit.data.table import Table, parse_table
from rnnkit.data.text_files import decode_bytes
from rnnkit.errors import ConfigError

__all__ = ["MR_SPLITS", "load_mr"]

MR_SPLITS = ("train", "dev", "test")


def load_mr(split: str) -> Table:
    """Load one split of the bundled MR sentence-polarity dataset.

    Parameters
    ----------
    split : {"train", "dev", "test"}

    Returns
    -------
    Table
        ``texts`` exactly as in the file (lower-cased, pre-tokenised, most with a
        trailing space), ``labels`` the strings ``"1"`` and ``"0"``, ``path`` the resource name
        (``"rnnkit/data/bundled/mr_<split>.tsv.gz"``) and ``lines`` the 1-based line
        numbers.

    Raises
    ------
    ConfigError
        For any other split name.

    Examples
    --------
    >>> train = load_mr("train")
    >>> len(train), sorted(set(train.labels))
    (8530, ['0', '1'])
    >>> load_mr("valid")
    Traceback (most recent call last):
    ...
    rnnkit.errors.ConfigError: split: expected 'train', 'dev' or 'test', got 'valid'
    """
    if split not in MR_SPLITS:
        raise ConfigError(f"split: expected 'train', 'dev' or 'test', got {split!r}")
    name = f"mr_{split}.tsv.gz"
    resource = resources.files("rnnkit.data") / "bundled" / name
    source = f"rnnkit/data/bundled/{name}"
    text = decode_bytes(gzip.decompress(resource.read_bytes()), "latin-1", source)
    return parse_table(text, source, text_col=1, label_col=0, header=False, delimiter="\t")
