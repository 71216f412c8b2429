"""Next-marker tagging: every step is labelled with the kind of the marker that comes next.

A sequence of `sequence_length` symbols mixes fillers (lower-case letters a, b, c, ...)
with markers (upper-case A, B, C, ...). Each step is a marker with probability
`marker_rate` (of a kind drawn uniformly from `num_markers`), else a filler drawn
uniformly from `num_fillers`; the last step is always a marker, so every step has one at
or after it. The label of step t is the kind of the first marker at or after t:

    input   b  a  C  d  d  f  A  e  B
    label   C  C  C  A  A  A  A  B  B

It is the shape of a real tagging problem where the evidence comes later: label each
word of a clause with the kind of the punctuation that closes it (statement, question,
exclamation), or each word of a German subordinate clause with the verb at its end.

Without the future the labels are a guess: a marker's own step is known, but the kind of
the next marker after a filler is independent of everything before it, uniform over
the kinds. So the best accuracy any model that reads only the past can reach is
`best_without_future_accuracy` (below), while a model that also reads backwards can
carry the last marker it saw back to every filler before it and reach 1.0.
"""

import numpy as np

from recipes.common.splits import SPLIT_STREAMS


def num_symbols(config):
    """Input vocabulary size: symbol ids 0..num_markers-1 are markers, the rest fillers."""
    return config["num_markers"] + config["num_fillers"]


def symbol_names(config):
    """Printable name of each symbol id: markers "A", "B", ..., then fillers "a", "b", ..."""
    markers = [chr(ord("A") + k) for k in range(config["num_markers"])]
    fillers = [chr(ord("a") + k) for k in range(config["num_fillers"])]
    return markers + fillers


def next_marker_labels(symbols, num_markers):
    """The label of every step: the kind of the first marker at or after it.

    Args:
        symbols: int (batch, T) symbol ids; ids below num_markers are markers; the last
            step of every row must be a marker.
        num_markers: number of marker kinds.

    Returns:
        int32 (batch, T) marker kinds in 0..num_markers-1.
    """
    labels = np.empty_like(symbols, dtype=np.int32)
    upcoming = symbols[:, -1].astype(np.int32)
    # A backward scan: the first marker at or after t is x_t when x_t is a marker, else
    # the one after t+1. (This is exactly the summary a backward RNN has to learn.)
    for t in range(symbols.shape[1] - 1, -1, -1):
        is_marker = symbols[:, t] < num_markers
        upcoming = np.where(is_marker, symbols[:, t], upcoming)
        labels[:, t] = upcoming
    return labels


def steps_to_next_marker(symbols, num_markers):
    """How far ahead the evidence is: steps from t to the first marker at or after t (0 on a marker).

    Args:
        symbols: int (batch, T) symbol ids, last step a marker.
        num_markers: number of marker kinds.

    Returns:
        int32 (batch, T) distances.
    """
    distances = np.empty_like(symbols, dtype=np.int32)
    distance = np.zeros(symbols.shape[0], dtype=np.int32)
    for t in range(symbols.shape[1] - 1, -1, -1):
        distance = np.where(symbols[:, t] < num_markers, 0, distance + 1)
        distances[:, t] = distance
    return distances


def best_without_future_accuracy(config):
    """The expected accuracy of the best predictor that sees only steps 0..t: the Bayes rate without the future.

    On a marker step the label is the marker itself; on a filler step the next marker's
    kind is uniform and independent of the past, so any guess is right 1/num_markers of
    the time. The last step is always a marker. Averaged over the T steps:

        ((T - 1) * (p + (1 - p) / M) + 1) / T,   p = marker_rate, M = num_markers.

    Args:
        config: dict with sequence_length, marker_rate, num_markers.

    Returns:
        float in (1/M, 1].
    """
    length, rate, kinds = config["sequence_length"], config["marker_rate"], config["num_markers"]
    return ((length - 1) * (rate + (1 - rate) / kinds) + 1) / length


def sample_sequences(num_sequences, config, rng):
    """Sample symbol ids and next-marker labels.

    Args:
        num_sequences: how many sequences.
        config: dict with sequence_length, num_markers, num_fillers, marker_rate.
        rng: a numpy.random.Generator.

    Returns:
        (symbols, labels): int32 arrays (num_sequences, sequence_length).
    """
    shape = (num_sequences, config["sequence_length"])
    num_markers = config["num_markers"]
    markers = rng.integers(0, num_markers, size=shape)
    fillers = num_markers + rng.integers(0, config["num_fillers"], size=shape)
    is_marker = rng.random(shape) < config["marker_rate"]
    is_marker[:, -1] = True  # every step has a marker at or after it
    symbols = np.where(is_marker, markers, fillers).astype(np.int32)
    return symbols, next_marker_labels(symbols, num_markers)


def load_data(config):
    """Generate the train, validation and test splits.

    Args:
        config: dict with seed, sequence_length, num_markers, num_fillers, marker_rate,
            num_train, num_validation, num_test (checked by model.CONFIG_RULES).

    Returns:
        dict with "train", "validation", "test": (x, y) int32 arrays (N, T) of symbol ids
        and next-marker labels; "symbol_names": the printable name of each symbol id.
    """
    data = {}
    for name in ("train", "validation", "test"):
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[name]])
        data[name] = sample_sequences(config[f"num_{name}"], config, rng)
    data["symbol_names"] = symbol_names(config)
    return data
