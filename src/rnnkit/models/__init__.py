"""Models: ``Sequential`` and the task models built on it."""

from rnnkit.models.baseline import BagOfWordsClassifier
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.decoding import beam_search, greedy_search
from rnnkit.models.encoder_decoder import EncoderDecoder
from rnnkit.models.frames import FrameClassifier, FrameTagger
from rnnkit.models.generation import generate, iter_generate, step_model
from rnnkit.models.language import LanguageModel
from rnnkit.models.loading import load_model
from rnnkit.models.regressor import FrameRegressor
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.models.sequential import Sequential
from rnnkit.models.tagger import SequenceTagger

__all__ = [
    "BagOfWordsClassifier",
    "EncoderDecoder",
    "FrameClassifier",
    "FrameRegressor",
    "FrameTagger",
    "LanguageModel",
    "Seq2Seq",
    "SequenceClassifier",
    "SequenceTagger",
    "Sequential",
    "beam_search",
    "generate",
    "greedy_search",
    "iter_generate",
    "load_model",
    "step_model",
]
