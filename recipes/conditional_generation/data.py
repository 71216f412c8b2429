"""Shakespeare's words as letter sequences, each paired with its consonant/vowel pattern.

The task: given, at every step t, the class of the letter to write (consonant or vowel)
and the class of the one after it (consonant, vowel, or end of word), write a real word.
The pattern does not determine the word ("cvccvc" fits 'better', 'latter', 'sister',
'master', ...), so a generator must pick one word and keep to it: its letters have to
agree with one another, not only with the pattern.

Words are drawn from the running text of the 38 plays (recipes/common/text.py), as often
as Shakespeare used them, among those of `min_letters` to `max_letters` letters (letters
a-z only: tokens with an apostrophe are left out). A generated word counts as valid when
it occurs anywhere in the plays (`lexicon`). Vowels are a, e, i, o, u; 'y' is a consonant.

Coding (every sequence padded to max_letters steps; 0 is padding everywhere):
- letter_classes: 1 + 3 * class(letter t) + class(letter t + 1), class(consonant) = 0,
  class(vowel) = 1, class(end) = 2: ids 1..6 (so the input also says when the word ends);
- previous_letters: START = 1 at step 0, then 2 + letter index of letter t - 1 (teacher forcing);
- targets: letter index 0..25 (a..z); padded steps hold PAD_TARGET = -1, which the loss
  ignores. Padding comes after the word and the network is causal, so it never changes
  the outputs at the word's own steps.
"""

import functools
import re

import numpy as np

from recipes.common.config import at_most, config_error
from recipes.common.teacher_forcing import shift_right
from recipes.common.text import SHAKESPEARE_VERSION, shakespeare_text

VOWELS = frozenset("aeiou")
NUM_LETTERS = 26
PAD = 0
PAD_TARGET = -1  # target of padded steps: the loss's ignore_class
START = 1
LETTER_OFFSET = 2  # previous_letters id of letter k is k + LETTER_OFFSET
# The start symbol written as an output id, so START_OUTPUT + LETTER_OFFSET == START.
START_OUTPUT = START - LETTER_OFFSET
NUM_CLASS_IDS = 7  # padding + 2 letter classes x 3 next classes
NUM_PREVIOUS_IDS = NUM_LETTERS + LETTER_OFFSET
SPLITS = ("train", "validation", "test")


@functools.lru_cache(maxsize=1)
def shakespeare_words():
    """All word tokens of the plays in reading order, lower case, letters a-z only.

    Returns:
        tuple of str (about 0.9 M tokens); cached per process.
    """
    tokens = re.findall(r"[a-z']+", shakespeare_text().lower())
    # "o'er", "lov'st": an apostrophe marks a contraction; keep whole words only.
    return tuple(token for token in tokens if token.isalpha() and token.isascii())


def lexicon():
    """The set of every word of the plays: what a generated word must be to count as valid."""
    return frozenset(shakespeare_words())


def letter_class(letter):
    """0 for a consonant, 1 for a vowel (a, e, i, o, u)."""
    return int(letter in VOWELS)


def pattern(word):
    """'better' -> 'cvccvc': the consonant/vowel pattern a generator is given."""
    return "".join("v" if letter in VOWELS else "c" for letter in word)


def encode_words(words, length):
    """Inputs and targets of the generator for a list of words.

    Args:
        words: list of lower-case words of at most `length` letters.
        length: steps per sequence (padded with 0).

    Returns:
        (letter_classes, previous_letters, targets): int32 arrays (len(words), length),
        coded as in the module docstring (padding: PAD, PAD, PAD_TARGET).
    """
    classes = np.zeros((len(words), length), dtype=np.int32)
    targets = np.full((len(words), length), PAD_TARGET, dtype=np.int32)
    for row, word in enumerate(words):
        for t, letter in enumerate(word):
            following = letter_class(word[t + 1]) if t + 1 < len(word) else 2
            classes[row, t] = 1 + 3 * letter_class(letter) + following
            targets[row, t] = ord(letter) - ord("a")
    # The letter read at step t is the true letter t - 1 (START at step 0); padding stays 0.
    previous = np.where(classes > 0, shift_right(targets + LETTER_OFFSET, START), PAD).astype(np.int32)
    return classes, previous, targets


def decode_letters(ids, lengths):
    """Letter indices (n, T) and word lengths (n,) -> list of words."""
    return ["".join(chr(ord("a") + int(k)) for k in row[:n]) for row, n in zip(ids, lengths)]


def model_inputs(classes, previous, feed_previous_output):
    """The input dict of the model: the classes, plus the previous letters when they are fed back."""
    inputs = {"letter_classes": classes}
    if feed_previous_output:
        inputs["previous_letters"] = previous
    return inputs


def load_data(config):
    """Sample word tokens for the train, validation and test splits.

    Args:
        config: dict with seed, feed_previous_output, min_letters, max_letters, num_train,
            num_validation, num_test.

    Returns:
        dict with "train", "validation", "test": (x, y), x the dict of `model_inputs`
        (int32 (N, max_letters) arrays), y int32 (N, max_letters) letter targets;
        "test_words" (list of str), "lexicon" (frozenset of every word of the plays),
        "train_words" (frozenset) and "corpus_version".

    Raises:
        ConfigError: fewer words of those lengths than the splits need.
    """
    low, high = config["min_letters"], config["max_letters"]
    candidates = [word for word in shakespeare_words() if low <= len(word) <= high]
    sizes = {name: config[f"num_{name}"] for name in SPLITS}
    if len(candidates) < len(SPLITS):
        allowed = f"a length range with a word for every split (the plays have {len(candidates)} of {low}-{high} letters)"
        raise config_error("min_letters", low, allowed, 5)
    # Too few words: name the largest split, the one to shrink.
    largest = max(SPLITS, key=sizes.get)
    others = sum(sizes.values()) - sizes[largest]
    why = f"words: the plays have {len(candidates):,} of {low}-{high} letters and the other splits take {others:,}"
    at_most(config, f"num_{largest}", max(len(candidates) - others, 0), why)
    # One shuffle of token positions, seeded; the splits take consecutive blocks of it, so
    # they share no token (a frequent word still occurs in several splits, as in the text).
    order = np.random.default_rng([config["seed"], 7]).permutation(len(candidates))
    data, start = {}, 0
    for name in SPLITS:
        words = [candidates[i] for i in order[start : start + sizes[name]]]
        start += sizes[name]
        classes, previous, targets = encode_words(words, high)
        data[name] = (model_inputs(classes, previous, config["feed_previous_output"]), targets)
        data[f"{name}_words"] = words
    data["lexicon"] = lexicon()
    data["train_words"] = frozenset(data["train_words"])
    data["corpus_version"] = SHAKESPEARE_VERSION
    return data
