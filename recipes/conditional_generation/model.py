"""Conditional generation: an RNN reads an input at every step AND its own previous output.

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, chapter 10,
https://www.deeplearningbook.org/contents/rnn.html: section 10.2.4 and figure 10.10 (an
RNN mapping a sequence x to a distribution over sequences y of the same length, with
y_{t-1} fed to the hidden units), against figure 10.3 (outputs conditionally independent
given x). Teacher forcing: "A Learning Algorithm for Continually Running Fully Recurrent
Neural Networks", Ronald J. Williams and David Zipser, 1989,
https://doi.org/10.1162/neco.1989.1.2.270.

What the recipe shows. Given a consonant/vowel pattern one letter at a time (data.py),
the network writes a real Shakespeare word that fits it. Many words fit a pattern, so
the distribution over outputs is not determined by x: with the previous letter fed back,
    h_t = f(h_{t-1}, x_t, y_{t-1}),    p(y_t | x_1..x_t, y_1..y_{t-1}) = softmax(V h_t + c),
the network models the joint distribution of the letters, and a sampled word stays
consistent with the letters it has already chosen. Without it (`feed_previous_output=False`,
figure 10.3) the letters are sampled independently given x, each from the right marginal,
and mix several words into a non-word ("vowel here, consonant there" is all they agree
on). Trained with teacher forcing (the true previous letter is an input), then run free
with sampling or greedy decoding (demo.py); the metric is the fraction of sampled words
that are real words of the plays.

Deviations from the book: the per-step input x_t is the class of letter t together with
the class of letter t + 1 (or the end of the word), one step of look-ahead, because the
causal network of figure 10.10 otherwise commits to letters before it knows the rest of
the pattern; the hidden layer is a GRU by default (`cell` picks any shared cell) and the
inputs are learned embeddings rather than one-hot vectors.
"""

import keras

from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, boolean, choice, integer, number, ordered, positive
from recipes.conditional_generation.data import NUM_CLASS_IDS, NUM_LETTERS, NUM_PREVIOUS_IDS, PAD_TARGET

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 128,
    "learning_rate": 0.01,
    "global_clipnorm": 1.0,
    # True: figure 10.10 (y_{t-1} fed back); False: figure 10.3 (no output feedback).
    "feed_previous_output": True,
    "cell": "keras_gru",
    "units": 128,
    "class_embedding_dim": 8,
    "letter_embedding_dim": 16,
    # Data: word tokens of min_letters..max_letters letters from the plays.
    "min_letters": 5,
    "max_letters": 8,
    "num_train": 30000,
    "num_validation": 1000,
    "num_test": 1000,
    # Decoding: sampling temperature of the metrics (0 would be greedy), samples per pattern in the demo.
    "temperature": 1.0,
    "num_samples": 6,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "feed_previous_output": boolean(),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "class_embedding_dim": integer(1, 1024),
    "letter_embedding_dim": integer(1, 1024),
    # The plays' longest words have under 30 letters; max_letters is the sequence length.
    "min_letters": integer(1, 40),
    "max_letters": integer(1, 40),
    # The plays have about 0.9 M word tokens; load_data checks the splits fit the chosen lengths.
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
    "temperature": number(0, 100),  # 0 is greedy
    "num_samples": integer(1, 100),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): <start> then the true letters.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("previous_letters",)


def check_config(config):
    """Raise ConfigError unless min_letters <= max_letters."""
    ordered(config, "min_letters", "max_letters")


def build_model(config):
    """The generator as trained with teacher forcing.

    Args:
        config: dict with feed_previous_output, cell, units, class_embedding_dim,
            letter_embedding_dim, learning_rate, global_clipnorm and the task keys.

    Returns:
        A compiled keras.Model: {"letter_classes": (batch, T) int ids, and with feedback
        "previous_letters": (batch, T) int ids of the true letter t - 1} -> (batch, T, 26)
        letter probabilities. The loss ignores padded steps (target PAD_TARGET); Keras
        reports no accuracy (it would count them), demo.evaluate reports letter_accuracy.
    """

    classes = keras.Input(shape=(None,), dtype="int32", name="letter_classes")
    inputs = {"letter_classes": classes}
    # No Keras mask: padding follows the word and the RNN is causal, so it cannot change
    # the word's own outputs; the loss leaves padded steps out through ignore_class.
    step_input = keras.layers.Embedding(NUM_CLASS_IDS, config["class_embedding_dim"], name="letter_class_embedding")(classes)
    if config["feed_previous_output"]:
        previous = keras.Input(shape=(None,), dtype="int32", name="previous_letters")
        inputs["previous_letters"] = previous
        letter = keras.layers.Embedding(NUM_PREVIOUS_IDS, config["letter_embedding_dim"], name="previous_letter_embedding")(previous)
        # (batch, T, class_dim + letter_dim): x_t next to y_{t-1}.
        step_input = keras.layers.Concatenate(name="class_and_previous_letter")([step_input, letter])
    hidden = recurrent_layer(config["cell"], config["units"], name="generator_rnn")(step_input)  # (batch, T, units)
    probabilities = keras.layers.Dense(NUM_LETTERS, activation="softmax", name="letter_probabilities")(hidden)
    name = "output_feedback" if config["feed_previous_output"] else "no_output_feedback"
    model = keras.Model(inputs, probabilities, name=f"conditional_generation_{name}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=PAD_TARGET),
    )
    return model
