"""PyTorch names and layouts for rnnkit's recurrent parameters (DESIGN §4).

rnnkit keeps Keras's layout, row vectors and ``x_t U``; PyTorch stores the transposes
and splits the bias in two:

========  =======================  =====================================================
rnnkit    PyTorch                  notes
========  =======================  =====================================================
U         ``weight_ih<suffix>``    ``= U.T``, gate blocks in PyTorch's order
W         ``weight_hh<suffix>``    ``= W.T``, gate blocks in PyTorch's order
b         ``bias_ih<suffix>``,     rnn, lstm: both add into every step, so export puts b
          ``bias_hh<suffix>``      in ``bias_ih`` and zeros in ``bias_hh`` and import sums
                                   them; gru: the (2, 3d) rows map to them one to one
========  =======================  =====================================================

Everything cell-specific comes from the cell's description (:mod:`rnnkit.core.cells`):
its PyTorch module (``torch``; a cell without one is refused), the order of its gate
blocks there (``torch_gates``), and whether it keeps a recurrent bias of its own
(``recurrent_bias``: b then has two rows). The LSTM's gate order is the same in both
(Keras i, f, c, o; PyTorch i, f, g, o, where g is Keras's c, the candidate), so no
block moves. The GRU's differs: Keras z, r, h and PyTorch r, z, n, so the first two
blocks swap. Only the reset_after GRU (a (2, 3d) bias) exists in PyTorch; the other
raises :class:`ConfigError`.

The suffix is ``_l0`` for a one-layer network, ``_l1`` for its second layer and
``_l0_reverse`` for the backward direction of a bidirectional one.

These are pure functions on dicts of NumPy arrays (a torch ``state_dict`` of CPU
tensors converts through ``np.asarray``):

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> n, d = 4, 2
>>> params = {"U": rng.normal(size=(n, 3 * d)), "W": rng.normal(size=(d, 3 * d)),
...           "b": rng.normal(size=(2, 3 * d))}
>>> sd = to_torch("gru", params)
>>> sorted(sd), sd["weight_ih_l0"].shape
(['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0'], (6, 4))
>>> np.array_equal(sd["weight_ih_l0"][:d], params["U"][:, d : 2 * d].T)  # r first
True
>>> back = from_torch("gru", sd)
>>> all(np.array_equal(back[k], params[k]) for k in params)
True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnkit.core.cells import CELLS, Cell
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["from_torch", "to_torch"]

Array = np.ndarray


def _torch_cell(cell: str) -> Cell:
    """The description of `cell`, which must have a PyTorch module."""
    if cell not in CELLS:
        names = ", ".join(sorted(CELLS))
        raise ConfigError(f"cell={cell!r} is not one of {names}")
    described = CELLS[cell]
    if described.torch is None:
        raise ConfigError(f"cell={cell!r} has no PyTorch equivalent (no torch.nn module)")
    return described


def _reorder(a: Array, order: tuple[int, ...]) -> Array:
    """The g d-wide blocks of `a` along its last axis, block k taken from block order[k]."""
    if order == tuple(range(len(order))):
        return a  # the same order (rnn, lstm)
    blocks = np.split(a, len(order), axis=-1)
    return np.concatenate([blocks[k] for k in order], axis=-1)


def _to_torch_order(cell: Cell, a: Array) -> Array:
    return _reorder(a, cell.permutation(cell.torch_gates))


def _from_torch_order(cell: Cell, a: Array) -> Array:
    return _reorder(a, tuple(cell.torch_gates.index(gate) for gate in cell.gates))


def _shape_of(params: Mapping[str, object], key: str, where: str) -> Array:
    if key not in params:
        raise ConfigError(f"{where}: no {key!r} among {sorted(params)}")
    return np.asarray(params[key])


def _fresh(a: Array) -> Array:
    """A C-contiguous copy that shares no memory with the caller's arrays."""
    return np.array(a, copy=True, order="C")


def _check(name: str, a: Array, shape: tuple[int, ...]) -> None:
    if a.shape != shape:
        raise ShapeError(f"{name}: expected shape {shape}, got {a.shape}")


