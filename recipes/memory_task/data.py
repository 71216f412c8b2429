"""Digit-recall sequences: K digits, a gap of S blanks, a delimiter, then the K digits back.

    step      0 .. K-1      K .. K+S-1    K+S        K+S+1 .. T-1     (T = 2K + S + 1)
    input     r_1 .. r_K    blanks        delimiter  blanks
    target    blanks        blanks        blank      r_1 .. r_K

Digits r_i are uniform in 0..8. Ids: 0..8 digits, 9 blank, 10 delimiter; inputs are
one-hot over the 11 ids, targets are ids 0..9 (the delimiter is never a target).
"""

import numpy as np

from recipes.common.splits import SPLIT_STREAMS

BLANK = 9
DELIMITER = 10
NUM_DIGITS = 9  # digits 0..8
NUM_INPUT_SYMBOLS = 11  # 9 digits + blank + delimiter
NUM_OUTPUT_CLASSES = 10  # 9 digits + blank


def sequence_length(num_digits, blank_separation):
    """Steps in one sequence: the digits, the gap, the delimiter, then the recall steps."""
    return 2 * num_digits + blank_separation + 1


def recall_sequences(num_sequences, num_digits, blank_separation, rng):
    """Sample input and target symbol ids for the recall task.

    Args:
        num_sequences: how many sequences.
        num_digits, blank_separation: K digits to remember, S blanks before the delimiter.
        rng: a numpy.random.Generator.

    Returns:
        (inputs, targets): int32 arrays (num_sequences, 2K + S + 1) of symbol ids.
    """
    length = sequence_length(num_digits, blank_separation)
    digits = rng.integers(0, NUM_DIGITS, size=(num_sequences, num_digits))
    inputs = np.full((num_sequences, length), BLANK, dtype=np.int32)
    targets = np.full((num_sequences, length), BLANK, dtype=np.int32)
    inputs[:, :num_digits] = digits
    # The delimiter sits right after the gap; the K steps after it are the recall.
    inputs[:, num_digits + blank_separation] = DELIMITER
    targets[:, -num_digits:] = digits
    return inputs, targets


def one_hot(ids, depth=NUM_INPUT_SYMBOLS):
    """(batch, T) int ids -> (batch, T, depth) float32 one-hot vectors."""
    return np.eye(depth, dtype=np.float32)[ids]


def load_data(config):
    """Generate the train, validation and test splits for a config.

    Args:
        config: dict with seed, num_digits, blank_separation, num_train, num_validation, num_test.

    Returns:
        dict with "train", "validation", "test": (x float32 (N, T, 11) one-hot, y int32 (N, T) ids),
        and "test_symbols": int32 (num_test, T) input ids, for the demo's labels.
    """
    seed = config["seed"]

    def split(name, num_sequences):
        rng = np.random.default_rng([seed, SPLIT_STREAMS[name]])
        return recall_sequences(num_sequences, config["num_digits"], config["blank_separation"], rng)

    train_inputs, train_targets = split("train", config["num_train"])
    validation_inputs, validation_targets = split("validation", config["num_validation"])
    test_inputs, test_targets = split("test", config["num_test"])
    return {
        "train": (one_hot(train_inputs), train_targets),
        "validation": (one_hot(validation_inputs), validation_targets),
        "test": (one_hot(test_inputs), test_targets),
        "test_symbols": test_inputs,
    }
