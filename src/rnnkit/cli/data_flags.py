"""The data-format flags of ``train``, ``evaluate``, ``diagnose`` and ``report``.

``--format`` offers every format of :data:`rnnkit.data.formats.FORMATS`; each format
flag's help names the formats it applies to, and the refusals below read the same
descriptions, so a new format needs nothing here unless it brings a new flag.

Every format flag is None when not given; :mod:`rnnkit.cli.data_format` then fills in
the model's recorded format, or the flag's default, before a file is read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from rnnkit.data.bad_lines import ON_BAD_LINES, skipped_summary
from rnnkit.data.formats import FORMATS, Format, formats_for, get_format, infer_format
from rnnkit.errors import ConfigError

__all__ = [
    "FLAG_DEFAULTS",
    "FORMAT_FLAGS",
    "add_format_flags",
    "chosen_format",
    "either",
    "flag_value",
    "format_options",
    "option",
    "refuse_format",
    "refuse_format_flags",
    "refuse_other_format_flags",
    "report_skipped",
]

#: every format flag (argparse dest): its argparse options and its help, which the
#: names of the formats it applies to precede (``table: text column, ...``). A flag
#: not given is None where its reader has a default, so that a flag given for a task
#: none of whose formats takes it can be refused (:func:`refuse_format_flags`).
FORMAT_FLAGS: dict[str, tuple[dict[str, Any], str]] = {
    "text_col": ({"default": None}, "text column, name or 0-based index (text)"),
    "label_col": ({"default": None}, "label column, name or index (label)"),
    "no_header": ({"action": "store_true", "default": None}, "the file has no header row"),
    "delimiter": ({"default": None}, "field separator (tab for .tsv/.txt, comma for .csv)"),
    "tag_col": ({"default": None, "choices": ["upos", "xpos"]}, "the tag column (upos)"),
    "source_level": ({"choices": ["char", "word"]}, "how sources split (--level)"),
    "target_level": ({"choices": ["char", "word"]}, "how targets split (--level)"),
    "encoding": ({"default": None}, "text encoding of the file (utf-8)"),
    "on_bad_lines": (
        {"default": None, "choices": list(ON_BAD_LINES)},
        "a line that cannot be read stops the reading (error, the default), or is left "
        "out with a warning for each (warn) or only a count (skip)",
    ),
}


#: the format flags whose default is not None (argparse leaves them None: not given)
FLAG_DEFAULTS: dict[str, Any] = {
    "text_col": "text",
    "label_col": "label",
    "no_header": False,
    "encoding": "utf-8",
}


def flag_value(args: argparse.Namespace, dest: str) -> Any:
    """The format flag `dest` as given, else its default (:data:`FLAG_DEFAULTS`)."""
    value = getattr(args, dest, None)
    return FLAG_DEFAULTS.get(dest) if value is None else value


def option(dest: str) -> str:
    """The command-line spelling of an argparse dest: ``tag_col`` -> ``--tag-col``."""
    return "--" + dest.replace("_", "-")


def either(names: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: the names in a message."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _takers(dest: str) -> list[Format]:
    return [f for f in FORMATS if dest in f.flags]


def _help(dest: str, text: str) -> str:
    takers = _takers(dest)
    # NOTE: a flag most formats take (--encoding) is not prefixed with their names
    if 2 * len(takers) >= len(FORMATS):
        return text
    return f"{', '.join(f.name for f in takers)}: {text}"


def add_format_flags(p: argparse.ArgumentParser) -> None:
    """The ``data format`` group: ``--format`` and every format's flags."""
    g = p.add_argument_group("data format")
    g.add_argument(
        "--format",
        choices=[f.name for f in FORMATS],
        default=None,
        help="data format (inferred from the file name and header when omitted)",
    )
    for dest, (options, text) in FORMAT_FLAGS.items():
        g.add_argument(option(dest), **options, help=_help(dest, text))


def chosen_format(
    args: argparse.Namespace, path: str, task: str, returns: type | None = None
) -> Format | None:
    """--format, else the format of `path` among the task's (see ``infer_format``)."""
    if args.format is not None:
        return get_format(args.format)
    return infer_format(path, task, returns)


def format_options(args: argparse.Namespace, fmt: Format) -> dict[str, Any]:
    """The format flags `fmt`'s reader takes, as the command line gives them."""
    return {dest: flag_value(args, dest) for dest in fmt.flags}


def refuse_format(args: argparse.Namespace, task: str, returns: type, message: str) -> None:
    """Refuse a --format that is not one of `task`'s formats returning `returns`.

    `message` may name ``{format}``, the formats the task reads (``{formats}``) and the
    tasks the given format is for (``{tasks}``).
    """
    read = [f.name for f in formats_for(task, returns)]
    if args.format is None or args.format in read:
        return
    tasks = either(get_format(args.format).tasks)
    raise ConfigError(message.format(format=args.format, formats=either(read), tasks=tasks))


def refuse_format_flags(
    args: argparse.Namespace, formats: Sequence[Format], flags: Sequence[str], message: str
) -> None:
    """Refuse each of `flags` given (not None) that none of `formats` takes.

    `message` may name ``{flag}``, the formats that take it (``{takers}``, by title) and
    their tasks (``{tasks}``).
    """
    for dest in flags:
        if getattr(args, dest, None) is None or any(dest in f.flags for f in formats):
            continue
        takers = _takers(dest)
        tasks = either(list(dict.fromkeys(t for f in takers for t in f.tasks)))
        titles = either([f.title for f in takers])
        raise ConfigError(message.format(flag=option(dest), takers=titles, tasks=tasks))


def refuse_other_format_flags(args: argparse.Namespace, fmt: Format, flags: Sequence[str]) -> None:
    """Refuse each of `flags` given that the format read, `fmt`, does not take."""
    message = "{flag} applies to {takers}, not to " + fmt.title
    refuse_format_flags(args, [fmt], flags, message)


def report_skipped(data: Any, args: argparse.Namespace) -> None:
    """Say on stderr which bad lines of `data`'s file were left out (--on-bad-lines):
    each one with warn, and how many with warn or skip."""
    skipped = getattr(data, "skipped", None)
    if not skipped:
        return
    if getattr(args, "on_bad_lines", None) == "warn":
        for problem in skipped:
            print(f"warning: {data.path}: {problem}", file=sys.stderr)
    print(skipped_summary(data.path, skipped), file=sys.stderr)
