"""Sample from a trained stacked-RNN language model in one compiled call, on any Keras backend.

A model trained with teacher forcing maps tokens (batch, time) to next-token logits
(batch, time, vocab); generating means one token at a time, each fed back as input.
`model.predict` per token costs a full Keras call per token (~24 tokens/s with
TensorFlow on 2 CPU cores, a few hundred with JAX). `Sampler` instead steps the trained
layers themselves (embedding, each recurrent layer's cell with explicit states, dense)
under `keras.ops.fori_loop` inside a small `keras.Model`, so `predict_on_batch` compiles
the whole priming + generation loop once (XLA on TensorFlow and JAX) for a batch of
sequences, each with its own temperature.

Where one sequence's time goes: for char_rnn's 2x256 LSTM a step multiplies one row by
every weight matrix, 3.3 MB of float32, more than a core's 512 KB L2 cache, so the step
waits on memory: at best ~50 us per character on the 2-core CPU of
bench/results/sampling.json (~65 GB/s, about what one core streams from its L3 cache); the
loop, sampling and output writes take ~2 us of it. For one row, Keras LSTM cells and Dense
layers are therefore stepped on their own weights with keras.ops, the same equations as
their `call`, each product written as kernel^T x, which XLA on CPU compiles to a faster
matrix-vector product (10-30% more characters per second, with the load on the machine;
the same text for a seed). For batches, and for other layers and cells, the layers are
called as they are.

Randomness stays outside the compiled loop: uniforms drawn by NumPy from the seed are
passed in, and each token is picked by inverting the cumulative distribution of
softmax(logits / temperature), an exact sample. The same seed gives the same text on
every backend; temperature 0 is greedy decoding.
"""

import keras
import numpy as np
from keras import ops


def inverse_cdf_sample(logits, scale, uniform):
    """One exact sample per row of softmax(logits / scale), by inverting its cumulative distribution.

    Args:
        logits: (batch, vocab) float tensor.
        scale: (batch, 1) temperatures, > 0.
        uniform: (batch,) uniforms in [0, 1), drawn outside any compiled loop.

    Returns:
        int32 (batch,) token = #{k: cdf_k <= u * total}; zero-probability tokens are flat
        steps of the cdf and never picked.
    """
    cdf = ops.cumsum(ops.softmax(logits / scale, axis=-1), axis=-1)  # (batch, vocab)
    sampled = ops.sum(ops.cast(cdf <= uniform[:, None] * cdf[:, -1:], "int32"), axis=-1)
    return ops.minimum(sampled, logits.shape[-1] - 1)


def prime_and_sample(step, prime, carry, uniform, temperature):
    """Feed a prime through a one-step model, then sample one token per uniform, feeding each back.

    Both loops are `keras.ops.fori_loop`s, so the whole generation compiles as one graph.

    Args:
        step: (tokens (batch,) int32, carry) -> (logits (batch, vocab), new carry): one time
            step of the trained model; the carry holds its states (RNN states, conv queues).
        prime: int32 (batch, P), P >= 1. All but the last token only update the carry (zero
            steps for a one-token prime); the last is the input of the first sampled step.
        carry: the carry before the prime.
        uniform: float32 (batch, length) uniforms, one per token to generate.
        temperature: float32 (batch,); a row at 0 or below takes the argmax (greedy).

    Returns:
        int32 (batch, length) generated tokens, the prime excluded.
    """

    # fori_loop, not scan: TensorFlow's scan needs per-step outputs shaped like the carry.
    def prime_step(t, loop_carry):
        _, loop_carry = step(ops.take(prime, t, axis=1), loop_carry)
        return loop_carry

    carry = ops.fori_loop(0, ops.shape(prime)[1] - 1, prime_step, carry)
    # Greedy rows divide by 1, which keeps their softmax finite; their sample is not used.
    greedy = temperature <= 0
    scale = ops.where(greedy, 1.0, temperature)[:, None]

    def sample_step(t, loop):
        tokens, loop_carry, generated = loop
        logits, loop_carry = step(tokens, loop_carry)
        sampled = inverse_cdf_sample(logits, scale, ops.take(uniform, t, axis=1))
        chosen = ops.where(greedy, ops.cast(ops.argmax(logits, axis=-1), "int32"), sampled)
        generated = ops.slice_update(generated, (0, t), chosen[:, None])
        return chosen, loop_carry, generated

    # Loop carry: last tokens (batch,), the step's carry, the (batch, length) output buffer.
    initial = (prime[:, -1], carry, ops.zeros(ops.shape(uniform), dtype="int32"))
    return ops.fori_loop(0, ops.shape(uniform)[1], sample_step, initial)[2]


