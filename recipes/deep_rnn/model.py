"""Deep recurrent networks: stacked layers, a deep transition, and skip connections.

Book: Deep Learning, Goodfellow, Bengio & Courville, 2016, chapter 10, section 10.5
("Deep Recurrent Networks", figure 10.13), https://www.deeplearningbook.org/contents/rnn.html.
Papers: "How to Construct Deep Recurrent Neural Networks", Razvan Pascanu, Caglar Gulcehre,
Kyunghyun Cho and Yoshua Bengio, 2013, https://arxiv.org/abs/1312.6026 (the deep
transition, DT-RNN, and its shortcut version DT(S)-RNN); "Speech Recognition with Deep
Recurrent Neural Networks", Alex Graves, Abdel-rahman Mohamed and Geoffrey Hinton, 2013,
https://arxiv.org/abs/1303.5778 (stacked LSTMs with skip connections).

What it shows: the three ways figure 10.13 makes an RNN deep, on a task that needs two
nonlinear steps per time step (data.py: y_t = (y_{t-1} + a_t * b_t) mod m).
- architecture=stacked (fig. 10.13a): `num_layers` recurrent layers, each reading the
  sequence of the one below, with dropout between them. Depth is added between input
  and output, but the loop from h_{t-1} to h_t inside each layer stays one layer deep.
- architecture=deep_transition (fig. 10.13b): one recurrent layer whose step is an MLP of
  `num_layers` layers (DeepTransitionCell): depth inside the loop itself.
- skip_connections=true (fig. 10.13c): stacked: every layer also reads the input, and the
  readout reads every layer (Graves et al.); deep transition: a shortcut from
  [x_t, h_{t-1}] straight to the last layer of the step (Pascanu et al.'s DT(S)-RNN).
  Both shorten the path gradients travel through the depth.

Deviations:
- The deep transition uses ReLU in its inner layers and tanh at the last (Pascanu et al.
  use the same nonlinearity throughout); its inner layers are `units` wide.
- `cell` and `dropout` apply to the stacked architecture only; the deep transition is its
  own tanh/ReLU cell in a single layer, so there is nothing to drop out between.
- Units are fixed per layer, not matched: deeper models have more parameters
  (`demo.evaluate` reports the count as `parameters`).
"""

import keras
from keras import ops

from recipes.common.cells import CELL_CHOICES, SERIALIZATION_PACKAGE, recurrent_layer, recurrent_stack
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, fraction, integer, positive

ARCHITECTURES = ("stacked", "deep_transition")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 30,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    "architecture": "stacked",
    "num_layers": 3,
    "units": 64,
    "dropout": 0.0,
    "skip_connections": True,
    "cell": "keras_gru",
    "modulus": 5,
    "sequence_length": 20,
    "num_train": 4000,
    "num_validation": 500,
    "num_test": 1000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "architecture": choice(*ARCHITECTURES),
    "num_layers": integer(1, 16),
    "units": integer(1, 4096),
    "dropout": fraction(),
    "skip_connections": boolean(),
    "cell": choice(*CELL_CHOICES),
    "modulus": integer(2, 100),
    "sequence_length": integer(1, 10_000),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
}

# Most one-hot input values (sequences x steps x 2 * modulus) one split may hold: 400 MB of float32.
MAX_SPLIT_VALUES = 100_000_000


