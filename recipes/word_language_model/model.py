"""Word-level LSTM language model with the state carried across batches (Zaremba et al.'s regularized LSTM).

Papers: "Recurrent Neural Network Regularization", Wojciech Zaremba, Ilya Sutskever, Oriol
Vinyals, 2014, https://arxiv.org/abs/1409.2329; tied input/output embeddings from "Using the
Output Embedding to Improve Language Models", Ofir Press, Lior Wolf, 2017,
https://arxiv.org/abs/1608.05859.

Shows: a 2-layer LSTM reading Shakespeare word by word (recipes/common/words.py), with dropout
only on the non-recurrent connections (embedding -> layer 1 -> layer 2 -> softmax; never on
h(t-1) -> h(t)), truncated backpropagation through time over `sequence_length` steps with the
state carried from one batch to the next (row k of batch i continues row k of batch i-1),
plain SGD with gradient-norm clipping and a learning rate halved (lr_decay) every epoch after
`decay_after_epoch`, and optionally the output softmax sharing the input embedding matrix.

How the carried state works with the shared runner (model.fit / model.evaluate):
- `CarriedLSTM` is Keras' LSTM with stateful=True whose carried (h, c) live in non-trainable
  weights, so they are saved in .keras with the model: a loaded model continues from the same
  state and predicts exactly what the saved one would (the smoke test's round trip).
- The batch size is part of the model (Input batch_shape): a stateful layer needs it fixed.
- `StreamLanguageModel` never shuffles in fit (the batches are one stream, in order) and resets
  the carried state at the start of every `evaluate`, so validation, test and the demo's
  perplexities are the true stateful ones, from a zero state, deterministic.
- `fit_callbacks` resets the state at every epoch start and applies the learning-rate decay.

Named presets (`--set size=medium`): `size` = "custom" uses the keys as given; "small",
"medium" or "large" replace units, num_layers, sequence_length, dropout, learning_rate,
lr_decay, decay_after_epoch, clipnorm and init_scale with the paper's values (PRESETS below),
whatever those keys say. The preset wins; every other key (epochs, batch_size,
vocabulary_size, tie_embeddings, ...) stays as given. The paper trains small for 13 epochs,
medium 39, large 55: set epochs too.

Deviations:
- Data: 32 Shakespeare plays (786 k words, vocabulary 1,000 by default: 16 % of the test words
  are "<unk>"), not the Penn Treebank (929 k words, 10 k vocabulary); perplexities are
  therefore not comparable with the paper's.
- DEFAULT_CONFIG is a scaled-down "small" (2 x 128 units, tied embeddings, vocabulary 1,000,
  dropout 0.2, 3 epochs) trained with Adam: the paper's SGD at learning rate 1 needs many
  epochs, and in the time of a brief run it stays near the unigram perplexity (README). The
  paper's small/medium/large with SGD are presets users can run; none is shipped.
- Keras reports the loss as the mean over words (nats per word). The paper sums the loss over
  the steps of a window before clipping; the SGD here runs at learning_rate * sequence_length
  with a clip threshold of clipnorm / sequence_length, which gives exactly the paper's update.
  (Adam's step does not depend on the gradient's scale; the clip is applied the same way.)
- Biases start at zero (forget-gate bias one, Keras' default); the paper draws every
  parameter from U(-init_scale, init_scale).
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, boolean, choice, fraction, integer, number, positive, text

# The paper's configurations (section 4.1). Every listed key is replaced when size != "custom".
PRESETS = {
    "small": {
        "optimizer": "sgd",
        "num_layers": 2,
        "units": 200,
        "sequence_length": 35,
        "dropout": 0.0,
        "learning_rate": 1.0,
        "lr_decay": 0.5,
        "decay_after_epoch": 4,
        "clipnorm": 5.0,
        "init_scale": 0.1,
    },
    "medium": {
        "optimizer": "sgd",
        "num_layers": 2,
        "units": 650,
        "sequence_length": 35,
        "dropout": 0.5,
        "learning_rate": 1.0,
        "lr_decay": 1 / 1.2,
        "decay_after_epoch": 6,
        "clipnorm": 5.0,
        "init_scale": 0.05,
    },
    "large": {
        "optimizer": "sgd",
        "num_layers": 2,
        "units": 1500,
        "sequence_length": 35,
        "dropout": 0.65,
        "learning_rate": 1.0,
        "lr_decay": 1 / 1.15,
        "decay_after_epoch": 14,
        "clipnorm": 10.0,
        "init_scale": 0.04,
    },
}

DEFAULT_CONFIG = {
    "seed": 1,
    "epochs": 3,
    "batch_size": 64,  # streams read side by side; part of the model (stateful)
    "learning_rate": 0.01,  # Adam; with SGD, per summed window loss as in the paper (1.0)
    "optimizer": "adam",  # or "sgd" (the paper's; every preset uses it)
    "size": "custom",  # or small / medium / large: see PRESETS
    "num_layers": 2,
    "units": 128,
    "sequence_length": 35,  # truncated BPTT window
    "dropout": 0.2,  # on non-recurrent connections only
    "lr_decay": 0.5,  # learning rate factor per epoch after decay_after_epoch
    "decay_after_epoch": 2,
    "clipnorm": 5.0,  # global gradient-norm clip of the summed window loss
    "init_scale": 0.1,  # weights start in U(-init_scale, init_scale)
    "tie_embeddings": True,  # softmax weights = embedding matrix (embedding size = units)
    "embedding_dim": 128,  # used only when tie_embeddings is false
    # Data: vocabulary size (with <eos> and <unk>); share of the training stream used (from its start).
    "vocabulary_size": 1000,
    "train_fraction": 1.0,
    # Demo: num_samples continuations of prime_text at 0.7 and `temperature`.
    "prime_text": "to be or not to be",
    "sample_length": 60,
    "temperature": 1.0,
    "num_samples": 2,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "optimizer": choice("sgd", "adam"),
    "size": choice("custom", *PRESETS),
    "num_layers": integer(1, 8),
    "units": integer(1, 4096),
    "sequence_length": integer(2, 1000),
    "dropout": fraction(),
    "lr_decay": number(0.01, 1),
    "decay_after_epoch": integer(0, 10_000),
    "clipnorm": positive(1000.0),
    "init_scale": positive(1.0),
    "tie_embeddings": boolean(),
    "embedding_dim": integer(1, 4096),
    "vocabulary_size": integer(3, 30_000),
    "train_fraction": number(0.01, 1),
    "prime_text": text(500, min_length=1),
    "sample_length": integer(1, 5000),
    "temperature": number(0, 100),  # 0 is greedy
    "num_samples": integer(1, 50),
}

# The input words are the targets shifted by one step (teacher forcing); `recipe diagram` draws y(t-1) -> h(t).
TEACHER_FORCED_INPUTS = ("words",)


def resolved(config):
    """The config with its `size` preset applied (the preset's keys win; see the module docstring)."""
    return {**config, **PRESETS.get(config["size"], {})}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class CarriedLSTM(keras.layers.LSTM):
    """LSTM(stateful=True) whose carried state (h, c) is kept in non-trainable weights.

    Keras' stateful RNN keeps its state in untracked variables; here they are the layer's own
    weights, so `.keras` files save them and a loaded model continues from the same state.
    `reset_state()` zeroes them. The update equations are Keras' LSTM:
        i, f, o = sigmoid(W x_t + U h_{t-1} + b) per gate; g = tanh(W_g x_t + U_g h_{t-1} + b_g)
        c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t)
    """

    def __init__(self, units, **kwargs):
        kwargs["stateful"] = True
        super().__init__(units, **kwargs)

    def _create_state_variables(self, batch_size):
        # (batch, units) each; the same names every build, so saved files line up.
        self.states = [
            self.add_weight(shape=(batch_size, self.units), initializer="zeros", trainable=False, name=f"carried_{name}") for name in ("h", "c")
        ]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if initial_state is None:
            # A copy of the carried state: the layer assigns the new state to these variables in
            # place after the step, and PyTorch's autograd still needs the old values for the gradient.
            initial_state = [ops.copy(state) for state in self.states]
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class TiedLogits(keras.layers.Layer):
    """Next-word logits from the input embedding matrix E (vocabulary, units): logits = h E^T + b.

    The layer owns only the bias b; E belongs to the embedding layer named `embedding_layer`,
    which `StreamLanguageModel` hands over (`tie`) whenever the model is built or loaded.
    """

    def __init__(self, vocabulary_size, embedding_layer, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_layer = embedding_layer
        self._embedding = None

    def tie(self, embedding):
        """Use `embedding` (a keras.layers.Embedding) as the output matrix; not tracked, not saved here."""
        object.__setattr__(self, "_embedding", embedding)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros", name="bias")

    def call(self, inputs):
        if self._embedding is None:
            raise ValueError(f"TiedLogits '{self.name}' is not tied to an embedding; build it inside a StreamLanguageModel.")
        # (..., units) x (units, vocabulary) -> (..., vocabulary)
        return ops.matmul(inputs, ops.transpose(self._embedding.embeddings)) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.vocabulary_size)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "embedding_layer": self.embedding_layer}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class StreamLanguageModel(keras.Model):
    """A functional language model over one stream of batches: never shuffled, evaluated from a zero state.

    - fit: `shuffle` is forced off (batch i + 1 continues batch i, row by row).
    - evaluate: every carried state is reset first, so a score covers the split from its start.
    - ties each TiedLogits layer to its named embedding, when built and when loaded.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for layer in self.layers:
            if isinstance(layer, TiedLogits):
                layer.tie(self.get_layer(layer.embedding_layer))

    def reset_carried_states(self):
        """Zero the carried (h, c) of every CarriedLSTM."""
        for layer in self.layers:
            if isinstance(layer, CarriedLSTM):
                layer.reset_state()

    def fit(self, *args, **kwargs):
        kwargs["shuffle"] = False
        return super().fit(*args, **kwargs)

    def evaluate(self, *args, **kwargs):
        self.reset_carried_states()
        return super().evaluate(*args, **kwargs)


class _ResetAndDecay(keras.callbacks.Callback):
    """At each epoch start: zero the carried state and set lr = base * lr_decay ** max(0, epoch + 1 - decay_after_epoch)."""

    def __init__(self, base_rate, lr_decay, decay_after_epoch):
        super().__init__()
        self.base_rate, self.lr_decay, self.decay_after_epoch = base_rate, lr_decay, decay_after_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_carried_states()
        # epoch is 0-based: with decay_after_epoch 4, epochs 1-4 run at the base rate, epoch 5 at half.
        self.model.optimizer.learning_rate.assign(self.base_rate * self.lr_decay ** max(0, epoch + 1 - self.decay_after_epoch))


def fit_callbacks(model, data, config):
    """The runner's hook: reset the carried state every epoch, decay the learning rate after decay_after_epoch."""
    config = resolved(config)
    base_rate = config["learning_rate"] * (config["sequence_length"] if config["optimizer"] == "sgd" else 1)
    return [_ResetAndDecay(base_rate, config["lr_decay"], config["decay_after_epoch"])]


