"""Focused tests for word2vec: the skip-gram pairs, subsampling and noise words, the count statistics
(co-occurrence, PMI, SVD, Spearman) behind the baseline and the held-out check, and the analogy rule.
The generic tests build, train a step, round-trip and run the brief run."""

import numpy as np
import pytest
from scipy import stats

from recipes.common.config import ConfigError
from recipes.word2vec.counts import cooccurrence, pmi, ppmi, rank, spearman, truncated_svd_embeddings
from recipes.word2vec.data import make_pairs, noise_distribution, skipgram_pairs, subsample
from recipes.word2vec.demo import analogies, context_auc
from recipes.word2vec.model import DEFAULT_CONFIG, check_config


def test_pairs_lie_within_each_words_own_window():
    ids = np.arange(10, 30, dtype="int32")  # distinct words: a pair's distance is their difference
    rng = np.random.default_rng(0)
    words, contexts = skipgram_pairs(ids, window=3, rng=rng)
    spans = np.random.default_rng(0).integers(1, 4, size=len(ids))  # the same draws
    assert set(zip(words.tolist(), contexts.tolist())) == {
        (int(ids[i]), int(ids[j])) for i in range(len(ids)) for j in range(len(ids)) if 0 < abs(i - j) <= spans[i]
    }
    assert len(words) == len(set(zip(words.tolist(), contexts.tolist())))
    # Window 1: exactly the neighbours.
    words, contexts = skipgram_pairs(np.array([5, 6, 7], dtype="int32"), 1, rng)
    assert sorted(zip(words.tolist(), contexts.tolist())) == [(5, 6), (6, 5), (6, 7), (7, 6)]


def test_subsampling_keeps_rare_words_and_thins_frequent_ones():
    ids = np.array([2] * 9000 + [3] * 1000)
    frequencies = np.bincount(ids, minlength=4) / len(ids)
    kept = subsample(ids, frequencies, 0.2, np.random.default_rng(0))
    # word2vec.c's rule sqrt(t / f) + t / f: above 1 for the rare word (f = 0.1), 0.69 for the frequent one (f = 0.9).
    assert (kept == 3).sum() == 1000
    assert (kept == 2).sum() / 9000 == pytest.approx(np.sqrt(0.2 / 0.9) + 0.2 / 0.9, abs=0.02)


def test_noise_is_the_three_quarter_power_unigram_without_eos_and_unk():
    stream = np.array([0, 1, 2, 2, 2, 2, 3, 0, 1, 1])
    noise = noise_distribution(stream, 5, 0.75)
    assert noise[[0, 1, 4]].tolist() == [0, 0, 0]
    assert noise[2] / noise[3] == pytest.approx(4**0.75)
    x, y = make_pairs(
        np.tile(np.arange(2, 5), 50), {"subsample": 1.0, "window": 2, "num_negatives": 3}, noise, np.full(5, 0.2), np.random.default_rng(0)
    )
    assert x["word"].shape == (len(y), 1) and x["contexts"].shape == (len(y), 4)
    assert (y[:, 0] == 1).all() and (y[:, 1:] == 0).all()
    assert set(np.unique(x["contexts"][:, 1:]).tolist()) <= {2, 3}  # noise words only where the noise has mass


def test_cooccurrence_pmi_and_ppmi_on_a_toy_stream():
    counts = cooccurrence(np.array([0, 1, 2, 0, 1]), 3, window=1)
    np.testing.assert_array_equal(counts, [[0, 2, 1], [2, 0, 1], [1, 1, 0]])
    values = pmi(counts)
    # PMI(0, 1) = log(C01 * total / (row0 * col1)) = log(2 * 8 / (3 * 3)).
    assert values[0, 1] == pytest.approx(np.log(16 / 9))
    assert values[0, 0] == -np.inf and ppmi(counts)[0, 0] == 0 and ppmi(counts).min() >= 0


def test_spearman_matches_scipy_with_ties_and_svd_recovers_a_low_rank_matrix():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 200), rng.standard_normal(200)
    b = b + a
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    np.testing.assert_allclose(rank([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    factor = rng.standard_normal((40, 4))
    matrix = factor @ factor.T  # symmetric, rank 4
    words, contexts = truncated_svd_embeddings(matrix, 4)
    np.testing.assert_allclose(words @ contexts.T, matrix, atol=1e-8)


def test_context_auc_counts_wins_over_noise_words_and_ties_as_half():
    words = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x = {"word": np.array([[0], [1]]), "contexts": np.array([[0, 1, 1], [2, 0, 1]])}
    # Row 0: the true score 1 beats both noise scores 0. Row 1: the true score 1 beats context 0 (0), ties context 1 (1).
    assert context_auc(words, words, (x, None)) == pytest.approx((2 + 1 + 0.5) / 4)


def test_analogy_answer_is_the_nearest_word_to_b_minus_a_plus_c():
    words = ("<eos>", "<unk>", "king", "queen", "lord", "lady", "dog")
    vectors = np.array([[0, 0, 1], [0, 0, 1], [1, 0, 0.1], [1, 1, 0.1], [2, 0, 0.1], [2, 1, 0.1], [-1, -1, 0.1]], dtype="float64")
    found = {(a, b, c, d): answer for a, b, c, d, answer in analogies(vectors, words)}
    assert found[("king", "queen", "lord", "lady")] == "lady"
    assert all(len(key) == 4 for key in found)  # only analogies whose four words are in the vocabulary


def test_evaluation_words_must_fit_in_the_vocabulary():
    with pytest.raises(ConfigError, match="'num_eval_words' takes at most 98 for the 98 words of vocabulary_size"):
        check_config({**DEFAULT_CONFIG, "vocabulary_size": 100, "num_eval_words": 500})
