"""Memory task: recall K digits after a long gap of blanks, where gating beats the basic RNN.

Paper: "Long Short-Term Memory", Sepp Hochreiter and Jürgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735. Why the basic RNN fails: "Learning
Long-Term Dependencies with Gradient Descent is Difficult", Yoshua Bengio, Patrice
Simard and Paolo Frasconi, 1994, https://doi.org/10.1109/72.279181. The GRU:
"Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation", Kyunghyun Cho et al., 2014, https://arxiv.org/abs/1406.1078.

The network reads K random digits, `blank_separation` blanks and a delimiter, and must
write the K digits back on the K steps after the delimiter (blanks everywhere else).
One recurrent layer (the `cell` choice) and a softmax readout at every step. With
`match_params` the cell's units are chosen so its parameter count matches our LSTM with
`units`, so the basic RNN, LSTM and GRU are compared at equal size: the basic RNN
recalls across short gaps and falls to chance (1/9) across long ones, while the
gated cells keep the digits in their memory.

Deviations from the paper:
- The task is the "copy"/"recall" form used since Hochreiter & Schmidhuber's
  long-time-lag experiments (their experiments 2 and 6 are close relatives), in the
  layout of Arjovsky, Shah and Bengio 2016 ("Unitary Evolution Recurrent Neural
  Networks"), with digits 0..8 and short gaps so it trains on a CPU in seconds.
- The LSTM has a forget gate (Gers et al. 2000) starting at bias 1 and no peepholes;
  the paper's 1997 cell had neither.
- Training is Adam with global gradient-norm clipping and full backpropagation through
  time, not the paper's truncated real-time recurrent learning.
"""

import keras

from recipes.common.cells import CELL_CHOICES, matched_units, recurrent_parameter_count, recurrent_layer
from recipes.common.config import check_choice
from recipes.memory_task.data import NUM_INPUT_SYMBOLS, NUM_OUTPUT_CLASSES, check_task

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 20,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    "cell": "lstm",
    "units": 64,
    "match_params": True,
    "num_digits": 5,
    "blank_separation": 50,
    "num_train": 10000,
    "num_validation": 500,
    "num_test": 1000,
}


def readout_parameter_count(units):
    """Weights and biases of the Dense softmax readout on `units` features."""
    return units * NUM_OUTPUT_CLASSES + NUM_OUTPUT_CLASSES


def cell_units(config):
    """Units for config["cell"]: config["units"], or the LSTM-matched size when match_params is on.

    Args:
        config: dict with cell, units, match_params.

    Returns:
        The int hidden size of the recurrent layer.
    """
    if not config["match_params"] or config["cell"] in ("lstm", "keras_lstm"):
        return config["units"]
    return matched_units(config["cell"], "lstm", config["units"], NUM_INPUT_SYMBOLS, NUM_OUTPUT_CLASSES)


def build_model(config):
    """The recall network: one recurrent layer and a per-step softmax over digits + blank.

    Args:
        config: dict with cell, units, match_params, learning_rate, global_clipnorm and
            the task keys of data.load_data.

    Returns:
        A compiled keras.Model from (batch, T, 11) one-hot symbols to (batch, T, 10)
        probabilities of digits 0..8 and blank.

    Raises:
        ConfigError: an unknown cell or an impossible task size.
    """
    check_choice("cell", config["cell"], CELL_CHOICES)
    check_choice("match_params", config["match_params"], (True, False))
    check_task(config)
    units = cell_units(config)
    # Counts of the recurrent layer plus readout, the two numbers a fair comparison matches.
    reference = recurrent_parameter_count("lstm", config["units"], NUM_INPUT_SYMBOLS) + readout_parameter_count(config["units"])
    count = recurrent_parameter_count(config["cell"], units, NUM_INPUT_SYMBOLS) + readout_parameter_count(units)
    print(
        f"memory_task: {config['cell']} with {units} units has {count:,} parameters; "
        f"our lstm with {config['units']} units has {reference:,}"
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
