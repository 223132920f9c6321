"""Pure NumPy mathematics with no state: activations, cells, lookups, losses
(the CRF's among them), clipping.

Nothing here knows about layers or models; everything works on arrays it is given.
"""

from rnnkit.core.activations import get_activation, sigmoid, softmax
from rnnkit.core.clipping import clip_by_global_norm, clip_by_value, global_norm
from rnnkit.core.crf import crf_log_partition, crf_nll, crf_viterbi
from rnnkit.core.crf_tags import tag_constraints
from rnnkit.core.embedding import lookup, sparse_rows_grad
from rnnkit.core.losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from rnnkit.core.rnn import rnn_backward, rnn_forward
from rnnkit.core.sampling import sample_logits

__all__ = [
    "clip_by_global_norm",
    "clip_by_value",
    "crf_log_partition",
    "crf_nll",
    "crf_viterbi",
    "get_activation",
    "global_norm",
    "lookup",
    "mse",
    "rnn_backward",
    "rnn_forward",
    "sample_logits",
    "sigmoid",
    "sigmoid_binary_cross_entropy",
    "softmax",
    "softmax_cross_entropy",
    "sparse_rows_grad",
    "tag_constraints",
]
