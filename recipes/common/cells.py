"""Recurrent cells written from scratch, and the `cell` config choice recipes share.

Our cells follow the Keras cell contract (`call(inputs, states)` -> `(output,
new_states)`, `state_size`, `get_config`) and are registered serializable, so
`keras.layers.RNN(cell)` and `.keras` save/load work unchanged.

Each cell keeps one fused kernel over the concatenation [x_t, h_{t-1}], as the
update equations are written in the course material, and exposes
`weight_blocks()` so `recipe weights` can split it per gate like Keras' own cells.
Gate blocks are laid out in Keras' order (LSTM: i f c o), so weights copy
one-to-one between our cells and `keras.layers.SimpleRNN` / `keras.layers.LSTM`.
"""

import keras
import numpy as np
from keras import ops

from recipes.common.config import check_choice, config_error

SERIALIZATION_PACKAGE = "rnn_recipes"

# The `cell` config values every recipe with a cell choice accepts.
CELL_CHOICES = ("basic_rnn", "lstm", "peephole_lstm", "keras_simple_rnn", "keras_lstm", "keras_gru")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class BasicRNNCell(keras.layers.Layer):
    """The basic (Elman) RNN cell.

    Update: h_t = tanh([x_t, h_{t-1}] W + b); the output is h_t.

    Args:
        units: size of the hidden state h_t.
        kernel_initializer: initializer of the fused kernel W, shape (input_dim + units, units).
        bias_initializer: initializer of b, shape (units,).
    """

    gate_names = ("h",)

    def __init__(self, units, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"BasicRNNCell: units must be a positive int, got {units!r}.")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.input_dim + self.units, self.units), initializer=self.kernel_initializer, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer, name="bias")

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        # (batch, input_dim + units) @ (input_dim + units, units) -> (batch, units)
        h = ops.tanh(ops.matmul(ops.concatenate([inputs, h_prev], axis=-1), self.kernel) + self.bias)
        return h, [h]

    def weight_blocks(self):
        """The fused kernel split as Keras lays it out: kernel, recurrent_kernel, bias (NumPy)."""
        w = ops.convert_to_numpy(self.kernel)
        return {"kernel": w[: self.input_dim], "recurrent_kernel": w[self.input_dim :], "bias": ops.convert_to_numpy(self.bias)}

    def diagram_spec(self):
        """How `recipe diagram` draws this cell (the gate template and its settings)."""
        return {"cell": "basic", "units": self.units, "activation": "tanh", "use_bias": True}

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class LSTMCell(keras.layers.Layer):
    """The LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    Update, with z_t = [x_t, h_{t-1}] W + b split into four blocks of `units`:
        i_t = sigmoid(z_i)          input gate
        f_t = sigmoid(z_f)          forget gate
        g_t = tanh(z_c)             candidate cell
        o_t = sigmoid(z_o)          output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)       (the output)

    Args:
        units: size of h_t and c_t.
        forget_bias: initial value of the forget-gate bias (1.0 as in Jozefowicz et al. 2015
            and Keras' `unit_forget_bias=True`), so gradients flow through c_t from the start.
        kernel_initializer: initializer of the fused kernel W, shape (input_dim + units, 4 * units).
    """

    gate_names = ("i", "f", "c", "o")

    def __init__(self, units, forget_bias=1.0, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"LSTMCell: units must be a positive int, got {units!r}.")
        self.units = units
        self.forget_bias = float(forget_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        u = self.units
        self.kernel = self.add_weight(shape=(self.input_dim + u, 4 * u), initializer=self.kernel_initializer, name="kernel")
        forget_bias = self.forget_bias

        def bias_initializer(shape, dtype=None):
            # Blocks i, f, c, o: only the forget block starts away from zero.
            return ops.concatenate([ops.zeros((u,)), ops.full((u,), forget_bias), ops.zeros((2 * u,))])

        self.bias = self.add_weight(shape=(4 * u,), initializer=bias_initializer, name="bias")

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states
        # One fused matmul for all four gates: (batch, input_dim + units) @ (.., 4 * units)
        z = ops.matmul(ops.concatenate([inputs, h_prev], axis=-1), self.kernel) + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(z_f) * c_prev + ops.sigmoid(z_i) * ops.tanh(z_c)
        h = ops.sigmoid(z_o) * ops.tanh(c)
        return h, [h, c]

    def weight_blocks(self):
        """The fused kernel split as Keras lays it out: kernel, recurrent_kernel, bias (NumPy)."""
        w = ops.convert_to_numpy(self.kernel)
        return {"kernel": w[: self.input_dim], "recurrent_kernel": w[self.input_dim :], "bias": ops.convert_to_numpy(self.bias)}

    def diagram_spec(self):
        """How `recipe diagram` draws this cell (the gate template and its settings)."""
        peephole = isinstance(self, PeepholeLSTMCell)
        return {"cell": "lstm", "units": self.units, "activation": "tanh", "use_bias": True, "forget_bias": self.forget_bias, "peephole": peephole}

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "forget_bias": self.forget_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class PeepholeLSTMCell(LSTMCell):
    """The LSTM with peephole connections (Gers & Schmidhuber 2000, as used by Sak et al. 2014).

    The gates also see the cell state through diagonal (element-wise) weights p_i, p_f, p_o:
        i_t = sigmoid(z_i + p_i * c_{t-1})
        f_t = sigmoid(z_f + p_f * c_{t-1})
        c_t = f_t * c_{t-1} + i_t * tanh(z_c)
        o_t = sigmoid(z_o + p_o * c_t)          (the output gate peeks at the new cell)
        h_t = o_t * tanh(c_t)
    with z_t = [x_t, h_{t-1}] W + b split into blocks i, f, c, o as in LSTMCell.

    Args:
        units, forget_bias, kernel_initializer: as in LSTMCell.
    """

    def build(self, input_shape):
        super().build(input_shape)
        # Rows p_i, p_f, p_o; zero at the start, so training begins from the plain LSTM.
        self.peephole = self.add_weight(shape=(3, self.units), initializer="zeros", name="peephole")

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states
        z = ops.matmul(ops.concatenate([inputs, h_prev], axis=-1), self.kernel) + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        p_i, p_f, p_o = self.peephole[0], self.peephole[1], self.peephole[2]
        c = ops.sigmoid(z_f + p_f * c_prev) * c_prev + ops.sigmoid(z_i + p_i * c_prev) * ops.tanh(z_c)
        h = ops.sigmoid(z_o + p_o * c) * ops.tanh(c)
        return h, [h, c]

    def weight_blocks(self):
        """As LSTMCell, plus 'peephole' laid out like the bias (4 * units; the c block is zero: no peephole)."""
        p = ops.convert_to_numpy(self.peephole)
        return {**super().weight_blocks(), "peephole": np.concatenate([p[0], p[1], np.zeros_like(p[0]), p[2]])}


def recurrent_layer(cell, units, name, return_sequences=True, return_state=False, forget_bias=1.0, **layer_kwargs):
    """One recurrent layer for a `cell` config choice.

    Args:
        cell: one of CELL_CHOICES: our "basic_rnn" / "lstm" / "peephole_lstm" (wrapped in
            keras.layers.RNN), or Keras' "keras_simple_rnn" / "keras_lstm" / "keras_gru".
        units: hidden size.
        name: layer name (it appears in every diagram and summary).
        return_sequences, return_state: as in keras.layers.RNN.
        forget_bias: initial forget-gate bias of the LSTMs (Keras' LSTM supports only 1.0 or 0.0,
            through unit_forget_bias).
        **layer_kwargs: passed to the layer (e.g. `dropout` for Keras' layers, `stateful`).

    Returns:
        A keras.layers.RNN (or subclass) instance.
    """
    check_choice("cell", cell, CELL_CHOICES)
    common = dict(return_sequences=return_sequences, return_state=return_state, name=name, **layer_kwargs)
    if cell == "basic_rnn":
        return keras.layers.RNN(BasicRNNCell(units, name=f"{name}_cell"), **common)
    if cell in ("lstm", "peephole_lstm"):
        cell_class = LSTMCell if cell == "lstm" else PeepholeLSTMCell
        return keras.layers.RNN(cell_class(units, forget_bias=forget_bias, name=f"{name}_cell"), **common)
    if cell == "keras_simple_rnn":
        return keras.layers.SimpleRNN(units, **common)
    if cell == "keras_lstm":
        if forget_bias not in (0.0, 1.0):
            raise config_error("forget_bias", forget_bias, "1.0 or 0.0 with cell=keras_lstm (Keras' LSTM has no other; cell=lstm takes any)", 1.0)
        return keras.layers.LSTM(units, unit_forget_bias=forget_bias == 1.0, **common)
    return keras.layers.GRU(units, **common)


# Weight matrices per cell: the basic RNN has one gate block, an LSTM four, a GRU three.
_GATE_BLOCKS = {"basic_rnn": 1, "keras_simple_rnn": 1, "lstm": 4, "peephole_lstm": 4, "keras_lstm": 4, "keras_gru": 3}


def recurrent_parameter_count(cell, units, input_dim):
    """Trainable parameters of one recurrent layer of `cell` (Keras' GRU uses reset_after: two biases)."""
    check_choice("cell", cell, CELL_CHOICES)
    blocks = _GATE_BLOCKS[cell]
    bias = 2 * blocks * units if cell == "keras_gru" else blocks * units
    peephole = 3 * units if cell == "peephole_lstm" else 0
    return blocks * units * (input_dim + units) + bias + peephole


def matched_units(cell, reference_cell, reference_units, input_dim, output_dim):
    """Units for `cell` whose recurrent layer plus a Dense(output_dim) readout has about as
    many parameters as `reference_cell` with `reference_units` (for a fair comparison).

    Args:
        cell, reference_cell: CELL_CHOICES values.
        reference_units: hidden size of the reference model.
        input_dim, output_dim: feature sizes of the input and of the readout.

    Returns:
        The int number of units whose total parameter count is closest to the reference's.
    """

    def total(c, u):
        return recurrent_parameter_count(c, u, input_dim) + u * output_dim + output_dim

    target = total(reference_cell, reference_units)
    return min(range(1, 8 * reference_units + 1), key=lambda u: abs(total(cell, u) - target))


def recurrent_stack(inputs, cell, units, num_layers, name, dropout=0.0, return_sequences=True, forget_bias=1.0):
    """`num_layers` recurrent layers of `cell`, with dropout between them (deep RNN, DL book fig. 10.13a).

    Args:
        inputs: (batch, time, features) tensor.
        cell: a CELL_CHOICES value.
        units: hidden size of every layer.
        num_layers: how many layers to stack.
        name: prefix of the layer names (`{name}_1`, `{name}_dropout_1`, ...).
        dropout: rate of the Dropout between layers (none after the last).
        return_sequences: whether the last layer returns every step.
        forget_bias: passed to the LSTM cells.

    Returns:
        The last layer's output: (batch, time, units), or (batch, units) without return_sequences.
    """
    if num_layers < 1:
        raise config_error("num_layers", num_layers, "an integer of at least 1", 2)
    x = inputs
    for index in range(1, num_layers + 1):
        last = index == num_layers
        x = recurrent_layer(cell, units, f"{name}_{index}", return_sequences=return_sequences or not last, forget_bias=forget_bias)(x)
        if dropout > 0 and not last:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{index}")(x)
    return x
