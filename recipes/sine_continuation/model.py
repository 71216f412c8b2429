"""Sine continuation: hand-written basic RNN and LSTM cells learn to continue sine curves.

Papers: "Long Short-Term Memory", Sepp Hochreiter and Jürgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735 (the LSTM cell); "Finding Structure in Time",
Jeffrey L. Elman, 1990, https://doi.org/10.1207/s15516709cog1402_1 (the basic RNN cell).
Training on own predictions: "Scheduled Sampling for Sequence Prediction with Recurrent
Neural Networks", Samy Bengio, Oriol Vinyals, Navdeep Jaitly and Noam Shazeer, 2015,
https://arxiv.org/abs/1506.03099.

What the recipe shows. A recurrent cell (our LSTM by default; `cell` picks any of the
shared cells) and a linear readout y_t = W h_t + b predict the next sample of a sine
curve whose frequency the network is never told. At test time it is primed with the
first `prime_steps` true samples, then runs free: each prediction is fed back as the
next input. To hold a curve for hundreds of steps the network has to infer the
frequency during priming and keep it in its state; a model trained only on true
inputs (teacher forcing) predicts the next sample well but, fed its own outputs,
drifts to one frequency of its own (see the README for the measurements).

One model does both: its input carries, per step, a sample and a flag "given". Where
the flag is 1 the cell reads the true sample (teacher forcing); where it is 0 it reads
its own previous prediction (free running). `ClosedLoopCell` holds the recurrent cell
and the readout, so the readout's output can be fed back inside the RNN loop; the
whole continuation is one `predict` call, compiled once, with no Python loop over steps.

Deviations from a plain teacher-forced set-up:
- Training sequences are teacher-forced for a random number of leading steps (at least
  `min_teacher_forced_steps`) and run free for the rest, with the mean squared error
  over the whole sequence (a fixed-split variant of scheduled sampling, the scheme of
  TensorFlow's time-series tutorial "FeedBack" model). `--set
  min_teacher_forced_steps=<sequence_length>` gives pure teacher forcing.
- The learning rate follows a cosine decay over the run (to 2 % of `learning_rate`);
  Adam with gradient clipping by global norm (`global_clipnorm`), not the plain
  gradient descent of the papers.
- The readout sits inside the recurrent layer (in `ClosedLoopCell`) rather than as a
  Dense layer on the output sequence, because its output is the next step's input.
"""

import logging
import math

import keras

from recipes.common.cells import (
    CELL_CHOICES,
    SERIALIZATION_PACKAGE,
    matched_units,
    recurrent_layer,
    recurrent_parameter_count,
)
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, integer, number, ordered, positive

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 60,
    "batch_size": 32,
    "learning_rate": 0.001,
    "global_clipnorm": 5.0,
    # Recurrent cell (CELL_CHOICES); with match_params its units are chosen so the model
    # has about as many parameters as our LSTM with `units`.
    "cell": "lstm",
    "units": 64,
    "match_params": False,
    # Curves (data.py): period drawn between min_period and max_period samples.
    "min_period": 20.0,
    "max_period": 60.0,
    "num_train": 2000,
    "num_validation": 200,
    "num_test": 64,
    "sequence_length": 200,
    # Each training curve is given for a random number of leading steps in
    # [min_teacher_forced_steps, sequence_length - 1] and runs free after that.
    "min_teacher_forced_steps": 100,
    # Test: prime on this many true samples, then generate continuation_steps samples.
    "prime_steps": 100,
    "continuation_steps": 200,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "match_params": boolean(),
    # At least 2 samples per period (Nyquist); periods are in samples.
    "min_period": number(2, 100_000),
    "max_period": number(2, 100_000),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 100_000),
    "sequence_length": integer(2, 10_000),
    "min_teacher_forced_steps": integer(1, 10_000),
    "prime_steps": integer(1, 10_000),
    "continuation_steps": integer(1, 10_000),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): its sample channel is the true previous value wherever the "given" flag is 1.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("sample_and_given",)

# Most samples (curves x steps) one split may hold: about 240 MB of float32 inputs and targets.
MAX_SPLIT_SAMPLES = 20_000_000


