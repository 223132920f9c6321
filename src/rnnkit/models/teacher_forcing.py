"""TeacherForcing: how the training loop drives an EncoderDecoder, with scheduled sampling.

Trained with teacher forcing, the decoder reads the true previous token y_{t-1} at
every step, so all T steps run at once. At inference it reads its own previous
prediction instead, and its first mistakes lead it where it was never trained.
Scheduled sampling narrows that gap: with probability `sampling_ratio`, the token fed
at step t is the model's own most probable token for step t - 1.

Those tokens come from a step-by-step pass of the network in inference mode (the same
computation as decoding); then the batch is trained with them as the decoder's
inputs, all steps at once. A fed token is a choice, not a function of the weights:
as everywhere else, no gradient flows through it.
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.models.encoder_decoder import EncoderDecoder
from rnnkit.models.heads import compute_loss
from rnnkit.models.layer_stack import WrapsNetwork
from rnnkit.training import Batch, StepResult
from rnnkit.training.pairs import PairBatch

__all__ = ["TeacherForcing"]

Array = np.ndarray
_LOSS = "sparse_categorical_crossentropy"


class TeacherForcing(WrapsNetwork):
    """The :class:`~rnnkit.training.trainer.Trainable` of an encoder-decoder.

    The loss is the notes' labelling loss over the target: cross-entropy summed over
    each target's tokens (its ``<eos>`` included) and averaged over the pairs
    (``reduction="token_mean"`` averages over tokens instead).
    """

    def __init__(
        self,
        net: EncoderDecoder,
        *,
        sampling_ratio: float = 0.0,
        reduction: str = "sequence_mean",
        rng: np.random.Generator | None = None,
    ) -> None:
        if not 0.0 <= float(sampling_ratio) <= 1.0:
            raise ConfigError(f"sampling_ratio={sampling_ratio}: must lie in [0, 1]")
        self.net = net
        self.sampling_ratio = float(sampling_ratio)
        self.reduction = reduction
        self.rng = rng if rng is not None else np.random.default_rng([net.seed, 2])

    def decoder_inputs(self, batch: PairBatch) -> Array:
        """The tokens the decoder reads: y_in, or with scheduled sampling a mix with the
        model's own predictions."""
        assert batch.y_in is not None and batch.y_mask is not None
        if not self.sampling_ratio:
            return batch.y_in
        fed = batch.y_in.copy()
        state = self.net.begin(batch.x, batch.mask)
        for t in range(1, fed.shape[1]):
            logp, state, _ = self.net.step(fed[:, t - 1], state)
            own = self.rng.random(len(fed)) < self.sampling_ratio
            own &= batch.y_mask[:, t]
            fed[own, t] = logp[own].argmax(axis=1)
        return fed

    def _run(self, batch: Batch, training: bool) -> StepResult:
        if not isinstance(batch, PairBatch) or batch.y is None or batch.y_in is None:
            raise ConfigError("this batch has no targets: training and evaluation need them")
        y_in = self.decoder_inputs(batch) if training else batch.y_in
        logits, _, cache = self.net.forward(batch.x, batch.mask, y_in, batch.y_mask, training)
        value, dlogits, correct, count = compute_loss(
            _LOSS, logits, batch.y, batch.y_mask, self.reduction
        )
        if training:
            self.net.backward(dlogits, cache)
        if self.reduction == "token_mean":
            return StepResult(value * count, correct, count, count)
        B = len(batch.lengths)
        return StepResult(value * B, correct, count, B)

    def train_batch(self, batch: Batch) -> StepResult:
        return self._run(batch, training=True)

    def eval_batch(self, batch: Batch) -> StepResult:
        return self._run(batch, training=False)

    def loss_weight(self, batch: Batch) -> float:
        """What the batch's loss is a mean over: its pairs, or its real target steps
        with ``reduction="token_mean"``."""
        y_mask = batch.y_mask if isinstance(batch, PairBatch) else None
        if self.reduction == "token_mean" and y_mask is not None:
            return float(y_mask.sum())
        return float(len(batch.lengths))
