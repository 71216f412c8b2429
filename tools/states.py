"""What a recurrent layer computes at every step, recomputed exactly from its weights in NumPy.

Keras' recurrent layers return h (and the last c) but not their gates. `trace` reruns a
cell's update equations step by step with the cell's own weights (the same blocks
`recipe weights` draws), so every gate activation, the cell state and the hidden state
are available per unit and per step. A test checks the recomputed h against the
layer's own output to 1e-5 for Keras' SimpleRNN, LSTM and GRU (both `reset_after`
settings) and our basic, LSTM, peephole-LSTM and reservoir cells.

Gate blocks follow Keras' layout: LSTM i f c o, GRU z r h (tools/weights.py).
"""

import numpy as np

from tools.architecture import cell_spec
from tools.weights import cell_blocks

# Gate letters and their meaning per template, in the order traces are returned.
TRACED = {
    "basic": ("h",),
    "leaky": ("candidate", "h"),
    "lstm": ("i", "f", "candidate", "o", "c", "h"),
    "gru": ("z", "r", "candidate", "h"),
}


def activation(name):
    """A NumPy function for a Keras activation name (the ones recurrent cells use), or Keras' own."""
    functions = {
        "tanh": np.tanh,
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "hard_sigmoid": lambda x: np.clip((x + 3.0) / 6.0, 0.0, 1.0),  # Keras 3: relu6(x + 3) / 6
        "relu": lambda x: np.maximum(x, 0.0),
        "linear": lambda x: x,
        None: lambda x: x,
    }
    if name in functions:
        return functions[name]
    import keras

    keras_function = keras.activations.get(name)
    return lambda x: keras.ops.convert_to_numpy(keras_function(keras.ops.convert_to_tensor(x)))


def traceable(cell):
    """True when `trace` can recompute this cell's gates from its weights and the layer's input
    (not for a wrapper such as a closed loop, whose inner cell reads its own fed-back output)."""
    spec = cell_spec(cell)
    return spec.get("cell") in TRACED and "wrapper" not in spec


def trace(cell, inputs, initial_state=None, mask=None):
    """Every gate and state of `cell` at every step of `inputs`, from the cell's weights.

    Args:
        cell: a Keras or recipes.common cell (LSTMCell, GRUCell, SimpleRNNCell, ours, ReservoirCell).
        inputs: array (batch, time, features): what the recurrent layer reads.
        initial_state: optional list of (batch, units) arrays (h, or h and c); zeros by default.
        mask: optional (batch, time) booleans, False at padding: there the states are carried
            over unchanged, as Keras does (h and c are the carried states there; the gates are
            what the padding would have given, not meaningful).

    Returns:
        {name: array (batch, time, units)} for the names of TRACED[kind] ("candidate" is
        the LSTM's c~ or the GRU's h~).

    Raises:
        ValueError: a cell with no template here (see `traceable`).
    """
    spec = cell_spec(cell)
    kind = spec.get("cell")
    if kind not in TRACED:
        raise ValueError(f"Cannot recompute the states of a {spec.get('class')} cell: only {', '.join(TRACED)} cells have a template.")
    x = np.asarray(inputs, dtype=np.float64)
    batch, steps = x.shape[0], x.shape[1]
    blocks = _blocks(cell, kind)
    units = blocks["recurrent_kernel"].shape[0]
    given = [] if initial_state is None else [np.asarray(s, dtype=np.float64) for s in initial_state]
    states = (given + [np.zeros((batch, units)) for _ in range(2)])[:2]  # h, and c for an LSTM (a placeholder for the others)
    act = activation(spec.get("activation", "tanh"))
    gate = activation(spec.get("recurrent_activation", "sigmoid"))
    step = {"basic": _basic_step, "leaky": _leaky_step, "lstm": _lstm_step, "gru": _gru_step}[kind]
    traced = {name: np.zeros((batch, steps, units)) for name in TRACED[kind]}
    inputs_projected = x @ blocks["kernel"]  # (batch, time, n * units): the input's part of every gate at once
    for t in range(steps):
        values, new = step(inputs_projected[:, t], states, blocks, act, gate, spec)
        keep = np.ones((batch, 1), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)[:, t, None]
        states = [np.where(keep, n, o) for n, o in zip(new, states)]
        values = {**values, "h": states[0], **({"c": states[1]} if "c" in values else {})}  # carried over padding, as the layer outputs them
        for name, value in values.items():
            traced[name][:, t] = value
    return traced


