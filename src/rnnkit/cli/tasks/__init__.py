"""What ``rnnkit`` does for each task: read its data, train its model, score it.

One module per kind of model: :mod:`~rnnkit.cli.tasks.classify` (texts), ``tag``,
``lm``, ``seq2seq`` and ``frames`` (real-valued sequences for classify, tag and
regress). Each reads its data in one place, ``read(path, args)``, with the command
line's format flags, and the verbs (train, evaluate, diagnose, report) import it.
"""
