"""Gradient flow through time: how much of the loss's gradient reaches each step of a recurrent layer.

`flow(model, layers, x, y)` runs the model with each given recurrent layer replaced by its
cell unrolled step by step with keras.ops (the same weights, the same equations as the
layer), adds a zero perturbation d(t) to the hidden state after every step, and
differentiates the model's own loss with respect to those perturbations: the gradient with
respect to d(t) is dL/dh(t), the total derivative that reaches step t through every later
step (and every later layer). It also gives |dh(T)/dx(t)|, the Jacobian of the last state
with respect to the input at step t, its rows computed together on a tiled batch.

The only backend-specific code is `gradients(function, arrays)`, below: TensorFlow
(GradientTape), JAX (jax.vjp) and PyTorch (autograd) are supported.
"""

import contextlib
import warnings

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

        @tf.function(autograph=False)  # one graph: the unrolled loops run as tf.while_loop, not step by step in Python
        def differentiate(*variables):
            with tf.GradientTape() as tape:
                for variable in variables:
                    tape.watch(variable)
                value = function(*variables)
            return tape.gradient(value, variables)

        found = differentiate(*[tf.convert_to_tensor(a) for a in arrays])
        return [np.asarray(g) if g is not None else np.zeros_like(a) for g, a in zip(found, arrays)]
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


