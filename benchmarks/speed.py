"""Training speed, memory and generation latency: rnnkit and PyTorch side by side.

The same as ``rnnkit bench`` (its flags too):

    python benchmarks/speed.py [--quick] [--json] [--config NAME ...] [--cell rnn lstm gru]
        [--threads N] [--repeats N] [--keras] [--no-memory] [--out FILE]

PyTorch (and Keras, for ``--keras``) are benchmark dependencies only:
``pip install -e '.[test]'``.
"""

from __future__ import annotations

import sys

from rnnkit.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
