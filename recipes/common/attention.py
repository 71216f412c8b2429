"""Additive ("Bahdanau") attention as a serializable Keras layer, written with keras.ops only.

Paper: "Neural Machine Translation by Jointly Learning to Align and Translate", Dzmitry
Bahdanau, Kyunghyun Cho and Yoshua Bengio, 2014, https://arxiv.org/abs/1409.0473
(section 3.1 and appendix A.1.2).

For a query s (the decoder state) and values h_1..h_T (the encoder's annotations), the
alignment model scores every value with a one-hidden-layer network, normalises the
scores over the input with a softmax, and returns the weighted average of the values:

    e_j = v . tanh(W s + U h_j)          score of input position j
    a_j = exp(e_j) / sum_k exp(e_k)      attention weight (positions masked out get 0)
    c   = sum_j a_j h_j                  context vector

W is (query_dim, units), U is (value_dim, units) and v is (units,), with no bias, as in
the paper's appendix A.1.2. U h_j does not depend on the query, so a decoder that
queries the same annotations at every output step computes it once
(`project_values`) and passes it as `keys`, as the paper suggests.

`AttentionDecoder` is the recurrent decoder built on it, shared by seq2seq_attention and
translation: every step reads an attended context (Bahdanau) or a fixed one (Cho).
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE, recurrent_layer
from recipes.common.decoding import state_sizes

# Score given to masked-out positions: finite, so a fully masked row gives uniform
# weights instead of NaN.
_MASKED_SCORE = -1e9


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class AdditiveAttention(keras.layers.Layer):
    """Bahdanau's additive attention: e_j = v . tanh(W s + U h_j), a = softmax(e), c = sum_j a_j h_j.

    Call arguments:
        query: (batch, query_dim) one query, or (batch, Tq, query_dim) one per output step.
        values: (batch, Tv, value_dim) the annotations h_j.
        values_mask: optional (batch, Tv) bool, False at padding (it gets weight 0). Keras
            fills it in from the mask `values` carries (e.g. from Embedding(mask_zero=True)).
        keys: optional (batch, Tv, units) precomputed `project_values(values)`.

    Returns:
        (context, weights): (batch, value_dim) and (batch, Tv) for a 2-D query, or
        (batch, Tq, value_dim) and (batch, Tq, Tv) for a 3-D one.

    Args:
        units: size of the alignment model's hidden layer (n' in the paper, which used 1000).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"AdditiveAttention: units must be a positive int, got {units!r}.")
        self.units = units

    def build(self, query_shape, values_shape, values_mask_shape=None, keys_shape=None):
        self.query_kernel = self.add_weight(shape=(int(query_shape[-1]), self.units), initializer="glorot_uniform", name="query_kernel")
        self.value_kernel = self.add_weight(shape=(int(values_shape[-1]), self.units), initializer="glorot_uniform", name="value_kernel")
        # v starts small and random; all-zero would make every weight uniform and its gradient symmetric.
        self.score_vector = self.add_weight(shape=(self.units,), initializer="glorot_uniform", name="score_vector")

    def project_values(self, values):
        """U h_j for every position: (batch, Tv, value_dim) -> (batch, Tv, units)."""
        return ops.matmul(values, self.value_kernel)

    def call(self, query, values, values_mask=None, keys=None):
        single_query = len(query.shape) == 2
        if single_query:
            query = ops.expand_dims(query, 1)  # (batch, 1, query_dim)
        if keys is None:
            keys = self.project_values(values)
        projected_query = ops.matmul(query, self.query_kernel)  # (batch, Tq, units)
        # (batch, Tq, 1, units) + (batch, 1, Tv, units) -> (batch, Tq, Tv, units) -> scores (batch, Tq, Tv)
        hidden = ops.tanh(ops.expand_dims(projected_query, 2) + ops.expand_dims(keys, 1))
        scores = ops.sum(hidden * self.score_vector, axis=-1)
        if values_mask is not None:
            scores = ops.where(ops.expand_dims(ops.cast(values_mask, "bool"), 1), scores, _MASKED_SCORE)
        weights = ops.softmax(scores, axis=-1)
        context = ops.matmul(weights, values)  # (batch, Tq, Tv) @ (batch, Tv, value_dim)
        if single_query:
            return ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return context, weights

    def compute_mask(self, inputs, previous_mask):
        # Both outputs follow the query's steps, so a (batch, Tq) query mask carries over; a
        # single query has no steps to mask.
        if previous_mask is None or len(inputs.shape) == 2:
            return None
        return previous_mask, previous_mask

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class AttentionDecoder(keras.layers.Layer):
    """A recurrent decoder whose every step reads a context vector: attended (Bahdanau) or fixed (Cho).

    Step i: c_i = attention(s_{i-1}, annotations) when use_attention, else c_i = summary;
    s_i = cell([x_i, c_i], s_{i-1}); the step's output is [s_i, c_i]. It runs over the
    whole decoder input with keras.ops.scan, so one call is teacher-forced training and a
    call on one step (with the states it returned) is free-running decoding.

    Call arguments:
        inputs: (batch, Td, embedding_dim) embedded previous outputs x_i.
        annotations: (batch, Te, annotation_dim) encoder outputs h_j.
        summary: (batch, annotation_dim) fixed context, used when use_attention is False.
        initial_state: list of (batch, state size) decoder states s_0.
        annotations_mask: (batch, Te) bool, False at input padding; Keras fills it in from
            the mask `annotations` carries.

    Returns:
        [outputs (batch, Td, units + annotation_dim), weights (batch, Td, Te), *final states].
        weights are the attention weights a_ij (all zero without attention). outputs carry the
        mask of `inputs`, so padded output steps drop out of the loss.

    Args:
        cell: a CELL_CHOICES value for the decoder's recurrent cell.
        units: the cell's hidden size.
        attention_units: the alignment model's hidden size.
        use_attention: attended (True) or fixed (False) context.
    """

    def __init__(self, cell, units, attention_units, use_attention=True, **kwargs):
        super().__init__(**kwargs)
        self.cell_name, self.units, self.attention_units, self.use_attention = cell, units, attention_units, bool(use_attention)
        # The shared factory builds the cell; we step it ourselves, so only `.cell` is kept.
        self.cell = recurrent_layer(cell, units, name=f"{self.name}_rnn").cell
        # Without attention there is no alignment model at all (no unused weights).
        self.attention = AdditiveAttention(attention_units, name="additive_attention") if self.use_attention else None

    def build(self, inputs_shape, annotations_shape, summary_shape=None, initial_state_shape=None, annotations_mask_shape=None):
        annotation_dim = int(annotations_shape[-1])
        self.cell.build((inputs_shape[0], int(inputs_shape[-1]) + annotation_dim))
        if self.use_attention:
            self.attention.build((inputs_shape[0], self.units), annotations_shape)

    def call(self, inputs, annotations, summary, initial_state, annotations_mask=None, training=None):
        states = list(initial_state)
        num_states = len(states)
        batch, source_length = ops.shape(annotations)[0], ops.shape(annotations)[1]
        keys = self.attention.project_values(annotations) if self.use_attention else None  # (batch, Te, attention_units)

        def step(carry, x_t):
            previous = list(carry[:num_states])
            if self.use_attention:
                context, weights = self.attention(previous[0], annotations, values_mask=annotations_mask, keys=keys)
            else:
                context, weights = summary, ops.zeros_like(carry[-1])
            output, new_states = self.cell(ops.concatenate([x_t, context], axis=-1), previous, training=training)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            # keras.ops.scan on TensorFlow stacks outputs shaped like the carry, so the carry
            # holds what each step reports: states, context, weights.
            new_carry = (*new_states, context, weights)
            return new_carry, new_carry

        initial_carry = (*states, ops.zeros_like(summary), ops.zeros((batch, source_length), dtype=summary.dtype))
        final, per_step = ops.scan(step, initial_carry, ops.transpose(inputs, (1, 0, 2)))
        # per_step: time-major (Td, batch, ...) -> batch-major.
        hidden = ops.transpose(per_step[0], (1, 0, 2))
        contexts = ops.transpose(per_step[num_states], (1, 0, 2))
        weights = ops.transpose(per_step[num_states + 1], (1, 0, 2))
        return [ops.concatenate([hidden, contexts], axis=-1), weights, *final[:num_states]]

    def diagram_spec(self):
        """For `recipe diagram`: a recurrent decoder, its call arguments' roles and its outputs' roles."""
        return {
            "kind": "recurrent",
            "cell": self.cell,
            "arguments": {
                "inputs": "step",
                "annotations": "attention" if self.use_attention else None,
                "summary": None if self.use_attention else "context",
                "initial_state": "initial_state",
            },
            "outputs": ("sequence_with_context", "attention_weights", "final_states"),
        }

    def compute_mask(self, inputs, previous_mask):
        # The outputs and weights follow the decoder steps; the states have no time axis.
        return [previous_mask, previous_mask] + [None] * len(state_sizes(self.cell))

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell_name,
            "units": self.units,
            "attention_units": self.attention_units,
            "use_attention": self.use_attention,
        }


