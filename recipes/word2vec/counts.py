"""Count-based word statistics in NumPy: window co-occurrence, PMI/PPMI, truncated SVD, Spearman correlation.

Used by the word2vec recipe for its count-based baseline (PPMI + truncated SVD, "Neural Word
Embedding as Implicit Matrix Factorization", Omer Levy, Yoav Goldberg, 2014,
https://papers.nips.cc/paper/5477-neural-word-embedding-as-implicit-matrix-factorization) and
for the held-out word-similarity check (PMI measured on plays never trained on).
"""

import numpy as np


def cooccurrence(ids, vocabulary_size, window):
    """Symmetric window co-occurrence counts: C[a, b] = times b is within `window` words of a.

    Args:
        ids: int (n,) stream (words removed beforehand, e.g. "<eos>", are simply absent).
        vocabulary_size: V.
        window: words on each side.

    Returns:
        float64 (V, V) symmetric counts.
    """
    ids = np.asarray(ids, dtype="int64")
    counts = np.zeros(vocabulary_size * vocabulary_size)
    for offset in range(1, window + 1):
        keys = ids[:-offset] * vocabulary_size + ids[offset:]
        counts += np.bincount(keys, minlength=vocabulary_size * vocabulary_size)
    counts = counts.reshape(vocabulary_size, vocabulary_size)
    return counts + counts.T


def pmi(counts):
    """Pointwise mutual information log(P(a, b) / (P(a) P(b))) of a co-occurrence matrix; -inf where C = 0."""
    total = counts.sum()
    rows = counts.sum(axis=1, keepdims=True)
    cols = counts.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(counts * total / (rows * cols))


def ppmi(counts):
    """Positive PMI: max(PMI, 0), 0 where a word pair never co-occurs or a word never occurs."""
    values = pmi(counts)
    return np.where(np.isfinite(values), np.maximum(values, 0.0), 0.0)


def truncated_svd_embeddings(matrix, dim, seed=0, power_iterations=6):
    """Word and context vectors U_d sqrt(S_d), V_d sqrt(S_d) of a matrix's rank-`dim` SVD, by randomized
    range finding (Halko et al. 2011); their products approximate the matrix.

    Deterministic for a seed. Exact to float precision when dim + 10 >= the matrix's rank.

    Returns:
        (words (rows, dim), contexts (columns, dim)) float64.
    """
    rng = np.random.default_rng(seed)
    sketch = matrix @ rng.standard_normal((matrix.shape[1], dim + 10))
    for _ in range(power_iterations):
        sketch, _ = np.linalg.qr(sketch)
        sketch = matrix @ (matrix.T @ sketch)
    basis, _ = np.linalg.qr(sketch)
    u, s, vt = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    root = np.sqrt(s[:dim])
    return (basis @ u[:, :dim]) * root, vt[:dim].T * root


def rank(values):
    """Ranks 1..n with ties given their average rank."""
    values = np.asarray(values, dtype="float64")
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    unique, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / np.bincount(inverse))[inverse]


def spearman(a, b):
    """Spearman rank correlation of two equal-length arrays (Pearson correlation of their ranks)."""
    ra, rb = rank(a), rank(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))


def cosine_matrix(vectors):
    """(n, d) -> (n, n) cosine similarities (zero vectors give 0)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    return unit @ unit.T
