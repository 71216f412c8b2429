"""Memory task: recall K digits after a gap of blanks, where gating beats the basic RNN.

Paper: "Long Short-Term Memory", Sepp Hochreiter and Jürgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735. Also "Learning Long-Term Dependencies with
Gradient Descent is Difficult", Bengio, Simard and Frasconi, 1994,
https://doi.org/10.1109/72.279181, and the GRU of Cho et al., 2014,
https://arxiv.org/abs/1406.1078.

One recurrent layer (the `cell` choice) reads K digits, `blank_separation` blanks and a
delimiter, and a softmax readout writes the digits back after the delimiter. With
`match_params` every cell has about as many parameters as our LSTM with `units`: the
basic RNN fails once the gap is long (chance is 1/9), the LSTM and GRU do not.

Deviations from the paper:
- The task is the copy layout of Arjovsky, Shah and Bengio 2016; the paper's closest
  experiment (2) carries one symbol across lags up to 1000. Here K = 3, gaps 0-40.
- The LSTM has a forget gate (Gers et al. 2000), bias started at 1, and no peepholes.
- Adam with gradient-norm clipping and full backpropagation through time, not the
  paper's truncated gradient; the brief run uses learning rate 0.01 for speed, the
  comparison the default 0.005, at which the basic RNN trains stably at short gaps.
"""

import logging

import keras

from recipes.common.cells import CELL_CHOICES, matched_units, recurrent_layer, recurrent_parameter_count
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, integer, positive
from recipes.memory_task.data import NUM_INPUT_SYMBOLS, NUM_OUTPUT_CLASSES, sequence_length

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 40,
    "batch_size": 32,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    "cell": "lstm",
    "units": 64,
    "match_params": True,
    "num_digits": 3,
    "blank_separation": 40,
    "num_train": 5000,
    "num_validation": 500,
    "num_test": 1000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "match_params": boolean(),
    "num_digits": integer(1, 1000),
    "blank_separation": integer(0, 10_000),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
}

# Most steps (sequences x length) one split may hold: about 900 MB of one-hot float32 inputs.
MAX_SPLIT_STEPS = 20_000_000


def check_config(config):
    """Raise ConfigError when a split would be too big to generate."""
    steps = sequence_length(config["num_digits"], config["blank_separation"])
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_STEPS // steps, f"sequences of {steps:,} steps ({MAX_SPLIT_STEPS:,} steps per split)")


def _parameter_count(cell, units):
    """Weights of the recurrent layer plus the Dense readout: what match_params equalises."""
    return recurrent_parameter_count(cell, units, NUM_INPUT_SYMBOLS) + units * NUM_OUTPUT_CLASSES + NUM_OUTPUT_CLASSES


def build_model(config):
    """The recall network: one recurrent layer and a per-step softmax over digits + blank.

    Args:
        config: dict with cell, units, match_params, learning_rate, global_clipnorm and data's keys.

    Returns:
        A compiled keras.Model, (batch, T, 11) one-hot symbols -> (batch, T, 10) probabilities.
    """
    units = config["units"]
    if config["match_params"]:
        # LSTMs keep `units`; the basic RNN gets about twice as many, the GRU about 15% more.
        units = matched_units(config["cell"], "lstm", units, NUM_INPUT_SYMBOLS, NUM_OUTPUT_CLASSES)
    logging.getLogger(__name__).info(
        f"memory_task: {config['cell']} with {units} units has {_parameter_count(config['cell'], units):,} parameters; "
        f"our lstm with {config['units']} units has {_parameter_count('lstm', config['units']):,}"
    )

    # Time is left unknown, so one model reads sequences of any gap length.
    symbols = keras.Input(shape=(None, NUM_INPUT_SYMBOLS), name="symbols")
    hidden = recurrent_layer(config["cell"], units, name="memory_rnn", return_sequences=True)(symbols)  # (batch, T, units)
    probabilities = keras.layers.Dense(NUM_OUTPUT_CLASSES, activation="softmax", name="symbol_probabilities")(hidden)
    model = keras.Model(symbols, probabilities, name=f"memory_task_{config['cell']}")
    model.compile(
        # Clipping keeps the basic RNN's occasional gradient spikes from wrecking a run.
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        # Every step counts equally: blanks and recalled digits alike.
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
