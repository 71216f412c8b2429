"""Shakespeare as (input, next-character target) windows, split contiguously.

The corpus (recipes/common/text.py) is cut to its first `corpus_fraction`; the last
`validation_fraction` of that is held out whole, so no validation text is trained on.
"""

import numpy as np

from recipes.common.config import ConfigError, check_positive
from recipes.common.text import encode, shakespeare_alphabet, shakespeare_text


def _windows(ids, sequence_length):
    """(n,) ids -> x, y int32 (num_windows, sequence_length), y = x shifted one character on."""
    num_windows = (len(ids) - 1) // sequence_length  # the last target needs one more character
    end = num_windows * sequence_length
    return ids[:end].reshape(num_windows, -1), ids[1 : end + 1].reshape(num_windows, -1)


def _check(config):
    """Raise ConfigError for data and demo values, so they fail before training, not after."""
    check_positive(config, "sequence_length", "corpus_fraction", "validation_fraction", "sample_length", "num_samples")
    for key, limit in (("corpus_fraction", 1.0), ("validation_fraction", 0.5)):
        if config[key] > limit:
            raise ConfigError(f"Config {key}={config[key]!r} must be in (0, {limit}]. Use e.g. --set {key}=0.1.")
    if config["temperature"] < 0:
        raise ConfigError(
            f"Config temperature={config['temperature']!r} must be >= 0 (0 is greedy). Use e.g. --set temperature=0.8."
        )
    if not config["prime_text"]:
        raise ConfigError(
            "Config prime_text='' is empty; sampling needs a first character. Use e.g. --set prime_text=Romeo:"
        )
    encode(config["prime_text"], shakespeare_alphabet(), key="prime_text")


def load_data(config):
    """Load training and validation windows of the Shakespeare corpus.

    Args:
        config: uses seed, sequence_length, corpus_fraction, validation_fraction; checks
            the demo's prime_text, temperature, sample_length and num_samples.

    Returns:
        dict: "train", "validation": (x, y) int32 (num_windows, sequence_length);
        "vocabulary": the alphabet (str, id i is character i); "train_text_length",
        "validation_text_length": characters in each part.

    Raises:
        ConfigError: a value out of range, or prime_text characters outside the alphabet.
    """
    _check(config)
    text = shakespeare_text()
    text = text[: int(len(text) * config["corpus_fraction"])]
    split = len(text) - int(len(text) * config["validation_fraction"])
    sequence_length = config["sequence_length"]
    # Two validation windows guarantee one training window too (training is the larger part).
    if len(text) - split <= 2 * sequence_length:
        raise ConfigError(
            f"Config sequence_length={sequence_length} leaves fewer than two windows in the {len(text) - split:,} "
            f"validation characters. Raise corpus_fraction or validation_fraction, or lower sequence_length."
        )
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
