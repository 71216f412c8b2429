"""Output recurrence: the previous output is the network's only memory (Jordan network).

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, chapter 10,
https://www.deeplearningbook.org/contents/rnn.html: section 10.2.1, figure 10.4 (recurrence
only from the output at one step to the hidden units at the next) and figure 10.6
(teacher forcing). Teacher forcing: "A Learning Algorithm for Continually Running Fully
Recurrent Neural Networks", Ronald J. Williams and David Zipser, 1989,
https://doi.org/10.1162/neco.1989.1.2.270. Output-to-state recurrence: "Serial Order: A
Parallel Distributed Processing Approach", Michael I. Jordan, 1986 (ICS Report 8604,
UC San Diego), https://apps.dtic.mil/sti/html/tr/ADA173989/index.html.

What the recipe shows. The network of figure 10.4 computes, at every step,
    h_t = tanh(W [x_t, y_{t-1}] + b),    p(y_t) = softmax(V h_t + c)
with NO connection from h_{t-1} to h_t. Trained with teacher forcing, y_{t-1} is the true
previous output, an input like any other: the steps do not depend on each other, and
the training model below is a plain per-step (Dense) network over whole sequences: no
recurrent layer at all, so training is parallel over time (`train_ms_per_batch`). At test
time it runs free (demo.evaluate): each step reads the output it chose one step before.
The price, stated in the book: "the output is the only information it is allowed to send
to the future". On a counter whose output shows only a coarse level of the count
(data.py), output recurrence plateaus at the best any function of (x_t, y_{t-1}) can do
(`teacher_forced_bound`), and running free its errors compound; the comparison model
(`model="hidden_recurrence"`, figure 10.3: h_t from h_{t-1} and x_t, no output feedback)
keeps the count in its hidden state and solves it.

Deviations from the sources:
- The task is a synthetic counter chosen to make the limitation measurable, not one of
  Jordan's sequential-action tasks or Williams & Zipser's experiments.
- The previous output fed back is the one-hot of the chosen level (argmax when running
  free), not the real-valued output vector of Jordan's network, and there are no
  self-connections on the state units (Jordan's state also decayed: s_t = mu s_{t-1} + y_{t-1}).
- Training is Adam with gradient-norm clipping on a cross-entropy loss, not the original
  gradient descent on squared error; the comparison model uses a GRU by default
  (`cell` picks any of the shared cells), which learned the two-level count fully in
  12 epochs where the book's tanh RNN (`cell="basic_rnn"`) reached 0.955.
"""

import keras

from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, at_most, choice, config_error, integer, number, positive

MODEL_CHOICES = ("output_recurrence", "hidden_recurrence")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 12,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    # "output_recurrence" (figure 10.4) or the comparison "hidden_recurrence" (figure 10.3).
    "model": "output_recurrence",
    "units": 32,
    # Recurrent cell of the hidden_recurrence model (unused by output_recurrence).
    "cell": "keras_gru",
    # Task (data.py): ticks counted modulo counter_modulus, shown through output_levels levels.
    "sequence_length": 40,
    "counter_modulus": 4,
    "output_levels": 4,
    "tick_probability": 0.5,
    "num_train": 4000,
    "num_validation": 500,
    "num_test": 1000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "model": choice(*MODEL_CHOICES),
    "units": integer(1, 4096),
    "cell": choice(*CELL_CHOICES),
    "sequence_length": integer(1, 10_000),
    "counter_modulus": integer(1, 1000),
    "output_levels": integer(1, 1000),  # must divide counter_modulus (check_config)
    "tick_probability": number(0, 1, low_open=True, high_open=True),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): the one-hot true y_{t-1}.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("previous_output",)

# Most input values (sequences x steps x (1 + output_levels)) one split may hold: 400 MB of float32.
MAX_SPLIT_VALUES = 100_000_000


def check_config(config):
    """Raise ConfigError unless output_levels divides counter_modulus and every split fits in memory."""
    modulus, levels = config["counter_modulus"], config["output_levels"]
    if modulus % levels:
        # Every level must cover the same number of counts.
        raise config_error("output_levels", levels, f"a divisor of counter_modulus={modulus}", modulus)
    steps, width = config["sequence_length"], 1 + levels
    why = f"sequences of {steps:,} steps x {width} input features ({MAX_SPLIT_VALUES:,} values per split)"
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_VALUES // (steps * width), why)


def build_model(config):
    """The output-recurrent network as trained with teacher forcing, or the hidden-recurrent one.

    Args:
        config: dict with model, units, cell, learning_rate, global_clipnorm and the task
            keys of data.load_data.

    Returns:
        A compiled keras.Model. output_recurrence: inputs {"ticks": (batch, T, 1),
        "previous_output": (batch, T, K) one-hot true y_{t-1}} -> (batch, T, K) level
        probabilities, every step computed independently of the others.
        hidden_recurrence: {"ticks"} -> (batch, T, K) through a recurrent layer.
    """
    levels = config["output_levels"]

    # Time is left unknown, so one model reads sequences of any length.
    ticks = keras.Input(shape=(None, 1), name="ticks")
    if config["model"] == "output_recurrence":
        previous_output = keras.Input(shape=(None, levels), name="previous_output")
        inputs = {"ticks": ticks, "previous_output": previous_output}
        # (batch, T, 1 + K): x_t next to y_{t-1}; Dense acts on the last axis, i.e. per step.
        step_input = keras.layers.Concatenate(name="input_and_previous_output")([ticks, previous_output])
        hidden = keras.layers.Dense(config["units"], activation="tanh", name="hidden_from_input_and_previous_output")(step_input)
    else:
        inputs = {"ticks": ticks}
        hidden = recurrent_layer(config["cell"], config["units"], name="hidden_to_hidden_rnn")(ticks)  # (batch, T, units)
    probabilities = keras.layers.Dense(levels, activation="softmax", name="output_level_probabilities")(hidden)
    model = keras.Model(inputs, probabilities, name=config["model"])
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