def _blocks(cell, kind):
    """The cell's weights as float64 arrays: kernel, recurrent_kernel, bias (and peephole, leak)."""
    if kind == "leaky":
        from keras import ops

        return {
            "kernel": ops.convert_to_numpy(cell.input_kernel).astype(np.float64),
            "recurrent_kernel": ops.convert_to_numpy(cell.recurrent_kernel).astype(np.float64),
            "bias": ops.convert_to_numpy(cell.bias).astype(np.float64),
        }
    return {name: np.asarray(value, dtype=np.float64) for name, value in cell_blocks(cell).items()}


def _bias(blocks):
    bias = blocks.get("bias")
    return 0.0 if bias is None else bias


def _basic_step(x_part, states, blocks, act, gate, spec):
    h = act(x_part + states[0] @ blocks["recurrent_kernel"] + _bias(blocks))
    return {"h": h}, [h, states[1]]


def _leaky_step(x_part, states, blocks, act, gate, spec):
    a = spec.get("leak_rate", 1.0)
    candidate = act(x_part + states[0] @ blocks["recurrent_kernel"] + blocks["bias"])
    h = (1.0 - a) * states[0] + a * candidate
    return {"candidate": candidate, "h": h}, [h, states[1]]


def _lstm_step(x_part, states, blocks, act, gate, spec):
    h_prev, c_prev = states
    z = x_part + h_prev @ blocks["recurrent_kernel"] + _bias(blocks)
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    peephole = blocks.get("peephole")
    if peephole is not None:  # laid out like the bias: i f c o, the c block zero
        p_i, p_f, _, p_o = np.split(peephole, 4)
        z_i, z_f = z_i + p_i * c_prev, z_f + p_f * c_prev
    i, f, candidate = gate(z_i), gate(z_f), act(z_c)
    c = f * c_prev + i * candidate
    if peephole is not None:
        z_o = z_o + p_o * c
    o = gate(z_o)
    h = o * act(c)
    return {"i": i, "f": f, "candidate": candidate, "o": o, "c": c, "h": h}, [h, c]


def _gru_step(x_part, states, blocks, act, gate, spec):
    h_prev = states[0]
    recurrent = blocks["recurrent_kernel"]
    units = recurrent.shape[0]
    bias = blocks.get("bias")
    if spec.get("reset_after", True):
        # bias (2, 3u): row 0 on the input side, row 1 on the recurrent side (Keras' reset_after=True).
        x_z, x_r, x_h = np.split(x_part + (0.0 if bias is None else bias[0]), 3, axis=-1)
        r_z, r_r, r_h = np.split(h_prev @ recurrent + (0.0 if bias is None else bias[1]), 3, axis=-1)
        z, r = gate(x_z + r_z), gate(x_r + r_r)
        candidate = act(x_h + r * r_h)
    else:
        x_z, x_r, x_h = np.split(x_part + (0.0 if bias is None else bias), 3, axis=-1)
        z = gate(x_z + h_prev @ recurrent[:, :units])
        r = gate(x_r + h_prev @ recurrent[:, units : 2 * units])
        candidate = act(x_h + (r * h_prev) @ recurrent[:, 2 * units :])
    h = z * h_prev + (1.0 - z) * candidate
    return {"z": z, "r": r, "candidate": candidate, "h": h}, [h, states[1]]
