"""The course's network written out by hand: the movie-review example, and each layer's step.

**The example.** Each review is read one word at a time, every word a one-hot vector
of size 5 over the vocabulary [movie, was, good, bad, not], by a SimpleRNN of 3 tanh
units with a Dense(1) sigmoid output: U (5, 3), W (3, 3) and b (3,) make 27
parameters, V (3, 1) and c (1,) make 4, 31 in all. U and W are the float32 values
Keras's ``get_weights()`` printed for this network in the course notes, and b = 0.
V and c are not in the notes: they are chosen for this example, so that the reviews
come out as their labels say (above 0.5 for "movie was good", below for the others).
``rnnkit trace --toy`` builds the network from :func:`toy_weights` and traces it.

**The steps.** Each cell's ``trace_step`` (named by its :class:`~rnnkit.core.cells.Cell`,
written in :mod:`rnnkit.core.cell_steps`) computes one step in float64, one labelled
vector at a time, in the order and with the gates of the fast scan it mirrors, slowly;
:func:`merge_step`,
:func:`pooling_step` and :func:`dense_step` do the same for a Bidirectional merge,
pooling over time and the output layer. :mod:`rnnkit.viz.trace` records what they compute.

>>> TOY_VOCABULARY
('movie', 'was', 'good', 'bad', 'not')
>>> toy_ids("Movie was NOT good").tolist()      # a word's id is its place in the list
[0, 1, 4, 2]
>>> [w.shape for w in toy_weights()], sum(w.size for w in toy_weights())
([(5, 3), (3, 3), (3,), (3, 1), (1,)], 31)
>>> toy_ids("movie was great")
Traceback (most recent call last):
...
rnnkit.errors.DataError: 'great' is not in the toy vocabulary (movie, was, good, bad, not)

A step records each vector it computes through `add`; the example's first step:

>>> from rnnkit import SimpleRNN
>>> step = SimpleRNN.cell.trace_step
>>> U, W, b, V, c = (w.astype(np.float64) for w in toy_weights())
>>> labels = []
>>> def add(key, label, value):
...     labels.append(label)
...     return np.asarray(value, dtype=np.float64)
>>> (h_1,) = step(add, SimpleRNN(3), {"W": W, "b": b}, U[0], (np.zeros(3),), "1", "0")
>>> labels
['W h_0', 'b', 'a_1 = U x_1 + W h_0 + b', 'h_1 = tanh(U x_1 + W h_0 + b)']
>>> h_1.round(4).tolist()
[0.2385, 0.5756, 0.124]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnkit.core.activations import activate
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "MERGES",
    "TOY_REVIEWS",
    "TOY_VOCABULARY",
    "dense_step",
    "input_step",
    "merge_step",
    "output_words",
    "pooling_step",
    "subscript",
    "toy_ids",
    "toy_weights",
]

Array = np.ndarray
#: ``add(key, label, value)`` records a labelled vector and returns it as float64
Add = Callable[[str, str, Any], Array]

#: the five words, in id order: word i is the one-hot vector with a 1 at place i
TOY_VOCABULARY: tuple[str, ...] = ("movie", "was", "good", "bad", "not")

#: the reviews of the example with their sentiment (1 positive, 0 negative)
TOY_REVIEWS: tuple[tuple[str, int], ...] = (
    ("movie was good", 1),
    ("movie was bad", 0),
    ("movie was not good", 0),
)

# U (n_in, d) and W (d, d) in Keras layout, as the notes print them.
_U = [
    [0.24314839, 0.65584403, 0.12467551],
    [0.07774234, -0.6701355, -0.5714668],
    [-0.15539342, -0.37312293, -0.5985743],
    [0.7748706, 0.15962046, -0.01933241],
    [-0.4337626, -0.1516878, 0.6292947],
]
_W = [
    [-0.95396507, 0.01400834, 0.29959065],
    [0.23049797, 0.67335117, 0.70247334],
    [-0.19188926, 0.73919, -0.6455824],
]
# NOTE: V and c are this example's choice (see the module docstring), not the notes'.
_V = [[-2.0], [-3.0], [1.5]]
_C = [0.1]


def toy_weights(dtype: str = "float32") -> list[Array]:
    """The example's parameters in Keras ``get_weights()`` order: U (5, 3), W (3, 3),
    b (3,) = 0, V (3, 1), c (1,); the notes' float32 numbers, as `dtype` arrays."""
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"dtype={dtype!r}: use 'float32' or 'float64'")
    exact = [np.array(w, dtype=np.float32) for w in (_U, _W, np.zeros(3), _V, _C)]
    return [w.astype(dtype) for w in exact]


