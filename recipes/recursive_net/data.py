"""Random arithmetic expressions mod 10, as parse trees and as flat strings.

An expression is a binary tree: leaves are digits 0-9, inner nodes are + and -, and
every value is taken mod 10, e.g. ((3+4)-9) -> 8. A tree of depth d has at least
one path of d operators. The same expressions are given two ways:
- tree (for the recursive net): nodes in post-order, so children come before their
  parent, as `tokens` (N,), `left` (N,), `right` (N,) child positions (-1 for a leaf)
  and `root` (1,), padded to N = 2 ** (max_depth + 1) - 1 nodes;
- chain (for the RNN baseline): the fully parenthesised string, one token per character.
Training uses depths 1..train_depth; the test set also holds deeper trees, to show
which model generalises to more nesting than it was trained on.
"""

import numpy as np

OPERATORS = {"+": lambda a, b: (a + b) % 10, "-": lambda a, b: (a - b) % 10}
# Token ids shared by both views; 0 is padding.
SYMBOLS = ["<pad>", *"0123456789", *OPERATORS, "(", ")"]
TOKEN = {symbol: index for index, symbol in enumerate(SYMBOLS)}


def random_tree(rng, depth):
    """A random expression tree of exactly `depth` (0 = a single digit).

    Returns:
        A digit (int) for a leaf, or a tuple (operator, left, right).
    """
    if depth == 0:
        return int(rng.integers(10))
    # One side carries the full depth, the other is any shallower tree.
    deep, shallow = random_tree(rng, depth - 1), random_tree(rng, int(rng.integers(depth)))
    left, right = (deep, shallow) if rng.random() < 0.5 else (shallow, deep)
    return (str(rng.choice(list(OPERATORS))), left, right)


def value(tree):
    """The value of an expression tree, mod 10."""
    if isinstance(tree, int):
        return tree
    operator, left, right = tree
    return OPERATORS[operator](value(left), value(right))


def to_string(tree):
    """Fully parenthesised infix text, e.g. '((3+4)*2)'."""
    if isinstance(tree, int):
        return str(tree)
    operator, left, right = tree
    return f"({to_string(left)}{operator}{to_string(right)})"


def to_nodes(tree):
    """Post-order node list: [(symbol, left_position, right_position, subtree)], children first."""
    nodes = []

    def visit(node):
        if isinstance(node, int):
            nodes.append((str(node), -1, -1, node))
        else:
            left, right = visit(node[1]), visit(node[2])
            nodes.append((node[0], left, right, node))
        return len(nodes) - 1

    visit(tree)
    return nodes


def max_nodes(depth):
    """Nodes of a full binary tree of `depth`: the padded tree size."""
    return 2 ** (depth + 1) - 1


def encode_trees(trees, num_nodes):
    """Tree view: {'tokens', 'left', 'right': (n, num_nodes), 'root': (n, 1)} int32 arrays."""
    tokens = np.zeros((len(trees), num_nodes), "int32")
    left = np.full((len(trees), num_nodes), -1, "int32")
    right = np.full((len(trees), num_nodes), -1, "int32")
    root = np.zeros((len(trees), 1), "int32")
    for row, tree in enumerate(trees):
        nodes = to_nodes(tree)
        for position, (symbol, left_child, right_child, _) in enumerate(nodes):
            tokens[row, position], left[row, position], right[row, position] = TOKEN[symbol], left_child, right_child
        root[row, 0] = len(nodes) - 1
    return {"tokens": tokens, "left": left, "right": right, "root": root}


def encode_strings(trees, length):
    """Chain view: (n, length) int32 character ids of the parenthesised strings, zero-padded at the end."""
    out = np.zeros((len(trees), length), "int32")
    for row, tree in enumerate(trees):
        ids = [TOKEN[ch] for ch in to_string(tree)]
        out[row, : len(ids)] = ids
    return out


def string_length(depth):
    """Longest string of a tree of `depth`: a full tree has 2^d digits, 2^d - 1 operators and as many paren pairs."""
    return 2**depth + 3 * (2**depth - 1)


def encode(trees, config):
    """x for the configured model, padded for the deepest test tree."""
    if config["model"] == "tree":
        return encode_trees(trees, max_nodes(config["test_depth"]))
    return encode_strings(trees, string_length(config["test_depth"]))


def sample(rng, count, depths):
    """`count` trees with depths drawn uniformly from `depths`."""
    return [random_tree(rng, int(rng.choice(depths))) for _ in range(count)]


def load_data(config):
    """Train/validation on depths 1..train_depth; test per depth 1..test_depth.

    Returns:
        {"train", "validation", "test": (x, y)} with y the (n,) int32 value mod 10;
        "test_by_depth": {depth: (x, y)} and "test_trees": the test expression trees.
    """
    rng = np.random.default_rng(config["seed"])
    train_depths = list(range(1, config["train_depth"] + 1))
    train = sample(rng, config["num_train"], train_depths)
    validation = sample(rng, config["num_validation"], train_depths)
    per_depth = config["num_test"] // config["test_depth"]
    by_depth = {d: sample(rng, per_depth, [d]) for d in range(1, config["test_depth"] + 1)}
    test = [tree for trees in by_depth.values() for tree in trees]

    def pair(trees):
        return encode(trees, config), np.array([value(t) for t in trees], "int32")

    return {
        "train": pair(train),
        "validation": pair(validation),
        "test": pair(test),
        "test_by_depth": {d: pair(trees) for d, trees in by_depth.items()},
        "test_trees": test,
    }
