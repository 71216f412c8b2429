"""Gradient flow through time: how much of the loss's gradient reaches each step of a recurrent layer.

`flow(model, layer, x, y)` unrolls the layer's cell step by step with keras.ops (the same
weights, the same equations as the layer), adds a zero perturbation d(t) to the hidden
state after every step, and differentiates the model's own loss with respect to those
perturbations: the gradient with respect to d(t) is dL/dh(t), the total derivative that
reaches step t through every later step. It also gives |dh(T)/dx(t)|, the Jacobian of the
last state with respect to the input at step t, one backward pass per unit.

The only backend-specific code is `gradients(function, arrays)`, below: TensorFlow
(GradientTape), JAX (jax.vjp) and PyTorch (autograd) are supported.
"""

import numpy as np


def gradients(function, arrays):
    """The gradients of the scalar `function(*arrays)` with respect to each array, as NumPy arrays.

    Args:
        function: maps tensors of the active Keras backend to a scalar tensor; built from keras.ops.
        arrays: NumPy arrays to differentiate with respect to.

    Raises:
        ValueError: a Keras backend with no gradient here (numpy, openvino).
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.convert_to_tensor(a) for a in arrays]
        with tf.GradientTape() as tape:
            for variable in variables:
                tape.watch(variable)
            value = function(*variables)
        return [np.asarray(g) if g is not None else np.zeros_like(a) for g, a in zip(tape.gradient(value, variables), arrays)]
    if backend == "jax":
        import jax

        value, pullback = jax.vjp(lambda *values: function(*values), *[jax.numpy.asarray(a) for a in arrays])
        return [np.asarray(g) for g in pullback(jax.numpy.ones_like(value))]
    if backend == "torch":
        import torch

        variables = [
            torch.tensor(a, requires_grad=True, device=keras.backend.get_device() if hasattr(keras.backend, "get_device") else None) for a in arrays
        ]
        value = function(*variables)
        value.backward()
        return [v.grad.detach().cpu().numpy() if v.grad is not None else np.zeros_like(a) for v, a in zip(variables, arrays)]
    raise ValueError(f"Gradients need a differentiable Keras backend (tensorflow, jax or torch); this one is '{backend}'.")


def call(model, x):
    """model(x) for a batch given as one array, a list or a dict, without Keras' warning that a
    single array does not match a one-input model's [input] structure (it is matched all the same)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
        return model(x)


def split(model, layer):
    """(before, after): Keras models from the model's inputs to what `layer` reads, and from its output sequence on.

    Raises:
        ValueError: the layer reads more than one sequence (an initial state, a context), or the rest of the
            model reads more than its output (a skip past it): its steps cannot be unrolled on their own here.
    """
    import keras

    if isinstance(layer.input, (list, tuple)):
        raise ValueError(
            f"'{layer.name}' reads more than its input sequence (an initial state?); gradient flow is drawn for layers that read one sequence."
        )
    before = keras.Model(model.inputs, layer.input)
    try:
        after = keras.Model(layer.output, model.outputs)
    except ValueError:
        raise ValueError(
            f"The rest of '{model.name}' reads more than '{layer.name}''s output (a skip connection), so its steps cannot be perturbed alone."
        ) from None
    return before, after


def unroll(cell, inputs, perturbation, backwards=False):
    """The hidden states of `cell` over `inputs` (batch, time, features) with `perturbation` (batch, time, units)
    added to h(t) after each step: keras.ops only, so every backend differentiates it.

    Returns:
        (batch, time, units) hidden states, in input time order (a backward chain runs from the end).
    """
    from keras import ops

    batch, steps = ops.shape(inputs)[0], inputs.shape[1]
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    states = [ops.zeros((batch, size), dtype=inputs.dtype) for size in sizes]
    hidden = [None] * steps
    for t in reversed(range(steps)) if backwards else range(steps):
        output, states = cell(inputs[:, t], states)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        output = output + perturbation[:, t]
        states[0] = output  # h(t) + d(t) is what the next step reads
        hidden[t] = output
    return ops.stack(hidden, axis=1)