def _stepping_chain(model):
    """`model`'s layers (input layer excluded), checked to form a chain that runs forwards."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(model.inputs) != 1 or len(model.outputs) != 1 or not layers:
        raise ValueError(
            f"Sampler needs a model with one token-id input and one logits output; "
            f"'{model.name}' has {len(model.inputs)} inputs and {len(model.outputs)} outputs."
        )
    previous = model.inputs[0]
    for layer in layers:
        if layer.input is not previous:
            raise ValueError(
                f"Sampler steps a chain of layers, but layer '{layer.name}' of '{model.name}' "
                f"does not take the previous layer's output. Build the model as a plain stack."
            )
        if isinstance(layer, keras.layers.Bidirectional) or (
            isinstance(layer, keras.layers.RNN) and (layer.go_backwards or not layer.return_sequences)
        ):
            raise ValueError(
                f"Sampler cannot step layer '{layer.name}': generation runs forwards one token "
                f"at a time, so recurrent layers must be forward with return_sequences=True."
            )
        previous = layer.output
    return layers


def _is_plain(layer, kind):
    """True for an instance of exactly `kind` (a subclass may change `call`) computing in float32."""
    return type(layer) is kind and layer.dtype_policy.name == "float32"


def _transposed_kernels(layer):
    """The kernels `_SamplingLoop._step` multiplies by, transposed (n, k), or None for a layer it calls.

    Plain float32 keras.layers.LSTM: (kernel^T, recurrent_kernel^T); plain float32 Dense
    (no LoRA, not quantized): (kernel^T,). Transposed once per call, before the loops:
    inside a loop, XLA fuses the transpose into each product and a step gets ~50x slower.
    """
    if isinstance(layer, keras.layers.RNN) and _is_plain(layer.cell, keras.layers.LSTMCell):
        return ops.transpose(layer.cell.kernel), ops.transpose(layer.cell.recurrent_kernel)
    if _is_plain(layer, keras.layers.Dense) and not layer.lora_enabled and not layer.quantization_mode:
        return (ops.transpose(layer.kernel),)
    return None


def _matmul(x, kernel_t):
    """x @ kernel for x (batch, k), given kernel_t = kernel^T (n, k): (batch, n).

    The same products and sums as ops.matmul(x, kernel); for one row, XLA on CPU compiles
    this form to a faster matrix-vector product (bench/sampling.py).
    """
    return ops.einsum("nk,bk->bn", kernel_t, x)


def _lstm_step(cell, kernels_t, x, states):
    """keras.layers.LSTMCell.call at inference (fused gates), on the cell's weights.

    z = x W + h_{t-1} U + b, split into the i, f, c, o blocks;
    c_t = f * c_{t-1} + i * activation(z_c) with i, f = recurrent_activation(z_i, z_f);
    h_t = recurrent_activation(z_o) * activation(c_t).

    Args:
        cell: a float32 keras.layers.LSTMCell (for its bias and activations).
        kernels_t: (W^T, U^T) from `_transposed_kernels`.
        x: (batch, input_features) inputs.
        states: [h (batch, units), c (batch, units)].

    Returns:
        h_t, [h_t, c_t].
    """
    h_tm1, c_tm1 = states
    z = _matmul(x, kernels_t[0]) + _matmul(h_tm1, kernels_t[1])
    if cell.use_bias:
        z = z + cell.bias
    z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)  # (batch, units) each
    c = cell.recurrent_activation(z_f) * c_tm1 + cell.recurrent_activation(z_i) * cell.activation(z_c)
    h = cell.recurrent_activation(z_o) * cell.activation(c)
    return h, [h, c]


class _SamplingLoop(keras.Model):
    """Priming and generation loops as one Keras model (on the trained layers), compiled as one."""

    def __init__(self, layers, **kwargs):
        super().__init__(**kwargs)
        self.chain = layers

    def _initial_states(self, batch_size):
        """Per recurrent layer, the list of its zero states (batch, n)."""
        states = []
        for layer in self.chain:
            if isinstance(layer, keras.layers.RNN):
                sizes = layer.cell.state_size
                sizes = sizes if isinstance(sizes, (list, tuple)) else [sizes]
                states.append([ops.zeros((batch_size, size)) for size in sizes])
        return states

    def _step(self, tokens, states, transposed):
        """One time step: tokens (batch,) int32 and states -> logits (batch, vocab), new states.

        `transposed`: per layer of the chain, `_transposed_kernels(layer)`, or None to call the layer.
        """
        x = tokens
        new_states = []
        for layer, kernels_t in zip(self.chain, transposed):
            if isinstance(layer, keras.layers.RNN):
                layer_states = states[len(new_states)]
                if kernels_t is not None:
                    x, layer_states = _lstm_step(layer.cell, kernels_t, x, layer_states)
                else:
                    # The layer's own cell: exactly the trained update.
                    x, layer_states = layer.cell(x, layer_states, training=False)
                layer_states = layer_states if isinstance(layer_states, (list, tuple)) else [layer_states]
                new_states.append(list(layer_states))
            elif kernels_t is not None:
                # Dense.call on (batch, features).
                x = _matmul(x, kernels_t[0])
                x = x if layer.bias is None else x + layer.bias
                x = x if layer.activation is None else layer.activation(x)
            else:
                # Embedding, one-hot, dropout (off), dense act per position: one step is
                # (batch,) ids or (batch, features).
                x = layer(x, training=False)
        return ops.cast(x, "float32"), new_states

    def call(self, inputs):
        """Prime, then generate: {"prime": (batch, prime_length), "temperature": (batch,),
        "uniform": (batch, length)} -> generated tokens (batch, length)."""
        prime = ops.cast(inputs["prime"], "int32")
        states = self._initial_states(ops.shape(prime)[0])
        # One row (batch known to be 1 when traced): kernel^T x, a faster matrix-vector product.
        # Several rows: the layers' own calls; x W is then a matrix product, ~4% faster than
        # the transposed form, which adds a transpose of each product per step.
        single_row = prime.shape[0] == 1
        transposed = [_transposed_kernels(layer) if single_row else None for layer in self.chain]

        def step(tokens, step_states):
            return self._step(tokens, step_states, transposed)

        return prime_and_sample(step, prime, states, ops.cast(inputs["uniform"], "float32"), ops.cast(inputs["temperature"], "float32"))


class Sampler:
    """Generates tokens from a trained stacked-RNN language model in one compiled call.

    The model must be a chain: token ids (batch, time) -> per-position layers (Embedding,
    one-hot) -> forward recurrent layers (return_sequences=True), maybe with Dropout ->
    per-position layers ending in logits (batch, time, vocab). Its layers are used, not
    copied, so further training shows in later samples.

    Example:
        sampler = Sampler(model)
        tokens = sampler.sample(encode("Romeo:\\n", alphabet), [0.5, 1.0], length=500, seed=0)

    Args:
        model: the trained keras.Model.
        jit_compile: compile with XLA; "auto": yes on TensorFlow and JAX, no on torch.

    Raises:
        ValueError: the model is not a steppable chain.
    """

    def __init__(self, model, jit_compile="auto"):
        if jit_compile == "auto":
            jit_compile = keras.backend.backend() in ("tensorflow", "jax")
        self.loop = _SamplingLoop(_stepping_chain(model), name=f"{model.name}_sampler")
        self.loop.compile(jit_compile=jit_compile)

    def sample(self, prime, temperatures, length, seed=0):
        """Generate one sequence per temperature.

        The first call per (batch, prime_length, length) compiles the loop (seconds).

        Args:
            prime: int ids (prime_length,) shared by all sequences, or (batch, prime_length);
                prime_length >= 1.
            temperatures: (batch,) floats; 0 is greedy, < 1 sharpens, > 1 flattens.
            length: int >= 1, tokens generated per sequence.
            seed: int; same seed and inputs, same tokens.

        Returns:
            int32 NumPy array (batch, length) of generated tokens, the prime excluded.

        Raises:
            ValueError: empty prime, batch mismatch, or `length` not a positive int.
        """
        if not isinstance(length, (int, np.integer)) or length <= 0:
            raise ValueError(f"Sampler.sample: length must be a positive int, got {length!r}.")
        temperatures = np.asarray(temperatures, dtype="float32").reshape(-1)
        prime = np.asarray(prime, dtype="int32")
        if prime.ndim == 1:
            prime = np.broadcast_to(prime, (len(temperatures), len(prime)))
        if prime.ndim != 2 or prime.shape[1] == 0 or prime.shape[0] != len(temperatures):
            raise ValueError(
                f"Sampler.sample: prime must have shape (prime_length,) or (batch, prime_length) "
                f"with prime_length >= 1 and batch = len(temperatures) = {len(temperatures)}; "
                f"got shape {prime.shape}."
            )
        uniform = np.random.default_rng(seed).random((len(temperatures), int(length)), dtype="float32")
        inputs = {"prime": np.ascontiguousarray(prime), "temperature": temperatures, "uniform": uniform}
        return np.asarray(self.loop.predict_on_batch(inputs)).astype("int32")
