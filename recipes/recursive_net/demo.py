"""Accuracy per tree depth, and a test tree with the value the model reads at every node."""

import numpy as np

from recipes.common import style
from recipes.recursive_net.data import to_nodes, value


def accuracy(model, split, batch_size):
    x, y = split
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == y))


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "accuracy_depth_*",
    "accuracy_seen_depths",
    "accuracy_deeper",
)


def evaluate(model, data, config):
    """Value accuracy per depth; `accuracy_seen_depths` (depths trained on) and `accuracy_deeper` (deeper than any in training)."""
    by_depth = {d: accuracy(model, split, 256) for d, split in data["test_by_depth"].items()}
    seen = [a for d, a in by_depth.items() if d <= config["train_depth"]]
    deeper = [a for d, a in by_depth.items() if d > config["train_depth"]]
    metrics = {f"accuracy_depth_{d}": a for d, a in by_depth.items()}
    metrics["accuracy_seen_depths"] = float(np.mean(seen))
    if deeper:
        metrics["accuracy_deeper"] = float(np.mean(deeper))
    return metrics


def node_readout_model(model):
    """For the tree model: the value readout applied to EVERY node vector, (batch, nodes, 10)."""
    import keras

    states = model.get_layer("tree_composer").output
    return keras.Model(model.inputs, model.get_layer("value_readout")(states))


def plot_depth_accuracy(metrics, config, path):
    depths = sorted(int(k.rsplit("_", 1)[1]) for k in metrics if k.startswith("accuracy_depth_"))
    values = [metrics[f"accuracy_depth_{d}"] for d in depths]
    fig, ax = style.subplots(figsize=(5.5, 3.4))
    colors = [style.SERIES[0] if d <= config["train_depth"] else style.SERIES[1] for d in depths]
    ax.bar([str(d) for d in depths], values, color=colors)
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)
    ax.text(len(depths) - 0.5, 0.12, "chance", color="grey", ha="right", fontsize=9)
    for x, v in enumerate(values):
        ax.text(x, v + 0.02, f"{v:.2f}", ha="center", fontsize=9)
    ax.set_ylim(0, 1.15)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("tree depth (orange: deeper than any training tree)")
    ax.set_ylabel("value accuracy")
    ax.set_title(f"{config['model']} model: accuracy by expression depth")
    return style.save(fig, path)


def plot_tree(tree, node_predictions, path):
    """Draw one expression tree; each node shows its symbol and the value read from its vector."""
    nodes = to_nodes(tree)
    # x = in-order rank, y = depth from the root.
    order, depth = {}, {}

    def place(position, level):
        symbol, left, right, _ = nodes[position]
        if left >= 0:
            place(left, level + 1)
        order[position] = len(order)
        depth[position] = level
        if right >= 0:
            place(right, level + 1)

    place(len(nodes) - 1, 0)
    fig, ax = style.subplots(figsize=(max(5, 0.55 * len(nodes)), 1.3 + 1.1 * max(depth.values())))
    ax.axis("off")
    for position, (_, left, right, _) in enumerate(nodes):
        for child in (left, right):
            if child >= 0:
                ax.plot([order[position], order[child]], [-depth[position], -depth[child]], color="#999999", zorder=1)
    for position, (symbol, _, _, subtree) in enumerate(nodes):
        predicted, true = int(node_predictions[position]), value(subtree)
        color = style.SERIES[2] if predicted == true else style.SERIES[1]
        ax.scatter(order[position], -depth[position], s=650, color="white", edgecolor=color, linewidth=2, zorder=2)
        ax.text(order[position], -depth[position], symbol, ha="center", va="center", fontsize=12, fontweight="bold", zorder=3)
        ax.text(order[position], -depth[position] - 0.36, f"= {predicted}", ha="center", va="top", fontsize=9, color=color, zorder=3)
    ax.set_title("Values read from every node's vector (trained on the root only; red = wrong)")
    ax.set_ylim(-max(depth.values()) - 0.8, 0.5)
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """Writes accuracy_by_depth.png, and for the tree model tree_readout.png (a deep test tree)."""
    paths = [plot_depth_accuracy(evaluate(model, data, config), config, f"{out_dir}/accuracy_by_depth.png")]
    if config["model"] == "tree":
        deepest = max(data["test_by_depth"])
        x, _ = data["test_by_depth"][deepest]
        index = 0
        example = {key: value[index : index + 1] for key, value in x.items()}
        per_node = np.argmax(node_readout_model(model).predict(example, verbose=0)[0], axis=-1)
        tree = data["test_trees"][len(data["test_trees"]) - len(data["test_by_depth"][deepest][1]) + index]
        paths.append(plot_tree(tree, per_node, f"{out_dir}/tree_readout.png"))
    return paths