def to_torch(cell: str, params: Mapping[str, Array], suffix: str = "_l0") -> dict[str, Array]:
    """rnnkit's ``{"U", "W", "b"}`` as PyTorch's ``state_dict`` entries.

    Parameters
    ----------
    cell : str
        A registered cell with a PyTorch module ("rnn", "lstm", "gru").
    params : mapping with U (n_in, k d), W (d, k d) and b ((k d,), or (2, k d) for a
        cell with a recurrent bias, the reset_after GRU), k the number of gate blocks
        (1, 4, 3).
    suffix : str
        Appended to every name: ``"_l0"``, ``"_l0_reverse"``, ...

    Returns
    -------
    dict with ``weight_ih`` (k d, n_in), ``weight_hh`` (k d, d), ``bias_ih`` and
    ``bias_hh`` (k d,), each name followed by `suffix`; new arrays of the input dtype.
    """
    described = _torch_cell(cell)
    k = described.n_gates
    U, W, b = (_shape_of(params, key, f"to_torch({cell!r})") for key in "UWb")
    if U.ndim != 2 or U.shape[1] % k:
        raise ShapeError(f"U: expected shape (n_in, {k} * d), got {U.shape}")
    d = U.shape[1] // k
    _check("W", W, (d, k * d))
    two_rows = described.recurrent_bias
    if two_rows and b.shape == (k * d,):
        raise ConfigError(_one_bias_row(described))
    _check("b", b, (2, k * d) if two_rows else (k * d,))
    bias_ih, bias_hh = (b[0], b[1]) if two_rows else (b, np.zeros_like(b))
    out = {
        "weight_ih": _to_torch_order(described, U).T,
        "weight_hh": _to_torch_order(described, W).T,
        "bias_ih": _to_torch_order(described, bias_ih),
        "bias_hh": _to_torch_order(described, bias_hh),
    }
    return {name + suffix: _fresh(a) for name, a in out.items()}


def from_torch(
    cell: str, state_dict: Mapping[str, object], suffix: str = "_l0"
) -> dict[str, Array]:
    """PyTorch's ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` as rnnkit's U, W, b.

    Parameters
    ----------
    cell : str
        A registered cell with a PyTorch module ("rnn", "lstm", "gru").
    state_dict : mapping holding the four names followed by `suffix` (other entries,
        such as another layer's, are ignored).
    suffix : str

    Returns
    -------
    dict ``{"U": (n_in, k d), "W": (d, k d), "b": (k d,) or (2, k d) for a GRU}``: for
    rnn and lstm b is ``bias_ih + bias_hh``; for a cell with a recurrent bias (the
    GRU) its rows are the two biases.
    """
    described = _torch_cell(cell)
    k = described.n_gates
    where = f"from_torch({cell!r}, suffix={suffix!r})"
    w_ih, w_hh, b_ih, b_hh = (
        _shape_of(state_dict, name + suffix, where)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    if w_ih.ndim != 2 or w_ih.shape[0] % k:
        raise ShapeError(f"weight_ih{suffix}: expected shape ({k} * d, n_in), got {w_ih.shape}")
    d = w_ih.shape[0] // k
    _check(f"weight_hh{suffix}", w_hh, (k * d, d))
    _check(f"bias_ih{suffix}", b_ih, (k * d,))
    _check(f"bias_hh{suffix}", b_hh, (k * d,))
    b = np.stack([b_ih, b_hh]) if described.recurrent_bias else b_ih + b_hh
    return {
        "U": _fresh(_from_torch_order(described, w_ih.T)),
        "W": _fresh(_from_torch_order(described, w_hh.T)),
        "b": _fresh(_from_torch_order(described, b)),
    }


def _one_bias_row(cell: Cell) -> str:
    """Why a (g d,) bias of a cell with a recurrent bias (`recurrent_bias`: the GRU's
    second row, Keras's reset_after) has no PyTorch equivalent."""
    return (
        f"a {cell.torch} with reset_after=False (bias ({cell.n_gates}d,)) has no PyTorch "
        f"equivalent: nn.{cell.torch} applies the reset gate after the recurrent product"
    )
