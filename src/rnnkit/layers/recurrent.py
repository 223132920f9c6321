"""What every recurrent layer (SimpleRNN, LSTM, GRU) shares: inputs, masks, outputs, BPTT.

Inputs are ids (B, T) or real vectors (B, T, n_in). Ids are one-hot vectors that are
never built: x_t U is row x_t of U and its gradient a sparse row update. Real vectors
go through one GEMM for all steps, forward and backward (:mod:`rnnkit.layers.projection`).
Masks become time-major (T, B), or None when the batch has no pads; per-step outputs
are zero at pads (:mod:`rnnkit.layers.sequences`).

:class:`RecurrentLayer` runs the layer protocol once for all cells; a cell's layer
names its description (``cell``, a :class:`~rnnkit.core.cells.Cell`, from which its
gate and state counts follow) and supplies ``_scan`` (the forward recurrence over the
time-major buffers) and ``_bptt`` (its backward pass), and the gated cells a
gate-major ``_input_gradients``. The large buffers come from the layer's workspace,
so from the second batch on a training step maps no new memory; per-step outputs are
batch-first views of the time-major buffers, which the next layer reads in their
memory order. :func:`cell_layer` finds the layer of a cell by the cell's name:

>>> cell_layer("lstm").__name__, cell_layer("lstm").gates, cell_layer("lstm").n_states
('LSTM', 4, 2)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from rnnkit.core.activations import get_activation
from rnnkit.core.cells import Cell, get_cell
from rnnkit.core.init import get_initializer
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.base import Layer, Spec
from rnnkit.layers.projection import input_gradients
from rnnkit.layers.sequences import (
    RecurrentCache,
    output_gradients,
    prepare_inputs,
    sequence_output,
    state_array,
    step_input,
    time_major_mask,
)

__all__ = ["GatedRecurrentLayer", "RecurrentLayer", "cell_layer"]

Array = np.ndarray


class RecurrentLayer(Layer):
    """What SimpleRNN, LSTM and GRU share: units, f, the output options, initialisers.

    A cell's layer sets ``cell``, its description; ``gates`` (d-wide blocks in U and W)
    and ``n_states`` (1, or 2 for the LSTM's h and c) follow from it. It implements
    ``_scan`` and ``_bptt``.
    """

    cell: ClassVar[Cell]
    gates: ClassVar[int]
    n_states: ClassVar[int]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "cell" in vars(cls):  # a cell's layer: its sizes come from the description
            cls.gates = cls.cell.n_gates
            cls.n_states = len(cls.cell.states)

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        kernel_initializer: str = "glorot_uniform",
        recurrent_initializer: str = "orthogonal",
        name: str | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if int(units) < 1:
            raise ShapeError(f"units={units}: must be a positive integer")
        get_activation(activation)  # validate early
        get_initializer(kernel_initializer)
        get_initializer(recurrent_initializer)
        self.units = int(units)
        self.activation = activation
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            **super().get_config(),
        }

    def _check_time(self, spec: Spec) -> None:
        if not spec.time:
            raise ShapeError(f"{self.name}: {type(self).__name__} needs a time axis, (B, T, ...)")

    def _weights(self, spec: Spec, rng: np.random.Generator, bias: Array) -> Spec:
        """U (n_in, g d), W (d, g d) from the initialisers, and the given bias."""
        self._check_time(spec)
        n, d, g = spec.size, self.units, self.gates
        self.params = {
            "U": self._param(get_initializer(self.kernel_initializer)((n, g * d), rng)),
            "W": self._param(get_initializer(self.recurrent_initializer)((d, g * d), rng)),
            "b": self._param(bias),
        }
        return Spec("features", d, time=self.return_sequences)

    # -- the protocol, once for every cell ---------------------------------------------
    def forward(
        self,
        x: Array,
        mask: Array | None = None,
        training: bool = False,
        initial_state: Any = None,
    ):
        """Run the layer.

        Parameters
        ----------
        x : (B, T) int ids or (B, T, n_in) float array
        mask : (B, T) bool array, optional (False at pads)
        initial_state : the state at t = 0 (zeros when omitted): h_0 (B, d), or the
            pair (h_0, c_0) for an LSTM.

        Returns
        -------
        y : (B, T, d) if return_sequences else (B, d); ``(y, *final states)`` with
            return_state: (y, h_T), or (y, h_T, c_T) for an LSTM.
        cache : what :meth:`backward` needs.
        """
        self._require_built()
        x, ids = prepare_inputs(self, x)
        B, T = x.shape[0], x.shape[1]
        mask_t = time_major_mask(self, mask, T, B)
        H, final, saved = self._scan(x, ids, mask_t, self._initial_states(initial_state, B))
        y: Any = sequence_output(self, H, mask_t) if self.return_sequences else final[0]
        if self.return_state:
            y = (y, *final)
        return y, RecurrentCache(x, ids, mask_t, H, saved, None, initial_state is not None)

    def step(self, x_t: Array, state: Any = None) -> tuple[Array, Any]:
        """One step at inference (generation): ``(h_t, state_t)`` from x_t and the state.

        x_t is (B,) ids or (B, n_in) vectors; `state` is what the previous call returned
        (None: the zero state). The state is h_t, or the pair (h_t, c_t) of an LSTM. A
        sequence fed step by step gives exactly the states :meth:`forward` computes.
        """
        self._require_built()
        x, ids = prepare_inputs(self, step_input(self, x_t))
        _, final, _ = self._scan(x, ids, None, self._initial_states(state, x.shape[0]))
        return final[0], (final if self.n_states > 1 else final[0])

    def final_state(self, cache: RecurrentCache) -> Any:
        """The state after the last step of the forward pass that made `cache`, as a copy.

        h_T (B, d), or the pair (h_T, c_T) of an LSTM; with a mask, each row's state
        at its last real step (pads carry it). A copy, because the buffers behind the
        cache are reused by the next batch: this is the state a stateful language
        model starts its next window from.
        """
        return cache.H[-1].copy()

    def backward(self, dy: Any, cache: RecurrentCache):
        """Backpropagation through time.

        Accumulates dU, dW, db into ``self.grads`` and returns dx ((B, T, n_in), or None
        for ids); ``(dx, dL/d initial_state)`` when the forward pass was given one. With
        return_state, `dy` is ``(dy, *d final states)``.
        """
        d_final: list[Any] = [None] * self.n_states
        if self.return_state:
            dy, *d_final = dy
        dH, dh_last = output_gradients(self, dy, cache.mask)
        if dh_last is not None:
            d_final[0] = dh_last if d_final[0] is None else dh_last + d_final[0]
        outs = [a.swapaxes(0, 1) for a in (cache.recorded or {}).values()]  # (T, B, d) views
        dxw, d_initial = self._bptt(dH, d_final, cache.H, cache.saved, cache.mask, *outs)
        self._mark_dense("W")
        self._mark_dense("b")
        dx = self._input_gradients(cache.x, cache.ids, cache.mask, dxw)
        if not cache.had_state:
            return dx
        return dx, (tuple(d_initial) if self.n_states > 1 else d_initial[0])

    def record_state_gradients(
        self, cache: RecurrentCache
    ) -> tuple[RecurrentCache, dict[str, Array]]:
        """`cache` set to record the state gradients: ``(cache, {"h": dh})``, one entry
        per state of the cell (``"c": dc`` too for an LSTM); each a (B, T, d) array of
        zeros until backward.

        :meth:`backward` given the returned cache also writes into dh the total
        gradient dL/dh_t reaching every state h_t (its own output's and what flows back
        from later steps), and into dc the total dL/dc_t reaching every cell state
        (through h_t and back from c_{t+1}); both are zero at pads. The cache from
        :meth:`forward` records nothing.
        """
        H = cache.H
        shape = (H.shape[1], H.shape[0] - 1, self.units)  # (B, T, d)
        recorded = {s: np.zeros(shape, dtype=H.dtype) for s in self.cell.states}
        return replace(cache, recorded=recorded), recorded

    # -- what each cell supplies -------------------------------------------------------
    def _initial_states(self, state: Any, B: int) -> tuple[Array, ...]:
        """The initial state(s) as (B, d) arrays, zeros when `state` is None."""
        if state is None:
            zero = np.zeros((B, self.units), dtype=self.dtype)
            return (zero,) * self.n_states
        if self.n_states == 1:
            return (state_array(self, state, B, "initial_state"),)
        names = self.cell.states
        if len(state) != self.n_states:
            what = "a pair" if self.n_states == 2 else f"a tuple of {self.n_states}"
            raise ShapeError(f"{self.name}: the state must be {what} ({', '.join(names)})")
        return tuple(state_array(self, s, B, f"{n}0") for s, n in zip(state, names, strict=True))

    def _scan(
        self, x: Array, ids: bool, mask_t: Array | None, states: tuple[Array, ...]
    ) -> tuple[Array, tuple[Array, ...], Any]:
        """Forward over all steps: (H (T+1, B, d), final states, what _bptt needs)."""
        raise NotImplementedError

    def _bptt(
        self,
        dH: Array | None,
        d_final: list[Array | None],
        H: Array,
        saved: Any,
        mask_t: Array | None,
        dh_out: Array | None = None,
    ) -> tuple[Array, list[Array]]:
        """Backward over all steps: adds dW, db; returns dL/dxw and dL/d initial states.

        `dh_out` (T, B, d), when given, receives the total dL/dh_t of every step; a cell
        with a second state takes its buffer next (the LSTM's ``dc_out``)."""
        raise NotImplementedError

    def _input_gradients(self, x: Array, ids: bool, mask_t: Array | None, dxw: Array):
        """dU from dL/dxw, and dx (None for ids)."""
        return input_gradients(self, x, ids, mask_t, dxw)


class GatedRecurrentLayer(RecurrentLayer):
    """LSTM and GRU: a recurrent layer whose gates use `recurrent_activation`."""

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        **options: Any,
    ) -> None:
        super().__init__(units, activation, **options)
        get_activation(recurrent_activation)  # validate early
        self.recurrent_activation = recurrent_activation

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation}


def cell_layer(name: str) -> type[RecurrentLayer]:
    """The layer class of the cell called `name`: the RecurrentLayer subclass whose
    ``cell`` is that cell's description (found among the subclasses, so a cell's layer
    is listed nowhere else).

    A ConfigError names the registered cells when `name` is not one of them, or says
    that the cell has no layer class (no subclass defines its ``cell``).
    """
    cell = get_cell(name)
    for cls in _subclasses(RecurrentLayer):
        if "cell" in vars(cls) and cls.cell.name == cell.name:
            return cls
    raise ConfigError(
        f"cell={name!r} has no layer class: define a RecurrentLayer with cell = get_cell({name!r})"
    )


def _subclasses(cls: type[RecurrentLayer]) -> Iterator[type[RecurrentLayer]]:
    """Every subclass of `cls`, parents before their children."""
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
