"""Sequence classifier: one output after the whole review, which must read negation and "but".

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, chapter 10
("Sequence Modeling: Recurrent and Recursive Nets"), figure 10.5: a recurrent network
that reads a whole sequence and produces a single output at the end,
https://www.deeplearningbook.org/contents/rnn.html. The classic demonstration that
sentiment needs composition (negation, "but"): "Recursive Deep Models for Semantic
Compositionality Over a Sentiment Treebank", Richard Socher et al., 2013,
https://aclanthology.org/D13-1170/. Sentiment words: "VADER: A Parsimonious Rule-based
Model for Sentiment Analysis of Social Media Text", C. J. Hutto and Eric Gilbert, 2014,
https://doi.org/10.1609/icwsm.v8i1.14550.

What the recipe shows: word ids go through an embedding that masks the padding
(`mask_zero=True`), one recurrent layer reads the review, and a sigmoid reads its last
state: the state after the last real word, whatever the review's length (4 to 40
tokens here). Config `model` picks the architecture:

- "rnn": Embedding -> recurrent layer (the `cell` choice, its last state) -> Dense sigmoid.
- "bag_of_words": Embedding -> masked mean over the words -> Dense sigmoid, a linear
  classifier of averaged word vectors (the fastText baseline of Joulin et al. 2016,
  "Bag of Tricks for Efficient Text Classification", https://arxiv.org/abs/1607.01759).
  It cannot see word order, so it reads "not great" like "great ... not" and cannot
  tell which clause came after "but".

demo.evaluate breaks the test accuracy down by construction (plain, negation,
contrast), which shows where the bag of words fails and the RNN does not.

Deviations from the sources:
- Data: generated reviews with rule-computed labels (see data.py), not the Stanford
  Sentiment Treebank of Socher et al.; the labels are exact by construction, but the
  language is a small template grammar, far from real reviews.
- Socher et al. compose along a parse tree (a recursive network, book section 10.6);
  this recipe reads left to right with a chain RNN, the architecture of figure 10.5.
- Binary labels (positive/negative) only; no neutral class, no phrase-level labels.
"""

import keras

from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, choice, integer, number, positive
from recipes.sequence_classifier.data import LONGEST_CORE, vocabulary

MODELS = ("rnn", "bag_of_words")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    # Model: "rnn" (reads in order) or "bag_of_words" (masked mean of word vectors).
    "model": "rnn",
    "cell": "keras_gru",
    "units": 64,
    "embedding_dim": 32,
    # Data: reviews per split and their length range in tokens (punctuation included).
    "num_train": 8000,
    "num_validation": 1000,
    "num_test": 3000,
    # Share of plain reviews; negated and contrastive reviews split the rest. With plain
    # reviews in the majority, as in real text, a word's sign predicts the label on its own.
    "plain_fraction": 0.5,
    "min_words": 4,
    "max_words": 40,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "model": choice(*MODELS),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "embedding_dim": integer(1, 1024),
    # Reviews are generated one by one in Python.
    "num_train": integer(1, 200_000),
    "num_validation": integer(1, 200_000),
    "num_test": integer(1, 200_000),
    "plain_fraction": number(0, 1),
    # A review needs room for its sentiment sentence (LONGEST_CORE tokens) and a period,
    # and min_words at most 8 keeps short reviews possible.
    "min_words": integer(1, 8),
    "max_words": integer(LONGEST_CORE + 1, 1000),
}


def build_model(config):
    """The review classifier: masked embedding, then a recurrent layer or a masked mean, then a sigmoid.

    Args:
        config: dict with model, cell, units, embedding_dim, learning_rate,
            global_clipnorm and the task keys of data.load_data.

    Returns:
        A compiled keras.Model from (batch, T) int token ids, 0 = padding, to (batch, 1)
        probabilities that the review is positive.
    """

    # Time is left unknown: one model reads reviews of any length.
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    # +1 for the padding id 0; mask_zero makes every layer after this one skip padded steps.
    embedded = keras.layers.Embedding(len(vocabulary()) + 1, config["embedding_dim"], mask_zero=True, name="word_embedding")(
        token_ids
    )  # (batch, T, embedding_dim), with a (batch, T) mask
    if config["model"] == "rnn":
        # return_sequences=False: the output after the last unmasked step (DL book fig. 10.5).
        summary = recurrent_layer(config["cell"], config["units"], name="review_rnn", return_sequences=False)(embedded)
    else:
        # The mean over unmasked words only: padding does not dilute short reviews.
        summary = keras.layers.GlobalAveragePooling1D(name="mean_of_word_vectors")(embedded)
    probability = keras.layers.Dense(1, activation="sigmoid", name="positive_probability")(summary)  # (batch, 1)
    model = keras.Model(token_ids, probability, name=f"sequence_classifier_{config['model']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return model
