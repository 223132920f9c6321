"""Every layer class by name, for rebuilding a layer from its ``{"class", "config"}``.

A wrapper (:class:`~rnnkit.layers.Bidirectional`, :class:`~rnnkit.layers.TimeDistributed`)
rebuilds the layer it wraps from a model's JSON config, and may wrap another wrapper, so
the lookup needs every class, its own included. The classes are listed once, in
:mod:`rnnkit.layers`, which fills :data:`LAYERS` as it imports them; this module imports
no layer, so the wrappers can read the registry without importing the modules that
import them.

>>> import rnnkit.layers
>>> layer_from_config({"class": "Dense", "config": {"units": 2}}).get_config()["units"]
2
>>> layer_from_config({"class": "Conv1D", "config": {}})
Traceback (most recent call last):
    ...
rnnkit.errors.ConfigError: layer class 'Conv1D' is not one of Bidirectional, ...

The recurrent layer of every registered cell (:mod:`rnnkit.core.cells`) is found too,
whether or not :data:`LAYERS` lists it, so a model of a newly registered cell loads:

>>> layer_class("LSTM").__name__
'LSTM'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnkit.core.cells import cell_names
from rnnkit.errors import ConfigError
from rnnkit.layers.base import Layer
from rnnkit.layers.recurrent import cell_layer

__all__ = ["LAYERS", "layer_class", "layer_from_config"]

#: every layer class by name, for rebuilding a model from its config (filled by
#: :mod:`rnnkit.layers`)
LAYERS: dict[str, type[Layer]] = {}


def layer_from_config(layer: Layer | Mapping[str, Any]) -> Layer:
    """A new, unbuilt layer from ``{"class": name, "config": {...}}``, or a copy of `layer`.

    The class is looked up in :data:`LAYERS`, so any registered layer can be wrapped
    (and rebuilt from a model's JSON config).
    """
    if isinstance(layer, Layer):
        return type(layer)(**layer.get_config())
    if not isinstance(layer, Mapping) or set(layer) != {"class", "config"}:
        raise ConfigError(
            f"layer={layer!r}: give a Layer or a dict {{'class': name, 'config': {{...}}}}"
        )
    return layer_class(layer["class"])(**layer["config"])


def layer_class(name: str) -> type[Layer]:
    """The layer class called `name`: one of :data:`LAYERS`, or the layer of a registered
    cell (a cell registered after this package was imported included).

    A ConfigError names the known classes. Only classes rnnkit or its caller defined
    and registered are ever found: a name in a model file never imports anything.
    """
    cls = LAYERS.get(name)
    if cls is not None:
        return cls
    cells = {}
    for cell in cell_names():
        try:
            layer = cell_layer(cell)
        except ConfigError:  # a cell registered without a layer class yet
            continue
        cells[layer.__name__] = layer
    if name in cells:
        return cells[name]
    known = ", ".join([*LAYERS, *(c for c in cells if c not in LAYERS)])
    raise ConfigError(f"layer class {name!r} is not one of {known}")
