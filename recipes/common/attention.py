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
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE

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
