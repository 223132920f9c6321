"""Text to arrays: tokenizers, vocabularies, padding, masks and one-hot vectors.

A network reads numbers, so text goes through four steps: split it into tokens
(:func:`word_tokenize` or :func:`char_tokenize`), map each token to an id with a
:class:`Vocabulary`, pad the id sequences of a batch to one length
(:func:`pad_batch`, which also returns the lengths), and mark the real steps with a
mask (:func:`lengths_to_mask`) so that no loss or gradient ever sees a pad.

The lecture's example has a five-word vocabulary and no special tokens, so the ids
are 0..4 and each word is a one-hot vector of length 5:

>>> from rnnkit.text import Vocabulary, encode_texts, lengths_to_mask, one_hot, pad_batch
>>> from rnnkit.text import word_tokenize
>>> vocab = Vocabulary(["movie", "was", "good", "bad", "not"], specials=())
>>> ids = vocab.encode(word_tokenize("movie was good"))
>>> ids
array([0, 1, 2])
>>> one_hot(ids, len(vocab)).astype(int)
array([[1, 0, 0, 0, 0],
       [0, 1, 0, 0, 0],
       [0, 0, 1, 0, 0]])

Three reviews of different lengths become one (B, T, |V|) = (3, 4, 5) batch. Without a
``<pad>`` token the pad value 0 is also the id of "movie", which is why the mask, not
the id, says where a review ends: the last step of the two short reviews is all zeros.

>>> reviews = ["movie was good", "movie was bad", "movie was not good"]
>>> ids, lengths = pad_batch(encode_texts(reviews, vocab, word_tokenize))
>>> lengths
array([3, 3, 4])
>>> x = one_hot(ids, len(vocab), mask=lengths_to_mask(lengths))
>>> x.shape
(3, 4, 5)
>>> x.astype(int)
array([[[1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0]],
<BLANKLINE>
       [[1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0]],
<BLANKLINE>
       [[1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0]]])

On a real corpus, build the vocabulary from the training texts; the default specials
``<pad>``, ``<unk>``, ``<sos>``, ``<eos>`` take ids 0..3 and unseen words map to ``<unk>``:

>>> train = [word_tokenize(t) for t in ["A good movie.", "A bad movie!"]]
>>> vocab = Vocabulary.build(train)
>>> vocab.tokens
['<pad>', '<unk>', '<sos>', '<eos>', 'a', 'movie', 'good', '.', 'bad', '!']
>>> vocab.encode(word_tokenize("A great movie."))
array([4, 1, 5, 7])
"""

from rnnkit.text.chars import CHAR_SPECIALS, char_vocabulary, encode_chars
from rnnkit.text.encode import encode_texts, lengths_to_mask, one_hot, pad_batch
from rnnkit.text.tokenize import LEVELS, char_tokenize, get_tokenizer, word_tokenize
from rnnkit.text.vocab import DEFAULT_SPECIALS, EOS, PAD, SOS, UNK, Vocabulary

__all__ = [
    "CHAR_SPECIALS",
    "DEFAULT_SPECIALS",
    "EOS",
    "LEVELS",
    "PAD",
    "SOS",
    "UNK",
    "Vocabulary",
    "char_tokenize",
    "char_vocabulary",
    "encode_chars",
    "encode_texts",
    "get_tokenizer",
    "lengths_to_mask",
    "one_hot",
    "pad_batch",
    "word_tokenize",
]
