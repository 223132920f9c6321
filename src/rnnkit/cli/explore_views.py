"""What ``rnnkit explore`` answers: a model's numbers on one text, as JSON-ready dicts.

An :class:`Explorer` holds one model, a saved task model or the course's example
network (``--toy``), and answers the page's questions with rnnkit's own computations:
the forward trace (:func:`rnnkit.cli.trace.trace_text`, the numbers ``rnnkit trace``
prints), the task model's own predictions, and the gradient through time
(:func:`rnnkit.viz.measure_gradients` on a batch of one, the predicted label as the
target). The page only draws what it is given.

:meth:`Explorer.analyse` returns ``task``, ``text``, ``tokens``, ``notes``, ``trace``
(its :func:`~rnnkit.cli.explore_trace.outline`), ``strips`` (per recurrent section,
each state and gate as (T, d): the heat strips), ``output_step`` (the last step of the
output layer, every number), ``output`` (the task's own view, below)
and ``gradients`` (``entries``: name -> ||dL/dh_t|| by distance k from the last step,
``target``, ``loss``, ``notes``):

- classify: ``labels``, ``probs`` (K,), ``predicted``, ``occlusion``: per token the
  probabilities with that token removed (None for a one-token text);
- tag: ``tags``, ``probs`` (the probability of each token's tag), ``crf`` (the tags
  are then the Viterbi path and the probabilities the CRF's marginals);
- lm: ``next``: after each prefix the 10 most likely next tokens with probabilities;
- seq2seq: ``output`` tokens and ``attention`` (T_out, T_in) or None.

>>> ex = toy_explorer()
>>> out = ex.analyse("movie was good")
>>> out["tokens"], round(out["output"]["probs"][1], 4)
(['movie', 'was', 'good'], 0.7654)
>>> [round(v, 4) for v in out["strips"][0]["rows"][0]["values"][2]]      # h_3
[-0.1251, -0.5561, -0.5572]
>>> ex.step("movie was good", 0, 3)["step"]["labels"]["h"]             # its equation
'h_3 = tanh(U x_3 + W h_2 + b)'

"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnkit.cli.explore_outputs import task_output
from rnnkit.cli.explore_trace import outline, step_view, strips
from rnnkit.cli.trace import TOY_LABELS, text_tokens, toy_model, trace_text, trace_toy_text
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import BagOfWordsClassifier, LanguageModel, Seq2Seq, SequenceTagger, load_model
from rnnkit.models.frames import FrameModel
from rnnkit.training import SequenceDataset
from rnnkit.viz import Trace, measure_gradients
from rnnkit.viz.toy import toy_ids

__all__ = ["MAX_CHARS", "MAX_TOKENS", "Explorer", "open_explorer", "toy_explorer"]

#: the longest text the page may send, in characters and in tokens
MAX_CHARS, MAX_TOKENS = 2000, 200


@dataclass
class Explorer:
    """One model and what the page may ask of it (see the module docstring).

    model : a task model (SequenceClassifier, SequenceTagger, LanguageModel, Seq2Seq),
        or the toy Sequential
    name : shown as the page's title (the directory, or "toy")
    task : "classify", "tag", "lm" or "seq2seq"
    """

    model: Any
    name: str
    task: str
    toy: bool = False
    # NOTE: layers reuse their buffers and the gradient pass writes the weights' grads,
    # so one request at a time computes
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: the last text traced, and its trace
    last_trace: tuple[str, Trace] | None = field(default=None, repr=False)

    def info(self) -> dict[str, Any]:
        """What the page shows before any input: the model, its task and the limits."""
        net = self.model if self.toy else self.model.model_
        layers = getattr(net, "layers", None) or [*net.encoder, *net.decoder]
        return {
            "name": self.name,
            "task": self.task,
            "toy": self.toy,
            "layers": [f"{layer.name} ({type(layer).__name__})" for layer in layers],
            "labels": self._labels(),
            "example": "movie was good" if self.toy else "",
            "max_chars": MAX_CHARS,
            "max_tokens": MAX_TOKENS,
        }

    def _labels(self) -> list[str] | None:
        return TOY_LABELS if self.toy else getattr(self.model, "labels_", None)

    def analyse(self, text: str) -> dict[str, Any]:
        """Everything the page draws for `text` (DataError for text it cannot read)."""
        text = check_text(text)
        with self.lock:
            t = self._traced(text)
            out = task_output(self, text, t)
            grads = self.gradients(text, t, out)
        return {
            "task": self.task,
            "text": text,
            "tokens": t.tokens,
            "notes": t.notes,
            "trace": outline(t),
            "strips": strips(t),
            "output_step": t.sections[-1].steps[-1].to_dict(),
            "output": out,
            "gradients": grads,
        }

    def step(self, text: str, section: int, step: int) -> dict[str, Any]:
        """One step of the trace of `text`, every number of it (see
        :func:`~rnnkit.cli.explore_trace.step_view`)."""
        text = check_text(text)
        with self.lock:
            return step_view(self._traced(text), section, step)

    def _traced(self, text: str) -> Trace:
        """The trace of `text`, kept for the steps the page asks for next (DataError
        past :data:`MAX_TOKENS` tokens, counted as the model splits the text)."""
        if self.last_trace is None or self.last_trace[0] != text:
            n = len(text.split()) if self.toy else len(text_tokens(self.model, text)[0])
            if n > MAX_TOKENS:
                raise DataError(f"the text has {n} tokens: at most {MAX_TOKENS}")
            self.last_trace = (text, self.trace(text))
        return self.last_trace[1]

    def trace(self, text: str) -> Trace:
        """The forward trace of `text`, as ``rnnkit trace`` prints it."""
        if self.toy:
            return trace_toy_text(self.model, text)
        if isinstance(self.model, SequenceTagger) and _crf(self.model) is not None:
            return _trace_before_crf(self.model, text)
        return trace_text(self.model, text)

    def sample(self, text: str, temperature: float, seed: int | None) -> dict[str, Any]:
        """One token drawn after `text` by a language model, at `temperature`."""
        if self.task != "lm":
            raise ConfigError(f"sampling is for language models; this one is {self.task}")
        if not 0.0 <= temperature <= 5.0:
            raise DataError(f"temperature {temperature}: use 0 (greedy) to 5")
        text = check_text(text, empty=True)
        with self.lock:
            piece = self.model.generate(text or None, 1, temperature=temperature, seed=seed)
        return {"text": text, "token": piece, "temperature": temperature, "seed": seed}

    def gradients(self, text: str, t: Trace, out: dict[str, Any]) -> dict[str, Any]:
        """||dL/dh_t|| by distance from the last step, the predicted label as target."""
        target, batch = self._target_batch(text, t, out)
        if batch is None:
            return {"entries": {}, "target": target, "loss": None, "notes": [target]}
        diag = measure_gradients(self.model, [batch], label=self.name)
        entries = {k: [_finite(x) for x in v] for k, v in diag.state_norms.items()}
        return {"entries": entries, "target": target, "loss": _finite(diag.loss),
                "notes": diag.notes}  # fmt: skip

    def _target_batch(self, text: str, t: Trace, out: dict[str, Any]) -> tuple[str, Any]:
        """The target the gradient is taken for (in words), and the batch of one."""
        one = np.arange(1)
        if self.toy:
            label = int(out["probs"][1] > 0.5)
            data = SequenceDataset([toy_ids(text)], np.array([label], dtype=np.float64))
            return f"the predicted label {TOY_LABELS[label]}", data.batch(one)
        m = self.model
        if self.task == "classify":
            return f"the predicted label {out['predicted']}", m.training_data(
                [text], [out["predicted"]]
            ).batch(one)
        if self.task == "tag":
            data = m.training_data([t.tokens], [out["tags"]])
            return "the predicted tags", data.batch(one)
        if self.task == "lm":
            ids = np.asarray(t.ids, dtype=np.int64)
            logits = m.model_.forward(ids[None], logits=True)[0]  # (1, T, V)
            data = SequenceDataset([ids], [logits[0].argmax(axis=1)], per_step=True)
            return "the most likely next token at every step", data.batch(one)
        if not out["output"]:
            return "no gradient: the predicted output is empty", None
        data = m.training_data([t.tokens], [out["output"]])
        return "the predicted output", data.batch(one)


def check_text(text: str, empty: bool = False) -> str:
    """`text` stripped, refused (DataError) when empty or past :data:`MAX_CHARS`."""
    if len(text) > MAX_CHARS:
        raise DataError(f"the text has {len(text)} characters: at most {MAX_CHARS}")
    text = text.strip()
    if not text and not empty:
        raise DataError("type a text: it is empty")
    return text


def open_explorer(model_dir: str) -> Explorer:
    """The explorer of the saved model in `model_dir` (ConfigError for a model the page
    cannot read text into: frames, the bag-of-words baseline)."""
    model = load_model(model_dir)
    if isinstance(model, FrameModel):
        raise ConfigError(f"{model_dir}: a model of real-valued frames; explore reads text")
    if isinstance(model, BagOfWordsClassifier):
        raise ConfigError(f"{model_dir}: a bag-of-words model has no recurrent layers")
    tasks = ((SequenceTagger, "tag"), (LanguageModel, "lm"), (Seq2Seq, "seq2seq"))
    task = next((name for cls, name in tasks if isinstance(model, cls)), "classify")
    return Explorer(model, str(model_dir), task)


def toy_explorer() -> Explorer:
    """The explorer of the course's example network (31 parameters, float64)."""
    model = toy_model("float64").compile("sgd", "binary_crossentropy")  # for its gradients
    return Explorer(model, "toy", "classify", toy=True)


def _crf(model: Any) -> Any:
    layer = model.model_.output_layer
    return layer if getattr(layer, "kind", "") == "crf" else None


def _trace_before_crf(model: SequenceTagger, text: str) -> Trace:
    """A CRF tagger's trace up to its emission scores (the CRF reads the whole path)."""
    t = trace_text(model, text, layers=model.model_.layers[:-1])
    t.notes.append("the CRF is not traced: the tags shown are its Viterbi path")
    return t


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
