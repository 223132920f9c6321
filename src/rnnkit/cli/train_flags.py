"""The model and training flags of ``rnnkit train``, one table: what each flag is, the
tasks it applies to, the setting it gives and how its value is checked.

Every flag defaults to "not given", so the defaults live in one place, the task
model's ``DEFAULTS``; a flag given for a task it does not apply to is refused. The
argument groups, the help's ``classify, lm:`` and the refusals all come from
:data:`TRAIN_FLAGS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rnnkit.cli.data_flags import option
from rnnkit.cli.flag_defaults import default_text
from rnnkit.core.cells import cell_names
from rnnkit.data import FrameSet, formats_for
from rnnkit.data.formats import TASKS
from rnnkit.errors import ConfigError
from rnnkit.models.encoder import MAX_LAYERS
from rnnkit.models.tagger import char_cells

__all__ = ["TRAIN_FLAGS", "TrainFlag", "add_train_flags", "model_settings", "task_label"]

Check = Callable[[str, Any], Any]


def positive(flag: str, value: Any) -> Any:
    """A size, a count, a rate or a time: more than zero."""
    if not value > 0:
        raise ConfigError(f"{flag} {value}: must be positive")
    return value


def layer_count(flag: str, value: Any) -> Any:
    """A number of stacked recurrent layers: 1 to MAX_LAYERS."""
    if not 1 <= value <= MAX_LAYERS:
        raise ConfigError(f"{flag} {value}: use 1 to {MAX_LAYERS} recurrent layers")
    return value


def fraction(flag: str, value: Any) -> Any:
    """A dropout rate: in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{flag} {value}: must lie in [0, 1)")
    return value


def probability(flag: str, value: Any) -> Any:
    """A share: in [0, 1]."""
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{flag} {value}: must lie in [0, 1]")
    return value


def non_negative(flag: str, value: Any) -> Any:
    """An exponent: zero or more."""
    if not value >= 0:
        raise ConfigError(f"{flag} {value}: must be >= 0")
    return value


def fraction_or_off(flag: str, value: Any) -> Any:
    """A decay factor in [0, 1); 0 is None, off."""
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{flag} {value}: must lie in [0, 1) (0 turns it off)")
    return value or None  # the model's None: off


def clip_norm(flag: str, value: Any) -> Any:
    """A gradient-norm bound, zero or more; 0 is None, no clipping."""
    if value < 0:
        raise ConfigError(f"{flag} {value}: must be >= 0 (0 turns clipping off)")
    return value or None


@dataclass(frozen=True)
class TrainFlag:
    """One flag of ``rnnkit train``.

    Attributes
    ----------
    dest : str
        Its argparse name (``batch_size`` for ``--batch-size``).
    group : {"model", "seq2seq", "training"}
        The section of the help it is listed in.
    setting : str or None
        The task model's setting it gives; None for a flag train itself reads.
    help : str
        What it does; the tasks it applies to are put before it.
    tasks : tuple of str
        The tasks it applies to, by ``--task`` name.
    inputs : {"texts", "frames"} or None
        The one kind of data it applies to, or None for both.
    check : callable or None
        ``check(flag, value)`` returns the setting's value or raises ConfigError.
    options : mapping
        argparse keywords (type, action, metavar, default).
    choices : sequence, callable or None
        The allowed values; a callable is asked when the parser is built (the cells
        registered then).
    exclusive : str or None
        Flags with the same name here exclude each other.
    read_by : tuple of str
        Tasks whose data reader takes it instead of the model (seq2seq's --level).
    unset : str
        What the help calls the setting's default None ("no limit").
    """

    dest: str
    group: str
    setting: str | None
    help: str = ""
    tasks: tuple[str, ...] = TASKS
    inputs: str | None = None
    check: Check | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    exclusive: str | None = None
    read_by: tuple[str, ...] = ()
    unset: str = "none"

    def applies(self, task: str, frames: bool = False) -> bool:
        """Whether the flag applies to `task` on real-valued frames or on texts."""
        kind = "frames" if frames else "texts"
        return task in self.tasks and self.inputs in (None, kind)

    def allowed(self) -> list[str] | None:
        """The values argparse allows, None for any."""
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)

    def describe(self) -> str:
        """The help: the tasks it applies to (on which data, where a task reads both),
        what it does, and its default for each task (the task models' DEFAULTS)."""
        default = (
            "" if self.setting is None else default_text(self.setting, self.applies, self.unset)
        )
        text = f"{self.help}; {default}" if default else self.help
        # NOTE: the seq2seq section's title already says whom its flags are for
        if (self.tasks == TASKS and self.inputs is None) or self.tasks == (self.group,):
            return text
        on = f" on {self.inputs}" if self.inputs and set(self.tasks) & _BOTH_KINDS else ""
        return f"{', '.join(self.tasks)}{on}: {text}"