def loss_function(model):
    """The model's compiled loss as a function (y_true, y_pred) -> scalar."""
    import keras

    loss = model.loss
    return keras.losses.get(loss) if isinstance(loss, str) else loss


def _chains(layer):
    """(name, cell, backwards) of the chains inside a recurrent layer: one, or a Bidirectional layer's two."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        return [(f"{layer.name}/forward", layer.forward_layer.cell, False), (f"{layer.name}/backward", layer.backward_layer.cell, True)]
    return [(layer.name, layer.cell, bool(getattr(layer, "go_backwards", False)))]


def _merge(layer, sequences):
    """A Bidirectional layer's merge of its two direction's sequences (concat, sum, ave, mul)."""
    from keras import ops

    forward, backward = sequences
    mode = layer.merge_mode
    if mode == "concat":
        return ops.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "ave":
        return (forward + backward) / 2
    if mode == "mul":
        return forward * backward
    raise ValueError(f"Bidirectional merge_mode {mode!r} is not supported for gradient flow.")


def flow(model, layer, x, y, loss_steps=1):
    """Gradient flow through time in one recurrent layer of a model, on a batch (x, y).

    Args:
        model: a compiled keras.Model containing `layer` (a keras.layers.RNN or Bidirectional
            with return_sequences=True, reading one sequence).
        layer: the recurrent layer.
        x, y: a batch of the model's inputs and targets.
        loss_steps: the loss of the last `loss_steps` output steps is differentiated (1: L(τ),
            the book's picture of a late loss reaching early steps; 0: every step's loss).

    Returns:
        {chain name: {"dL/dh": (time,) mean over the batch of |dL/dh(t)|,
                      "dh_T/dx": (time,) mean of the Frobenius norm of dh(T)/dx(t)}} per direction;
        for a backward chain T is its last step, the first of the sequence.
    """
    from keras import ops

    before, after = split(model, layer)
    inputs = np.asarray(ops.convert_to_numpy(call(before, x)))  # what the layer reads, in its own precision
    chains = _chains(layer)
    batch, steps = inputs.shape[0], inputs.shape[1]
    sizes = [np.atleast_1d(cell.state_size)[0] for _, cell, _ in chains]
    zeros = [np.zeros((batch, steps, size), dtype=inputs.dtype) for size in sizes]
    loss = loss_function(model)
    targets = ops.convert_to_tensor(y)

    def total_loss(*perturbations):
        sequences = [unroll(cell, ops.convert_to_tensor(inputs), d, backwards) for (_, cell, backwards), d in zip(chains, perturbations)]
        output = _merge(layer, sequences) if len(sequences) == 2 else sequences[0]
        prediction = after(output)
        if loss_steps and len(prediction.shape) >= 3:  # per-step outputs: the loss of the last steps only
            return ops.mean(loss(targets[:, -loss_steps:], prediction[:, -loss_steps:]))
        return ops.mean(loss(targets, prediction))

    loss_gradients = gradients(total_loss, zeros)
    return {
        name: {"dL/dh": np.linalg.norm(gradient, axis=-1).mean(axis=0), "dh_T/dx": _state_jacobian_norms(cell, inputs, size, backwards)}
        for (name, cell, backwards), gradient, size in zip(chains, loss_gradients, sizes)
    }


def _state_jacobian_norms(cell, inputs, units, backwards, most=64):
    """Mean over the batch of |dh(T)/dx(t)| (Frobenius), one backward pass per unit (at most `most`, evenly spread)."""
    from keras import ops

    last = 0 if backwards else inputs.shape[1] - 1
    zeros = np.zeros((inputs.shape[0], inputs.shape[1], units), dtype=inputs.dtype)
    squares = np.zeros(inputs.shape[:2])
    for unit in np.unique(np.linspace(0, units - 1, min(units, most)).round().astype(int)):

        def state(x, unit=unit):
            return ops.sum(unroll(cell, x, ops.convert_to_tensor(zeros), backwards)[:, last, unit])

        (gradient,) = gradients(state, [inputs])
        squares += np.sum(gradient**2, axis=-1)
    return np.sqrt(squares * units / min(units, most)).mean(axis=0)
