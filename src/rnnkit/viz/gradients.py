"""Gradients through time: how dL/dh_t fades (or grows) with distance from the loss.

By the chain rule the gradient reaching an early state h_t is a product of one Jacobian
per later step, dh_{s+1}/dh_s = diag(f'(a_{s+1})) W^T for the simple cell: with small W
and saturating tanh it shrinks geometrically and early steps barely learn (vanishing
gradients); with large W and no saturation it grows (exploding). :func:`measure_gradients`
runs a model on real batches and records, with the layers' own BPTT, the total dL/dh_t
of every step; :class:`GradientDiagnosis` holds its mean norm at distance k = 0, 1, 2,
... steps back from each sequence's last real step, the parameters' gradient norms and
a verdict; :func:`rnnkit.viz.gradient_plot.plot_gradients` draws several models side
by side.

An LSTM keeps its memory in the cell state, which changes only by gated addition, so
the gradient it relies on flows back along c: dL/dc_{t-1} = f_t * dL/dc_t plus what
reaches c_{t-1} through h_{t-1}. dL/dh_t, which crosses the output gate and W at every
step back, can fade fast while dL/dc_t is carried far. For an LSTM layer both are
recorded: dL/dh_t under the layer's name and dL/dc_t under the same name followed by
" c".

>>> import numpy as np
>>> from rnnkit import Dense, Sequential, SimpleRNN
>>> from rnnkit.training import SequenceDataset
>>> rng = np.random.default_rng(0)
>>> net = Sequential([SimpleRNN(4), Dense(1, "sigmoid")], input_dim=3, seed=0, dtype="float64")
>>> net = net.compile("sgd", "binary_crossentropy")
>>> data = SequenceDataset(list(rng.normal(size=(8, 20, 3))), rng.integers(0, 2, 8))
>>> diag = measure_gradients(net, [data.batch(np.arange(8))], label="tanh rnn")
>>> diag.cell, diag.counts[:3].tolist(), diag.exploding
('rnn', [8, 8, 8], False)
>>> norms = diag.state_norms["layer 1 (simple_rnn)"]        # (20,): k = 0 .. 19
>>> bool(norms[10] < 0.1 * norms[0])                         # fades with distance
True
>>> from rnnkit import LSTM
>>> lstm = Sequential([LSTM(4), Dense(1, "sigmoid")], input_dim=3, seed=0, dtype="float64")
>>> lstm = lstm.compile("sgd", "binary_crossentropy")
>>> list(measure_gradients(lstm, [data.batch(np.arange(8))]).state_norms)
['layer 1 (lstm)', 'layer 1 (lstm) c']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, DataError
from rnnkit.io import json_safe
from rnnkit.viz.gradient_record import CELL_SUFFIX, network_of, record_pass, recurrent_layers

__all__ = ["GradientDiagnosis", "measure_gradients"]

Array = np.ndarray
#: exploding: a state's gradient norm (||dL/dh||, or an LSTM's ||dL/dc||) at a distance k
#: exceeds this many times its value at k = 0 (times k + 1 where every step feeds the loss
#: directly: k + 1 gradients add up)
GROWTH_LIMIT = 10.0
#: exploding: the global gradient norm exceeds this many times the model's clip norm
CLIP_FACTOR = 10.0
#: vanishing (a note, not a fault): the norm falls below this share of its value at k = 0
VANISHED = 1e-3


@dataclass
class GradientDiagnosis:
    """What :func:`measure_gradients` found on one model.

    label : the model's name in tables and plots (e.g. its directory's name)
    cell : "rnn", "lstm" or "gru" ("gru+lstm" when the layers differ)
    loss : the mean training loss over the measured sequences (dropout off)
    state_norms : per recurrent layer and direction, (K,) the mean over sequences of
        ||dL/dh_t|| at distance k = L_i - 1 - t from each sequence's last real step (a
        backward direction counts in its own reading order: from the first step). An
        LSTM layer has a second entry, its name followed by " c" (e.g. "layer 1 (lstm)
        c", "layer 1 (bidirectional) forward c"), holding ||dL/dc_t||: the gradient on
        the cell state, the path along which the LSTM's memory carries it back
    counts : (K,) how many sequences reach distance k (in the first layer: an
        encoder-decoder's decoder reads the targets)
    param_norms : ``"<layer>.<param>"`` -> norm of the mean batch gradient
    global_norm : their norm together, as gradient clipping sees it
    exploding : the verdict of the rule in :func:`measure_gradients`
    notes : "exploding: ...", "non-finite: ...", "vanishing: ...", "direct: ..."
    state_ratios : per layer and direction, (K,) the geometric mean over sequences of
        each sequence's own ratio ||dL/dh|| at distance k / ||dL/dh|| at distance 0 (of
        ||dL/dc|| for a " c" entry): how fast the gradient fades, free of the
        differences in scale between sequences
    """

    label: str
    cell: str
    loss: float
    state_norms: dict[str, Array]
    counts: Array
    param_norms: dict[str, float]
    global_norm: float
    exploding: bool
    notes: list[str] = field(default_factory=list)
    state_ratios: dict[str, Array] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: arrays as lists, NaN and infinities as None (strict JSON)."""
        out = {**asdict(self), "counts": [int(c) for c in self.counts]}
        out["state_norms"] = {k: a.tolist() for k, a in self.state_norms.items()}
        out["state_ratios"] = {k: a.tolist() for k, a in self.ratios().items()}
        return json_safe(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradientDiagnosis:
        """The diagnosis :meth:`to_dict` wrote (DataError naming what is wrong)."""
        try:
            norms, ratios = (
                {str(k): np.array(v, dtype=np.float64) for k, v in data[key].items()}
                for key in ("state_norms", "state_ratios")
            )
            params = {str(k): _float(v) for k, v in data["param_norms"].items()}
            counts = np.asarray(data["counts"], dtype=np.int64)
            loss, total, notes = _float(data["loss"]), _float(data["global_norm"]), data["notes"]
            return cls(str(data["label"]), str(data["cell"]), loss, norms, counts, params, total,
                       bool(data["exploding"]), [str(n) for n in notes], ratios)  # fmt: skip
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise DataError(f"gradient diagnosis: a missing or malformed entry ({exc!r})") from None

    def ratios(self) -> dict[str, Array]:
        """``state_ratios``, or where a layer has none the ratio of the mean norms."""
        return {k: self.state_ratios.get(k, _ratios(v)) for k, v in self.state_norms.items()}

    def format(self) -> str:
        """Plain-text tables: per layer the norm at distances 0, 1, 2, 5, 10, 20, 50, ...
        and its ratio to distance 0 (an LSTM's " c" entries: ||dL/dc_t||); then every
        parameter's gradient norm; then notes."""
        n = int(self.counts[0]) if len(self.counts) else 0
        lines = [
            f"gradients through time: {self.label} ({self.cell}), {n} sequences, "
            f"loss {self.loss:.4g}",
            "||dL/dh_t||, mean over sequences, by distance k from the last real step:",
        ]
        lines.append("(ratio: to k = 0, geometric mean over sequences of their own ratios)")
        if any(_is_cell(name) for name in self.state_norms):
            lines.append("(an LSTM's \"... c\" rows: ||dL/dc_t||, the path of the cell state, "
                         "dL/dc_{t-1} = f_t * dL/dc_t + ...)")  # fmt: skip
        ratios = self.ratios()
        for name, norms in self.state_norms.items():
            ks, ratio = _milestones(len(norms)), ratios[name]
            lines.append(f"  {name}")
            lines.append("    k          " + "".join(f"{k:>10d}" for k in ks))
            if name == next(iter(self.state_norms)):
                lines.append("    sequences  " + "".join(f"{self.counts[k]:>10d}" for k in ks))
            norm = f"||{_symbol(name)}||"
            lines.append(f"    {norm:<11}" + "".join(f"{norms[k]:>10.3g}" for k in ks))
            lines.append("    ratio      " + "".join(f"{ratio[k]:>10.3g}" for k in ks))
        width = max((len(k) for k in self.param_norms), default=0)
        lines.append(f"parameter gradient norms (mean batch), global {self.global_norm:.4g}:")
        lines += [f"  {k:<{width}}  {v:.4g}" for k, v in self.param_norms.items()]
        return "\n".join(lines + [f"note: {note}" for note in self.notes])


def measure_gradients(
    model: Any, batches: Iterable[Any], *, label: str = "model", clip_norm: float | None = None
) -> GradientDiagnosis:
    """Run `model` on `batches` and measure its gradients through time.

    Parameters
    ----------
    model : a fitted task model (``SequenceClassifier``, ``SequenceTagger``,
        ``LanguageModel``, the frame models, ``Seq2Seq``), a compiled ``Sequential``, or
        an ``EncoderDecoder``
    batches : the network's training batches with targets (``Batch``; ``PairBatch`` for
        an encoder-decoder); a language model's windows start from the zero state
    label : the model's name in tables and plots
    clip_norm : the exploding rule's reference for the global norm (default: the model's)

    Returns
    -------
    GradientDiagnosis

    Notes
    -----
    Dropout is off (inference mode), so the numbers are deterministic. The loss and its
    reduction are training's. dL/dh_t is that of the batch's loss times its B sequences
    (with the default reduction, each sequence's own loss, so the norms do not shrink
    with B). The parameter gradients are summed over the batches and divided by their
    number: the mean batch gradient, as the optimizer sees it before clipping. The
    model's gradients are zeroed before and after.

    The model is flagged exploding when (1) a value is NaN or infinite, (2) a layer's
    norm at some distance k exceeds :data:`GROWTH_LIMIT` times its norm at distance 0
    (``GROWTH_LIMIT * (k + 1)`` where every step feeds the loss directly, through
    pooling, attention or per-step outputs), or (3) the global norm exceeds
    :data:`CLIP_FACTOR` times the clip norm.

    Every layer has an entry of dL/dh_t. An LSTM layer also has one of dL/dc_t, the
    total gradient reaching its cell state c_t (through h_t = o_t * tanh(c_t), and back
    from c_{t+1} through the forget gate), named by appending " c" to the layer's entry.
    That path is the one the LSTM's memory uses, so it can keep its size over distances
    where dL/dh_t has faded. The same rules judge it as any entry.
    """
    net, reduction, model_clip = network_of(model)
    layers = recurrent_layers(net)
    sums: dict[str, list[Array]] = {}
    direct: dict[str, str | None] = {}
    loss_sum, n_seqs, n_batches = 0.0, 0, 0
    net.zero_grad()
    for batch in batches:
        if batch.y is None:
            raise DataError("batches: a batch has no targets; measuring needs the loss")
        value, records = record_pass(net, batch, reduction, layers)
        B = len(batch.lengths)
        loss_sum, n_seqs, n_batches = loss_sum + value * B, n_seqs + B, n_batches + 1
        for name, dh, lengths, why in records:
            parts = _by_distance(dh * B, lengths)  # 4 sums by distance
            sums[name] = [_add(a, b) for a, b in zip(sums.get(name, [np.zeros(0)] * 4), parts,
                                                     strict=True)]  # fmt: skip
            direct[name] = why
    if not n_batches:
        raise ConfigError("batches: there is no batch to measure")
    slots = net.param_slots()
    param_norms = {k: float(np.sqrt(np.vdot(g, g))) / n_batches for k, _, g, _ in slots}
    net.zero_grad()
    state_norms = {k: total / np.maximum(seen, 1) for k, (total, seen, _, _) in sums.items()}
    state_ratios = {
        k: np.exp(logs / np.maximum(n, 1)) for k, (_, _, logs, n) in sums.items()
    }  # the geometric mean of each sequence's own ratio
    global_norm = math.sqrt(sum(v * v for v in param_norms.values()))
    clip = model_clip if clip_norm is None else clip_norm
    exploding, notes = _judge(state_norms, state_ratios, direct, param_norms, global_norm, clip)
    counts = next(iter(sums.values()))[1].astype(np.int64)
    rnns = [getattr(l, "forward_layer", l) for _, l, _ in layers]  # bidirectional: a copy
    cell = "+".join(dict.fromkeys(_cell_name(rnn) for rnn in rnns))
    return GradientDiagnosis(label, cell, loss_sum / n_seqs, state_norms, counts, param_norms,
                             global_norm, exploding, notes, state_ratios)  # fmt: skip


# -- the numbers --------------------------------------------------------------------
def _by_distance(dh: Array, lengths: Array) -> tuple[Array, Array, Array, Array]:
    """Sums over sequences, at each distance k = L_i - 1 - t: of ||dL/dh||, of the
    sequences there, of log(||dL/dh|| / ||dL/dh|| at k = 0), and of the sequences whose
    ratio is defined (a zero norm at k = 0 has none)."""
    norms = np.linalg.norm(dh.astype(np.float64), axis=-1)  # (B, T)
    B, T = norms.shape
    t = np.asarray(lengths)[:, None] - 1 - np.arange(T)[None, :]  # (B, K): the step at k
    real = t >= 0
    picked = np.where(real, norms[np.arange(B)[:, None], np.where(real, t, 0)], 0.0)  # (B, K)
    tiny = np.finfo(np.float64).tiny  # a norm of exactly 0 counts as vanished, not NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.maximum(picked, tiny)) - np.log(picked[:, :1])  # (B, K)
    rated = real & (picked[:, :1] > 0) & np.isfinite(logs)
    reached, defined = real.sum(axis=0), rated.sum(axis=0)
    return picked.sum(axis=0), reached * 1.0, np.where(rated, logs, 0.0).sum(axis=0), defined * 1.0


def _add(a: Array, b: Array) -> Array:
    """a + b, the shorter padded with zeros at the end."""
    out = np.zeros(max(len(a), len(b)))
    out[: len(a)] += a
    out[: len(b)] += b
    return out


def _judge(
    state_norms, state_ratios, direct, param_norms, global_norm, clip_norm
) -> tuple[bool, list[str]]:
    """The exploding verdict and the notes (see :func:`measure_gradients`)."""
    bad = [k for k, a in {**state_norms, **param_norms}.items() if not np.isfinite(a).all()]
    notes = [f"non-finite: NaN or infinite gradients in {', '.join(bad)}"] if bad else []
    for name, norms in state_norms.items():
        ratio, k = state_ratios[name], np.arange(len(norms))
        limit = GROWTH_LIMIT * (k + 1.0 if direct[name] else np.ones(len(k)))
        over, low = np.flatnonzero(ratio > limit), np.flatnonzero(ratio < VANISHED)
        if over.size:
            notes.append(f"exploding: {name}: ||{_symbol(name)}|| at distance {over[0]} is "
                         f"{ratio[over[0]]:.4g} times its value at distance 0 (over "
                         f"{limit[over[0]]:g})")  # fmt: skip
        elif low.size:
            notes.append(f"vanishing: {name}: by distance {low[0]} ||{_symbol(name)}|| is below "
                         f"{VANISHED:g} of its value at distance 0")  # fmt: skip
    if clip_norm and global_norm > CLIP_FACTOR * clip_norm:
        notes.append(f"exploding: the global gradient norm {global_norm:.3g} is over "
                     f"{CLIP_FACTOR:g} times the clip norm {clip_norm:g}")  # fmt: skip
    for why in dict.fromkeys(w for w in direct.values() if w):
        names = ", ".join(n for n in state_norms if direct[n] == why)
        notes.append(f"direct: every step of {names} feeds the loss directly ({why}); each "
                     "norm adds the step's own gradient to what flows back, so it falls "
                     "less with distance than the flow through W alone")  # fmt: skip
    return any(n.startswith(("exploding", "non-finite")) for n in notes), notes


def _cell_name(layer: Any) -> str:
    """The name of a recurrent layer's cell ("rnn", "lstm", "gru"), else its kind."""
    cell = getattr(layer, "cell", None)
    return layer.kind if cell is None else cell.name


def _is_cell(name: str) -> bool:
    """Whether the entry `name` holds an LSTM's dL/dc_t."""
    return name.endswith(CELL_SUFFIX)


def _symbol(name: str) -> str:
    """The gradient an entry holds: dL/dc for an LSTM's cell state, else dL/dh."""
    return "dL/dc" if _is_cell(name) else "dL/dh"


def _ratios(norms: Array) -> Array:
    """norms / norms[0] (NaN where there is no reference)."""
    return norms / norms[0] if len(norms) and norms[0] > 0 else np.full(len(norms), np.nan)


def _milestones(n: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, 50, 100, ... below n."""
    ks = [m * 10**e for e in range(len(str(n))) for m in (1, 2, 5)]
    return [0, *(k for k in ks if k < n)]


def _float(v: Any) -> float:
    return float(np.float64(v))  # None (JSON's null) becomes NaN