def toy_ids(text: str) -> Array:
    """The ids (T,) of a review's words, split on spaces and lowercased.

    DataError when there is no word, or a word is not one of the five.
    """
    words = text.lower().split()
    known = ", ".join(TOY_VOCABULARY)
    if not words:
        raise DataError(f"the text {text!r} has no words; use {known}")
    for word in words:
        if word not in TOY_VOCABULARY:
            raise DataError(f"{word!r} is not in the toy vocabulary ({known})")
    return np.array([TOY_VOCABULARY.index(w) for w in words], dtype=np.int64)


def subscript(n: int) -> str:
    """The subscript of step n in an equation: h_3, h_{12}."""
    return str(n) if n < 10 else "{" + str(n) + "}"


def input_step(add: Add, t: str, x_t: Any, U: Array, blocks: str = "", name: str = "") -> Array:
    """The rows x_t and U x_t of step t; returns U x_t.

    An int `x_t` is a token id: x_t is then its one-hot vector o_t, and U x_t row x_t
    of U. `name` follows "x_t" in the label (" = e_t = E o_t", ...).
    """
    if isinstance(x_t, int):
        add("x", f"x_{t} = o_{t}, one-hot of id {x_t}", np.eye(1, len(U), x_t, dtype=np.int64)[0])
        return add("Ux", f"U x_{t} = row {x_t} of U{blocks}", U[x_t])
    add("x", f"x_{t}{name}", x_t)
    return add("Ux", f"U x_{t}{blocks}", x_t @ U)


#: Bidirectional merge_mode -> how the two states combine
MERGES = {"concat": "[{a}; {b}]", "sum": "{a} + {b}", "mul": "{a} * {b}", "ave": "({a} + {b}) / 2"}


def merge_step(add: Add, mode: str, h_fwd: Array, h_bwd: Array, name: str, fwd: str, bwd: str):
    """`name` = the forward state `fwd` and the backward state `bwd` merged by `mode`."""
    rule = MERGES[mode].format(a=f"forward {fwd}", b=f"backward {bwd}")
    if mode == "concat":
        return add("h", f"{name} = {rule}", np.concatenate([h_fwd, h_bwd]))
    merged = {"sum": h_fwd + h_bwd, "mul": h_fwd * h_bwd, "ave": (h_fwd + h_bwd) / 2}[mode]
    return add("h", f"{name} = {rule}", merged)


def pooling_step(add: Add, kind: str, H: Array, sym: str) -> Array:
    """p, the mean (kind "mean") or the entry-by-entry maximum ("max") of H (T, d)."""
    T = subscript(len(H))
    if kind == "max":
        p = add("p", f"p = max({sym}_1, .., {sym}_{T}), entry by entry", H.max(axis=0))
        add("argmax", "the step t of each maximum", H.argmax(axis=0) + 1)
        return p
    return add("p", f"p = ({sym}_1 + .. + {sym}_{T}) / {len(H)}", H.mean(axis=0))


def dense_step(add: Add, layer: Any, p: dict[str, Array], h: Array, sym: str, t: str = ""):
    """The output layer on one vector `h` (called `sym`): y_t = g(V h + c)."""
    g = layer.activation
    z = add("z", f"z{t} = V {sym} + c", h @ p["V"] + p["c"])
    return add("y", f"y{t} = {g}(V {sym} + c)", activate(g, z))


def output_words(y: Array, g: str, labels: list[str] | None) -> list[str]:
    """The output in the labels' words: P(label) of a sigmoid, the top three of a softmax."""
    if labels and g == "sigmoid" and y.size == 1 and len(labels) == 2:
        return [f"P({labels[1]}) = {y[0]:.4f}: {labels[int(y[0] >= 0.5)]}"]
    if labels and g == "softmax" and y.size == len(labels):
        top = np.argsort(-y, kind="stable")[:3]
        return ["most likely: " + ", ".join(f"{labels[k]!r} {y[k]:.4f}" for k in top)]
    return []
