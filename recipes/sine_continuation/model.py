"""Sine continuation: hand-written basic RNN and LSTM cells predict, then generate, sine curves.

Paper: "Long Short-Term Memory", Sepp Hochreiter and Jürgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735 (the basic RNN: "Finding Structure in Time",
Jeffrey L. Elman, 1990, https://doi.org/10.1207/s15516709cog1402_1).

DRAFT
"""

import keras

from recipes.common.cells import CELL_CHOICES, matched_units, recurrent_layer
from recipes.common.config import check_choice, check_positive

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 60,
    "batch_size": 32,
    "learning_rate": 0.005,
    "global_clipnorm": 5.0,
    "input_noise": 0.0,
    "cell": "lstm",
    "units": 64,
    "match_params": False,
    "num_train": 2000,
    "num_validation": 200,
    "num_test": 64,
    "sequence_length": 200,
    "min_period": 20.0,
    "max_period": 60.0,
    "prime_steps": 100,
    "continuation_steps": 1000,
}


class FeedbackCell(keras.layers.Layer):
    """A trained cell and readout run on their own previous output (free-running generation).

    Step: h_t, s_t = cell(y_{t-1}, s_{t-1}); y_t = readout(h_t); the state carries
    (s_t, y_t). The step input is ignored: it only sets how many steps to run.

    Args:
        cell: the trained recurrent cell (shared, not copied).
        readout: the trained Dense readout (shared).
    """

    def __init__(self, cell, readout, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.readout = readout
        inner = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        self.num_cell_states = len(inner)
        self.state_size = list(inner) + [readout.units]
        self.output_size = readout.units
        self.built = True

    def call(self, inputs, states, training=None):
        *cell_states, y_prev = states
        h, new_states = self.cell(y_prev, cell_states)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        y = self.readout(h)  # (batch, 1)
        return y, [*new_states, y]


def recurrent_layer_of(model):
    """The recurrent layer of a model built by build_model."""
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))


def build_generator(model):
    """A model that primes the trained network, then runs it on its own outputs.

    Inputs: "prime" (batch, prime_steps, 1), true samples x_0..x_{P-1}; "steps"
    (batch, continuation_steps, 1), any values (only its length is used).
    Output: (batch, continuation_steps, 1), the generated x_P, x_{P+1}, ...
    """
    cell = recurrent_layer_of(model).cell
    readout = model.get_layer("readout")
    prime = keras.Input(shape=(None, 1), name="prime")
    steps = keras.Input(shape=(None, 1), name="steps")
    # Teacher-forced pass over x_0..x_{P-2}: the state after it has seen all but the last sample.
    head = keras.layers.Lambda(lambda x: x[:, :-1, :], name="prime_head")(prime)
    last = keras.layers.Lambda(lambda x: x[:, -1, :], name="prime_last")(prime)  # (batch, 1)
    states = keras.layers.RNN(cell, return_state=True, name="priming")(head)[1:]
    # The feedback loop starts from x_{P-1} as the "previous output": its first step predicts x_P.
    feedback = keras.layers.RNN(FeedbackCell(cell, readout), return_sequences=True, name="free_running")
    generated = feedback(steps, initial_state=[*states, last])
    return keras.Model([prime, steps], generated, name="sine_generator")


def generate(model, prime, num_steps, generator=None):
    """Free-running continuation of `prime` (NumPy, (batch, prime_steps)) -> (batch, num_steps)."""
    import numpy as np

    generator = generator or build_generator(model)
    steps = np.zeros((prime.shape[0], num_steps, 1), dtype="float32")
    return generator.predict_on_batch([prime[..., None].astype("float32"), steps])[..., 0]


def build_model(config):
    cell = config["cell"]
    check_choice("cell", cell, CELL_CHOICES)
    check_positive(config, "units", "learning_rate")
    units = config["units"]
    if config["match_params"]:
        units = matched_units(cell, "lstm", units, input_dim=1, output_dim=1)
    inputs = keras.Input(shape=(None, 1), name="previous_sample")
    noisy = keras.layers.GaussianNoise(config["input_noise"], name="input_noise")(inputs)
    hidden = recurrent_layer(cell, units, name=cell)(noisy)
    outputs = keras.layers.Dense(1, name="readout")(hidden)
    model = keras.Model(inputs, outputs, name="sine_continuation")
    optimizer = keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"])
    model.compile(optimizer=optimizer, loss="mse")
    return model
