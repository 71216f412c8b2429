"""Skip-gram training pairs with noise words from Shakespeare's word streams (split by play).

Each split's stream (recipes/common/words.py) loses "<eos>" and "<unk>", then, seeded,
frequent words are subsampled, each word draws a window size b from 1..window, and every word
within b positions becomes a (word, context) pair with num_negatives noise words drawn from
the training unigram distribution ** noise_power. Validation and test pairs come the same
way from their own plays (their own seeded streams), so their loss is a held-out loss.
"""

import numpy as np

from recipes.common.splits import SPLIT_STREAMS
from recipes.common.words import split_ids, vocabulary

NOT_TRAINED = (0, 1)  # ids of "<eos>" and "<unk>"


def in_vocabulary(ids):
    """The stream without "<eos>" and "<unk>"."""
    return ids[~np.isin(ids, NOT_TRAINED)]


def noise_distribution(train_ids, vocabulary_size, power):
    """Unigram counts of the training stream ** power, normalised; "<eos>"/"<unk>" get 0."""
    counts = np.bincount(in_vocabulary(train_ids), minlength=vocabulary_size).astype("float64")
    weights = counts**power * (counts > 0)
    return weights / weights.sum()


def subsample(ids, frequencies, t, rng):
    """Keep each occurrence of word w with probability sqrt(t / f_w) + t / f_w (word2vec.c's rule)."""
    ratio = t / np.maximum(frequencies[ids], 1e-12)
    return ids[rng.random(len(ids)) < np.sqrt(ratio) + ratio]


def skipgram_pairs(ids, window, rng):
    """(words, contexts) int32 arrays of all pairs within each word's own window size b ~ U{1..window}."""
    spans = rng.integers(1, window + 1, size=len(ids))
    words, contexts = [], []
    for offset in range(1, window + 1):
        # Pairs (i, i + offset) and (i + offset, i) where the centre's window reaches that far.
        centre = np.arange(len(ids) - offset)
        forward = centre[spans[centre] >= offset]
        backward = centre[spans[centre + offset] >= offset] + offset
        words += [ids[forward], ids[backward]]
        contexts += [ids[forward + offset], ids[backward - offset]]
    return np.concatenate(words).astype("int32"), np.concatenate(contexts).astype("int32")


def make_pairs(ids, config, noise, frequencies, rng):
    """x = {"word": (n, 1), "contexts": (n, 1 + k)} (true context first), y = (n, 1 + k) labels 1, 0, ..., 0."""
    kept = subsample(in_vocabulary(ids), frequencies, config["subsample"], rng)
    words, contexts = skipgram_pairs(kept, config["window"], rng)
    # Inverse-CDF draws from the noise distribution (as rng.choice with p=noise, 5x faster).
    cdf = np.cumsum(noise)
    negatives = np.searchsorted(cdf, rng.random((len(words), config["num_negatives"])) * cdf[-1], side="right").astype("int32")
    y = np.zeros((len(words), 1 + config["num_negatives"]), dtype="float32")
    y[:, 0] = 1.0
    return {"word": words[:, None], "contexts": np.concatenate([contexts[:, None], negatives], axis=1)}, y


def load_data(config):
    """Load skip-gram pairs of the training, validation and test plays.

    Args:
        config: uses seed, vocabulary_size, train_fraction, window, num_negatives, subsample, noise_power.

    Returns:
        dict: "train", "validation", "test": (x, y) as from make_pairs (training pairs shuffled);
        "streams": {split: int32 word ids with "<eos>"/"<unk>"}; "vocabulary": tuple of words;
        "noise": the noise distribution (vocabulary_size,).
    """
    streams = dict(split_ids(config["vocabulary_size"]))
    streams["train"] = streams["train"][: int(len(streams["train"]) * config["train_fraction"])]
    train_words = in_vocabulary(streams["train"])
    frequencies = np.bincount(train_words, minlength=config["vocabulary_size"]) / len(train_words)
    noise = noise_distribution(streams["train"], config["vocabulary_size"], config["noise_power"])
    data = {}
    for split, ids in streams.items():
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[split]])
        x, y = make_pairs(ids, config, noise, frequencies, rng)
        if split == "train":
            order = rng.permutation(len(y))
            x, y = {key: value[order] for key, value in x.items()}, y[order]
        data[split] = (x, y)
    return {**data, "streams": streams, "vocabulary": vocabulary(config["vocabulary_size"]), "noise": noise}
