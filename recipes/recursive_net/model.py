"""Recursive neural network: one composition function shared over a parse tree (DL book fig. 10.14).

Book: Goodfellow, Bengio & Courville, "Deep Learning", 2016, section 10.6, fig. 10.14,
https://www.deeplearningbook.org/contents/rnn.html. Papers: Pollack 1990, "Recursive
distributed representations", https://doi.org/10.1016/0004-3702(90)90005-K; Socher et al.
2011, "Parsing Natural Scenes and Natural Language with Recursive Neural Networks",
https://icml.cc/2011/papers/125_icmlpaper.pdf; the arithmetic/logic setting follows Bowman,
Manning & Potts 2015, "Tree-structured composition in neural networks without
tree-structured architectures", https://arxiv.org/abs/1506.04834.

A recursive net follows the parse tree instead of the time axis: every inner node's
vector is the SAME learned function of its children's vectors and its operator,
h = tanh(relu([h_left, h_right, e_op] W1 + b1) W2 + b2), and a leaf's vector is its
digit's embedding.
The root's vector is read out as the expression's value mod 10. The depth of the
computation is the depth of the tree (log of the length for balanced trees), not the
length of the string. The baseline (`model: chain`) is an LSTM that reads the fully
parenthesised string left to right and must keep its own stack of pending operands.

Because each node computes its own subexpression's value, the readout trained only on
roots also reads every inner node (the demo shows it), and the model generalises to
trees deeper than any seen in training.

Deviations: trees are given (no parsing is learned); the composition has one hidden
ReLU layer where Pollack and Socher et al. 2011 use a single tanh layer (Socher et al.
2013 add a tensor layer for the same reason: one layer is a weak composition; with
+ - * mod 10 it stayed at the majority-class rate in our runs); the operators are + and
- only, so the brief run converges in seconds. Values mod 10 keep the output a 10-way
softmax.
"""

import keras
from keras import ops

from recipes.common.cells import CELL_CHOICES, SERIALIZATION_PACKAGE, recurrent_layer
from recipes.common.config import COMMON_RULES, choice, config_error, integer, ordered
from recipes.recursive_net.data import SYMBOLS, max_nodes, string_length

MODEL_CHOICES = ("tree", "chain")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 30,
    "batch_size": 64,
    "learning_rate": 0.01,
    "model": "tree",
    "units": 64,
    "hidden_units": 128,
    "cell": "keras_lstm",
    "train_depth": 3,
    "test_depth": 4,
    "num_train": 20000,
    "num_validation": 1000,
    "num_test": 2000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "model": choice(*MODEL_CHOICES),
    "units": integer(1, 4096),
    "hidden_units": integer(1, 4096),
    "cell": choice(*CELL_CHOICES),
    # Trees of depth 6 have up to 127 nodes; the composer's loop runs over every node position.
    "train_depth": integer(1, 6),
    "test_depth": integer(1, 6),
    # Trees are sampled one by one in Python.
    "num_train": integer(1, 200_000),
    "num_validation": integer(1, 200_000),
    "num_test": integer(1, 200_000),
}


