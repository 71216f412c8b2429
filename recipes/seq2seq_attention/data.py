"""Reverse a random digit string, "30518" -> "81503", at lengths where a fixed summary runs out.

Each example is a string of random digits 0..9 whose length is drawn uniformly from
min_length..max_length; the answer is the same digits in reverse order. The task is
easy to state and to check, and every input digit must reach the output: an
encoder-decoder that squeezes the whole input into one fixed vector has to hold
`length` digits in it (about 3.3 bits each), so its accuracy falls as inputs grow,
while attention can look each digit up when it writes it.

Token ids (one vocabulary for inputs and outputs):
    0 = padding (masked), 1..10 = digits 0..9, 11 = <start>, 12 = <end>.

Model inputs and targets, for "305" -> "503":
    source         3 0 5                 right-padded with 0 to max_length
    decoder_input  <start> 5 0 3         right-padded with 0 to max_length + 1
    target         5 0 3 <end>           right-padded with 0 (masked in the loss)

The validation and test splits use their own random streams. Test strings are drawn
with lengths spread evenly over min_length..max_length, so every length bucket of
the per-length metrics has about the same number of examples.
"""

import numpy as np

from recipes.common.decoding import ids_to_text
from recipes.common.splits import SPLIT_STREAMS

PAD = 0
START = 11
END = 12
VOCABULARY_SIZE = 13
TOKEN_TEXT = ["", *"0123456789", "^", "$"]


def decode(ids):
    """Token ids -> digit text, stopping at the first <end> or padding; <start> is dropped."""
    return ids_to_text(ids, TOKEN_TEXT, START, END, PAD)


def make_examples(lengths, max_length, rng):
    """Random digit strings of the given lengths, encoded for the model.

    Args:
        lengths: (n,) int string lengths.
        max_length: padded length of the source.
        rng: numpy.random.Generator.

    Returns:
        dict with "source" (n, max_length), "decoder_input" and "target"
        (n, max_length + 1) int32 ids, and "lengths" (n,).
    """
    n = len(lengths)
    positions = np.arange(max_length)
    valid = positions[None, :] < lengths[:, None]  # (n, max_length) True on real digits
    digits = rng.integers(0, 10, size=(n, max_length)) + 1  # ids 1..10
    source = np.where(valid, digits, PAD).astype(np.int32)
    # Reverse each string within its own length: position t reads digit length-1-t.
    reverse_index = np.clip(lengths[:, None] - 1 - positions[None, :], 0, max_length - 1)
    reversed_digits = np.where(valid, np.take_along_axis(source, reverse_index, axis=1), PAD)
    target = np.zeros((n, max_length + 1), dtype=np.int32)
    target[:, :max_length] = reversed_digits
    target[np.arange(n), lengths] = END
    decoder_input = np.zeros((n, max_length + 1), dtype=np.int32)
    decoder_input[:, 0] = START
    decoder_input[:, 1:] = reversed_digits
    return {"source": source, "decoder_input": decoder_input, "target": target, "lengths": np.asarray(lengths)}


def load_data(config):
    """Generate the reversal examples.

    Args:
        config: uses seed, min_length, max_length, num_train, num_validation, num_test.

    Returns:
        dict with "train", "validation", "test": ({"source", "decoder_input"}, target),
        "test_lengths": (num_test,) the test strings' lengths, for per-length metrics, and
        "vocabulary": the text of every token id (for figures that show the tokens).
    """
    low, high = config["min_length"], config["max_length"]
    data = {}
    for split, stream in SPLIT_STREAMS.items():
        rng = np.random.default_rng([config["seed"], stream])
        size = config[f"num_{split}"]
        if split == "test":
            # Evenly spread lengths, then shuffled: equal-sized length buckets.
            lengths = rng.permutation(np.resize(np.arange(low, high + 1), size))
        else:
            lengths = rng.integers(low, high + 1, size=size)
        examples = make_examples(lengths, high, rng)
        data[split] = ({"source": examples["source"], "decoder_input": examples["decoder_input"]}, examples["target"])
        data[f"{split}_lengths"] = examples["lengths"]
    data["vocabulary"] = TOKEN_TEXT
    return data
