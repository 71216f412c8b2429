"""Interpolated Kneser-Ney n-gram language model in NumPy: the count-based baseline of the word LM.

"Improved backing-off for M-gram language modeling", Reinhard Kneser, Hermann Ney, 1995,
https://doi.org/10.1109/ICASSP.1995.479394, in the interpolated form of Chen & Goodman
("An Empirical Study of Smoothing Techniques for Language Modeling", 1998,
https://dash.harvard.edu/handle/1/25104739) with one absolute discount D per order:

    P(w | u) = max(c(u w) - D, 0) / c(u .) + D * N1+(u .) / c(u .) * P(w | u')    (c(u .) > 0)
             = P(w | u')                                                         (otherwise)

where u' is u without its first word; the highest order uses counts c, the lower orders use
continuation counts (the number of distinct words seen before the n-gram), and the unigram
level interpolates with the uniform distribution over the vocabulary, so every word of the
vocabulary (with "<unk>") has a probability above zero and each P(. | u) sums to one.
N-grams are int64 keys (id arithmetic in base V), counted with np.unique and looked up with
np.searchsorted: a trigram model of the 786 k training words fits and scores in about a second.
"""

import numpy as np


def _counts(keys):
    """(sorted unique keys, their counts) of an int64 array."""
    return np.unique(keys, return_counts=True)


def _lookup(table_keys, table_values, keys):
    """table_values[key] for each key, 0 where the key is absent."""
    index = np.clip(np.searchsorted(table_keys, keys), 0, max(len(table_keys) - 1, 0))
    found = (table_keys[index] == keys) if len(table_keys) else np.zeros(len(keys), bool)
    return np.where(found, table_values[index] if len(table_keys) else 0, 0)


class KneserNey:
    """Interpolated Kneser-Ney model of order 1, 2 or 3 over ids 0..vocabulary_size-1.

    Args:
        ids: int training stream (n,).
        vocabulary_size: V; ids must be < V.
        order: 1 to 3.
        discount: D in (0, 1).
    """

    def __init__(self, ids, vocabulary_size, order=3, discount=0.75):
        if order not in (1, 2, 3):
            raise ValueError(f"KneserNey order must be 1, 2 or 3, got {order}.")
        if not 0 < discount < 1:
            raise ValueError(f"KneserNey discount must be in (0, 1), got {discount}.")
        self.V, self.order, self.D = int(vocabulary_size), order, float(discount)
        ids = np.asarray(ids, dtype="int64")
        V = self.V
        # Every distinct n-gram of each order, as base-V keys: (w1..wn) -> ((w1 V + w2) V + w3).
        grams = {n: _counts(sum(ids[i : len(ids) - n + 1 + i] * V ** (n - 1 - i) for i in range(n))) for n in range(1, order + 1)}
        self.tables = {}
        for n in range(1, order + 1):
            keys, counts = grams[n]
            if n < order:
                # Continuation count of an n-gram: distinct words seen before it = distinct (n+1)-grams ending in it.
                keys, counts = _counts(grams[n + 1][0] % V**n)
            # Per context (the n-gram without its last word): total count and number of distinct next words.
            contexts = keys // V
            context_keys, first = np.unique(contexts, return_index=True)
            totals = np.add.reduceat(counts, first) if len(counts) else counts
            distinct = np.diff(np.append(first, len(contexts)))
            self.tables[n] = (keys, counts, context_keys, totals, distinct)

    def _probability(self, n, history, words):
        """P_n(word | last n - 1 words of history) for arrays of histories (int64 keys) and words."""
        keys, counts, context_keys, totals, distinct = self.tables[n]
        if n == 1:
            total = float(counts.sum())
            lower = np.full(len(words), 1.0 / self.V)
            return (np.maximum(_lookup(keys, counts, words) - self.D, 0) + self.D * len(keys) * lower) / total
        context = history % self.V ** (n - 1)
        lower = self._probability(n - 1, history, words)
        total = _lookup(context_keys, totals, context).astype("float64")
        seen = total > 0
        count = _lookup(keys, counts, context * self.V + words)
        safe = np.where(seen, total, 1.0)
        interpolated = (np.maximum(count - self.D, 0) + self.D * _lookup(context_keys, distinct, context) * lower) / safe
        return np.where(seen, interpolated, lower)

    def log_probabilities(self, ids, positions=None):
        """Natural-log P(ids[p] | ids[p - order + 1 .. p - 1]) at each position p (all but the first by default).

        Positions with fewer than order - 1 words before them use the longest history there is.
        """
        ids = np.asarray(ids, dtype="int64")
        positions = np.arange(1, len(ids)) if positions is None else np.asarray(positions, dtype="int64").reshape(-1)
        words = ids[positions]
        out = np.empty(len(positions))
        for available in range(1, self.order + 1):
            # Rows whose history holds available - 1 words (capped at order - 1).
            mask = np.minimum(positions, self.order - 1) + 1 == available
            if not mask.any():
                continue
            history = np.zeros(mask.sum(), dtype="int64")
            for back in range(available - 1, 0, -1):
                history = history * self.V + ids[positions[mask] - back]
            out[mask] = np.log(self._probability(available, history, words[mask]))
        return out

    def perplexity(self, ids, positions=None):
        """exp of the mean negative log-probability over `positions` (see log_probabilities)."""
        return float(np.exp(-self.log_probabilities(ids, positions).mean()))
