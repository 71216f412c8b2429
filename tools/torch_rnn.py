"""A faster time loop for Keras' LSTM and GRU layers on the torch backend without CUDA.

Off CUDA, Keras' torch backend (keras/src/backend/torch/rnn.py: `_fallback_lstm`, `_fallback_gru`)
projects all time steps' inputs at once into x_proj, of shape (time, batch, gates * units), and
then reads `x_proj[t]` in a Python loop. Each such index is a `select` in autograd, whose backward
pass writes a zero tensor the size of all of x_proj and adds the step's gradient into it: a
backward pass over T steps writes T full-size tensors. Splitting x_proj once with `torch.unbind`
gives T views whose backward pass is one `stack`. The arithmetic of each step is unchanged, so the
outputs and gradients are the same (tests/test_torch_rnn.py compares them with Keras' own).

`install()` swaps the two loops in Keras' module; the runner calls it whenever it loads a recipe
on the torch backend. It patches only a Keras whose fallback functions still exist with the
signatures below (checked), so another Keras version runs unpatched rather than wrongly.
"""

import importlib
import inspect

KERAS_MODULE = "keras.src.backend.torch.rnn"

LSTM_PARAMETERS = [
    "inputs",
    "initial_state_h",
    "initial_state_c",
    "kernel",
    "recurrent_kernel",
    "bias",
    "activation",
    "recurrent_activation",
    "return_sequences",
    "batch_first",
]
GRU_PARAMETERS = ["inputs", "initial_state", "kernel", "recurrent_kernel", "bias", "activation", "recurrent_activation", "return_sequences"]


def lstm_loop(
    inputs, initial_state_h, initial_state_c, kernel, recurrent_kernel, bias, activation, recurrent_activation, return_sequences, batch_first
):
    """Keras' LSTM (gates i, f, c, o) over time, with the input projection split once. Returns (last h, outputs, [h, c])."""
    import torch

    if batch_first:
        inputs = inputs.permute(1, 0, 2)  # (time, batch, features)
    projected = torch.matmul(inputs, kernel)  # (time, batch, 4 * units)
    if bias is not None:
        projected = projected + bias
    h, c, outputs = initial_state_h, initial_state_c, []
    for step in torch.unbind(projected):
        gate_i, gate_f, candidate, gate_o = torch.chunk(step + torch.matmul(h, recurrent_kernel), 4, dim=1)
        c = recurrent_activation(gate_f) * c + recurrent_activation(gate_i) * activation(candidate)
        h = recurrent_activation(gate_o) * activation(c)
        outputs.append(h)
    if return_sequences:
        outputs = torch.stack(outputs, dim=1 if batch_first else 0)
    else:
        outputs = h.unsqueeze(1 if batch_first else 0)
    return h, outputs, [h, c]


def gru_loop(inputs, initial_state, kernel, recurrent_kernel, bias, activation, recurrent_activation, return_sequences):
    """Keras' GRU (reset_after=True; gates z, r, h) over batch-first inputs, with the input projection split once."""
    import torch

    projected = torch.matmul(inputs.permute(1, 0, 2), kernel)  # (time, batch, 3 * units)
    if bias is not None:
        projected = projected + bias[0]  # row 0: input bias; row 1: recurrent bias
    h, outputs = initial_state, []
    for step in torch.unbind(projected):
        recurrent = torch.matmul(h, recurrent_kernel)
        if bias is not None:
            recurrent = recurrent + bias[1]
        x_z, x_r, x_h = torch.chunk(step, 3, dim=1)
        h_z, h_r, h_h = torch.chunk(recurrent, 3, dim=1)
        update = recurrent_activation(x_z + h_z)
        reset = recurrent_activation(x_r + h_r)
        h = update * h + (1.0 - update) * activation(x_h + reset * h_h)
        outputs.append(h)
    outputs = torch.stack(outputs, dim=1) if return_sequences else h.unsqueeze(1)
    return h, outputs, [h]


def install():
    """Use `lstm_loop` and `gru_loop` in Keras' torch backend when it is the active one; True when installed.

    Does nothing (False) on another backend, or on a Keras whose fallback loops differ from the
    ones these replace.
    """
    import keras

    if keras.backend.backend() != "torch":
        return False
    # By module path: the package's attribute `rnn` is the function of that name, not the module.
    rnn = importlib.import_module(KERAS_MODULE)
    expected = {"_fallback_lstm": (LSTM_PARAMETERS, lstm_loop), "_fallback_gru": (GRU_PARAMETERS, gru_loop)}
    for name, (parameters, loop) in expected.items():
        current = getattr(rnn, name, None)
        if current is loop:
            continue
        if current is None or list(inspect.signature(current).parameters) != parameters:
            return False
    for name, (_, loop) in expected.items():
        setattr(rnn, name, loop)
    return True
