"""The CRF layer: its loss, decoding and parameters, against pytorch-crf and by numbers.

Specified here: with the same weights, the layer's log-likelihood of every sentence
and its gradients by the emissions, ``A``, ``start`` and ``end`` equal pytorch-crf's
(``transitions``, ``start_transitions``, ``end_transitions``) in float64, and so do the
Viterbi paths, on a padded batch of mixed lengths; :meth:`CRF.loss` is the mean NLL
over sentences, its dE and the gradients it adds pass a numerical check and accumulate
from call to call; the constraints follow the config; the marginals sum to one and
are the emissions' part of the gradient; and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import check_against_torch, check_gradients
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import CRF, Spec

LENGTHS = np.array([5, 2, 4, 1, 3])
K = 4


def _layer(dtype: str = "float64", **kw) -> CRF:
    crf = CRF(dtype=dtype, **kw)
    crf.build(Spec("features", K), np.random.default_rng(0))
    rng = np.random.default_rng(1)  # scores of order 1, larger than the init's
    crf.set_weights([rng.normal(size=(K, K)), rng.normal(size=K), rng.normal(size=K)])
    return crf


def _batch(seed: int = 2):
    rng = np.random.default_rng(seed)
    B, T = len(LENGTHS), int(LENGTHS.max())
    E = rng.normal(size=(B, T, K))
    tags = rng.integers(0, K, size=(B, T))
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    return E, tags, mask


def test_log_likelihood_gradients_and_paths_equal_pytorch_crf(torch):
    torchcrf = pytest.importorskip("torchcrf")
    crf = _layer()
    E, tags, mask = _batch()
    theirs = torchcrf.CRF(K, batch_first=True).double()
    with torch.no_grad():
        theirs.transitions.copy_(torch.from_numpy(crf.params["A"]))
        theirs.start_transitions.copy_(torch.from_numpy(crf.params["start"]))
        theirs.end_transitions.copy_(torch.from_numpy(crf.params["end"]))
    E_t = torch.tensor(E, requires_grad=True)
    tags_t, mask_t = torch.from_numpy(tags), torch.from_numpy(mask)
    llh_t = theirs(E_t, tags_t, mask_t, reduction="none")  # (B,)
    (-llh_t.sum()).backward()

    loss, dE = crf.loss(E, tags, mask, reduction="sum")
    check_against_torch(
        {
            "log-likelihood": (crf.log_likelihood(E, tags, mask), llh_t),
            "loss": (loss, -llh_t.sum()),
        },
        {
            "emissions": (dE, E_t.grad),
            "A": (crf.grads["A"], theirs.transitions.grad),
            "start": (crf.grads["start"], theirs.start_transitions.grad),
            "end": (crf.grads["end"], theirs.end_transitions.grad),
        },
        # log Z sums K^T terms in another order: float64 rounding of order 1e-15
        rtol=1e-12,
        atol=1e-12,
    )
    ours = [p.tolist() for p in crf.decode(E, mask)]
    assert ours == theirs.decode(E_t.detach(), mask_t)


def test_loss_is_the_mean_nll_and_its_gradients_pass_a_numerical_check():
    crf = _layer()
    E, tags, mask = _batch()

    def f() -> float:
        return float(-crf.log_likelihood(E, tags, mask).mean())

    crf.zero_grad()
    loss, dE = crf.loss(E, tags, mask)
    assert loss == pytest.approx(f(), rel=1e-14)
    assert (dE[~mask] == 0).all()
    grads = {k: g.copy() for k, g in crf.grads.items()}
    check_gradients(f, {"E": E, **crf.params}, {"E": dE, **grads})


def test_loss_adds_into_the_gradients():
    crf = _layer()
    E, tags, mask = _batch()
    crf.zero_grad()
    crf.loss(E, tags, mask)
    once = {k: g.copy() for k, g in crf.grads.items()}
    crf.loss(E, tags, mask)
    for k, g in crf.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-15, err_msg=k)
    total, _ = crf.loss(E, tags, mask, reduction="sum")
    assert total == pytest.approx(len(LENGTHS) * crf.loss(E, tags, mask)[0], rel=1e-14)


def test_forward_passes_the_emissions_through_and_backward_passes_dy_back():
    crf = _layer(dtype="float32")
    E, _, mask = _batch()
    y, cache = crf.forward(E, mask)
    assert y.dtype == np.float32 and not np.shares_memory(y, E)
    np.testing.assert_array_equal(y, E.astype(np.float32))
    crf.zero_grad()
    np.testing.assert_array_equal(crf.backward(E, cache), y)
    assert all((g == 0).all() for g in crf.grads.values())


def test_constraints_come_from_the_config_and_bind_decoding():
    tags = ["O", "B-X", "I-X", "E-X"]
    crf = _layer(tags=tags, scheme="IOBES")
    twin = CRF(**crf.get_config())
    assert (
        twin.get_config()
        == crf.get_config()
        == {
            "tags": tags,
            "scheme": "IOBES",
            "name": None,
            "dtype": "float64",
        }
    )
    E, _, mask = _batch()
    E[:, :, 2] += 10.0  # I-X everywhere, were it allowed
    for path in crf.decode(E, mask):
        names = [tags[k] for k in path]
        assert names[0] != "I-X" and names[-1] not in ("B-X", "I-X"), names


def test_marginals_are_the_gradient_of_log_z_and_sum_to_one():
    crf = _layer(tags=["O", "B-X", "I-X", "B-Y"], scheme="BIO")
    E, tags, mask = _batch()
    tags[:, 0] = 0  # O: an allowed gold path wherever it goes on with O or B-
    tags[tags == 2] = 3
    p = crf.marginals(E, mask)  # (B, T, K)
    np.testing.assert_allclose(p.sum(axis=2), mask.astype(float), rtol=0, atol=1e-12)
    assert (p[:, 0, 2] == 0).all()  # no sentence begins with I-X
    # d(-log p(gold))/dE = P(y_t = k) - [gold_t = k], the marginals minus the gold
    crf.zero_grad()
    _, dE = crf.loss(E, tags, mask, reduction="sum")
    onehot = (tags[:, :, None] == np.arange(K)) & mask[:, :, None]
    np.testing.assert_allclose(dE, p - onehot, rtol=0, atol=1e-12)


def test_float32_loss():
    crf = _layer(dtype="float32")
    E, tags, mask = _batch()
    loss, dE = crf.loss(E, tags, mask)
    assert dE.dtype == np.float32 and all(g.dtype == np.float32 for g in crf.grads.values())
    want = -_layer().log_likelihood(E, tags, mask).mean()
    assert loss == pytest.approx(want, rel=1e-5)  # float32 rounding of sums of ~20 terms


def test_errors():
    with pytest.raises(ConfigError, match="needs the tag names"):
        CRF(scheme="BIO")
    with pytest.raises(ShapeError, match="2 tag names for 4 tag scores"):
        CRF(tags=["O", "B-X"]).build(Spec("features", K), np.random.default_rng(0))
    with pytest.raises(ShapeError, match="per-step scores"):
        CRF().build(Spec("features", K, time=False), np.random.default_rng(0))
    crf = _layer()
    E, tags, mask = _batch()
    with pytest.raises(ShapeError, match=r"emissions need shape \(B, T, 4\)"):
        crf.decode(E[:, :, :3], mask)
    with pytest.raises(ConfigError, match="reduction='token_mean'"):
        crf.loss(E, tags, mask, reduction="token_mean")
    with pytest.raises(ConfigError, match="not built"):
        CRF().decode(E)


def test_partial_log_likelihood_sums_the_paths_through_the_given_tags():
    crf = _layer()
    E, tags, mask = _batch()
    assert np.allclose(crf.partial_log_likelihood(E, tags, mask), crf.log_likelihood(E, tags, mask))
    free = tags.copy()
    free[0, 2] = -1  # step 2 of the first sentence may take any tag
    by_tag = [crf.log_likelihood(E, np.where(free < 0, k, free), mask)[0] for k in range(K)]
    expected = np.log(np.sum(np.exp(by_tag)))
    partial = crf.partial_log_likelihood(E, free, mask)
    assert partial[0] == pytest.approx(expected, abs=1e-9)
    assert np.allclose(partial[1:], crf.log_likelihood(E, tags, mask)[1:])
