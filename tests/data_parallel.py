"""The data-parallel tests' tagger, and what they run under ``mpiexec -n N``.

``python data_parallel.py train OUT`` trains :func:`tagger` on every rank and writes
each rank's weights to OUT/rank<r>.npz (the test's own files, to compare the ranks);
``python data_parallel.py fail OUT`` makes the last rank raise in its third step,
inside :func:`rnnkit.distributed.abort_on_error`, and ``die`` kills it there;
``rows`` gathers each rank's rows of a carried state and splits them again;
``threads`` writes the BLAS threads :func:`rnnkit.distributed.world` left each rank.

>>> words, tags = sentences(3)
>>> [len(s) for s in words] == [len(t) for t in tags]
True
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.distributed import MPIGroup, abort_on_error, world
from rnnkit.models import SequenceTagger, sequential

__all__ = ["GROUP_SEED", "SETTINGS", "main", "sentences", "tagger"]

#: the seed of the ranks' dropout, also given to Accumulate by the tests
GROUP_SEED = 11
#: small and quick; dropout on, so the per-rank dropout streams are exercised
SETTINGS: dict[str, Any] = {
    "hidden": 8,
    "embed_dim": 8,
    "epochs": 2,
    # an odd batch: shares of 4 and 3 sentences, uneven token counts, and the words
    # they touch outgrow the first step's room for embedding rows (the layout grows)
    "batch_size": 7,
    "dropout": 0.3,
    "seed": 3,
    "verbose": 0,
}


def sentences(n: int = 40) -> tuple[list[list[str]], list[list[str]]]:
    """`n` sentences of 2 to 9 words ``w0 .. w49`` and their tags (odd or even)."""
    rng = np.random.default_rng(0)
    words = [[f"w{i}" for i in rng.integers(0, 50, size=rng.integers(2, 10))] for _ in range(n)]
    tags = [["ODD" if int(w[1:]) % 2 else "EVEN" for w in s] for s in words]
    return words, tags


def tagger(group: Any = None, **settings: Any) -> SequenceTagger:
    """The tagger trained on :func:`sentences` with `group`'s ranks (None: one process)."""
    words, tags = sentences()
    model = SequenceTagger(**{**SETTINGS, **settings})
    model.group = group
    return model.fit(words[:32], tags[:32], valid=(words[32:], tags[32:]))


def main(what: str, out: Path) -> None:
    from mpi4py import MPI  # here: importing it starts MPI

    if what == "threads":  # the BLAS threads world() leaves each rank
        from threadpoolctl import threadpool_info

        world_group = world()
        assert world_group is not None
        threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        (out / f"threads{world_group.rank}.txt").write_text(f"{threads}\n")
        return
    group = MPIGroup(MPI.COMM_WORLD, seed=GROUP_SEED)
    with abort_on_error(group):
        if what == "rows":  # each rank's carried rows, gathered, then its own again
            own = {"0.h": np.full((2 + group.rank, 3), group.rank, np.float32)}
            whole = group.gather_rows(own)
            back = group.own_rows(whole)
            np.savez(out / f"rows{group.rank}.npz", whole=whole["0.h"], back=back["0.h"])
            return
        if what in ("fail", "die"):
            _fail_on_last_rank(group, die=what == "die")
        model = tagger(group)
        np.savez(out / f"rank{group.rank}.npz", *model.model_.get_weights())


def _fail_on_last_rank(group: MPIGroup, die: bool) -> None:
    """Make the last rank's third training batch raise, as a bug would, or (`die`)
    kill its process, as the kernel's out-of-memory killer would."""
    if group.rank != group.size - 1:
        return
    train_batch = sequential.Sequential.train_batch
    calls = []

    def failing(self, batch):
        calls.append(1)
        if len(calls) == 3 and die:
            os.kill(os.getpid(), signal.SIGKILL)
        if len(calls) == 3:
            raise RuntimeError("a bug in the third batch")
        return train_batch(self, batch)

    sequential.Sequential.train_batch = failing  # type: ignore[method-assign]


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
