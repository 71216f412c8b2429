"""Token accuracy against the best possible without the future, by how far ahead the evidence is.

Figures: the label probabilities along a few test sequences (a forwards-only model
spreads them evenly over the marker kinds until the marker arrives; a bidirectional one
knows them from the start), and accuracy against the distance to the next marker.
"""

from pathlib import Path

import numpy as np

from recipes.bidirectional_tagger.data import steps_to_next_marker
from recipes.common.tagging import token_accuracy

METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "token_accuracy",
    "best_without_future_accuracy",
    "chance_accuracy",
    "lookahead_accuracy",
)


def evaluate(model, data, config):
    """Test token_accuracy; lookahead_accuracy on the filler steps (labelled by a later marker); chance_accuracy
    (1 / num_markers); best_without_future_accuracy, the best past-only predictor's on these inputs."""
    x, y = data["test"]
    predicted = model.predict(x, batch_size=config["batch_size"], verbose=0).argmax(axis=-1)
    later = steps_to_next_marker(x, config["num_markers"]) > 0
    return {
        "token_accuracy": token_accuracy(predicted, y),
        "best_without_future_accuracy": float(1.0 - later.mean() * (1.0 - 1.0 / config["num_markers"])),
        "chance_accuracy": 1.0 / config["num_markers"],
        "lookahead_accuracy": token_accuracy(predicted, y, later),
    }


def model_label(config):
    """'bidirectional keras_gru' or 'forwards-only keras_gru', for titles."""
    return f"{'bidirectional' if config['bidirectional'] else 'forwards-only'} {config['cell']}"


def plot_label_probabilities(probabilities, symbols, labels, names, num_markers, path, title):
    """Heatmaps of predicted label probabilities along time, one panel per sequence.

    Rows are the marker kinds, columns the steps; the input symbols are written above each
    panel (markers in bold), and the true label of each step is boxed: green where the
    argmax is right, orange where it is wrong.

    Args:
        probabilities: (n, T, num_markers) predicted probabilities.
        symbols: (n, T) input symbol ids.
        labels: (n, T) true labels.
        names: printable name of each symbol id.
        num_markers: number of marker kinds.
        path: PNG file to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from matplotlib.patches import Rectangle

    from recipes.common import style

    count, length, _ = probabilities.shape
    fig, axes = style.subplots(
        count, 1, figsize=(max(7.0, 0.3 * length + 1.6), 1.9 * count + 0.9), squeeze=False, sharex=True, gridspec_kw={"hspace": 0.55}
    )
    predicted = probabilities.argmax(axis=-1)
    for n, ax in enumerate(axes[:, 0]):
        # (kinds, T): one row per marker kind, time left to right.
        image = ax.imshow(probabilities[n].T, aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.grid(False)
        ax.set_yticks(range(num_markers), names[:num_markers], fontsize=8)
        ax.set_ylabel("label")
        for t in range(length):
            color = style.SERIES[2] if predicted[n, t] == labels[n, t] else style.SERIES[1]
            ax.add_patch(Rectangle((t - 0.5, labels[n, t] - 0.5), 1.0, 1.0, fill=False, edgecolor=color, linewidth=1.5))
        top = ax.secondary_xaxis("top")
        top.set_xticks(range(length), [names[s] for s in symbols[n]], fontsize=8)
        for tick, symbol in zip(top.get_xticklabels(), symbols[n]):
            if symbol < num_markers:
                tick.set_fontweight("bold")
        top.tick_params(length=0)
        right = int(np.sum(predicted[n] == labels[n]))
        ax.set_title(f"test sequence {n + 1}: {right} of {length} steps right", loc="left", fontsize=9, pad=14)
        ax.tick_params(axis="x", length=2)
    axes[-1, 0].set_xlabel("time step (input above each panel: markers in bold upper case, fillers lower case)")
    colorbar = fig.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.025, pad=0.01)
    colorbar.set_label("predicted probability")
    fig.suptitle(title, x=0.02, ha="left", fontsize=10)
    return style.save(fig, path)


def plot_accuracy_by_distance(predicted, labels, distances, num_markers, path, title, max_distance=12):
    """Accuracy against the number of steps to the next marker, with the no-future bound.

    Args:
        predicted: (N, T) predicted labels.
        labels: (N, T) true labels.
        distances: (N, T) steps to the next marker (0 on a marker).
        num_markers: number of marker kinds.
        path: PNG file to write.
        title: figure title.
        max_distance: distances beyond it are left out (few steps, noisy).

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    steps = [d for d in range(max_distance + 1) if np.any(distances == d)]
    accuracy = [token_accuracy(predicted, labels, distances == d) for d in steps]
    counts = [int(np.sum(distances == d)) for d in steps]
    fig, ax = style.subplots(figsize=(6.4, 3.6))
    ax.plot(steps, accuracy, marker="o", color=style.SERIES[0], label="this model")
    bound = [1.0 if d == 0 else 1.0 / num_markers for d in steps]
    ax.step(steps, bound, where="mid", linestyle="--", color=style.SERIES[7], label="best without the future (1 on a marker, else 1/kinds)")
    ax.set_xlabel("steps until the next marker (how far ahead the evidence is)")
    ax.set_ylabel("token accuracy (test)")
    ax.set_ylim(0, 1.08)
    ax.set_xticks(steps)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    # How many test steps each point averages, along the top.
    top = ax.secondary_xaxis("top")
    top.set_xticks(steps, [f"{c:,}" for c in counts], fontsize=6.5)
    top.set_xlabel("test steps at that distance", fontsize=8)
    return style.save(fig, path)


def demo(model, data, config, out_dir, num_sequences=3):
    """label_probabilities.png (along the first `num_sequences` test sequences) and accuracy_by_distance.png (to the evidence)."""
    out_dir = Path(out_dir)
    x, y = data["test"]
    probabilities = model.predict(x, batch_size=config["batch_size"], verbose=0)  # (N, T, kinds)
    name = model_label(config)
    paths = [
        plot_label_probabilities(
            probabilities[:num_sequences],
            x[:num_sequences],
            y[:num_sequences],
            data["symbol_names"],
            config["num_markers"],
            out_dir / "label_probabilities.png",
            f"{name}: label = kind of the next marker (box: true label; green right, orange wrong)",
        )
    ]
    paths.append(
        plot_accuracy_by_distance(
            probabilities.argmax(axis=-1),
            y,
            steps_to_next_marker(x, config["num_markers"]),
            config["num_markers"],
            out_dir / "accuracy_by_distance.png",
            f"{name}: accuracy by distance to the evidence",
        )
    )
    return paths