def check_config(config):
    """Raise ConfigError when a split would be too big to generate."""
    steps, width = config["sequence_length"], 2 * config["modulus"]
    why = f"sequences of {steps:,} steps x {width} one-hot features ({MAX_SPLIT_VALUES:,} values per split)"
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_VALUES // (steps * width), why)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class DeepTransitionCell(keras.layers.Layer):
    """A recurrent cell whose hidden-to-hidden transition is an MLP (DT-RNN, Pascanu et al. 2013).

    Update, with z_0 = [x_t, h_{t-1}] and L = depth:
        z_l = relu(z_{l-1} W_l + b_l)                         l = 1 .. L-1 (each `units` wide)
        h_t = tanh(z_{L-1} W_L + b_L)                         plain DT-RNN
        h_t = tanh(z_{L-1} W_L + [x_t, h_{t-1}] S + b_L)      with shortcut (DT(S)-RNN)
    The output is h_t. depth=1 is the basic (Elman) RNN cell: h_t = tanh([x_t, h_{t-1}] W_1 + b_1),
    and the shortcut adds nothing there (it would be a second copy of W_1), so it is left out.

    Args:
        units: size of h_t and of every inner layer.
        depth: number of layers from [x_t, h_{t-1}] to h_t (>= 1).
        shortcut: add the direct path S from [x_t, h_{t-1}] to the last layer.
    """

    def __init__(self, units, depth=2, shortcut=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"DeepTransitionCell: units must be a positive int, got {units!r}.")
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"DeepTransitionCell: depth must be an int >= 1, got {depth!r}.")
        self.units = units
        self.depth = depth
        self.shortcut = bool(shortcut)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        width = int(input_shape[-1]) + self.units  # [x_t, h_{t-1}]
        self.kernels, self.biases = [], []
        for index in range(1, self.depth + 1):
            fan_in = width if index == 1 else self.units
            self.kernels.append(self.add_weight(shape=(fan_in, self.units), initializer="glorot_uniform", name=f"kernel_{index}"))
            self.biases.append(self.add_weight(shape=(self.units,), initializer="zeros", name=f"bias_{index}"))
        self.shortcut_kernel = None
        if self.shortcut and self.depth > 1:
            self.shortcut_kernel = self.add_weight(shape=(width, self.units), initializer="glorot_uniform", name="shortcut_kernel")

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        joined = ops.concatenate([inputs, h_prev], axis=-1)  # (batch, input_dim + units)
        z = joined
        for kernel, bias in zip(self.kernels[:-1], self.biases[:-1]):
            z = ops.relu(ops.matmul(z, kernel) + bias)  # (batch, units)
        pre = ops.matmul(z, self.kernels[-1]) + self.biases[-1]
        if self.shortcut_kernel is not None:
            pre = pre + ops.matmul(joined, self.shortcut_kernel)
        h = ops.tanh(pre)
        return h, [h]

    def diagram_spec(self):
        """For `recipe diagram`: a basic tanh cell whose transition is an MLP of `depth` layers."""
        return {
            "cell": "deep_transition",
            "units": self.units,
            "activation": "tanh",
            "use_bias": True,
            "depth": self.depth,
            "shortcut": self.shortcut,
        }

    def get_config(self):
        return {**super().get_config(), "units": self.units, "depth": self.depth, "shortcut": self.shortcut}


def stacked_with_skips(inputs, cell, units, num_layers, dropout):
    """Stacked layers where every layer also reads the input and the readout reads every layer.

    Graves et al. (2013): h^1 = RNN(x), h^l = RNN([x, h^{l-1}]) for l > 1, output from [h^1, ..., h^L].

    Returns:
        (batch, time, num_layers * units): all layers' outputs, concatenated.
    """
    outputs = []
    below = inputs
    for index in range(1, num_layers + 1):
        layer_input = inputs if index == 1 else keras.layers.Concatenate(name=f"input_skip_{index}")([inputs, below])
        h = recurrent_layer(cell, units, f"recurrent_{index}")(layer_input)  # (batch, time, units)
        outputs.append(h)
        below = keras.layers.Dropout(dropout, name=f"recurrent_dropout_{index}")(h) if dropout > 0 and index < num_layers else h
    return outputs[0] if num_layers == 1 else keras.layers.Concatenate(name="output_skips")(outputs)


def build_model(config):
    """The deep RNN for a config, compiled: one softmax over 0..m-1 at every step.

    Input: (batch, time, 2m) one-hot digit pairs. Output: (batch, time, m) probabilities of y_t.
    """
    modulus, units, num_layers = config["modulus"], config["units"], config["num_layers"]
    inputs = keras.Input(shape=(None, 2 * modulus), name="digit_pairs")
    if config["architecture"] == "deep_transition":
        cell = DeepTransitionCell(units, depth=num_layers, shortcut=config["skip_connections"], name="deep_transition_cell")
        hidden = keras.layers.RNN(cell, return_sequences=True, name="deep_transition")(inputs)
    elif config["skip_connections"]:
        hidden = stacked_with_skips(inputs, config["cell"], units, num_layers, config["dropout"])
    else:
        hidden = recurrent_stack(inputs, config["cell"], units, num_layers, name="recurrent", dropout=config["dropout"])
    outputs = keras.layers.Dense(modulus, activation="softmax", name="readout")(hidden)
    model = keras.Model(inputs, outputs, name=f"deep_rnn_{config['architecture']}")
    optimizer = keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
