"""Running sums of products modulo m: two nonlinear steps per time step.

At step t the input is a pair of digits (a_t, b_t), each in 0..m-1 and one-hot encoded
(2m features). The target is the running value

    y_t = (y_{t-1} + a_t * b_t) mod m,      y_0 = 0 before the first step,

so every step composes two lookups: the product a_t * b_t mod m of the two inputs (an
input-to-hidden nonlinearity), then its sum with the remembered y_{t-1} (a
hidden-to-hidden nonlinearity). A network with one tanh layer per step has to do both
with a single layer of units; a deeper one can split them over layers (DL book 10.5).

Digits are uniform, so y_t is uniform over 0..m-1 at every step: chance accuracy is 1/m.
"""

import numpy as np

from recipes.common.splits import SPLIT_STREAMS


def product_sum_sequences(num_sequences, length, modulus, rng):
    """Random digit pairs and their running product-sum modulo `modulus`.

    Args:
        num_sequences: how many sequences.
        length: steps per sequence.
        modulus: m; digits are 0..m-1.
        rng: a numpy.random.Generator.

    Returns:
        (x, y): float32 one-hot inputs (num_sequences, length, 2m) laid out [a one-hot, b one-hot],
        and int32 targets (num_sequences, length).
    """
    a = rng.integers(0, modulus, size=(num_sequences, length))
    b = rng.integers(0, modulus, size=(num_sequences, length))
    y = np.cumsum(a * b, axis=1) % modulus
    eye = np.eye(modulus, dtype="float32")
    x = np.concatenate([eye[a], eye[b]], axis=-1)  # (num_sequences, length, 2m)
    return x, y.astype("int32")


def load_data(config):
    """Train, validation and test sequences for a config.

    Args:
        config: dict with seed, modulus, sequence_length, num_train, num_validation, num_test.

    Returns:
        dict with "train", "validation", "test": (x, y) as from product_sum_sequences.
    """
    splits = {}
    for name, size in (("train", config["num_train"]), ("validation", config["num_validation"]), ("test", config["num_test"])):
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[name]])
        splits[name] = product_sum_sequences(size, config["sequence_length"], config["modulus"], rng)
    return splits
