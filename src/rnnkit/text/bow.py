"""The baseline every recurrent model must beat: bag of words + multinomial Naive Bayes.

A bag of words forgets word order: a text becomes the vector of its token counts
(or of its n-gram counts, with ``ngram_range=(1, 2)``). Naive Bayes then scores class k
as ``log P(k) + sum_w count(w) log P(w | k)``, with add-``alpha`` (Laplace) smoothing
of ``P(w | k)``. It trains in one pass over the counts.

The counting and the classifier are scikit-learn's ``CountVectorizer`` and
``MultinomialNB`` (the ``rnnkit[baseline]`` extra, imported only when a model is
built); tokens come from :func:`rnnkit.text.tokenize.word_tokenize`, as for the
recurrent models. A fitted model is saved without pickle:
:meth:`BagOfWordsNB.to_state` gives a JSON-able config and a dict of arrays, and
:meth:`BagOfWordsNB.from_state` rebuilds the same model from them.

>>> model = BagOfWordsNB().fit(
...     ["movie was good", "good acting", "movie was bad", "bad plot , bad acting"],
...     ["pos", "pos", "neg", "neg"])
>>> model.labels_
['neg', 'pos']
>>> model.predict(["good movie", "bad movie"])
['pos', 'neg']
>>> model.predict_proba(["good movie"]).round(3)
array([[0.176, 0.824]])
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError, DataError, ModelFileError
from rnnkit.text.tokenize import word_tokenize

__all__ = ["BagOfWordsNB"]

_BASELINE_HINT = "the bag-of-words baseline needs scikit-learn: pip install 'rnnkit[baseline]'"
_ARRAYS = ("feature_log_prob", "class_log_prior", "class_count", "feature_count")


def _sklearn() -> tuple[Any, Any]:
    """Import (CountVectorizer, MultinomialNB) or explain how to install them."""
    try:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.naive_bayes import MultinomialNB
    except ImportError as exc:
        raise ConfigError(_BASELINE_HINT) from exc
    return CountVectorizer, MultinomialNB


def _check_texts(texts: Sequence[str], name: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise DataError(f"{name}: expected a list of strings, got a single str")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise DataError(f"{name}[{i}]: expected str, got {type(text).__name__}")
    return out


class BagOfWordsNB:
    """Bag-of-words multinomial Naive Bayes text classifier (scikit-learn style).

    Parameters
    ----------
    lowercase : bool, default True
        Lower-case texts before tokenising.
    ngram_range : tuple of int, default (1, 1)
        Smallest and largest n-gram length counted; ``(1, 2)`` adds word pairs.
    alpha : float, default 1.0
        Additive smoothing of the word counts (1.0 is Laplace smoothing); > 0.
    min_df : int, default 1
        Drop n-grams that occur in fewer than ``min_df`` training texts.

    Attributes
    ----------
    labels_ : list of str
        The K class labels, sorted; column k of :meth:`predict_proba` is ``labels_[k]``.
    vectorizer_ : sklearn.feature_extraction.text.CountVectorizer
        The fitted counter; ``vectorizer_.vocabulary_`` maps n-gram -> column.
    model_ : sklearn.naive_bayes.MultinomialNB
        The fitted classifier, over class ids ``0 .. K-1``.
    """

    def __init__(
        self,
        lowercase: bool = True,
        ngram_range: tuple[int, int] = (1, 1),
        alpha: float = 1.0,
        min_df: int = 1,
    ) -> None:
        self.lowercase = lowercase
        self.ngram_range = ngram_range
        self.alpha = alpha
        self.min_df = min_df

    def _check_params(self) -> tuple[int, int]:
        lo_hi = tuple(self.ngram_range)
        if len(lo_hi) != 2 or not all(isinstance(n, int) for n in lo_hi):
            raise ConfigError(f"ngram_range: expected two ints, got {self.ngram_range!r}")
        lo, hi = lo_hi
        if not 1 <= lo <= hi:
            raise ConfigError(f"ngram_range: need 1 <= min <= max, got {self.ngram_range!r}")
        if not float(self.alpha) > 0:
            raise ConfigError(f"alpha: must be > 0, got {self.alpha!r}")
        if isinstance(self.min_df, bool) or not isinstance(self.min_df, int) or self.min_df < 1:
            raise ConfigError(f"min_df: expected an int >= 1, got {self.min_df!r}")
        return lo, hi

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        count_vectorizer, _ = _sklearn()
        return count_vectorizer(
            lowercase=False,  # word_tokenize lower-cases, when asked to
            tokenizer=functools.partial(word_tokenize, lower=bool(self.lowercase)),
            token_pattern=None,
            ngram_range=self._check_params(),
            min_df=self.min_df,
            vocabulary=vocabulary,
            dtype=np.float64,
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> BagOfWordsNB:
        """Count n-grams in ``texts`` and fit Naive Bayes to ``labels``.

        Parameters
        ----------
        texts : sequence of str, length N
            Training texts.
        labels : sequence of str, length N
            Class label of each text.

        Returns
        -------
        BagOfWordsNB
            ``self``, fitted.
        """
        texts = _check_texts(texts)
        labels = list(labels)
        if len(labels) != len(texts):
            raise DataError(f"labels: {len(labels)} labels for {len(texts)} texts")
        if not texts:
            raise DataError("texts: no training texts")
        for i, label in enumerate(labels):
            if not isinstance(label, str):
                raise DataError(f"labels[{i}]: expected str, got {type(label).__name__}")
        _, multinomial_nb = _sklearn()
        vectorizer = self._vectorizer()
        try:
            counts = vectorizer.fit_transform(texts)  # (N, V) sparse
        except ValueError as exc:  # empty vocabulary, or min_df above N
            raise DataError(f"texts: cannot build a vocabulary: {exc}") from exc
        self.labels_ = sorted(set(labels))
        index = {label: k for k, label in enumerate(self.labels_)}
        y = np.array([index[label] for label in labels], dtype=np.int64)  # (N,)
        self.model_ = multinomial_nb(alpha=float(self.alpha)).fit(counts, y)
        self.vectorizer_ = vectorizer
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError("model: this BagOfWordsNB is not fitted; call fit() first")

    def _counts(self, texts: Sequence[str]) -> Any:
        self._check_fitted()
        return self.vectorizer_.transform(_check_texts(texts))  # (N, V) sparse

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (N, K), columns in ``labels_`` order."""
        counts = self._counts(texts)
        return np.asarray(self.model_.predict_proba(counts), dtype=np.float64)

    def predict_ids(self, texts: Sequence[str]) -> np.ndarray:
        """Most probable class id of each text, shape (N,), int64 (index into ``labels_``)."""
        counts = self._counts(texts)
        return np.asarray(self.model_.predict(counts), dtype=np.int64)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Most probable class label of each text, a list of length N."""
        return [self.labels_[k] for k in self.predict_ids(texts)]

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The fitted model as a JSON-able config and a dict of arrays (no pickle).

        Returns
        -------
        config : dict
            The constructor arguments, ``tokenizer``, ``labels`` (K,) and ``vocabulary``
            (the V n-grams in column order).
        arrays : dict of str to ndarray
            ``feature_log_prob`` (K, V), ``class_log_prior`` (K,), ``class_count`` (K,),
            ``feature_count`` (K, V), all float64.
        """
        self._check_fitted()
        config = {
            "class": "BagOfWordsNB",
            "lowercase": bool(self.lowercase),
            "ngram_range": [int(n) for n in self.ngram_range],
            "alpha": float(self.alpha),
            "min_df": int(self.min_df),
            "tokenizer": "word_tokenize",
            "labels": list(self.labels_),
            "vocabulary": [str(term) for term in self.vectorizer_.get_feature_names_out()],
        }
        arrays = {name: np.array(getattr(self.model_, name + "_"), np.float64) for name in _ARRAYS}
        return config, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> BagOfWordsNB:
        """Rebuild a fitted model from :meth:`to_state` output; it predicts identically.

        Raises
        ------
        ModelFileError
            If a key or array is missing, a value is out of range, or an array's shape
            does not fit the labels and vocabulary.
        """
        missing = [name for name in _ARRAYS if name not in arrays]
        if missing:
            raise ModelFileError(f"arrays: missing array {missing[0]!r}")
        try:
            if config["class"] != "BagOfWordsNB" or config["tokenizer"] != "word_tokenize":
                raise ModelFileError(
                    f"config: not a word_tokenize BagOfWordsNB state: {config['class']!r}, "
                    f"tokenizer {config['tokenizer']!r}"
                )
            model = cls(
                lowercase=bool(config["lowercase"]),
                ngram_range=tuple(config["ngram_range"]),
                alpha=float(config["alpha"]),
                min_df=int(config["min_df"]),
            )
            labels = [str(label) for label in config["labels"]]
            vocabulary = {str(term): j for j, term in enumerate(config["vocabulary"])}
            values = {name: np.asarray(arrays[name], dtype=np.float64) for name in _ARRAYS}
        except KeyError as exc:
            raise ModelFileError(f"config: missing key {exc.args[0]!r}") from exc
        try:
            model._check_params()
        except ConfigError as exc:
            raise ModelFileError(f"config: {exc}") from exc
        k, v = len(labels), len(vocabulary)
        if len(vocabulary) != len(config["vocabulary"]):
            raise ModelFileError("config: vocabulary holds duplicate n-grams")
        for name, shape in zip(_ARRAYS, [(k, v), (k,), (k,), (k, v)], strict=True):
            if values[name].shape != shape:
                raise ModelFileError(f"{name}: shape {values[name].shape}, expected {shape}")
        _, multinomial_nb = _sklearn()
        nb = multinomial_nb(alpha=model.alpha)
        # The fitted attributes MultinomialNB.fit would set, in its own names.
        nb.classes_ = np.arange(k, dtype=np.int64)
        nb.n_features_in_ = v
        for name in _ARRAYS:
            setattr(nb, name + "_", values[name])
        model.labels_ = labels
        model.vectorizer_ = model._vectorizer(vocabulary)
        model.model_ = nb
        return model
