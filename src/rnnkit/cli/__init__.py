"""The ``rnnkit`` command (:mod:`rnnkit.cli.main`): one module per verb, each with
``add_parser(subparsers)`` and ``run(args)``.

- verbs: ``demo``, ``train``, ``evaluate``, ``tag``, ``predict``, ``summary``,
  ``generate``, ``translate``, ``trace``, ``diagnose``, ``report``, ``explore``, ``bench``;
- :mod:`~rnnkit.cli.tasks`: each task's reading, training and scoring, which the
  verbs import;
- :mod:`~rnnkit.cli.train_flags` and :mod:`~rnnkit.cli.data_flags`: the model,
  training and format flags, each with the tasks or formats it applies to;
- :mod:`~rnnkit.cli.outputs` and :mod:`~rnnkit.cli.report_params`: what training
  leaves beside a model, and the report's table of parameters.
"""
