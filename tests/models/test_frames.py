"""The task models of real-valued sequences: FrameClassifier, FrameTagger, FrameRegressor.

Their networks are checked whole, as they are built from the settings: every parameter
and the real-valued input x itself by central differences in float64 through
``train_batch`` on padded batches of unequal lengths, with the MSE loss per sequence
and per frame; then standardisation, save and load, bad input, and the real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reference import check_gradients
from rnnkit.data import read_frames
from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.models import FrameClassifier, FrameRegressor, FrameTagger, load_model
from rnnkit.models.heads import compute_loss
from rnnkit.training import SequenceDataset

VOWELS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "japanese_vowels"
LENGTHS = (5, 2, 4, 1, 3)
F = 3


def _frames(seed: int = 0, lengths=LENGTHS) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    # feature scales 1, 10 and 100 around offsets, as raw sensor readings come
    return [rng.normal(size=(n, F)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0] for n in lengths]


def _small(cls, **settings):
    base = dict(hidden=4, epochs=1, lr=1e-3, seed=0, verbose=0, dtype="float64")
    return cls(**{**base, **settings})


def _check_network_and_input(model, xs, targets) -> None:
    """Every parameter and dL/dx of the fitted network, on one padded batch."""
    net = model.model_
    per_step = net.output_spec.time
    data = SequenceDataset(model._frames(xs), targets, per_step=per_step)
    batch = data.batch(np.arange(len(xs)))
    assert not batch.mask.all()  # padded
    rng = np.random.default_rng(5)
    for _, p, _, _ in net.param_slots():  # no zero bias: every path carries gradient
        if p.ndim == 1 or (p.ndim == 2 and p.shape[0] == 2):
            p[...] = rng.normal(scale=0.3, size=p.shape)

    def loss() -> float:
        out, _ = net.forward(batch.x, batch.mask, training=False, logits=True)
        mask = batch.mask if per_step else None
        return compute_loss(net.loss, out, batch.y, mask, net.reduction)[0]

    net.zero_grad()
    out, caches = net.forward(batch.x, batch.mask, training=True, logits=True)
    mask = batch.mask if per_step else None
    _, dout, _, _ = compute_loss(net.loss, out, batch.y, mask, net.reduction)
    dx = net.backward(dout, caches)
    slots = net.param_slots()
    params = {k: p for k, p, _, _ in slots}
    grads = {k: g.copy() for k, _, g, _ in slots}
    check_gradients(loss, {**params, "x": batch.x}, {**grads, "x": dx})
    assert (dx[~batch.mask] == 0).all(), "a pad frame got gradient"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_classifier_gradients(cell: str, pooling: str) -> None:
    xs = _frames()
    labels = ["a", "b", "c", "a", "b"]
    model = _small(FrameClassifier, cell=cell, pooling=pooling).fit(xs, labels)
    _check_network_and_input(model, xs, model._label_ids(labels))


def test_binary_classifier_uses_one_sigmoid_output() -> None:
    xs = _frames()
    model = _small(FrameClassifier, cell="gru").fit(xs, ["no", "yes", "no", "yes", "yes"])
    assert model.model_.output_layer.units == 1 and model.model_.loss == "binary_crossentropy"
    _check_network_and_input(model, xs, model._label_ids(["no", "yes", "no", "yes", "yes"]))
    assert model.predict_proba(xs).shape == (5, 2)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tagger_gradients(cell: str) -> None:
    xs = _frames(1)
    tags = [np.array(["s", "v"] * 3)[: len(x)].tolist() for x in xs]
    model = _small(FrameTagger, cell=cell).fit(xs, tags)
    assert model.settings["bidirectional"]
    _check_network_and_input(model, xs, model._tag_ids(tags))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("kind", ["scalar", "vector"])
def test_regressor_per_sequence_gradients(cell: str, kind: str) -> None:
    xs = _frames(2)
    rng = np.random.default_rng(2)
    targets = rng.normal(size=5) if kind == "scalar" else rng.normal(size=(5, 2))
    model = _small(FrameRegressor, cell=cell, pooling="mean").fit(xs, targets)
    _check_network_and_input(model, xs, model._scaled_targets(targets))


@pytest.mark.parametrize("reduction", ["sequence_mean", "token_mean"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_per_frame_and_forecast_gradients(cell: str, reduction: str) -> None:
    xs = _frames(3)
    rng = np.random.default_rng(3)
    targets = [rng.normal(size=(len(x), 2)) for x in xs]
    model = _small(FrameRegressor, cell=cell, reduction=reduction, bidirectional=True)
    model.fit(xs, targets)
    _check_network_and_input(model, xs, model._scaled_targets(targets))
    longer = _frames(4, lengths=(6, 3, 5, 2, 4))
    fc = _small(FrameRegressor, cell=cell, forecast=1, reduction=reduction).fit(longer)
    inputs, shifted, per_step = fc._pairs(longer, None)
    assert per_step and [len(t) for t in shifted] == [5, 2, 4, 1, 3]
    np.testing.assert_array_equal(shifted[0], longer[0][1:])
    _check_network_and_input(fc, inputs, fc._scaled_targets(shifted))


# -- behaviour -----------------------------------------------------------------------------
def test_standardisation_is_fitted_on_training_frames_only() -> None:
    xs = _frames()
    model = _small(FrameClassifier).fit(xs, ["a", "b"] * 2 + ["a"])
    pooled = np.concatenate(xs)
    np.testing.assert_allclose(model.scaler_.mean, pooled.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.scaler_.std, pooled.std(axis=0), rtol=1e-12)
    scaled = np.concatenate(model._frames(xs))
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-12)
    raw = _small(FrameClassifier, standardize=False).fit(xs, ["a", "b"] * 2 + ["a"])
    assert raw.scaler_ is None
    np.testing.assert_array_equal(raw._frames(xs)[0], xs[0])


def test_learns_a_real_valued_rule_and_survives_save_and_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(int(n), 2)) for n in rng.integers(3, 12, size=200)]
    labels = ["up" if x[:, 0].sum() > 0 else "down" for x in xs]  # must read every frame
    model = FrameClassifier(hidden=16, epochs=30, lr=0.01, pooling="mean", seed=0, verbose=0)
    model.fit(xs[:160], labels[:160], valid=(xs[160:], labels[160:]), features=["a", "b"])
    report = model.evaluate(xs[160:], labels[160:])
    assert report.accuracy >= 0.9
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert isinstance(again, FrameClassifier) and again.features_ == ["a", "b"]
    np.testing.assert_array_equal(again.predict_proba(xs), model.predict_proba(xs))


def test_regressor_round_trip_and_shapes(tmp_path: Path) -> None:
    xs = _frames(6)
    per_seq = _small(FrameRegressor).fit(xs, np.arange(5.0))
    assert per_seq.predict(xs).shape == (5,)
    report = per_seq.evaluate(xs, np.arange(5.0))
    assert report.n == 5 and report.mse == pytest.approx(
        np.mean((per_seq.predict(xs) - np.arange(5.0)) ** 2)
    )
    vector = _small(FrameRegressor).fit(xs, np.ones((5, 3)))
    assert vector.predict(xs).shape == (5, 3) and vector.evaluate(xs, np.ones((5, 3))).n == 5
    per_frame = _small(FrameRegressor).fit(xs, [np.ones((len(x), 2)) for x in xs])
    assert [p.shape for p in per_frame.predict(xs)] == [(n, 2) for n in LENGTHS]
    for i, model in enumerate((per_seq, per_frame)):
        model.save(tmp_path / str(i))
        again = load_model(tmp_path / str(i))
        assert isinstance(again, FrameRegressor) and again.per_step_ == model.per_step_
        a, b = model.predict(xs), again.predict(xs)
        for p, q in zip(a, b, strict=True):
            np.testing.assert_array_equal(p, q)


def test_max_len_cuts_training_sequences_and_their_targets() -> None:
    xs = _frames(8)  # lengths 5, 2, 4, 1, 3
    tags = [["a", "b"] * 3 for _ in xs]
    tags = [t[: len(x)] for t, x in zip(tags, xs, strict=True)]
    tagger = _small(FrameTagger, max_len=3).fit(xs, tags)
    assert tagger.truncated_ == 2
    assert [len(p) for p in tagger.predict(xs)] == list(LENGTHS)  # prediction reads it all
    reg = _small(FrameRegressor, max_len=2).fit(xs, [np.ones((len(x), 2)) for x in xs])
    assert reg.truncated_ == 3
    assert _small(FrameClassifier).fit(xs, ["a", "b"] * 2 + ["a"]).truncated_ == 0
    with pytest.raises(ConfigError, match="max_len=0"):
        FrameClassifier(max_len=0)


def test_regression_reports_no_accuracy(capsys) -> None:
    xs = _frames(7)
    model = _small(FrameRegressor, verbose=1, epochs=2)
    model.fit(xs, np.arange(5.0), valid=(xs, np.arange(5.0)))
    assert all("accuracy" not in k for e in model.history_.epochs for k in e)
    line = capsys.readouterr().out.splitlines()[-1]
    assert "val_loss" in line and "acc" not in line
    with pytest.raises(ConfigError, match="no accuracy; use 'val_loss'"):
        _small(FrameRegressor, monitor="val_accuracy").fit(xs, np.ones(5), valid=(xs, np.ones(5)))


def test_forecast_beats_persistence_on_waves() -> None:
    t = np.linspace(0, 12, 80)
    waves = [np.sin(t[i : i + 30] * (1 + 0.02 * i))[:, None] for i in range(0, 48, 2)]
    model = FrameRegressor(forecast=2, hidden=16, epochs=80, lr=0.01, seed=0, verbose=0)
    report = model.fit(waves[:18]).evaluate(waves[18:])
    assert report.baseline_mse is not None and report.mse < 0.3 * report.baseline_mse
    assert report.n == sum(len(w) - 2 for w in waves[18:])
    assert set(report.to_dict()) >= {"mse", "rmse", "mae", "r2", "n", "baseline_mse", "skill"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, xs: m.fit([*xs[:2], np.zeros((0, F))], ["a", "b", "a"]), r"sequence 3 has no"),
        (lambda m, xs: m.fit([*xs[:2], np.full((2, F), np.nan)], ["a", "b", "a"]), r"3, step"),
        (lambda m, xs: m.fit([*xs[:2], np.zeros((2, 4))], ["a", "b", "a"]), r"4 features, exp"),
        (lambda m, xs: m.fit(xs, ["a"] * 5), r"only one class"),
        (lambda m, xs: m.fit(xs, ["a", "b"]), r"5 sequences but 2 labels"),
    ],
)
def test_bad_training_input_names_the_sequence(call, message) -> None:
    with pytest.raises(DataError, match=message):
        call(_small(FrameClassifier), _frames())


def test_bad_input_after_training() -> None:
    xs = _frames()
    model = _small(FrameClassifier).fit(xs, ["a", "b", "c", "a", "b"])
    with pytest.raises(DataError, match=r"sequence 1 has 2 features, expected 3"):
        model.predict([np.zeros((4, 2))])
    with pytest.raises(DataError, match=r"sequence 2, step t=1: feature 3 is inf"):
        model.predict([xs[0], np.array([[0, 0, 0], [0, 0, np.inf]])])
    with pytest.raises(DataError, match="label 'z' was not seen"):
        model.evaluate(xs, ["a", "b", "c", "a", "z"])
    with pytest.raises(ConfigError, match="fit"):
        _small(FrameClassifier).predict(xs)
    reg = _small(FrameRegressor, forecast=2)
    with pytest.raises(DataError, match=r"sequence 2 has 2 steps; forecasting 2 ahead"):
        reg.fit(xs)
    with pytest.raises(DataError, match="takes its targets from the sequences"):
        reg.fit(xs, np.zeros(5))
    targets = [np.ones(len(x)) for x in xs]
    targets[1][1] = np.nan
    with pytest.raises(DataError, match=r"sequence 2, target at step 2: value 1 is nan"):
        _small(FrameRegressor).fit(xs, targets)
    fitted = _small(FrameRegressor).fit(xs, np.zeros(5))
    with pytest.raises(DataError, match="trained on targets per sequence"):
        fitted.evaluate(xs, [np.zeros(len(x)) for x in xs])
    with pytest.raises(ConfigError, match="forecast=0"):
        FrameRegressor(forecast=0)


def test_tampered_features_file_is_refused(tmp_path: Path) -> None:
    xs = _frames()
    _small(FrameClassifier).fit(xs, ["a", "b", "c", "a", "b"]).save(tmp_path / "m")
    path = tmp_path / "m" / "features.json"
    text = path.read_text()
    for bad, message in [
        (text.replace('"std": [', '"std": [-1.0, '), "std"),
        (text.replace('"features": [', '"features": ["extra", '), "4 features but a scaling of 3"),
        (text.replace('"mean": [', '"mean": ["x", '), "not a finite number"),
    ]:
        path.write_text(bad)
        with pytest.raises(ModelFileError, match=message):
            load_model(tmp_path / "m")


# -- the real data -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vowels():
    if not (VOWELS / "JapaneseVowels_TRAIN.csv").exists():
        pytest.skip(f"Japanese Vowels data not found at {VOWELS}")
    return read_frames(VOWELS / "JapaneseVowels_TRAIN.csv"), read_frames(
        VOWELS / "JapaneseVowels_TEST.csv"
    )


@pytest.mark.slow
def test_japanese_vowels_speakers(vowels) -> None:
    """Nine speakers from 12 LPC cepstra a frame: the defaults, 20 epochs (a second)."""
    train, test = vowels
    model = FrameClassifier(epochs=20, verbose=0).fit(train.sequences, train.labels)
    report = model.evaluate(test.sequences, test.labels)
    assert report.accuracy >= 0.93, report.format()


@pytest.mark.slow
def test_japanese_vowels_next_frame(vowels) -> None:
    """Forecasting the next cepstral frame: clearly better than repeating the last one."""
    train, test = vowels
    model = FrameRegressor(forecast=1, epochs=20, verbose=0).fit(train.sequences)
    report = model.evaluate(test.sequences)
    assert report.skill is not None and report.skill > 0.15, report.format()
    assert report.r2 > 0.9


@pytest.mark.slow
def test_japanese_vowels_per_frame_speaker_turns(vowels) -> None:
    """Per-frame labelling on real frames: two utterances joined end to end, each frame
    labelled with its speaker; the tagger has to find where the speaker changes."""
    train, test = vowels

    def joined(frames, n, seed):
        rng = np.random.default_rng(seed)
        pairs = rng.integers(0, len(frames), size=(n, 2))
        xs = [np.concatenate([frames.sequences[i], frames.sequences[j]]) for i, j in pairs]
        tags = [
            [frames.labels[i]] * len(frames.sequences[i])
            + [frames.labels[j]] * len(frames.sequences[j])
            for i, j in pairs
        ]
        return xs, tags

    model = FrameTagger(hidden=64, epochs=8, verbose=0)
    model.fit(*joined(train, 600, 0))
    report = model.evaluate(*joined(test, 300, 1))
    assert report.accuracy >= 0.85, report.format()