@contextlib.contextmanager
def _structure_warning_silenced():
    """A context without Keras' warning that a single array does not match a one-input model's
    [input] structure (it is matched all the same)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
        yield


def call(model, x):
    """model(x) for a batch given as one array, a list or a dict, without the structure warning."""
    with _structure_warning_silenced():
        return model(x)


def layer_arguments(layer):
    """(sequence, [initial states], mask or None): the symbolic tensors a recurrent layer was called on in its model."""
    node = layer._inbound_nodes[0]
    initial = node.arguments.kwargs.get("initial_state") or []
    return node.arguments.args[0], list(initial) if isinstance(initial, (list, tuple)) else [initial], node.arguments.kwargs.get("mask")


def _graph(model):
    """The functional graph of a model (a Sequential model's own)."""
    return getattr(model, "_functional", None) or model


def _substituted(model, x, replace):
    """The model's outputs on x, with every layer in `replace` ({id(layer): fn(sequence, mask) -> output}) computed by fn."""
    graph = _graph(model)

    def operation(op):
        if id(op) not in replace:
            return op

        def run(sequence, *_, mask=None, **__):  # flow() refused layers given initial states (layer_reads)
            return replace[id(op)](sequence, mask)

        return run

    with _structure_warning_silenced():
        inputs = graph._standardize_inputs(x)
    outputs = graph._run_through_graph(inputs, operation_fn=operation)
    return outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs


def unroll(cell, inputs, perturbation, backwards=False, mask=None):
    """The hidden states of `cell` over `inputs` (batch, time, features) with `perturbation` (batch, time, units)
    added to h(t) after each step: keras.ops.scan over the cell, so every backend differentiates it
    (and TensorFlow compiles it as one loop rather than one graph node per step). Where `mask`
    (batch, time) is False (padding) the states are carried over, as Keras does.

    Returns:
        (batch, time, units) hidden states, in input time order (a backward chain runs from the end).
    """
    from keras import ops

    inputs = ops.convert_to_tensor(inputs)
    perturbation = ops.cast(ops.convert_to_tensor(perturbation), inputs.dtype)
    mask = ops.ones(ops.shape(inputs)[:2], dtype="bool") if mask is None else ops.cast(ops.convert_to_tensor(mask), "bool")
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    initial = [ops.zeros((ops.shape(inputs)[0], size), dtype=inputs.dtype) for size in sizes]

    def step(states, step_inputs):
        x, d, keep = step_inputs
        output, new = cell(x, states)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        new[0] = output + d  # h(t) + d(t) is what the next step reads
        new = [ops.where(keep[:, None], n, o) for n, o in zip(new, states)]
        return new, list(new)  # the same structure as the carry (what Keras' TensorFlow scan packs ys into)

    steps = (ops.moveaxis(inputs, 1, 0), ops.moveaxis(perturbation, 1, 0), ops.moveaxis(mask, 1, 0))
    _, stacked = ops.scan(step, initial, steps, reverse=backwards)
    return ops.moveaxis(stacked[0], 0, 1)


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


def flow(model, layers, x, y, loss_steps=1, jacobian=True, jacobian_samples=8, notes=None):
    """Gradient flow through time in recurrent layers of a model, on a batch (x, y): one backward
    pass for the loss's gradient at every step of every layer given.

    Args:
        model: a compiled keras.Model containing `layers` (keras.layers.RNN or Bidirectional
            each reading one sequence from zero states; returning its sequence or its last state,
            not also its states).
        layers: a recurrent layer, or a list of them.
        x, y: a batch of the model's inputs and targets.
        loss_steps: the loss of the last `loss_steps` output steps is differentiated (1: L(τ),
            the book's picture of a late loss reaching early steps; 0: every step's loss).
            Only where the targets are per step (as long as the output); a sequence loss such
            as CTC is always differentiated whole.
        jacobian: the layers (True: all) whose dh(T)/dx(t) is computed too (the slow part:
            one row per unit), averaged over the first `jacobian_samples` inputs of the batch.
        notes: a dict, given to learn what was differentiated: notes["loss_steps"] is set to
            `loss_steps` where the targets are per step, else to None (the whole sequence's loss).

    Returns:
        {chain name: {"dL/dh": (time,) mean over the batch of |dL/dh(t)|,
                      "dh_T/dx": (time,) mean of the Frobenius norm of dh(T)/dx(t), where asked}}
        per layer and direction, in the order given; for a backward chain T is its first step.

    Raises:
        ValueError: a layer also returns its states, or reads more than one sequence.
    """
    from keras import ops

    layers = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    for layer in layers:
        if getattr(layer, "return_state", False):
            raise ValueError(
                f"'{layer.name}' also returns its states (for a decoder); gradient flow is drawn for layers that return their output only."
            )
    reads, read = layer_reads(model, layers, x), {}
    for layer in layers:
        sequence, initial, mask = reads[id(layer)]
        if initial:
            raise ValueError(
                f"'{layer.name}' starts from a state another layer gives it; gradient flow is drawn for layers that read one sequence from zero states."
            )
        read[id(layer)] = (sequence, mask)
    chains = [(layer, chain) for layer in layers for chain in _chains(layer)]
    zeros = [np.zeros(read[id(layer)][0].shape[:2] + (_units(cell),), dtype=read[id(layer)][0].dtype) for layer, (_, cell, _) in chains]
    loss = loss_function(model)
    targets = ops.convert_to_tensor(y)

    owned = {}  # id(layer): the indices of its chains
    for k, (layer, _) in enumerate(chains):
        owned.setdefault(id(layer), []).append(k)

    def total_loss(*perturbations):
        def perturbed(layer):
            def run(sequence, mask):
                parts = [unroll(cell, sequence, perturbations[k], backwards, mask) for k in owned[id(layer)] for _, cell, backwards in [chains[k][1]]]
                if not layer.return_sequences:  # the last state each chain reaches
                    parts = [part[:, 0] if backwards else part[:, -1] for part, (_, _, backwards) in zip(parts, _chains(layer))]
                return _merge(layer, parts) if len(parts) == 2 else parts[0]

            return run

        prediction = _substituted(model, x, {id(layer): perturbed(layer) for layer in layers})
        labels = ops.expand_dims(targets, -1) if prediction.shape[-1] == 1 and len(targets.shape) == len(prediction.shape) - 1 else targets
        per_step = len(prediction.shape) >= 3 and labels.shape[1] == prediction.shape[1]
        if notes is not None:
            notes["loss_steps"] = loss_steps if per_step else None
        if loss_steps and per_step:  # the last steps only
            return ops.mean(loss(labels[:, -loss_steps:], prediction[:, -loss_steps:]))
        return ops.mean(loss(labels, prediction))

    loss_gradients = gradients(total_loss, zeros)
    flows = {name: {"dL/dh": np.linalg.norm(gradient, axis=-1).mean(axis=0)} for (_, (name, _, _)), gradient in zip(chains, loss_gradients)}
    for layer in layers if jacobian is True else (jacobian or []):
        own = _chains(layer)
        sequence, mask = read[id(layer)]
        for (name, _, _), norms in zip(
            own, _state_jacobian_norms(own, sequence[:jacobian_samples], None if mask is None else mask[:jacobian_samples])
        ):
            flows[name]["dh_T/dx"] = norms
    return flows


def layer_reads(model, layers, x):
    """{id(layer): (sequence, [initial states], mask or None)} that each layer reads for the batch x,
    as NumPy in the layers' own precision, from one compiled pass."""
    import keras

    called = [layer_arguments(layer) for layer in layers]
    tensors = [t for sequence, initial, mask in called for t in (sequence, *initial, mask) if t is not None]
    reads = keras.Model(model.inputs, tensors).predict_on_batch(x)
    reads = iter([np.asarray(value) for value in (reads if len(tensors) > 1 else [reads])])  # Keras returns one output alone
    return {
        id(layer): (next(reads), [next(reads) for _ in initial], None if mask is None else next(reads).astype(bool))
        for layer, (_, initial, mask) in zip(layers, called)
    }


def _units(cell):
    """The size of a cell's hidden state h."""
    return int(np.atleast_1d(cell.state_size)[0])


def _state_jacobian_norms(chains, inputs, padding_mask=None, most=32, chunk_elements=2e7):
    """Per chain, the mean over the batch of |dh(T)/dx(t)| (Frobenius) over at most `most` units, evenly spread.

    Row u of the Jacobian is the gradient of h(T)[u]; rows are computed together by tiling the
    batch once per unit and masking each copy's last state to its unit, every chain of a layer
    in the same backward pass (one pass per chunk of units, chunks of about `chunk_elements` numbers).
    `padding_mask` (batch, time), False at padding, is honoured as the layer does.
    """
    from keras import ops

    batch, steps, features = inputs.shape
    units = _units(chains[0][1])
    picked = np.unique(np.linspace(0, units - 1, min(units, most)).round().astype(int))
    per_chunk = max(1, int(chunk_elements // (len(chains) * batch * steps * max(features, units))))
    squares = np.zeros((len(chains), batch, steps))
    for chunk in np.array_split(picked, -(-len(picked) // per_chunk)):
        tiled = np.tile(inputs, (len(chunk), 1, 1))
        select = np.zeros((len(chunk) * batch, units), dtype=inputs.dtype)
        for copy, unit in enumerate(chunk):
            select[copy * batch : (copy + 1) * batch, unit] = 1
        select = ops.convert_to_tensor(select)
        padding = None if padding_mask is None else np.tile(padding_mask, (len(chunk), 1))
        zeros = ops.convert_to_tensor(np.zeros((len(tiled), steps, units), dtype=inputs.dtype))

        def states(*copies, select=select, zeros=zeros, padding=padding):
            total = 0.0
            for (_, cell, backwards), x in zip(chains, copies):
                total = total + ops.sum(unroll(cell, x, zeros, backwards, padding)[:, 0 if backwards else steps - 1] * select)
            return total

        for k, gradient in enumerate(gradients(states, [tiled] * len(chains))):
            squares[k] += np.sum(gradient**2, axis=-1).reshape(len(chunk), batch, steps).sum(axis=0)
    return list(np.sqrt(squares * units / len(picked)).mean(axis=1))