def build_model(config):
    """Build and compile the stateful word LSTM language model.

    Args:
        config: DEFAULT_CONFIG with overrides (the `size` preset is applied here).

    Returns:
        Compiled StreamLanguageModel: word ids (batch_size, time) -> next-word logits
        (batch_size, time, vocabulary_size); loss in nats per word.
    """
    config = resolved(config)
    vocabulary_size, units = config["vocabulary_size"], config["units"]
    uniform = keras.initializers.RandomUniform(-config["init_scale"], config["init_scale"], seed=config["seed"])
    embedding_dim = units if config["tie_embeddings"] else config["embedding_dim"]

    # Batch size fixed (stateful); time left open, so any window length can be scored.
    words = keras.Input(batch_shape=(config["batch_size"], None), dtype="int32", name="words")
    embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, embeddings_initializer=uniform, name="word_embedding")
    x = embedding(words)  # (batch, time, embedding_dim)
    # Dropout on non-recurrent connections only: into each layer and into the softmax.
    x = keras.layers.Dropout(config["dropout"], name="dropout_embedding")(x)
    for layer in range(1, config["num_layers"] + 1):
        x = CarriedLSTM(
            units,
            return_sequences=True,
            kernel_initializer=uniform,
            recurrent_initializer=uniform,
            name=f"lstm_{layer}",
        )(x)  # (batch, time, units)
        x = keras.layers.Dropout(config["dropout"], name=f"dropout_{layer}")(x)
    if config["tie_embeddings"]:
        logits = TiedLogits(vocabulary_size, embedding.name, name="next_word_logits")(x)
    else:
        logits = keras.layers.Dense(vocabulary_size, kernel_initializer=uniform, name="next_word_logits")(x)

    model = StreamLanguageModel(words, logits, name="word_language_model")
    # The clip applies to the gradient of the window loss summed over steps (the paper's); Keras' loss is the mean.
    clip = config["clipnorm"] / config["sequence_length"]
    if config["optimizer"] == "sgd":
        # lr * T on the mean loss = the paper's lr on the summed loss (module docstring).
        optimizer = keras.optimizers.SGD(config["learning_rate"] * config["sequence_length"], global_clipnorm=clip)
    else:
        optimizer = keras.optimizers.Adam(config["learning_rate"], global_clipnorm=clip)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