def decoder_inference_models(model, output_layer):
    """Encoder and one-step decoder models sharing `model`'s trained layers.

    Args:
        model: an encoder-decoder built around an AttentionDecoder named "decoder", with the layers
            "source_embedding", "encoder_birnn", "input_summary", "decoder_initial_state_<n>" and
            "output_embedding" (seq2seq_attention's and translation's build_model; also from .keras).
        output_layer: name of the Dense layer that turns decoder outputs into probabilities.

    Returns:
        (encoder, decoder_step, num_states): encoder maps source ids (batch, Te) to
        [annotations, summary, *initial states]; decoder_step maps [previous token
        (batch, 1), *states, annotations, annotations_mask (batch, Te) bool, summary] to
        [probabilities (batch, 1, vocabulary), *new states, attention weights (batch, 1, Te)].
    """
    decoder = model.get_layer("decoder")
    num_states = len(state_sizes(decoder.cell))
    source = model.get_layer("source_embedding").input
    annotations = model.get_layer("encoder_birnn").output[0]
    summary = model.get_layer("input_summary").output
    initial_state = [model.get_layer(f"decoder_initial_state_{n}").output for n in range(num_states)]
    encoder = keras.Model(source, [annotations, summary, *initial_state], name="encoder")

    token = keras.Input(shape=(1,), dtype="int32", name="previous_token")
    states = [keras.Input(shape=(size,), name=f"decoder_state_{n}") for n, size in enumerate(state_sizes(decoder.cell))]
    annotations_in = keras.Input(shape=(None, annotations.shape[-1]), name="annotations")
    mask_in = keras.Input(shape=(None,), dtype="bool", name="annotations_mask")
    summary_in = keras.Input(shape=(summary.shape[-1],), name="summary")
    outputs = decoder(model.get_layer("output_embedding")(token), annotations_in, summary_in, states, annotations_mask=mask_in)
    probabilities = model.get_layer(output_layer)(outputs[0])
    decoder_step = keras.Model([token, *states, annotations_in, mask_in, summary_in], [probabilities, *outputs[2:], outputs[1]], name="decoder_step")
    return encoder, decoder_step, num_states
