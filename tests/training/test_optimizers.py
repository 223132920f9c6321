"""Row-sparse updates and argument checks of the optimizers.

An embedding's gradient touches only the rows of the ids in the batch, and the
optimizers are told which (``rows``). For SGD and Adagrad updating those rows alone is
exactly the dense update. Momentum and Adam are lazy: a row absent from the batch keeps
its value and its moments, where the dense rule would decay them and move the row.
(Dense updates are compared with torch.optim in test_torch_parity.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.training import SGD, Adagrad, Adam, Momentum, Optimizer, get_optimizer

N, D = 6, 3
#: the rows each step's gradient touches (the ids in that batch); row 5 never
STEP_ROWS = [np.array([0, 2]), np.array([2, 3]), np.array([1, 4]), np.array([0, 2, 3])]


def _sparse_grads(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, gradient) per step, the gradient zero outside its rows."""
    rng = np.random.default_rng(seed)
    steps = []
    for rows in STEP_ROWS:
        g = np.zeros((N, D))
        g[rows] = rng.normal(size=(len(rows), D))
        steps.append((rows, g))
    return steps


def _start(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, D))


@pytest.mark.parametrize(
    "make", [lambda: SGD(lr=0.1), lambda: Adagrad(lr=0.1)], ids=["sgd", "adagrad"]
)
def test_sparse_update_equals_dense_update(make):
    dense, sparse = _start(), _start()
    opt_dense, opt_sparse = make(), make()
    for rows, g in _sparse_grads():
        opt_dense.step([("E", dense, g, None)])
        opt_sparse.step([("E", sparse, g, rows)])
        np.testing.assert_array_equal(sparse, dense)
    for name, value in opt_dense.state.get("E", {}).items():
        np.testing.assert_array_equal(opt_sparse.state["E"][name], value, err_msg=name)
    np.testing.assert_array_equal(dense[5], _start()[5])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Momentum(lr=0.1, momentum=0.9),
        lambda: Momentum(lr=0.1, momentum=0.9, nesterov=True),
        lambda: Adam(lr=0.1),
    ],
    ids=["momentum", "nesterov", "adam"],
)
def test_lazy_update_leaves_untouched_rows_and_moments_alone(make):
    lazy = _start()
    opt = make()
    for rows, g in _sparse_grads():
        before = lazy.copy()
        state_before = {k: v.copy() for k, v in opt.state.get("E", {}).items()}
        untouched = np.setdiff1d(np.arange(N), rows)
        # the dense rule on the same state: it moves rows whose moments are nonzero
        shadow = make()
        shadow.iterations = opt.iterations
        shadow.state = {"E": {k: v.copy() for k, v in state_before.items()}}
        dense = before.copy()
        shadow.step([("E", dense, g, None)])
        opt.step([("E", lazy, g, rows)])
        np.testing.assert_array_equal(lazy[untouched], before[untouched])
        for name, value in opt.state["E"].items():
            if name in state_before:
                np.testing.assert_array_equal(value[untouched], state_before[name][untouched])
            # the touched rows get exactly the dense rule
            np.testing.assert_array_equal(value[rows], shadow.state["E"][name][rows])
        np.testing.assert_array_equal(lazy[rows], dense[rows])
    # by now rows with nonzero moments were skipped, which the dense rule would move
    assert not np.array_equal(lazy, dense)


def test_sparse_gradient_with_no_rows_changes_nothing():
    p = _start()
    g = np.ones((N, D))  # would move every row, were it used
    for opt in (SGD(), Momentum(), Adagrad(), Adam()):
        opt.step([("E", p, g, np.zeros(0, dtype=np.intp))])
        np.testing.assert_array_equal(p, _start())


def test_state_is_kept_per_key():
    opt = Momentum(lr=0.1, momentum=0.5)
    a, b = np.zeros(2), np.zeros(2)
    opt.step([("a", a, np.ones(2), None)])
    opt.step([("a", a, np.ones(2), None), ("b", b, np.ones(2), None)])
    np.testing.assert_allclose(a, [-0.25, -0.25])  # v = 1, then 1.5
    np.testing.assert_allclose(b, [-0.1, -0.1])  # its own v starts at zero


# -- arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan])
@pytest.mark.parametrize("cls", [SGD, Momentum, Adagrad, Adam])
def test_bad_learning_rate_is_a_config_error(cls, lr):
    with pytest.raises(ConfigError, match="lr="):
        cls(lr=lr)


@pytest.mark.parametrize(
    ("beta1", "beta2"), [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, -0.5), (math.nan, 0.9)]
)
def test_bad_adam_betas_are_a_config_error(beta1, beta2):
    with pytest.raises(ConfigError, match="beta1="):
        Adam(beta1=beta1, beta2=beta2)


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5])
def test_bad_momentum_is_a_config_error(momentum):
    with pytest.raises(ConfigError, match="momentum="):
        Momentum(momentum=momentum)


@pytest.mark.parametrize("name", ["rmsprop", "", "ada grad"])
def test_unknown_optimizer_name_is_a_config_error(name):
    with pytest.raises(ConfigError, match="not one of sgd, momentum, adagrad, adam"):
        get_optimizer(name)


def test_get_optimizer_by_name_and_instance():
    for name, cls in [("sgd", SGD), ("Momentum", Momentum), ("ADAGRAD", Adagrad), ("adam", Adam)]:
        opt = get_optimizer(name, lr=0.5)
        assert type(opt) is cls and opt.lr == 0.5
    assert get_optimizer("adam").lr == Adam().lr
    mine: Optimizer = SGD(lr=0.2)
    assert get_optimizer(mine) is mine
    with pytest.raises(ConfigError, match="lr="):
        get_optimizer("sgd", lr=0.0)
