"""Reading datasets and cutting them into batches.

Readers turn a file into a :class:`Table` (texts and labels, with the line of every
row for messages) or the corpus of another task; :data:`FORMATS` describes each format
once (how a file is recognised, its reader, the tasks that accept it); :func:`load_mr`
reads the MR sentence-polarity dataset shipped with the package; :func:`read_embeddings`
keeps a vocabulary's vectors from a pretrained embedding file (GloVe, word2vec,
fastText) and :func:`embedding_matrix` lays them out for an Embedding; :func:`bucket_batches`
and :func:`sequential_batches` give the index arrays of the batches a trainer visits.

>>> import numpy as np
>>> from rnnkit.data import bucket_batches, check_labels, load_mr
>>> train = load_mr("train")
>>> check_labels(train.labels, train.path)
['0', '1']
>>> rng = np.random.default_rng(0)
>>> batches = bucket_batches([len(t.split()) for t in train.texts], 32, rng)
>>> sum(len(b) for b in batches) == len(train)
True
"""

from rnnkit.data.batching import bucket_batches, sequential_batches
from rnnkit.data.bundled import MR_SPLITS, load_mr
from rnnkit.data.embedding_files import EMBEDDING_FORMATS
from rnnkit.data.embeddings import (
    PretrainedVectors,
    embedding_matrix,
    file_words,
    read_embeddings,
)
from rnnkit.data.formats import (
    FORMATS,
    Format,
    formats_for,
    get_format,
    infer_format,
    read_pair_file,
    read_tagged,
)
from rnnkit.data.frames import FrameSet, check_sequences, read_frames, read_npz
from rnnkit.data.label_files import LabelFilesTable, read_label_files
from rnnkit.data.pairs import PairCorpus
from rnnkit.data.scaling import Standardizer
from rnnkit.data.splits import split_indices
from rnnkit.data.table import Table, check_labels, parse_table, read_table
from rnnkit.data.tagged import TaggedCorpus, read_conll, read_conllu

__all__ = [
    "EMBEDDING_FORMATS",
    "FORMATS",
    "MR_SPLITS",
    "Format",
    "FrameSet",
    "LabelFilesTable",
    "PairCorpus",
    "PretrainedVectors",
    "Standardizer",
    "Table",
    "TaggedCorpus",
    "bucket_batches",
    "check_labels",
    "check_sequences",
    "embedding_matrix",
    "file_words",
    "formats_for",
    "get_format",
    "infer_format",
    "load_mr",
    "parse_table",
    "read_conll",
    "read_conllu",
    "read_embeddings",
    "read_frames",
    "read_label_files",
    "read_npz",
    "read_pair_file",
    "read_table",
    "read_tagged",
    "sequential_batches",
    "split_indices",
]
