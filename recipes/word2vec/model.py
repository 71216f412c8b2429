"""Skip-gram word vectors with negative sampling (word2vec), trained on Shakespeare's words.

Papers: "Distributed Representations of Words and Phrases and their Compositionality", Tomas
Mikolov, Ilya Sutskever, Kai Chen, Greg Corrado, Jeffrey Dean, 2013,
https://arxiv.org/abs/1310.4546; "Efficient Estimation of Word Representations in Vector
Space", Tomas Mikolov, Kai Chen, Greg Corrado, Jeffrey Dean, 2013, https://arxiv.org/abs/1301.3781.

Shows: the shallow model the recurrent language models' embedding layers are often started
from. Each training example is a (word, context word) pair from a window around the word,
plus `num_negatives` noise words drawn from the unigram distribution raised to 3/4; the model
scores each pair by the dot product of the word's vector w (word_embedding) and the context
word's output vector c (context_embedding) and learns, by logistic regression,

    log sigmoid(w . c_pos) + sum over noise words of log sigmoid(-w . c_neg)

Frequent words are subsampled (each occurrence kept with probability sqrt(t / f) + t / f),
and the window size is drawn uniformly from 1..window for every word, as in word2vec.c.
No recurrence: every pair is scored independently, so training is parallel over the corpus.
The demo compares the vectors with count-based ones (PPMI + truncated SVD) on a held-out
word-similarity check (recipes/word2vec/demo.py).

Deviations:
- Data: 32 Shakespeare plays (~600 k in-vocabulary words), vocabulary 1,000 (shared with
  word_language_model, recipes/common/words.py), not Google News (6 B words).
- Adam on mini-batches of pairs with the mean loss, not Hogwild SGD with a linearly decaying
  rate; the pairs, their subsampling and their noise words are drawn once (seeded) when the
  data is made, not afresh each epoch.
- "<eos>" and "<unk>" are removed from the stream before windows are taken (word2vec.c drops
  rare words the same way), so windows run across verse-line ends.
"""

import keras

from recipes.common.config import COMMON_RULES, at_most, integer, number, positive, text

DEFAULT_CONFIG = {
    "seed": 1,
    "epochs": 3,
    "batch_size": 1024,  # (word, context) pairs per step
    "learning_rate": 0.002,
    "embedding_dim": 100,
    "window": 5,  # the largest window; each word draws its own from 1..window
    "num_negatives": 5,  # noise words per pair
    "subsample": 0.001,  # t of the frequent-word subsampling
    "noise_power": 0.75,  # noise distribution: unigram ** noise_power
    # Data: vocabulary size (with <eos> and <unk>, which are never trained on); share of the training stream used.
    "vocabulary_size": 1000,
    "train_fraction": 1.0,
    # Evaluation: held-out PMI over pairs of the num_eval_words most frequent words seen >= min_pair_count times together.
    "num_eval_words": 500,
    "min_pair_count": 5,
    # Demo: nearest neighbours of these words (comma-separated).
    "query_words": "king,love,death,night,sword,sweet,father,heaven",
}

CONFIG_RULES = {
    **COMMON_RULES,
    "embedding_dim": integer(2, 1024),
    "window": integer(1, 20),
    "num_negatives": integer(1, 50),
    "subsample": positive(1.0),
    "noise_power": number(0, 1),
    "vocabulary_size": integer(10, 30_000),
    "train_fraction": number(0.01, 1),
    "num_eval_words": integer(10, 30_000),
    "min_pair_count": integer(1, 1000),
    "query_words": text(1000, min_length=1),
}

TEACHER_FORCED_INPUTS = ()


def check_config(config):
    """num_eval_words must fit in the vocabulary (less "<eos>" and "<unk>")."""
    at_most(config, "num_eval_words", config["vocabulary_size"] - 2, f"for the {config['vocabulary_size'] - 2:,} words of vocabulary_size")


def build_model(config):
    """Build and compile the skip-gram negative-sampling scorer.

    Args:
        config: DEFAULT_CONFIG with overrides.

    Returns:
        Compiled keras.Model: {"word": (batch, 1), "contexts": (batch, 1 + num_negatives)} int ids ->
        logits (batch, 1 + num_negatives): w . c for the true context word (column 0) and the noise words.
    """
    vocabulary_size, dim = config["vocabulary_size"], config["embedding_dim"]
    word = keras.Input(shape=(1,), dtype="int32", name="word")
    contexts = keras.Input(shape=(1 + config["num_negatives"],), dtype="int32", name="contexts")
    # word2vec.c's start: word vectors uniform in +-0.5/dim, output vectors zero.
    w = keras.layers.Embedding(
        vocabulary_size,
        dim,
        embeddings_initializer=keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim, seed=config["seed"]),
        name="word_embedding",
    )(word)  # (batch, 1, dim)
    c = keras.layers.Embedding(vocabulary_size, dim, embeddings_initializer="zeros", name="context_embedding")(contexts)  # (batch, 1 + k, dim)
    scores = keras.layers.Dot(axes=(2, 2), name="pair_scores")([w, c])  # (batch, 1, 1 + k)
    logits = keras.layers.Reshape((1 + config["num_negatives"],), name="pair_logits")(scores)

    model = keras.Model({"word": word, "contexts": contexts}, logits, name="word2vec")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        # Labels (1, 0, ..., 0): the mean of the skip-gram negative-sampling terms over the 1 + k scores.
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return model
