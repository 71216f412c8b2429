"""Part-of-speech tagging of Shakespeare: a recurrent network with an output at every step.

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, chapter 10,
figure 10.3 (recurrent connections between hidden units, an output at each time step),
https://www.deeplearningbook.org/contents/rnn.html. Tagging with recurrent networks:
"Framewise phoneme classification with bidirectional LSTM and other neural network
architectures", Alex Graves and Jürgen Schmidhuber, 2005,
https://doi.org/10.1016/j.neunet.2005.06.042 (recurrent taggers with one label per
step; this recipe is their unidirectional network, on words instead of speech frames).

What the recipe shows: a word-level tagger, Embedding -> one recurrent layer -> a softmax
over the 46 Penn Treebank tags at every step, trained on Shakespeare lines whose tags
come from the Brill tagger TextBlob bundles (silver labels, see data.py). Each line is
padded to its split's longest line and the padding is masked end to end: the Embedding
(mask_zero=True) emits the mask, the recurrent layer skips masked steps, and the loss
and Keras' accuracy leave them out. `model="per_word"` swaps the recurrent layer for a
Dense layer applied to each word on its own (no recurrence): it can only learn one tag
per word, so the gap between the two is what context is worth ("that" as IN, WDT or
DT; "perceive" as VB after "may", VBP after "I"). demo.py reports the lookup baselines.

Deviations:
- Labels are silver (a rule-based tagger), not a hand-annotated treebank; the network is
  measured on reproducing them. By default they include Brill's contextual rules, which
  TextBlob's PatternTagger leaves out (`silver_tagger`, data.py).
- Unidirectional: the tagger's contextual rules also look at the NEXT word, which this
  network cannot see (the bidirectional_tagger recipe is about that gap).
- Unknown words map to one of eight shape signatures (data.py) instead of a single UNK id.
- GRU by default (any `cell` of recipes/common/cells.py); Adam with gradient-norm
  clipping, dropout on the recurrent layer's output.
"""

import keras

from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, choice, fraction, integer, positive
from recipes.sequence_labeling.data import FIRST_WORD_ID, SILVER_TAGGERS, TAGS

MODEL_CHOICES = ("rnn", "per_word")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    # Model: "rnn" (recurrent layer over the line) or "per_word" (Dense on each word alone).
    "model": "rnn",
    "cell": "keras_gru",
    "embedding_dim": 64,
    "units": 64,
    "dropout": 0.2,
    # Data: the silver tagger ("context_rules": Brill's contextual rules on, so a word's tag
    # depends on its neighbours; "lexicon_only": TextBlob's PatternTagger as shipped, one
    # tag per word), lines of the corpus, and the word vocabulary (ids include padding and unknown words).
    "silver_tagger": "context_rules",
    "num_train_lines": 50000,
    "num_validation_lines": 1000,
    "num_test_lines": 3000,
    "vocabulary_size": 10000,
    "min_word_count": 2,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "model": choice(*MODEL_CHOICES),
    "cell": choice(*CELL_CHOICES),
    "embedding_dim": integer(1, 1024),
    "units": integer(1, 4096),
    "dropout": fraction(),
    "silver_tagger": choice(*SILVER_TAGGERS),
    # The corpus has about 103 k lines; load_data checks that the three splits fit in it.
    "num_train_lines": integer(1, 200_000),
    "num_validation_lines": integer(1, 200_000),
    "num_test_lines": integer(1, 200_000),
    # Ids 0..FIRST_WORD_ID - 1 are padding and unknown words: at least one id is left for a word.
    "vocabulary_size": integer(FIRST_WORD_ID + 1, 200_000),
    "min_word_count": integer(1, 100_000),
}


def build_model(config):
    """The tagger: word embedding, a recurrent (or per-word) layer, and a per-step tag softmax.

    Args:
        config: dict with model, cell, embedding_dim, units, dropout, learning_rate,
            global_clipnorm, vocabulary_size and the other data keys.

    Returns:
        A compiled keras.Model from (batch, T) int word ids (0 = padding) to (batch, T, 46)
        tag probabilities.
    """

    # Time is left unknown: one model tags lines of any length.
    word_ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    # mask_zero: id 0 is padding; the mask follows the tensor through every layer below.
    embedded = keras.layers.Embedding(config["vocabulary_size"], config["embedding_dim"], mask_zero=True, name="word_embedding")(word_ids)
    if config["model"] == "rnn":
        # h_t = f(h_{t-1}, x_t): each step's features summarise the line up to word t.
        features = recurrent_layer(config["cell"], config["units"], name="tagger_rnn", return_sequences=True)(embedded)
    else:
        # No recurrence: the features of word t depend on word t alone.
        features = keras.layers.Dense(config["units"], activation="tanh", name="word_features")(embedded)
    features = keras.layers.Dropout(config["dropout"], name="features_dropout")(features)  # (batch, T, units)
    probabilities = keras.layers.Dense(len(TAGS), activation="softmax", name="tag_probabilities")(features)
    model = keras.Model(word_ids, probabilities, name=f"sequence_labeling_{config['model']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        # Padded steps carry the mask, so Keras leaves them out of the loss and the accuracy.
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
