"""Recall accuracy, and a figure of what the trained network writes along a few test sequences."""

from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from recipes.common import style
from recipes.memory_task.data import BLANK, DELIMITER, NUM_DIGITS


def recall_accuracy(probabilities, targets, num_digits):
    """Fraction of digits right on the last `num_digits` (recall) steps only; chance is 1/9.

    Args:
        probabilities: (batch, T, classes) predicted probabilities (or scores).
        targets: (batch, T) int target ids.
        num_digits: K.
    """
    # (batch, K): the blank steps before the recall are left out.
    predicted = np.argmax(probabilities[:, -num_digits:], axis=-1)
    return float(np.mean(predicted == targets[:, -num_digits:]))


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "recall_accuracy",
)


def evaluate(model, data, config):
    """{"recall_accuracy": float} on the test split (Keras' own accuracy mostly counts blanks)."""
    x, y = data["test"]
    probabilities = model.predict(x, batch_size=config["batch_size"], verbose=0)
    return {"recall_accuracy": recall_accuracy(probabilities, y, config["num_digits"])}


def _symbol_label(symbol_id):
    """How one symbol id is printed: its digit, '·' for blank, '#' for the delimiter."""
    if symbol_id == BLANK:
        return "·"
    if symbol_id == DELIMITER:
        return "#"
    return str(symbol_id)


def plot_recall(probabilities, symbols, targets, num_digits, path, title):
    """Per sequence, a heatmap of output probabilities (class x step) with the inputs above it.

    Args:
        probabilities: (n, T, 10) predicted probabilities.
        symbols, targets: (n, T) input and target ids.
        num_digits: K; the true digits on the last K steps are boxed.
        path, title: the PNG file to write and its title.

    Returns:
        The path written, as a str.
    """
    num_sequences, length, num_classes = probabilities.shape
    steps = np.arange(length)
    fig, axes = style.subplots(
        num_sequences,
        1,
        figsize=(max(7.0, 0.17 * length + 1.5), 2.2 * num_sequences + 0.6),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    # Every sequence has its delimiter at the same step.
    delimiter_step = int(np.argmax(symbols[0] == DELIMITER))
    for n, ax in enumerate(axes[:, 0]):
        # (classes, T): rows are output classes, so time runs left to right.
        image = ax.imshow(probabilities[n].T, aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.grid(False)
        ax.set_yticks(range(num_classes), [str(d) for d in range(NUM_DIGITS)] + ["blank"], fontsize=7)
        ax.set_ylabel("output")
        # Box the true digit on each recall step: green where the argmax hit it, orange where it missed.
        recall_steps = steps[-num_digits:]
        predicted = np.argmax(probabilities[n, -num_digits:], axis=-1)
        for step, target, guess in zip(recall_steps, targets[n, -num_digits:], predicted):
            color = style.SERIES[2] if guess == target else style.SERIES[1]
            ax.add_patch(_box(step, target, color))
        ax.axvline(delimiter_step, color=style.SERIES[7], linewidth=0.8, linestyle=":")
        # The input symbols, one per step, along the top edge.
        top = ax.secondary_xaxis("top")
        top.set_xticks(steps, [_symbol_label(s) for s in symbols[n]], fontsize=8)
        top.tick_params(length=0)
        correct = int(np.sum(predicted == targets[n, -num_digits:]))
        ax.set_title(f"test sequence {n + 1}: {correct} of {num_digits} digits recalled", loc="left", fontsize=9, pad=16)
        ax.tick_params(axis="x", length=2)
    axes[-1, 0].set_xlabel("time step (input symbols above each panel; # is the delimiter)")
    colorbar = fig.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.02, pad=0.01, aspect=30)
    colorbar.set_label("predicted probability")
    fig.suptitle(title, x=0.02, ha="left")
    return style.save(fig, path)


def _box(step, row, color):
    """A square outline around cell (step, row) of an imshow grid."""
    # Unclipped, so a box on the last step is drawn whole.
    return Rectangle((step - 0.5, row - 0.5), 1.0, 1.0, fill=False, edgecolor=color, linewidth=1.6, clip_on=False)


def demo(model, data, config, out_dir, num_sequences=3):
    """recall.png: what the model outputs along the first `num_sequences` test sequences."""
    x, y = data["test"]
    probabilities = model.predict(x[:num_sequences], verbose=0)  # (n, T, 10)
    title = f"{config['cell']}: recall {config['num_digits']} digits after {config['blank_separation']} blanks (green box: right, orange: wrong)"
    path = Path(out_dir) / "recall.png"
    return [plot_recall(probabilities, data["test_symbols"][:num_sequences], y[:num_sequences], config["num_digits"], path, title)]
