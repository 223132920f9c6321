"""SimpleRNN: the lecture's recurrent layer, h_t = f(U x_t + W h_{t-1} + b).

Parameters, in Keras ``get_weights()`` order:

====  =========  ====================  ===============================
name  shape      Keras                 PyTorch ``nn.RNN``
====  =========  ====================  ===============================
U     (n_in, d)  ``kernel``            ``weight_ih_l0`` = U.T
W     (d, d)     ``recurrent_kernel``  ``weight_hh_l0`` = W.T
b     (d,)       ``bias``              ``bias_ih_l0 + bias_hh_l0`` = b
====  =========  ====================  ===============================

Inputs are (B, T, n_in) real vectors (explicit one-hot arrays included) or (B, T)
integer ids. Ids are one-hot vectors that are never materialised: U x_t is then row
x_t of U, and its gradient a sparse row update.

The lecture's model, SimpleRNN(3) on 5 one-hot inputs, has 5*3 + 3*3 + 3 = 27
parameters:

>>> import numpy as np
>>> from rnnkit.layers import Spec
>>> rnn = SimpleRNN(3)
>>> rnn.build(Spec("ids", 5), np.random.default_rng(0))
Spec(kind='features', size=3, time=False)
>>> [w.shape for w in rnn.get_weights()], rnn.count_params()
([(5, 3), (3, 3), (3,)], 27)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.core.cells import get_cell
from rnnkit.core.recurrences import rnn_backward, rnn_scan
from rnnkit.layers.base import Spec
from rnnkit.layers.projection import project_inputs
from rnnkit.layers.recurrent import RecurrentLayer

__all__ = ["SimpleRNN"]

Array = np.ndarray


class SimpleRNN(RecurrentLayer):
    """Fully connected recurrent layer (Elman network).

    Parameters
    ----------
    units : int
        d, the size of the state h_t.
    activation : {"tanh", "relu", "sigmoid", "linear"}
        f in the cell equation.
    return_sequences : bool
        Output every h_t, (B, T, d) with zeros at pad steps, instead of the last real
        state (B, d).
    return_state : bool
        Also output the final state: ``forward`` then returns ``((y, h_T), cache)``.

    Notes
    -----
    With a mask, a pad step carries the state unchanged (h_t = h_{t-1}), so the final
    state is each sequence's last real state and a padded batch gives every sequence
    exactly what it gets alone. ``forward``, ``step`` and ``backward`` are
    :class:`~rnnkit.layers.recurrent.RecurrentLayer`'s.
    """

    kind = "simple_rnn"
    cell = get_cell("rnn")

    def _build(self, spec: Spec, rng: np.random.Generator) -> Spec:
        return self._weights(spec, rng, np.zeros(self.units))

    def _scan(self, x: Array, ids: bool, mask_t: Array | None, states: tuple[Array, ...]):
        B, T = x.shape[0], x.shape[1]
        H = self.workspace.take("H", (T + 1, B, self.units), self.dtype)  # (T+1, B, d)
        project_inputs(self, x, ids, H[1:])  # U x_t, straight into the state buffer
        H[1:] += self.params["b"]  # + b
        H[0] = states[0]
        rnn_scan(H, self.params["W"], mask_t, self.activation, self.workspace)
        return H, (H[T],), None  # H[T]: every sequence's last real state

    def _bptt(self, dH, d_final, H, saved: Any, mask_t, dh_out=None):
        W = self.params["W"]
        dA, dW, dh0 = rnn_backward(
            dH, d_final[0], H, W, mask_t, self.activation, self.workspace, dh_out
        )
        T, B, d = dA.shape
        self.grads["W"] += dW
        self.grads["b"] += dA.reshape(T * B, d).sum(axis=0)
        return dA, [dh0]
