"""Training: optimizers, padded mini-batches and the loop that drives any model."""

from rnnkit.training.checkpoint import Checkpoints
from rnnkit.training.dataset import Batch, SequenceDataset
from rnnkit.training.grad_log import GradNormLog, GradNorms, read_grad_norms
from rnnkit.training.optimizers import SGD, Adagrad, Adam, Momentum, Optimizer, get_optimizer
from rnnkit.training.parallel import ParallelGroup
from rnnkit.training.streams import TextStreams, Window
from rnnkit.training.trainer import FitConfig, History, StepResult, evaluate, fit

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "Batch",
    "Checkpoints",
    "FitConfig",
    "GradNormLog",
    "GradNorms",
    "History",
    "Momentum",
    "Optimizer",
    "ParallelGroup",
    "SequenceDataset",
    "StepResult",
    "TextStreams",
    "Window",
    "evaluate",
    "fit",
    "get_optimizer",
    "read_grad_norms",
]
