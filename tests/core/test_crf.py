"""The linear-chain CRF of rnnkit.core.crf and the scheme constraints of rnnkit.core.crf_tags.

Specified here: log Z, the NLL, the marginals and the Viterbi path and score equal brute-force
enumeration of all K^L paths (L <= 4, K <= 4) in float64 to 1e-10, with and without
pads and BIO / IOBES constraints; the NLL's gradients by E, A, start and end pass a
numerical check on a padded batch of mixed lengths; pads get no gradient; ties are
broken towards the lowest tag; with BIO constraints Viterbi never decodes I-X after O
or after B-Y; the tables of allowed transitions of BIO and IOBES; and the errors.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.core.crf import (
    Constraints,
    crf_log_partition,
    crf_marginals,
    crf_nll,
    crf_score,
    crf_viterbi,
    logsumexp,
)
from rnnkit.core.crf_tags import tag_constraints
from rnnkit.errors import ConfigError, DataError, ShapeError

BIO = ["B-X", "I-X", "O", "I-Y"]  # K = 4, I-Y with no B-Y: I-Y is never reachable
IOBES = ["O", "B-X", "E-X", "S-X"]
LENGTHS = np.array([4, 1, 3, 2])


def _problem(K: int, lengths: np.ndarray, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    B, T = len(lengths), int(lengths.max())
    E = rng.normal(size=(B, T, K)).astype(dtype)
    A, s, e = (rng.normal(size=shape).astype(dtype) for shape in ((K, K), (K,), (K,)))
    mask = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
    return E, A, s, e, mask


def _paths(E, A, s, e, L, constraints):
    """Every allowed path of length L of sentence E (T, K) and its score, by loops."""
    K = E.shape[1]
    for path in itertools.product(range(K), repeat=L):
        if constraints is not None:
            allowed, ok_start, ok_end = constraints
            if not (ok_start[path[0]] and ok_end[path[-1]]):
                continue
            if not all(allowed[i, j] for i, j in itertools.pairwise(path)):
                continue
        score = s[path[0]] + e[path[-1]]
        score += sum(E[t, y] for t, y in enumerate(path))
        score += sum(A[i, j] for i, j in itertools.pairwise(path))
        yield path, score


CASES = [
    pytest.param(None, 3, id="K3-free"),
    pytest.param(None, 4, id="K4-free"),
    pytest.param(tag_constraints(BIO, "BIO"), 4, id="BIO"),
    pytest.param(tag_constraints(IOBES, "IOBES"), 4, id="IOBES"),
]


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize(("constraints", "K"), CASES)
def test_log_z_nll_and_viterbi_equal_enumeration(constraints, K, padded):
    lengths = LENGTHS if padded else np.full(4, 4)
    E, A, s, e, mask = _problem(K, lengths, seed=K)
    rng = np.random.default_rng(1)
    gold = rng.integers(0, K, size=mask.shape)  # anything at pads
    want_z, want_best, want_path = [], [], []
    for b, L in enumerate(lengths):
        paths = dict(_paths(E[b], A, s, e, int(L), constraints))
        assert paths, "every case has an allowed path"
        want_z.append(logsumexp(np.array(list(paths.values())), axis=0))
        best = max(paths, key=paths.__getitem__)
        want_best.append(paths[best])
        want_path.append(best)
        gold[b, :L] = list(paths)[rng.integers(len(paths))]  # an allowed gold path
    want_z = np.array(want_z)
    np.testing.assert_allclose(crf_log_partition(E, A, s, e, mask, constraints), want_z, 0, 1e-10)

    nll, _ = crf_nll(E, A, s, e, gold, mask, constraints)
    want_nll = [
        want_z[b] - dict(_paths(E[b], A, s, e, int(L), None))[tuple(gold[b, :L])]
        for b, L in enumerate(lengths)
    ]
    np.testing.assert_allclose(nll, want_nll, rtol=0, atol=1e-10)

    paths, scores = crf_viterbi(E, A, s, e, mask, constraints)
    assert [tuple(p.tolist()) for p in paths] == want_path
    np.testing.assert_allclose(scores, want_best, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("constraints", "K"), CASES)
def test_marginals_equal_enumeration_and_are_zero_at_pads(constraints, K):
    E, A, s, e, mask = _problem(K, LENGTHS, seed=K)
    got = crf_marginals(E, A, s, e, mask, constraints)  # (B, T, K)
    for b, L in enumerate(LENGTHS):
        paths = dict(_paths(E[b], A, s, e, int(L), constraints))
        log_z = logsumexp(np.array(list(paths.values())), axis=0)
        want = np.zeros((int(L), K))
        for path, score in paths.items():
            want[np.arange(int(L)), path] += np.exp(score - log_z)
        np.testing.assert_allclose(got[b, :L], want, rtol=0, atol=1e-12)
        assert not got[b, L:].any()


@pytest.mark.parametrize("constraints", [None, tag_constraints(BIO, "BIO")], ids=["free", "BIO"])
def test_nll_gradients_match_numerical_ones(constraints):
    K = 4
    E, A, s, e, mask = _problem(K, np.array([4, 2, 3, 1]), seed=3)
    gold = np.array([[0, 1, 1, 2], [2, 0, 3, 3], [0, 2, 0, 0], [2, 1, 1, 1]])  # BIO-valid

    def f() -> float:
        return float(crf_nll(E, A, s, e, gold, mask, constraints)[0].sum())

    _, g = crf_nll(E, A, s, e, gold, mask, constraints)
    params = {"E": E, "A": A, "start": s, "end": e}
    check_gradients(f, params, {"E": g.dE, "A": g.dA, "start": g.dstart, "end": g.dend})


def test_pads_get_no_gradient_and_each_real_step_sums_to_zero():
    E, A, s, e, mask = _problem(3, LENGTHS)
    _, g = crf_nll(E, A, s, e, np.zeros(mask.shape, dtype=int), mask)
    assert (g.dE[~mask] == 0).all()
    # sum_k P(y_t = k) - 1 = 0 at every real step; sum_ij of dA: (L - 1) pairs less (L - 1)
    np.testing.assert_allclose(g.dE.sum(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose([g.dA.sum(), g.dstart.sum(), g.dend.sum()], 0.0, atol=1e-12)


def test_the_score_of_a_path_ignores_what_lies_at_pads():
    E, A, s, e, mask = _problem(3, LENGTHS)
    tags = np.zeros(mask.shape, dtype=int)
    other = np.where(mask, tags, 2)
    np.testing.assert_array_equal(
        crf_score(E, A, s, e, tags, mask), crf_score(E, A, s, e, other, mask)
    )


def test_float32_agrees_with_float64():
    E, A, s, e, mask = _problem(5, LENGTHS)
    gold = np.ones(mask.shape, dtype=int)
    nll64, g64 = crf_nll(E, A, s, e, gold, mask)
    f32 = [x.astype(np.float32) for x in (E, A, s, e)]
    nll32, g32 = crf_nll(*f32, gold, mask)
    assert nll32.dtype == g32.dE.dtype == g32.dA.dtype == np.float32
    # float32 rounding of sums of a dozen terms of order 1: a few 1e-7 relative
    np.testing.assert_allclose(nll32, nll64, rtol=1e-5)
    np.testing.assert_allclose(g32.dE, g64.dE, atol=1e-5)


def test_ties_go_to_the_lowest_tag():
    E = np.zeros((2, 3, 4))
    mask = np.array([[True, True, True], [True, True, False]])
    z = np.zeros(4)
    paths, _ = crf_viterbi(E, np.zeros((4, 4)), z, z, mask)
    assert [p.tolist() for p in paths] == [[0, 0, 0], [0, 0]]


def _bio_valid(names: list[str]) -> bool:
    prev = "O"
    for tag in names:
        if tag.startswith("I-") and prev not in (f"B-{tag[2:]}", tag):
            return False
        prev = tag
    return True


def test_viterbi_with_bio_constraints_never_decodes_a_stray_i():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    constraints = tag_constraints(tags, "BIO")
    rng = np.random.default_rng(7)
    K, lengths = len(tags), rng.integers(1, 12, size=64)
    free_invalid = 0
    for seed in range(20):
        E, A, s, e, mask = _problem(K, lengths, seed=seed)
        E[:, :, 2::2] += 1.5  # the I- tags look good: unconstrained decoding strays
        for path in crf_viterbi(E, A, s, e, mask, constraints)[0]:
            assert _bio_valid([tags[k] for k in path]), [tags[k] for k in path]
        free = crf_viterbi(E, A, s, e, mask)[0]
        free_invalid += sum(not _bio_valid([tags[k] for k in p]) for p in free)
    assert free_invalid > 100, "the cases do test the constraints"


def test_bio_table():
    c = tag_constraints(["O", "B-X", "I-X", "B-Y", "I-Y"], "IOB2")
    ok = {(p, n) for p in range(5) for n in range(5) if c.allowed[p, n]}
    inside = {(p, n) for p, n in ok if n in (2, 4)}
    assert inside == {(1, 2), (2, 2), (3, 4), (4, 4)}  # I-X only after B-X or I-X
    assert len(ok) == 25 - 6  # O, B-*, and the other type cannot precede an I-
    assert c.start.tolist() == [True, True, False, True, False]
    assert c.end.all()


def test_iobes_table():
    tags = ["O", "B-X", "I-X", "E-X", "S-X", "B-Y", "E-Y"]
    c = tag_constraints(tags, "BIOES")
    allowed = {(tags[p], tags[n]) for p, n in zip(*np.nonzero(c.allowed), strict=True)}
    closed = ["O", "E-X", "S-X", "E-Y"]
    opening = ["O", "B-X", "S-X", "B-Y"]
    want = {(p, n) for p in closed for n in opening}
    want |= {(p, n) for p in ("B-X", "I-X") for n in ("I-X", "E-X")} | {("B-Y", "E-Y")}
    assert allowed == want
    assert [tags[k] for k in np.flatnonzero(c.start)] == opening
    assert [tags[k] for k in np.flatnonzero(c.end)] == closed


def test_special_tags_are_never_allowed():
    c = tag_constraints(["<pad>", "O", "B-X", "I-X"], "BIO")
    assert not c.allowed[0].any() and not c.allowed[:, 0].any()
    assert not c.start[0] and not c.end[0]


@pytest.mark.parametrize(
    ("tags", "scheme", "match"),
    [
        (["O", "E-X"], "BIO", "'E-X' is not O or one of B, I"),
        (["O", "NN"], "IOBES", "'NN'"),
        (["O"], "BILOU", "scheme='BILOU'"),
    ],
)
def test_tag_constraints_refuse_what_the_scheme_cannot_read(tags, scheme, match):
    with pytest.raises(ConfigError, match=match):
        tag_constraints(tags, scheme)


def test_errors():
    E, A, s, e, mask = _problem(3, LENGTHS)
    gold = np.zeros(mask.shape, dtype=int)
    with pytest.raises(ShapeError, match="mask has shape"):
        crf_nll(E, A, s, e, gold, mask[:, :2])
    holed = mask.copy()
    holed[0, 1] = False  # a pad between real tokens
    with pytest.raises(ShapeError, match="real tokens first"):
        crf_log_partition(E, A, s, e, holed)
    with pytest.raises(ShapeError, match="at least one real token"):
        crf_viterbi(E, A, s, e, np.zeros_like(mask))
    with pytest.raises(ShapeError, match="do not fit K=3"):
        crf_log_partition(E, A[:2], s, e)
    with pytest.raises(ShapeError, match=r"lie in \[0, 3\)"):
        crf_nll(E, A, s, e, gold + 3, mask)
    with pytest.raises(ShapeError, match="constraints have shapes"):
        crf_log_partition(E, A, s, e, mask, Constraints(np.ones((2, 2)), s > 0, s > 0))
    bio = tag_constraints(["O", "B-X", "I-X"], "BIO")
    gold[0, 0] = 2  # a sentence beginning with I-X
    with pytest.raises(DataError, match="gold tags of sentence 0 break"):
        crf_nll(E, A, s, e, gold, mask, bio)
