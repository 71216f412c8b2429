"""recursive_net: tree encoding, values, and the composer against a NumPy recursion."""

import numpy as np

from recipes.recursive_net import data, model


def test_value_and_string():
    tree = ("-", ("+", 3, 4), 9)
    assert data.value(tree) == 8 and data.to_string(tree) == "((3+4)-9)"
    assert data.value(("-", 2, 5)) == 7  # mod 10, never negative


def test_random_tree_has_the_requested_depth():
    rng = np.random.default_rng(0)

    def depth(tree):
        return 0 if isinstance(tree, int) else 1 + max(depth(tree[1]), depth(tree[2]))

    for d in range(5):
        assert all(depth(data.random_tree(rng, d)) == d for _ in range(20))


def test_post_order_puts_children_first_and_strings_fit():
    rng = np.random.default_rng(1)
    trees = [data.random_tree(rng, 4) for _ in range(50)]
    encoded = data.encode_trees(trees, data.max_nodes(4))
    for row, tree in enumerate(trees):
        n = encoded["root"][row, 0] + 1
        assert n == len(data.to_nodes(tree))
        for k in range(n):
            for child in (encoded["left"][row, k], encoded["right"][row, k]):
                assert child < k  # -1 for leaves, else an earlier position
    assert max(len(data.to_string(t)) for t in trees) <= data.string_length(4)


def numpy_tree(tree, weights):
    """The recursion written directly: h = e[digit] at leaves, tanh(relu([h_l, h_r, e[op]] W1 + b1) W2 + b2) inside."""
    embedding, w1, b1, w2, b2 = weights
    if isinstance(tree, int):
        return embedding[data.TOKEN[str(tree)]]
    op, left, right = tree
    joined = np.concatenate([numpy_tree(left, weights), numpy_tree(right, weights), embedding[data.TOKEN[op]]])
    return np.tanh(np.maximum(joined @ w1 + b1, 0) @ w2 + b2)


def test_composer_matches_recursion():
    rng = np.random.default_rng(2)
    trees = [data.random_tree(rng, d) for d in (1, 2, 3, 3)]
    nodes = data.max_nodes(3)
    x = data.encode_trees(trees, nodes)
    composer = model.TreeComposer(8, 16, len(data.SYMBOLS), nodes)
    composer([x["tokens"], x["left"], x["right"]])
    weights = [np.random.default_rng(3).normal(scale=0.5, size=w.shape).astype("float32") for w in composer.get_weights()]
    composer.set_weights(weights)
    states = np.asarray(composer([x["tokens"], x["left"], x["right"]]))
    for row, tree in enumerate(trees):
        np.testing.assert_allclose(states[row, x["root"][row, 0]], numpy_tree(tree, weights), atol=1e-5)


def test_chain_and_tree_see_the_same_expressions():
    config = dict(model.DEFAULT_CONFIG, num_train=20, num_validation=10, num_test=8)
    tree_data = data.load_data(dict(config, model="tree"))
    chain_data = data.load_data(dict(config, model="chain"))
    np.testing.assert_array_equal(tree_data["train"][1], chain_data["train"][1])
    assert set(tree_data["test_by_depth"]) == {1, 2, 3, 4}
