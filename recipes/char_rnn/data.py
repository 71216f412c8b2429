"""Shakespeare as (input, next-character target) windows, split contiguously.

The corpus (recipes/common/text.py) is cut to its first `corpus_fraction`; the last
`validation_fraction` of that is held out whole, so no validation text is trained on.
"""

import numpy as np

from recipes.common.config import at_most
from recipes.common.text import encode, shakespeare_alphabet, shakespeare_text


def _windows(ids, sequence_length):
    """(n,) ids -> x, y int32 (num_windows, sequence_length), y = x shifted one character on."""
    num_windows = (len(ids) - 1) // sequence_length  # the last target needs one more character
    end = num_windows * sequence_length
    return ids[:end].reshape(num_windows, -1), ids[1 : end + 1].reshape(num_windows, -1)


def load_data(config):
    """Load training and validation windows of the Shakespeare corpus.

    Args:
        config: uses seed, sequence_length, corpus_fraction, validation_fraction; checks
            that the demo's prime_text is written in the corpus alphabet.

    Returns:
        dict: "train", "validation": (x, y) int32 (num_windows, sequence_length);
        "vocabulary": the alphabet (str, id i is character i); "train_text_length",
        "validation_text_length": characters in each part.

    Raises:
        ConfigError: prime_text characters outside the alphabet, or too few validation
            characters for two windows.
    """
    encode(config["prime_text"], shakespeare_alphabet(), key="prime_text")
    text = shakespeare_text()
    text = text[: int(len(text) * config["corpus_fraction"])]
    split = len(text) - int(len(text) * config["validation_fraction"])
    sequence_length = config["sequence_length"]
    # Two validation windows guarantee one training window too (training is the larger part).
    held_out = len(text) - split
    why = f"for two windows in the {held_out:,} validation characters (or raise corpus_fraction or validation_fraction)"
    at_most(config, "sequence_length", (held_out - 1) // 2, why)
    ids = encode(text, shakespeare_alphabet())

    # The seed moves the training windows' boundaries and shuffles them; validation is fixed.
    rng = np.random.default_rng(config["seed"])
    x_train, y_train = _windows(ids[rng.integers(sequence_length) : split], sequence_length)
    order = rng.permutation(len(x_train))
    return {
        "train": (x_train[order], y_train[order]),
        "validation": _windows(ids[split:], sequence_length),
        "vocabulary": shakespeare_alphabet(),
        "train_text_length": split,
        "validation_text_length": len(text) - split,
    }