def check_config(config):
    """Raise ConfigError unless the period range is ordered and no split is too big to generate."""
    ordered(config, "min_period", "max_period")
    test_steps = config["prime_steps"] + config["continuation_steps"]
    for key, steps in (("num_train", config["sequence_length"]), ("num_validation", config["sequence_length"]), ("num_test", test_steps)):
        at_most(config, key, MAX_SPLIT_SAMPLES // steps, f"curves of {steps:,} steps ({MAX_SPLIT_SAMPLES:,} samples per split)")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ClosedLoopCell(keras.layers.Layer):
    """A recurrent cell and a linear readout whose prediction can be fed back as the next input.

    Step, with the input (v_t, g_t) = (sample, given flag) and state (s_{t-1}, y_{t-1}):
        x_t = g_t * v_t + (1 - g_t) * y_{t-1}    the true sample, or the last prediction
        h_t, s_t = cell(x_t, s_{t-1})            s: (h, c) for an LSTM, h for the others
        y_t = W h_t + b                          prediction of the next sample
    The output is y_t. With every g_t = 1 this is the plain teacher-forced network; with
    g_t = 0 after priming it generates on its own.

    Args:
        cell: a Keras-contract recurrent cell (ours or Keras'), for one input feature.
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.readout = keras.layers.Dense(1, name="readout")
        inner = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        # The cell's states, then the previous prediction y_{t-1}, shape (batch, 1).
        self.state_size = [*inner, 1]
        self.output_size = 1

    def build(self, input_shape):
        # Build the wrapped layers here so their weights exist before a .keras load
        # (a deserialized cell may arrive built already: build it only once).
        if not self.cell.built:
            self.cell.build((input_shape[0], 1))
        if not self.readout.built:
            self.readout.build((input_shape[0], self.cell.units))

    def call(self, inputs, states, training=None):
        *cell_states, y_prev = states
        # inputs (batch, 2): the sample and its "given" flag, each (batch, 1).
        value, given = inputs[:, :1], inputs[:, 1:]
        x = given * value + (1.0 - given) * y_prev
        h, new_states = self.cell(x, cell_states, training=training)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        y = self.readout(h)  # (batch, 1)
        return y, [*new_states, y]

    def diagram_spec(self):
        """For `recipe diagram`: the wrapped cell, plus a readout whose output is fed back as the next input."""
        return {"wraps": self.cell, "readout": self.readout, "output_feedback": True}

    @property
    def cells(self):
        """The wrapped cell, listed as stacked cells are, so `recipe weights` splits its gates."""
        return [self.cell]

    def get_config(self):
        return {**super().get_config(), "cell": keras.saving.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cell"] = keras.saving.deserialize_keras_object(config["cell"])
        return cls(**config)


def units_for(config):
    """Hidden units of the configured cell: `units`, or the LSTM-matched count with match_params."""
    if config["match_params"]:
        return matched_units(config["cell"], "lstm", config["units"], input_dim=1, output_dim=1)
    return config["units"]


def build_model(config):
    """The closed-loop next-sample model, compiled with Adam, clipping and MSE.

    Args:
        config: DEFAULT_CONFIG with any overrides.

    Returns:
        A compiled keras.Model from (batch, time, 2) samples-and-given-flags to
        (batch, time, 1) next-sample predictions.
    """
    units = units_for(config)
    # The wrapped cell of the shared layer factory: the same cell classes every recipe uses.
    cell = recurrent_layer(config["cell"], units, name=config["cell"]).cell
    inputs = keras.Input(shape=(None, 2), name="sample_and_given")
    outputs = keras.layers.RNN(ClosedLoopCell(cell, name="closed_loop_cell"), return_sequences=True, name=f"closed_loop_{config['cell']}")(inputs)
    model = keras.Model(inputs, outputs, name="sine_continuation")

    # Cosine decay over every update of the run: large steps early, fine ones at the end,
    # where the free-running error is most sensitive to small weight changes.
    total_steps = config["epochs"] * math.ceil(config["num_train"] / config["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(config["learning_rate"], max(total_steps, 1), alpha=0.02)
    optimizer = keras.optimizers.Adam(schedule, global_clipnorm=config["global_clipnorm"])
    model.compile(optimizer=optimizer, loss="mse")

    reference = recurrent_parameter_count("lstm", config["units"], 1) + config["units"] + 1
    logging.getLogger(__name__).info(
        f"sine_continuation: {config['cell']} with {units} units: {model.count_params():,} parameters "
        f"(reference: our lstm with {config['units']} units, {reference:,})"
    )
    return model
