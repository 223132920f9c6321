"""Models: ``Sequential`` and the task models built on it."""

from rnnkit.models.baseline import BagOfWordsClassifier
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.generation import generate, iter_generate, step_model
from rnnkit.models.language import LanguageModel
from rnnkit.models.loading import load_model
from rnnkit.models.sequential import Sequential
from rnnkit.models.tagger import SequenceTagger

__all__ = [
    "BagOfWordsClassifier",
    "LanguageModel",
    "SequenceClassifier",
    "SequenceTagger",
    "Sequential",
    "generate",
    "iter_generate",
    "load_model",
    "step_model",
]
