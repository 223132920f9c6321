"""The command line's registries: the formats it offers, its verbs, its train flags.
(Its import graph, no cycles and no private names, is tests/test_architecture.py's, as
for every package.)

The expectations are generated from the tables themselves (FORMATS, VERBS,
TRAIN_FLAGS), so a new format, verb or flag is covered without a new test; the
refusals run through ``build_parser`` and the reading or settings code, not training.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

import pytest

import rnnkit.cli
from format_samples import write_sample
from rnnkit.cli import flag_defaults, train_flags
from rnnkit.cli.data_flags import FORMAT_FLAGS, either, option
from rnnkit.cli.main import VERBS, build_parser
from rnnkit.cli.tasks import classify, frames, lm, seq2seq, tag
from rnnkit.cli.train_flags import TRAIN_FLAGS, TrainFlag, model_settings, task_label
from rnnkit.data import FORMATS, Format, FrameSet, formats_for, get_format
from rnnkit.data.formats import TASKS
from rnnkit.errors import ConfigError
from rnnkit.models.classifier import CHAR_DEFAULTS
from rnnkit.models.classifier import DEFAULTS as CLASSIFIER
from rnnkit.models.frames import FRAME_CLASSIFIER_DEFAULTS, FRAME_TAGGER_DEFAULTS
from rnnkit.models.language import DEFAULTS as LANGUAGE_MODEL
from rnnkit.models.regressor import REGRESSOR_DEFAULTS
from rnnkit.models.seq2seq import DEFAULTS as SEQ2SEQ
from rnnkit.models.tagger import DEFAULTS as TAGGER

CLI = Path(rnnkit.cli.__file__).parent


def _train_args(task: str, *flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", "--task", task, "--data", "d", "--out", "o", *flags])


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


# -- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["train", "evaluate", "diagnose", "report"])
def test_every_format_is_offered_with_its_flags(verb: str) -> None:
    parser = _subparsers(build_parser()).choices[verb]
    actions = {a.dest: a for a in parser._actions}
    assert actions["format"].choices == [f.name for f in FORMATS]
    assert set(FORMAT_FLAGS) == {flag for f in FORMATS for flag in f.flags}
    for dest in FORMAT_FLAGS:
        takers = [f.name for f in FORMATS if dest in f.flags]
        if len(takers) == 1:  # a flag of one format names it in its help
            assert actions[dest].help.startswith(f"{takers[0]}: "), actions[dest].help


def test_predict_offers_the_real_valued_formats() -> None:
    parser = _subparsers(build_parser()).choices["predict"]
    choices = next(a.choices for a in parser._actions if a.dest == "format")
    assert choices == [f.name for f in FORMATS if f.returns is FrameSet]


def _read(task: str, fmt: Format, path: Path, args: argparse.Namespace):
    """How the command line reads a file of `fmt` for `task` (train, evaluate, diagnose)."""
    if fmt.returns is FrameSet:
        return frames.read(str(path), args)
    if task == "lm":
        lm.check_format(args)
        return lm.read(str(path), args, "char")
    if task == "seq2seq":
        return seq2seq.read(str(path), args, (None, None))
    return {"classify": classify, "tag": tag}[task].read(str(path), args)


@pytest.mark.parametrize(
    ("fmt", "task"), [(f, t) for f in FORMATS for t in f.tasks], ids=lambda x: getattr(x, "name", x)
)
@pytest.mark.parametrize("named", [True, False], ids=["--format", "inferred"])
def test_each_task_of_a_format_reads_it(tmp_path: Path, fmt: Format, task: str, named) -> None:
    path = write_sample(tmp_path, fmt.name)
    args = _train_args(task, *(["--format", fmt.name] if named else []))
    assert isinstance(_read(task, fmt, path, args), fmt.returns)


def _refusal(task: str, name: str) -> str:
    """What ``rnnkit train --task TASK --format NAME`` says when the task does not read it."""
    fmt = get_format(name)
    if fmt.returns is FrameSet:
        return f"--format {name} is for --task {either(fmt.tasks)}"
    if task == "regress":
        real = " or ".join(repr(f.name) for f in formats_for(task))
        return f"--format {name}: real-valued sequences are {real}"
    texts = [f.name for f in formats_for(task) if f.returns is not FrameSet]
    if task == "tag" and name != "table":  # the reader's own message
        return f"format: expected one of {', '.join(texts)}, got {name!r}"
    return {
        "classify": f"--format {name} does not apply to text classification",
        "tag": f"--format {name} is for --task {either(fmt.tasks)}; use {either(texts)}",
        "lm": f"--format {name} does not apply to a language model ({either(texts)})",
        "seq2seq": f"--format {name} does not apply to --task seq2seq ({either(texts)})",
    }[task]


@pytest.mark.parametrize(
    ("fmt", "task"),
    [(f.name, t) for f in FORMATS for t in TASKS if t not in f.tasks],
)
def test_the_other_tasks_refuse_a_format(tmp_path, cli, user_error, fmt: str, task: str) -> None:
    path, out = write_sample(tmp_path, fmt), tmp_path / "out"
    line = user_error(cli("train", "--task", task, "--format", fmt, "--data", path, "--out", out))
    assert line == f"error: {_refusal(task, fmt)}"
    assert not out.exists()


@pytest.mark.parametrize("fmt", [f.name for f in FORMATS if "classify" not in f.tasks])
def test_evaluate_refuses_a_format_a_classifier_does_not_read(
    cli, user_error, rnn_model, fmt, tmp_path
):
    line = user_error(
        cli("evaluate", rnn_model, "--data", write_sample(tmp_path, fmt), "--format", fmt)
    )
    assert line == f"error: {_refusal('classify', fmt)}"


def _refused_format_flags() -> list[tuple[str, str, str]]:
    """(task, flag, message) of every format flag a task refuses when given: every flag
    that none of the formats of the task takes (on texts, for classify and tag)."""
    cases = []
    for task in TASKS:
        for dest in ("source_level", "target_level"):
            if not any(dest in f.flags for f in formats_for(task)):
                cases.append((task, dest, f"{option(dest)} applies to --task seq2seq only"))
    for task in ("classify", "tag", "lm", "seq2seq"):
        for dest in FORMAT_FLAGS:
            if dest not in seq2seq.LEVEL_FLAGS and not any(
                dest in f.flags for f in formats_for(task)
            ):
                cases.append((task, dest, f"{option(dest)} does not apply to --task {task}"))
    return cases


def _given_format_flag(dest: str) -> list[str]:
    """A format flag on a command line, with a value its parser accepts."""
    values = {"tag_col": ["upos"], "delimiter": [";"], "no_header": [], "text_col": ["text"],
              "on_bad_lines": ["skip"]}  # fmt: skip
    return [option(dest), *values.get(dest, ["word"])]


def test_the_table_flags_are_refused_for_tag_and_seq2seq() -> None:
    refused = {(task, dest) for task, dest, _ in _refused_format_flags()}
    for task in ("tag", "lm", "seq2seq"):
        for dest in ("text_col", "label_col", "no_header", "delimiter"):
            assert (task, dest) in refused


@pytest.mark.parametrize(("task", "dest", "message"), _refused_format_flags())
def test_a_format_flag_no_format_of_the_task_takes(tmp_path, cli, user_error, task, dest, message):
    fmt = next(f for f in formats_for(task) if f.returns is not FrameSet or task == "regress")
    argv = ["--task", task, "--data", write_sample(tmp_path, fmt.name), "--out", tmp_path / "out"]
    result = cli("train", *argv, *_given_format_flag(dest))
    assert user_error(result) == f"error: {message}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("dest", ["tag_col", "text_col", "label_col", "no_header", "delimiter"])
@pytest.mark.parametrize("task", [t for t in TASKS if formats_for(t, FrameSet)])
def test_frames_refuse_the_column_flags(tmp_path, cli, user_error, task, dest) -> None:
    argv = ["--task", task, "--data", write_sample(tmp_path, "frames"), "--out", tmp_path / "out"]
    line = user_error(cli("train", *argv, *_given_format_flag(dest)))
    takers = either([f.title for f in FORMATS if dest in f.flags])
    assert line == f"error: {option(dest)} applies to {takers}, not to real-valued frames"


# -- verbs --------------------------------------------------------------------------------


def _verb_name(verb) -> str:
    """The module's name, or its VERB where that cannot be a module's (``import``)."""
    return getattr(verb, "VERB", verb.__name__.rsplit(".", 1)[-1])


def test_every_verb_module_registers_itself() -> None:
    choices = _subparsers(build_parser()).choices
    assert list(choices) == [_verb_name(verb) for verb in VERBS]
    for verb in VERBS:
        assert callable(verb.add_parser) and callable(verb.run), verb.__name__
        assert choices[_verb_name(verb)].get_default("run") is verb.run


def test_every_module_with_a_parser_is_a_verb() -> None:
    for info in pkgutil.iter_modules([str(CLI)]):
        module = importlib.import_module(f"rnnkit.cli.{info.name}")
        if hasattr(module, "add_parser"):
            assert module in VERBS, f"rnnkit.cli.{info.name} is not in main.VERBS"


# -- train flags --------------------------------------------------------------------------

#: (task, frames) -> the settings of the model it trains
MODELS = {
    ("classify", False): CLASSIFIER,
    ("tag", False): TAGGER,
    ("lm", False): LANGUAGE_MODEL,
    ("seq2seq", False): SEQ2SEQ,
    ("classify", True): FRAME_CLASSIFIER_DEFAULTS,
    ("tag", True): FRAME_TAGGER_DEFAULTS,
    ("regress", True): REGRESSOR_DEFAULTS,
}
SETTING_FLAGS = [f for f in TRAIN_FLAGS if f.setting is not None]


def _given(flag: TrainFlag) -> list[str]:
    """The flag on a command line, with a value its check accepts."""
    if flag.choices is not None:
        return [option(flag.dest), flag.allowed()[0]]
    if "action" in flag.options:
        return [option(flag.dest)]
    return [option(flag.dest), "0.5" if flag.options.get("type") is float else "1"]


@pytest.mark.parametrize("flag", SETTING_FLAGS, ids=lambda f: f.dest)
@pytest.mark.parametrize(("task", "on_frames"), list(MODELS), ids=lambda x: str(x))
def test_a_train_flag_applies_to_its_tasks_only(flag: TrainFlag, task: str, on_frames) -> None:
    args = _train_args(task, *_given(flag))
    if flag.applies(task, on_frames):
        settings = model_settings(args, task, on_frames)
        assert (flag.setting in settings) == (task not in flag.read_by)
    else:
        with pytest.raises(ConfigError) as info:
            model_settings(args, task, on_frames)
        label = task_label(task, on_frames)
        assert str(info.value) == f"{option(flag.dest)} does not apply to --task {label}"


@pytest.mark.parametrize("flag", SETTING_FLAGS, ids=lambda f: f.dest)
def test_the_flag_table_agrees_with_the_task_models(flag: TrainFlag) -> None:
    for (task, on_frames), defaults in MODELS.items():
        expected = flag.setting in defaults or task in flag.read_by
        assert flag.applies(task, on_frames) == expected, (task, on_frames)


def test_the_help_names_the_tasks_of_a_flag() -> None:
    parser = _subparsers(build_parser()).choices["train"]
    helps = {a.dest: a.help for a in parser._actions}
    for flag in TRAIN_FLAGS:
        assert helps[flag.dest] == flag.describe()
        if flag.tasks != TASKS and flag.group != "seq2seq":
            assert helps[flag.dest].startswith(", ".join(flag.tasks)), flag.dest
    assert train_flags.TASKS == TASKS


@pytest.mark.parametrize("flag", SETTING_FLAGS, ids=lambda f: f.dest)
def test_the_help_gives_each_task_models_default(flag: TrainFlag) -> None:
    """The defaults in the help are the task models' DEFAULTS, for every task the flag
    applies to (and classify's CHAR_DEFAULTS where they differ)."""
    by_task = flag_defaults.defaults_by_task(flag.setting, flag.applies, flag.unset)
    for (task, on_frames), defaults in MODELS.items():
        if not flag.applies(task, on_frames) or flag.setting not in defaults:
            continue
        value = flag_defaults.shown(defaults[flag.setting], flag.unset)
        kind = "frames" if on_frames else "texts"
        assert by_task.get(task, by_task.get(f"{task} on {kind}")) == value, (task, kind)
        assert value in flag.describe()
    if flag.applies("classify") and flag.setting in CHAR_DEFAULTS:
        char = flag_defaults.shown(CHAR_DEFAULTS[flag.setting], flag.unset)
        assert by_task.get(flag_defaults.CHAR_LEVEL, char) == char
    assert "; default " in flag.describe()


@pytest.mark.parametrize("verb", ["rnnkit", *(_verb_name(v) for v in VERBS)])
def test_every_option_and_positional_has_a_help(verb: str) -> None:
    parser = build_parser()
    if verb != "rnnkit":
        parser = _subparsers(parser).choices[verb]
    for action in parser._actions:
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"rnnkit {verb}: {name} has no help"
        assert action.help != argparse.SUPPRESS, f"rnnkit {verb}: {name} is hidden"
    if verb != "rnnkit":
        help_text = parser.format_help()  # every help formats (no stray % in a text)
        assert help_text.startswith(f"usage: rnnkit {verb}")


def test_cell_choices_are_the_registered_cells() -> None:
    from rnnkit.core.cells import cell_names

    parser = build_parser()
    subs = _subparsers(parser).choices
    train = {a.dest: a for a in subs["train"]._actions}
    bench = {a.dest: a for a in subs["bench"]._actions}
    names = list(cell_names())
    assert train["cell"].choices == train["decoder_cell"].choices == names
    assert list(bench["cell"].choices) == names
