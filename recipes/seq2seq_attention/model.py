"""Encoder-decoder with Bahdanau (additive) attention, against the same model with a fixed summary.

Paper: "Neural Machine Translation by Jointly Learning to Align and Translate", Dzmitry
Bahdanau, Kyunghyun Cho and Yoshua Bengio, 2014, https://arxiv.org/abs/1409.0473. The
baseline: "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
Machine Translation", Kyunghyun Cho et al., 2014, https://arxiv.org/abs/1406.1078.
Book: "Deep Learning", Goodfellow, Bengio and Courville, 2016, section 10.4 (figure 10.12
and the paragraph on attention after it), https://www.deeplearningbook.org/contents/rnn.html.

What it shows: a bidirectional encoder writes one annotation h_j = [forward h_j;
backward h_j] per input digit. With `attention` on, the decoder computes at every
output step i a fresh context c_i = sum_j a_ij h_j, the weights a_ij coming from an
additive alignment model (recipes/common/attention.py) queried with its previous state
s_{i-1}. With `attention` off, c_i = c for every i, one fixed summary of the input (the
last forward and the first backward annotation, as Cho et al.'s encoder-decoder
conditions every step on one summary). Everything else is the same: encoder, decoder
cell, sizes, initial state, readout. The task (data.py) reverses digit strings of
lengths up to max_length; per-length accuracy shows the fixed summary running out as
inputs grow while attention does not.

Decoder step (both variants), with E y the embedded previous output (teacher forcing in
training, the decoder's own output at test time):
    s_i = cell([E y_{i-1}, c_i], s_{i-1})
    p(y_i) = softmax(V [s_i, c_i] + b)
    s_0 = tanh(W_init [forward h_T; backward h_1])

Deviations from the paper:
- A softmax readout on [s_i, c_i] instead of the paper's maxout deep output on
  (s_{i-1}, y_{i-1}, c_i); the decoder's initial state is computed from both directions'
  final states (the paper uses the backward one only).
- Digits instead of words; small sizes (the paper: 1000-unit GRUs, 620-dim embeddings,
  alignment model of 1000 units) and Adam instead of Adadelta.
"""

import keras

from recipes.common.attention import AttentionDecoder, decoder_inference_models
from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, integer, ordered, positive
from recipes.common.decoding import state_sizes
from recipes.seq2seq_attention.data import VOCABULARY_SIZE

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 128,
    "learning_rate": 0.01,
    "global_clipnorm": 1.0,
    "attention": True,
    "cell": "keras_gru",
    "units": 64,
    "attention_units": 64,
    "embedding_dim": 16,
    "min_length": 3,
    "max_length": 30,
    "num_train": 12000,
    "num_validation": 500,
    "num_test": 1500,
    "beam_width": 1,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "attention": boolean(),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "attention_units": integer(1, 4096),
    "embedding_dim": integer(1, 1024),
    # String lengths; attention weights are (target steps x source steps) per example.
    "min_length": integer(1, 500),
    "max_length": integer(1, 500),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
    "beam_width": integer(1, 32),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): <start> then the true output digits.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("decoder_input",)

# Most tokens (strings x padded length) one split may hold: 600 MB of int32 sources, inputs and targets.
MAX_SPLIT_TOKENS = 50_000_000


def check_config(config):
    """Raise ConfigError unless min_length <= max_length and every split fits in memory."""
    ordered(config, "min_length", "max_length")
    steps = config["max_length"] + 1
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_TOKENS // steps, f"strings of {steps:,} tokens ({MAX_SPLIT_TOKENS:,} tokens per split)")


def build_model(config):
    """The bidirectional encoder and the (attention or fixed-context) decoder, for teacher-forced training.

    Args:
        config: dict with attention, cell, units, attention_units, embedding_dim,
            learning_rate, global_clipnorm, and the length keys of data.load_data.

    Returns:
        A compiled keras.Model from {"source": (batch, Te), "decoder_input": (batch, Td)}
        int ids to (batch, Td, vocabulary) next-digit probabilities, masked at padding.
    """
    units = config["units"]

    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    embedded_source = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="source_embedding")(source)
    encoder = keras.layers.Bidirectional(
        recurrent_layer(config["cell"], units, name="encoder_rnn", return_sequences=True, return_state=True), name="encoder_birnn"
    )
    encoded = encoder(embedded_source)
    annotations = encoded[0]  # (batch, Te, 2 * units), carries the source mask
    num_states = (len(encoded) - 1) // 2
    forward_last, backward_first = encoded[1], encoded[1 + num_states]  # each direction's final h
    summary = keras.layers.Concatenate(name="input_summary")([forward_last, backward_first])  # (batch, 2 * units)

    decoder = AttentionDecoder(config["cell"], units, config["attention_units"], use_attention=config["attention"], name="decoder")
    initial_state = [
        keras.layers.Dense(size, activation="tanh", name=f"decoder_initial_state_{n}")(summary) for n, size in enumerate(state_sizes(decoder.cell))
    ]
    embedded_output = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="output_embedding")(decoder_input)
    decoded = decoder(embedded_output, annotations, summary, initial_state)
    probabilities = keras.layers.Dense(VOCABULARY_SIZE, activation="softmax", name="next_digit_probabilities")(decoded[0])
    model = keras.Model(
        {"source": source, "decoder_input": decoder_input}, probabilities, name=f"seq2seq_{'attention' if config['attention'] else 'fixed_context'}"
    )
    steps = config["epochs"] * -(-config["num_train"] // config["batch_size"])
    # Cosine decay to zero over the run: the attention model's accuracy wobbles at a constant rate.
    schedule = keras.optimizers.schedules.CosineDecay(config["learning_rate"], decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config["global_clipnorm"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="digit_accuracy")],
    )
    return model


def inference_models(model):
    """Encoder and one-step decoder models sharing `model`'s trained layers (recipes/common/attention.py)."""
    return decoder_inference_models(model, "next_digit_probabilities")