#: the tasks that read texts and real-valued frames alike (classify, tag)
_BOTH_KINDS = {t for t in TASKS if 0 < len(formats_for(t, FrameSet)) < len(formats_for(t))}

#: the tasks that read texts, and those that read real-valued frames
TEXTS = tuple(t for t in TASKS if len(formats_for(t, FrameSet)) < len(formats_for(t)))
FRAMES = tuple(t for t in TASKS if formats_for(t, FrameSet))
_INT, _FLOAT = {"type": int}, {"type": float}
_SWITCH = {"action": argparse.BooleanOptionalAction, "default": None}


#: every model and training flag, in the order their values are checked
TRAIN_FLAGS: tuple[TrainFlag, ...] = (
    # dest, help section, setting; then where it applies, its check, its argparse options
    TrainFlag("cell", "model", "cell", choices=cell_names,
              help="recurrent cell"),
    TrainFlag("hidden", "model", "hidden", check=positive, options=_INT,
              help="state size d of each recurrent layer, per direction"),
    TrainFlag("layers", "model", "layers", check=layer_count, options=_INT,
              help=f"stacked recurrent layers, 1 to {MAX_LAYERS}"),
    TrainFlag("bidirectional", "model", "bidirectional", options=_SWITCH,
              help="read each sequence in both directions"),
    TrainFlag("activation", "model", "activation", tasks=("classify", "tag", "lm", "regress"),
              choices=("tanh", "relu", "sigmoid"),
              help="f of the cell, h_t = f(U x_t + W h_{t-1} + b)"),
    TrainFlag("pooling", "model", "pooling", tasks=("classify", "regress"),
              choices=("mean", "last", "max"),
              help="what the output reads, the mean of the states, h_T or the max"),
    TrainFlag("embed", "model", "embed_dim", tasks=TEXTS, inputs="texts", check=positive,
              options=_INT, exclusive="input",
              help="embedding size (with --embeddings: their size)"),
    TrainFlag("one_hot", "model", "one_hot", tasks=("classify", "tag", "lm"), inputs="texts",
              options={"action": "store_true"}, exclusive="input",
              help="one-hot inputs (a row of U each), no embedding"),
    TrainFlag("embeddings", "model", "embeddings", tasks=TEXTS, inputs="texts",
              options={"metavar": "FILE"},
              help="start the (seq2seq: source) word embedding from the pretrained vectors "
              "of FILE (GloVe, word2vec, fastText; gzip or not); --embed defaults to their size",
              unset="none, learned from scratch"),
    TrainFlag("freeze_embeddings", "model", "freeze_embeddings", tasks=TEXTS, inputs="texts",
              options={"action": "store_true"},
              help="keep the --embeddings vectors as the file gives them while training"),
    TrainFlag("pretrained_words", "model", "pretrained_words", tasks=("tag",), inputs="texts",
              check=non_negative, options=_INT,
              help="with --embeddings: the file's N most frequent words join the vocabulary, "
              "so words unseen in training keep their vectors (0 = training words only)"),
    TrainFlag("level", "model", "level", tasks=("classify", "lm", "seq2seq"), inputs="texts",
              choices=("word", "char"), read_by=("seq2seq",),
              help="tokens are words or characters (seq2seq: both sides, char unless given; "
              "CMUdict phones: word)"),
    TrainFlag("min_freq", "model", "min_freq", tasks=TEXTS, inputs="texts", check=positive,
              options=_INT, help="training tokens seen fewer times become <unk>"),
    TrainFlag("standardize", "model", "standardize", tasks=FRAMES, inputs="frames",
              options=_SWITCH, help="scale each feature by its training mean and std"),
    TrainFlag("forecast", "model", "forecast", tasks=("regress",), check=positive,
              options={"type": int, "metavar": "H"},
              help="learn to predict the frame H steps ahead from the frames so far",
              unset="off"),
    TrainFlag("bptt", "model", "bptt", tasks=("lm",), check=positive, options=_INT,
              help="steps per truncated-BPTT window"),
    TrainFlag("stateful", "model", "stateful", tasks=("lm",), options=_SWITCH,
              help="carry the state from window to window, or start each from zero"),
    TrainFlag("max_vocab", "model", "max_vocab", tasks=("classify", "tag", "lm"),
              inputs="texts", check=positive, options=_INT,
              help="keep at most this many tokens, the most frequent", unset="no limit"),
    TrainFlag("dropout", "model", "dropout", check=fraction, options=_FLOAT,
              help="dropout rate, in [0, 1), between stacked layers and before the output"),
    TrainFlag("embed_dropout", "model", "embed_dropout", tasks=TEXTS, inputs="texts",
              check=fraction, options=_FLOAT, help="dropout on the embedded inputs, in [0, 1)"),
    TrainFlag("word_dropout", "model", "word_dropout", tasks=("tag",), inputs="texts",
              check=fraction, options=_FLOAT,
              help="training words replaced by <unk> with this probability"),
    TrainFlag("crf", "model", "crf", tasks=("tag",), inputs="texts", options=_SWITCH,
              help="a CRF over the tag scores: whole-path loss, Viterbi decoding"),
    TrainFlag("iobes", "model", "iobes", tasks=("tag",), inputs="texts", options=_SWITCH,
              help="learn BIO tags as IOBES (where each entity ends), predict BIO"),
    TrainFlag("char_features", "model", "char_features", tasks=("tag",), inputs="texts",
              options=_SWITCH,
              help="also read each word's characters (a bidirectional --char-cell, or a "
              "convolution and a max) and join the features onto the word's embedding"),
    TrainFlag("char_dim", "model", "char_dim", tasks=("tag",), inputs="texts", check=positive,
              options=_INT, help="character embedding size"),
    TrainFlag("char_units", "model", "char_units", tasks=("tag",), inputs="texts",
              check=positive, options=_INT,
              help="character encoder units per direction (cnn: half its filters)"),
    TrainFlag("char_cell", "model", "char_cell", tasks=("tag",), inputs="texts",
              choices=char_cells,
              help="the character encoder's cell, or cnn: filters of 3 characters and a max "
              "over the word (Ma and Hovy 2016); auto: cnn for BIO or IOBES tags, lstm for "
              "others"),
    TrainFlag("epochs", "training", "epochs", check=positive, options=_INT,
              help="training epochs, at most (early stopping may end sooner)"),
    TrainFlag("batch_size", "training", "batch_size", check=positive, options=_INT,
              help="sequences per batch (lm: parallel streams of text)"),
    TrainFlag("lr", "training", "lr", check=positive, options=_FLOAT,
              help="learning rate of the optimizer"),
    TrainFlag("lr_decay", "training", "lr_decay", tasks=("tag", "lm", "seq2seq"),
              inputs="texts", check=fraction_or_off, options=_FLOAT,
              help="multiply lr by this after an epoch with no better validation figure "
              "(0 = off)"),
    TrainFlag("optimizer", "training", "optimizer", choices=("adam", "sgd", "momentum", "adagrad"),
              help="the update rule of the parameters"),
    TrainFlag("clip", "training", "clip_norm", check=clip_norm, options=_FLOAT,
              help="global gradient-norm clip (0 = off)"),
    TrainFlag("patience", "training", "patience", check=positive, options=_INT,
              help="early stopping: epochs without a better validation figure (needs validation)"),
    TrainFlag("seed", "training", "seed", check=non_negative, options={"type": int, "default": 0},
              help="seed of every random draw (initial weights, dropout, shuffling, the split)"),
    TrainFlag("max_minutes", "training", "max_minutes", check=positive, options=_FLOAT,
              help="training time budget in minutes", unset="no limit"),
    TrainFlag("max_len", "training", "max_len", tasks=FRAMES, check=positive,
              options={"type": int, "metavar": "N"},
              help="cut training sequences longer than N steps (counted)", unset="no limit"),
    TrainFlag("checkpoint_every", "training", None, options={"type": int, "metavar": "N"},
              help="also checkpoint every N steps into OUT/checkpoint (always: every epoch end)"),
    TrainFlag("resume", "training", None, options={"action": "store_true"},
              help="continue the run in OUT/checkpoint exactly where it stopped (same flags)"),
    TrainFlag("keep_checkpoint", "training", None, options={"action": "store_true"},
              help="keep OUT/checkpoint after a run that ends normally (removed otherwise; "
              "a run the time budget ends keeps it)"),
    TrainFlag("log_grad_norms", "training", None, options={"action": "store_true"},
              help="write every step's gradient norms (global, clipped or not, per parameter) "
              "to OUT/grad_norms.csv"),
    TrainFlag("attention", "seq2seq", "attention", tasks=("seq2seq",),
              choices=("dot", "general", "additive", "none"),
              help="how the decoder scores the encoder outputs"),
    TrainFlag("decoder_cell", "seq2seq", "decoder_cell", tasks=("seq2seq",),
              choices=cell_names, help="the decoder's cell", unset="the encoder's"),
    TrainFlag("decoder_hidden", "seq2seq", "decoder_hidden", tasks=("seq2seq",),
              check=positive, options=_INT, help="the decoder's state size",
              unset="the encoder's output size"),
    TrainFlag("decoder_layers", "seq2seq", "decoder_layers", tasks=("seq2seq",),
              check=positive, options=_INT, help="stacked decoder layers"),
    TrainFlag("sampling_ratio", "seq2seq", "sampling_ratio", tasks=("seq2seq",),
              check=probability, options=_FLOAT,
              help="scheduled sampling: share of the decoder's own predictions fed back"),
    TrainFlag("beam", "seq2seq", "beam", tasks=("seq2seq",), check=positive, options=_INT,
              help="beam width for decoding (1 = greedy)"),
    TrainFlag("length_penalty", "seq2seq", "length_penalty", tasks=("seq2seq",),
              check=non_negative, options=_FLOAT, help="beam search scores log p / length ** X"),
)  # fmt: skip