def check_config(config):
    """Raise ConfigError unless train_depth <= test_depth and every test depth gets a tree."""
    ordered(config, "train_depth", "test_depth")
    if config["num_test"] < config["test_depth"]:
        # num_test is shared evenly among the depths 1..test_depth.
        raise config_error(
            "num_test", config["num_test"], f"at least test_depth={config['test_depth']} (a tree per depth)", DEFAULT_CONFIG["num_test"]
        )


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class TreeComposer(keras.layers.Layer):
    """Computes a vector for every node of a batch of post-order trees with one shared composition.

    For node k (children always come before parents in post-order):
        leaf:  h_k = e[token_k]
        inner: h_k = tanh(relu([h_left(k), h_right(k), e[token_k]] W1 + b1) W2 + b2)
    The loop runs over node positions (the padded tree size), not over time.

    Args:
        units: size of every node vector.
        hidden_units: size of the composition's hidden layer.
        vocabulary_size: number of token ids (digits and operators share one embedding).
        num_nodes: padded number of nodes per tree.

    Call args:
        inputs: [tokens, left, right], each (batch, num_nodes) int; left/right are child positions, -1 for leaves.

    Returns:
        (batch, num_nodes, units) node vectors.
    """

    def __init__(self, units, hidden_units, vocabulary_size, num_nodes, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden_units = hidden_units
        self.vocabulary_size = vocabulary_size
        self.num_nodes = num_nodes

    def build(self, input_shape):
        self.embedding = self.add_weight(shape=(self.vocabulary_size, self.units), initializer="uniform", name="embedding")
        self.hidden_kernel = self.add_weight(shape=(3 * self.units, self.hidden_units), initializer="he_uniform", name="hidden_kernel")
        self.hidden_bias = self.add_weight(shape=(self.hidden_units,), initializer="zeros", name="hidden_bias")
        self.kernel = self.add_weight(shape=(self.hidden_units, self.units), initializer="glorot_uniform", name="compose_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="compose_bias")

    def call(self, inputs):
        tokens, left, right = (ops.cast(t, "int32") for t in inputs)
        embedded = ops.take(self.embedding, tokens, axis=0)  # (batch, nodes, units)
        is_leaf = ops.expand_dims(ops.cast(left < 0, self.compute_dtype), -1)  # (batch, nodes, 1)
        # One-hot rows select children by position; -1 (leaf) is clipped and masked out by is_leaf.
        left_pick = ops.one_hot(ops.maximum(left, 0), self.num_nodes, dtype=self.compute_dtype)  # (batch, nodes, nodes)
        right_pick = ops.one_hot(ops.maximum(right, 0), self.num_nodes, dtype=self.compute_dtype)
        states = ops.zeros_like(embedded)  # (batch, nodes, units), filled in post-order
        slots = ops.eye(self.num_nodes, dtype=self.compute_dtype)  # row k writes position k
        for k in range(self.num_nodes):
            h_left = ops.einsum("bn,bnu->bu", left_pick[:, k], states)
            h_right = ops.einsum("bn,bnu->bu", right_pick[:, k], states)
            joined = ops.concatenate([h_left, h_right, embedded[:, k]], axis=-1)  # (batch, 3 * units)
            hidden = ops.relu(ops.matmul(joined, self.hidden_kernel) + self.hidden_bias)
            composed = ops.tanh(ops.matmul(hidden, self.kernel) + self.bias)
            node = is_leaf[:, k] * embedded[:, k] + (1.0 - is_leaf[:, k]) * composed
            # Write node k's vector into its slot (no scatter needed: a one-hot row over positions).
            states = states + ops.reshape(slots[k], (1, -1, 1)) * ops.expand_dims(node, 1)
        return states

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.num_nodes, self.units)

    def diagram_spec(self):
        """For `recipe diagram`: one composition shared over the nodes of a tree (DL book fig. 10.14)."""
        # Of [tokens, left, right], only the tokens are data; left and right give the tree's shape.
        return {"kind": "recursive", "units": self.units, "data_inputs": (0,)}

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "hidden_units": self.hidden_units,
            "vocabulary_size": self.vocabulary_size,
            "num_nodes": self.num_nodes,
        }


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class PickNode(keras.layers.Layer):
    """Selects one node vector per tree: (batch, nodes, units), (batch, 1) index -> (batch, units)."""

    def call(self, inputs):
        states, index = inputs
        pick = ops.one_hot(ops.cast(index[:, 0], "int32"), ops.shape(states)[1], dtype=states.dtype)  # (batch, nodes)
        return ops.einsum("bn,bnu->bu", pick, states)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[0][2])

    def diagram_spec(self):
        """For `recipe diagram`: the tree's one output is read at its root."""
        return {"kind": "reduce", "label": "root"}


def build_model(config):
    """The tree model (`model: tree`) or the chain LSTM baseline (`model: chain`), compiled.

    Returns:
        A keras.Model. The tree model takes {"tokens", "left", "right", "root"}; the chain
        model takes (batch, length) character ids. Both output (batch, 10) value probabilities.
    """
    units = config["units"]
    value_head = keras.layers.Dense(10, activation="softmax", name="value_readout")
    if config["model"] == "tree":
        nodes = max_nodes(config["test_depth"])
        tokens, left, right = (keras.Input((nodes,), dtype="int32", name=name) for name in ("tokens", "left", "right"))
        root = keras.Input((1,), dtype="int32", name="root")
        states = TreeComposer(units, config["hidden_units"], len(SYMBOLS), nodes, name="tree_composer")([tokens, left, right])
        outputs = value_head(PickNode(name="root_vector")([states, root]))
        model = keras.Model({"tokens": tokens, "left": left, "right": right, "root": root}, outputs, name="recursive_net")
    else:
        text = keras.Input((string_length(config["test_depth"]),), dtype="int32", name="characters")
        embedded = keras.layers.Embedding(len(SYMBOLS), units, mask_zero=True, name="character_embedding")(text)
        summary = recurrent_layer(config["cell"], units, "chain_rnn", return_sequences=False)(embedded)
        model = keras.Model(text, value_head(summary), name="chain_rnn_baseline")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=5.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
