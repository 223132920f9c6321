"""Holding out part of a dataset, reproducibly, without leaking duplicates across the cut.

:func:`split_indices` shuffles the examples with a seed and holds out a fraction of
them. With `groups`, examples that share a key (the same text, the same speaker) fall
on the same side: a surname listed under two languages, or repeated twenty times in
one file, is then either wholly in training or wholly held out, so the held-out score
measures names the model has never read.

>>> names = ["Abe", "Ito", "Abe", "Sato", "Ito", "Abe"]
>>> keep, held = split_indices(len(names), 0.3, seed=0, groups=names)
>>> {names[i] for i in keep} & {names[i] for i in held}
set()
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from rnnkit.errors import ConfigError

__all__ = ["split_indices"]


def split_indices(
    n: int, fraction: float, seed: int, groups: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle with `seed` and hold out `fraction`: (train, held) index arrays, each sorted.

    Parameters
    ----------
    n : int
        The number of examples, 0 .. n-1.
    fraction : float in (0, 1)
        The share held out: of the examples, or of the distinct `groups`.
    seed : int
        The same seed and data give the same split.
    groups : sequence of n hashable keys, optional
        Examples with equal keys are kept together; the fraction counts distinct keys.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"--valid-split {fraction}: must lie in [0, 1)")
    if groups is None:
        group_of = np.arange(n)
    else:
        if len(groups) != n:
            raise ConfigError(f"{len(groups)} group keys for {n} examples")
        first: dict[Hashable, int] = {}
        group_of = np.array([first.setdefault(key, len(first)) for key in groups], dtype=np.int64)
    n_groups = int(group_of.max()) + 1 if n else 0
    if n_groups < 2:
        what = "examples" if groups is None else "distinct examples"
        raise ConfigError(f"--valid-split needs at least two {what}, the data has {n_groups}")
    order = np.random.default_rng([seed, 2]).permutation(n_groups)
    n_held = min(max(1, round(fraction * n_groups)), n_groups - 1)
    held = np.zeros(n_groups, dtype=bool)
    held[order[:n_held]] = True
    return np.flatnonzero(~held[group_of]), np.flatnonzero(held[group_of])
