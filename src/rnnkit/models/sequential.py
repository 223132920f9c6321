"""Sequential: a stack of layers with a Keras-like interface.

The lecture's sentiment model: five-word one-hot inputs, SimpleRNN(3), Dense(1) with a
sigmoid, 18 + 9 + 4 = 31 parameters, weights shaped as Keras gives them:

>>> from rnnkit import Dense, OneHot, Sequential, SimpleRNN
>>> model = Sequential([OneHot(5), SimpleRNN(3), Dense(1, activation="sigmoid")], seed=0)
>>> model.summary()
Model: "sequential"
Layer (type)              Output Shape    Param #  Parameters
one_hot (OneHot)          (None, None)          0
simple_rnn (SimpleRNN)    (None, 3)            27  U (5, 3), W (3, 3), b (3,)
dense (Dense)             (None, 1)             4  V (3, 1), c (1,)
Total params: 31
>>> [w.shape for w in model.get_weights()]
[(5, 3), (3, 3), (3,), (3, 1), (1,)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.layers import (
    CRF,
    CharCNN,
    CharEncoder,
    Dense,
    Embedding,
    Layer,
    OneHot,
    Spec,
    WordCharEmbedding,
)
from rnnkit.layers.recurrent import RecurrentLayer
from rnnkit.models.crf_head import crf_step
from rnnkit.models.heads import check_loss, compute_loss
from rnnkit.models.layer_stack import LayerStack
from rnnkit.training import (
    Batch,
    FitConfig,
    History,
    Optimizer,
    SequenceDataset,
    StepResult,
    get_optimizer,
)
from rnnkit.training import evaluate as evaluate_dataset
from rnnkit.training import fit as fit_dataset

__all__ = ["Sequential"]

Array = np.ndarray


class Sequential(LayerStack):
    """Layers applied in order; the output of each is the input of the next.

    Parameters
    ----------
    layers : list of Layer
        The first is an ``Embedding`` or ``OneHot`` for id inputs; otherwise give
        `input_dim` for real-valued (B, T, input_dim) inputs.
    input_dim : int, optional
        Features per step for real-valued inputs.
    seed : int, optional
        Seeds weight initialisation, dropout and shuffling; drawn at random (and kept
        in ``self.seed``) when omitted.
    dtype : {"float32", "float64"}, optional
        Overrides every layer's dtype.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        *,
        input_dim: int | None = None,
        seed: int | None = None,
        dtype: str | None = None,
        name: str = "sequential",
    ) -> None:
        if not layers:
            raise ConfigError("Sequential needs at least one layer")
        self.layers = list(layers)
        self.name = name
        self.input_dim = input_dim
        self.seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        if dtype is not None:
            for layer in self.layers:
                layer.dtype = np.dtype(dtype)
        _name_layers(self.layers)
        self.loss: str | None = None
        self.optimizer: Optimizer | None = None
        self.fit_defaults: dict[str, Any] = {}
        self.reduction = "sequence_mean"
        self.build()

    # -- structure -----------------------------------------------------------------
    def input_spec(self) -> Spec:
        first = self.layers[0]
        if isinstance(first, Embedding):
            return Spec("ids", first.input_dim)
        if isinstance(first, OneHot):
            return Spec("ids", first.depth)
        if isinstance(first, CharEncoder | CharCNN):  # (B, T, L) character ids
            return Spec("ids", first.n_chars)
        if isinstance(first, WordCharEmbedding):  # (B, T, 1 + L) word, then character ids
            return Spec("ids", first.words.input_dim)
        if self.input_dim is None:
            raise ConfigError(
                "give input_dim=F for real-valued inputs, or start with Embedding or OneHot for ids"
            )
        return Spec("features", int(self.input_dim))

    def build(self) -> Sequential:
        """Create every layer's weights from the model's seed."""
        rng = np.random.default_rng(self.seed)
        spec = self.input_spec()
        for layer in self.layers:
            spec = layer.build(spec, rng)
        self.output_spec = spec
        return self

    @property
    def output_layer(self) -> Layer:
        return self.layers[-1]

    def summary(self, print_fn: Callable[[str], None] = print) -> None:
        """Print the layer table with Keras's parameter counts and the lecture's names."""
        rows = [("Layer (type)", "Output Shape", "Param #", "Parameters")]
        for layer in self.layers:
            assert layer.output_spec is not None
            shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in layer.params.items())
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(layer.output_spec.shape()),
                    str(layer.count_params()),
                    shapes,
                )
            )
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f'Model: "{self.name}"']
        for a, b, c, d in rows:
            lines.append(f"{a:<{w[0] + 4}}{b:<{w[1] + 4}}{c:>{w[2]}}  {d}".rstrip())
        lines.append(f"Total params: {self.count_params():,}")
        print_fn("\n".join(lines))

    def get_config(self) -> dict[str, Any]:
        return {
            "class": "Sequential",
            "name": self.name,
            "input_dim": self.input_dim,
            "seed": self.seed,
            "layers": [{"class": type(l).__name__, "config": l.get_config()} for l in self.layers],
            "loss": self.loss,
        }

    # -- computation ---------------------------------------------------------------
    def forward(
        self,
        x: Array,
        mask: Array | None = None,
        training: bool = False,
        logits: bool = False,
        initial_states: list[Any] | None = None,
    ) -> tuple[Array, list[Any]]:
        """Run every layer; with `logits` the last Dense returns its pre-activation.

        `initial_states` has one entry per recurrent layer (None: zeros), the state it
        starts from; :meth:`backward` treats them as constants.
        """
        if mask is not None and np.all(mask):
            mask = None  # no pads: every layer takes its unmasked path
        states = iter(initial_states or ())
        caches = []
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            if last and logits and isinstance(layer, Dense):
                x, cache = layer.forward(x, mask=mask, training=training, logits=True)
            elif initial_states is not None and isinstance(layer, RecurrentLayer):
                s = next(states)
                x, cache = layer.forward(x, mask=mask, training=training, initial_state=s)
            else:
                x, cache = layer.forward(x, mask=mask, training=training)
            if layer.output_spec is not None and not layer.output_spec.time:
                mask = None  # the time axis is gone
            caches.append(cache)
        return x, caches

    def backward(self, dy: Array, caches: list[Any]) -> Array | None:
        """Gradients of every layer from dL/d(output); returns dL/dx (None for ids).

        The initial states given to :meth:`forward` are constants: their gradients
        are dropped (where truncated BPTT stops).
        """
        for layer, cache in zip(reversed(self.layers), reversed(caches), strict=False):
            dy = layer.backward(dy, cache)
            if isinstance(layer, RecurrentLayer) and cache.had_state:  # dy is (dx, d state)
                dy = dy[0]
        return dy

    def final_states(self, caches: list[Any]) -> list[Any]:
        """The state each recurrent layer ended in, from the caches of :meth:`forward`."""
        return [
            layer.final_state(cache)
            for layer, cache in zip(self.layers, caches, strict=True)
            if isinstance(layer, RecurrentLayer)
        ]

    def __call__(self, x: Array, mask: Array | None = None) -> Array:
        return self.forward(x, mask=mask)[0]

    # -- the Trainable interface -----------------------------------------------------
    def _loss_mask(self, batch: Batch) -> Array | None:
        return batch.mask if self.output_spec.time else None

    @staticmethod
    def _targets(batch: Batch) -> Array:
        if batch.y is None:
            raise ConfigError("this batch has no targets: training and evaluation need y")
        return batch.y

    def _step(self, batch: Batch, training: bool) -> tuple[float, Array | None, int, int, Any]:
        """Loss, dL/d(output) (None in evaluation), (correct, counted) and the caches."""
        loss = self._require_compiled()
        out, caches = self.forward(batch.x, batch.mask, training=training, logits=True)
        y, mask = self._targets(batch), self._loss_mask(batch)
        if loss == "crf":  # the CRF scores whole paths and counts its Viterbi tags
            crf = self.output_layer
            assert isinstance(crf, CRF)
            return (*crf_step(crf, out, y, mask, self.reduction, training), caches)
        return (*compute_loss(loss, out, y, mask, self.reduction), caches)

    def train_batch(self, batch: Batch) -> StepResult:
        value, dout, correct, count, caches = self._step(batch, training=True)
        assert dout is not None  # training returns the gradient
        self.backward(dout, caches)
        B = len(batch.lengths)
        return StepResult(value * B, correct, count, B)

    def loss_weight(self, batch: Batch) -> float:
        """What the batch's loss is a mean over: its sequences, or its real steps with
        ``reduction="token_mean"`` (data parallelism weighs each rank's share by it)."""
        mask = self._loss_mask(batch)
        if self.reduction == "token_mean" and mask is not None:
            return float(mask.sum())
        return float(len(batch.lengths))

    def eval_batch(self, batch: Batch) -> StepResult:
        value, _, correct, count, _ = self._step(batch, training=False)
        B = len(batch.lengths)
        return StepResult(value * B, correct, count, B)

    # -- Keras-like training API -----------------------------------------------------
    def compile(
        self,
        optimizer: str | Optimizer = "adam",
        loss: str = "binary_crossentropy",
        *,
        lr: float | None = None,
        clip_norm: float | None = 5.0,
        clip_value: float | None = None,
    ) -> Sequential:
        """Choose the loss, the optimizer and gradient clipping.

        A final :class:`~rnnkit.layers.CRF` is its own loss: ``loss="crf"``.
        """
        out = self.output_layer
        if isinstance(out, CRF) != (loss == "crf"):
            raise ConfigError("a final CRF layer and loss='crf' go together")
        if loss != "crf":
            if not isinstance(out, Dense):
                raise ConfigError("the last layer must be Dense to compile with a loss")
            check_loss(loss, out.activation, out.units)
        self.loss = loss
        self.optimizer = get_optimizer(optimizer, lr)
        self.fit_defaults = {"clip_norm": clip_norm, "clip_value": clip_value}
        return self

    def _require_compiled(self) -> str:
        if self.loss is None or self.optimizer is None:
            raise ConfigError("call compile(optimizer=..., loss=...) before training")
        return self.loss

    def fit(
        self,
        x,
        y,
        lengths: Array | None = None,
        *,
        epochs: int = 10,
        batch_size: int = 32,
        validation_data: tuple | None = None,
        rng: np.random.Generator | None = None,
        **options: Any,
    ) -> History:
        """Train on (x, y); `options` are :class:`~rnnkit.training.FitConfig` fields."""
        self._require_compiled()
        assert self.optimizer is not None
        per_step = self.output_spec.time
        train = SequenceDataset(x, y, lengths, per_step=per_step)
        valid = None
        if validation_data is not None:
            valid = SequenceDataset(*validation_data, per_step=per_step)
        config = FitConfig(epochs=epochs, batch_size=batch_size, **{**self.fit_defaults, **options})
        rng = np.random.default_rng([self.seed, 1]) if rng is None else rng
        try:
            return fit_dataset(self, train, self.optimizer, config, rng, valid)
        finally:
            self.release_buffers()  # a trained model keeps no training-sized scratch memory

    def evaluate(
        self, x, y, lengths: Array | None = None, batch_size: int = 256
    ) -> dict[str, float]:
        """Mean loss and accuracy on (x, y)."""
        self._require_compiled()
        data = SequenceDataset(x, y, lengths, per_step=self.output_spec.time)
        return evaluate_dataset(self, data, batch_size)

    def predict(self, x, lengths: Array | None = None, batch_size: int = 256) -> Array:
        """Outputs (after the final activation) for every sequence, in input order.

        Per-step outputs come back padded to the longest sequence, with zeros at pads.
        """
        data = SequenceDataset(x, None, lengths)
        parts, order = [], []
        for index in data.batches(batch_size, rng=None):
            b = data.batch(index)
            out = self.forward(b.x, b.mask)[0]
            if self.output_spec.time:
                out = out * b.mask[:, :, None]  # pad steps output zeros, whatever the batch
            parts.append(out)
            order.append(index)
        idx = np.concatenate(order)
        if self.output_spec.time:  # per-step outputs: pad to the longest sequence
            T = int(data.lengths.max())
            out = np.zeros((len(data), T, parts[0].shape[-1]), dtype=parts[0].dtype)
            for p, index in zip(parts, order, strict=False):
                out[index, : p.shape[1]] = p
            return out
        out = np.empty((len(data), *parts[0].shape[1:]), dtype=parts[0].dtype)
        out[idx] = np.concatenate(parts)
        return out


def _name_layers(layers: list[Layer]) -> None:
    """Give unnamed layers Keras-style names: simple_rnn, simple_rnn_1, ..."""
    seen: set[str] = {l.name for l in layers if l.name}
    for layer in layers:
        if layer.name:
            continue
        name, i = layer.kind, 0
        while name in seen:
            i += 1
            name = f"{layer.kind}_{i}"
        layer.name = name
        seen.add(name)
