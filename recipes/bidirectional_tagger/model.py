"""Bidirectional RNN tagger: labels that depend on what comes later, with and without the future.

Paper: "Bidirectional Recurrent Neural Networks", Mike Schuster and Kuldip K. Paliwal,
1997, https://doi.org/10.1109/78.650093. Bidirectional LSTM taggers: "Framewise phoneme
classification with bidirectional LSTM and other neural network architectures", Alex
Graves and Jürgen Schmidhuber, 2005, https://doi.org/10.1016/j.neunet.2005.06.042.
Book: "Deep Learning", Goodfellow, Bengio and Courville, 2016, section 10.3 and figure
10.11, https://www.deeplearningbook.org/contents/rnn.html.

What the recipe shows: with `bidirectional=True` one recurrent layer reads the sequence
forwards (h_t, a summary of the past) and a second reads it backwards (g_t, a summary
of the future); the output at step t sees both, [h_t, g_t], as in figure 10.11. The task
(data.py) labels every step with the kind of the next marker, so the evidence for a
label lies ahead of it: the unidirectional model (`bidirectional=False`) is stuck at the
best accuracy any reader of the past can reach, which data.py computes exactly, while
the bidirectional one reaches 1.0. Both models have about the same number of parameters:
the bidirectional layer's two directions get the per-direction size whose total matches
the unidirectional layer of `units` (printed when the model is built).

Deviations:
- A synthetic task instead of the paper's TIMIT phoneme frames, so the gap is exact.
- The directions' outputs are concatenated and read out by one softmax layer; the paper
  connects both hidden layers straight to the outputs, which is the same function.
- Keras' GRU by default (`cell` picks any recurrent layer of recipes/common/cells.py);
  the paper used simple sigmoid RNNs trained with BPTT.
"""

import logging

import keras

from recipes.bidirectional_tagger.data import num_symbols
from recipes.common.cells import CELL_CHOICES, recurrent_layer, recurrent_parameter_count
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, fraction, integer, positive

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    # Model: one recurrent layer, read forwards only or in both directions.
    "bidirectional": True,
    "cell": "keras_gru",
    "embedding_dim": 16,
    "units": 32,
    # Task: markers A.. and fillers a.. over `sequence_length` steps; a step before the last
    # is a marker with probability `marker_rate` (mean distance to the next one ~ 1 / rate).
    "sequence_length": 24,
    "num_markers": 4,
    "num_fillers": 8,
    "marker_rate": 0.2,
    "num_train": 4000,
    "num_validation": 500,
    "num_test": 1000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "bidirectional": boolean(),
    "cell": choice(*CELL_CHOICES),
    "embedding_dim": integer(1, 4096),
    "units": integer(1, 4096),
    "sequence_length": integer(1, 10_000),
    # Markers are the letters A-Z, fillers a-z.
    "num_markers": integer(1, 26),
    "num_fillers": integer(1, 26),
    # The chance that a step before the last is a marker (the last always is).
    "marker_rate": fraction(),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
}

# Most steps (sequences x length) one split may hold: 400 MB of int32 symbols and labels.
MAX_SPLIT_STEPS = 50_000_000


def check_config(config):
    """Raise ConfigError when a split would be too big to generate."""
    steps = config["sequence_length"]
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_STEPS // steps, f"sequences of {steps:,} steps ({MAX_SPLIT_STEPS:,} steps per split)")


def model_parameter_count(cell, units, embedding_dim, num_labels, directions):
    """Parameters of the recurrent layer(s) and the readout (the embedding is the same for both models).

    Args:
        cell: a CELL_CHOICES value.
        units: hidden size of each direction.
        embedding_dim: the recurrent layer's input size.
        num_labels: the readout's output size.
        directions: 1 (forwards) or 2 (forwards and backwards, outputs concatenated).

    Returns:
        int count.
    """
    readout = directions * units * num_labels + num_labels
    return directions * recurrent_parameter_count(cell, units, embedding_dim) + readout


def direction_units(config):
    """Units of each direction: config["units"] forwards only, or the size matching it when bidirectional.

    Args:
        config: dict with bidirectional, cell, units, embedding_dim, num_markers.

    Returns:
        int hidden size of each recurrent layer.
    """
    if not config["bidirectional"]:
        return config["units"]
    cell, inputs, labels = config["cell"], config["embedding_dim"], config["num_markers"]
    target = model_parameter_count(cell, config["units"], inputs, labels, 1)
    return min(range(1, config["units"] + 1), key=lambda u: abs(model_parameter_count(cell, u, inputs, labels, 2) - target))


def build_model(config):
    """The tagger: symbol embedding, one (bi)directional recurrent layer, a per-step softmax over marker kinds.

    Args:
        config: dict with bidirectional, cell, embedding_dim, units, learning_rate,
            global_clipnorm and the task keys of data.load_data.

    Returns:
        A compiled keras.Model from (batch, T) int symbol ids to (batch, T, num_markers)
        label probabilities.
    """
    units = direction_units(config)
    directions = 2 if config["bidirectional"] else 1
    count = model_parameter_count(config["cell"], units, config["embedding_dim"], config["num_markers"], directions)
    reference = model_parameter_count(config["cell"], config["units"], config["embedding_dim"], config["num_markers"], 1)
    logging.getLogger(__name__).info(
        f"bidirectional_tagger: {'2 directions' if directions == 2 else '1 direction'} of {config['cell']} with {units} units: "
        f"{count:,} recurrent + readout parameters (forwards-only with {config['units']} units: {reference:,})"
    )

    # Time is left unknown: one model tags sequences of any length.
    symbols = keras.Input(shape=(None,), dtype="int32", name="symbol_ids")
    embedded = keras.layers.Embedding(num_symbols(config), config["embedding_dim"], name="symbol_embedding")(symbols)
    if config["bidirectional"]:
        # The forward layer's h_t summarises steps 0..t, the backward layer's g_t steps t..T-1;
        # Keras flips the backward outputs back into input order before concatenating.
        forward = recurrent_layer(config["cell"], units, name="tagger_rnn", return_sequences=True)
        features = keras.layers.Bidirectional(forward, merge_mode="concat", name="bidirectional_rnn")(embedded)  # (batch, T, 2 * units)
    else:
        features = recurrent_layer(config["cell"], units, name="forward_rnn", return_sequences=True)(embedded)  # (batch, T, units)
    probabilities = keras.layers.Dense(config["num_markers"], activation="softmax", name="label_probabilities")(features)
    model = keras.Model(symbols, probabilities, name="bidirectional_tagger" if config["bidirectional"] else "forward_tagger")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