#: the help sections, in the order they are listed
GROUPS = {
    "model": "model (defaults: the task model's)",
    "seq2seq": "seq2seq (encoder-decoder)",
    "training": "training",
}


def add_train_flags(p: argparse.ArgumentParser) -> None:
    """Every flag of :data:`TRAIN_FLAGS`, in its help section."""
    groups: dict[str, Any] = {name: p.add_argument_group(title) for name, title in GROUPS.items()}
    exclusive: dict[str, Any] = {}
    for flag in TRAIN_FLAGS:
        group = groups[flag.group]
        if flag.exclusive is not None:
            if flag.exclusive not in exclusive:
                exclusive[flag.exclusive] = group.add_mutually_exclusive_group()
            group = exclusive[flag.exclusive]
        extra = {} if flag.choices is None else {"choices": flag.allowed()}
        group.add_argument(option(flag.dest), **flag.options, **extra, help=flag.describe())


def task_label(task: str, frames: bool = False) -> str:
    """How the refusals name what is trained: ``classify on real-valued frames``."""
    return f"{task} on real-valued frames" if frames else task


def model_settings(args: argparse.Namespace, task: str, frames: bool = False) -> dict[str, Any]:
    """The settings the flags give (None = not given), checked and named as the model names them.

    ConfigError for a flag that does not apply to `task` (on frames or texts) or a value
    its check refuses; a flag the task's data reader takes (``read_by``) is left out.
    """
    settings: dict[str, Any] = {}
    for flag in TRAIN_FLAGS:
        value = getattr(args, flag.dest, None)
        store_true = flag.options.get("action") == "store_true"
        if flag.setting is None or value is None or (store_true and value is False):
            continue
        if not flag.applies(task, frames):
            label = task_label(task, frames)
            raise ConfigError(f"{option(flag.dest)} does not apply to --task {label}")
        if task in flag.read_by:
            continue
        if flag.check is not None:
            value = flag.check(option(flag.dest), value)
        settings[flag.setting] = value
    return settings
