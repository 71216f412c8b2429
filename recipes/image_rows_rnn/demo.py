"""Accuracy on shifted and rotated test digits, parameter counts, and what the reader knows after each row."""

from pathlib import Path

import numpy as np

from recipes.common.digits import IMAGE_SIZE, NUM_CLASSES
from recipes.image_rows_rnn.data import ROTATION_DEGREES, SHIFTS, rotate_images, shift_images

METRICS = ("shifted_accuracy", "rotated_accuracy", "nearest_centroid_accuracy", "parameters")
EXAMPLE_DIGITS = (1, 3, 4, 7, 8, 9)  # the first test image of each is drawn in reading.png
READER_LAYERS = ("reader", "bidirectional_reader")


def accuracy(model, images, labels):
    """Share of `images` whose most probable digit is the label."""
    predicted = np.argmax(model.predict(images, batch_size=256, verbose=0), axis=-1)
    return float(np.mean(predicted == labels))


def nearest_centroid_predictions(train_images, train_labels, images):
    """Digits of `images` by the nearest (Euclidean) mean training image of each digit: a linear baseline."""
    flat = train_images.reshape(len(train_images), -1)
    classes = np.unique(train_labels)
    centroids = np.stack([flat[train_labels == d].mean(axis=0) for d in classes])  # (10, 64)
    distances = np.sum((images.reshape(len(images), 1, -1) - centroids[None]) ** 2, axis=-1)  # (N, 10)
    return classes[np.argmin(distances, axis=-1)]


def evaluate(model, data, config):
    """Accuracy on the test images moved by one pixel (mean over SHIFTS) and rotated by +-15 degrees (mean of
    both), the nearest-centroid baseline's accuracy on the plain test split, and the model's parameter count."""
    x, y = data["test"]
    shifted = np.mean([accuracy(model, shift_images(x, *shift), y) for shift in SHIFTS])
    rotated = np.mean([accuracy(model, rotate_images(x, sign * ROTATION_DEGREES), y) for sign in (1, -1)])
    centroid = np.mean(nearest_centroid_predictions(*data["train"], x) == y)
    return {
        "shifted_accuracy": float(shifted),
        "rotated_accuracy": float(rotated),
        "nearest_centroid_accuracy": float(centroid),
        "parameters": float(model.count_params()),
    }


def reading_order(images, config):
    """(N, 8, 8) images as the steps the model reads: rows, or columns when config read_by is "columns"."""
    return images if config["read_by"] == "rows" else np.transpose(images, (0, 2, 1))


def probabilities_after_each_step(model, images, config):
    """What the model knows after k steps, for k = 1..8.

    A recurrent reader is run on the first k rows (or columns) alone, which is exactly its
    state after k steps. A CNN has no such state: it gets the image with the steps not yet
    read blanked out.

    Args:
        model: a built model of this recipe.
        images: (N, 8, 8) images.
        config: the run's config (model, read_by).

    Returns:
        (N, 8, 10) digit probabilities after 1, 2, ..., 8 steps.
    """
    import keras

    steps = reading_order(images, config)
    names = [layer.name for layer in model.layers]
    reader_name = next((name for name in READER_LAYERS if name in names), None)
    found = []
    if reader_name is None:
        for k in range(1, IMAGE_SIZE + 1):
            partial = steps.copy()
            partial[:, k:] = 0.0
            found.append(model.predict(reading_order(partial, config), verbose=0))
    else:
        # The reader and the softmax of `model`, on sequences of any length.
        prefix = keras.Input(shape=(None, IMAGE_SIZE), name="first_steps")
        probe = keras.Model(prefix, model.get_layer("digit_probabilities")(model.get_layer(reader_name)(prefix)))
        found = [probe.predict(steps[:, :k], verbose=0) for k in range(1, IMAGE_SIZE + 1)]
    return np.stack(found, axis=1)


def example_indices(labels, digits=EXAMPLE_DIGITS):
    """Index of the first image of each of `digits` in `labels`."""
    return [int(np.flatnonzero(labels == d)[0]) for d in digits]


def plot_reading(images, labels, probabilities, config, path):
    """Each example digit beside the digit probabilities after each row read.

    Args:
        images: (E, 8, 8) example images.
        labels: (E,) their digits.
        probabilities: (E, 8, 10) from probabilities_after_each_step.
        config: the run's config (model, read_by).
        path: PNG file to write.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    columns = 3
    rows = int(np.ceil(len(images) / columns))
    # Per example: the image, its heat map and a blank spacer column.
    fig, grid = style.subplots(
        rows, 3 * columns, figsize=(11, 2.3 * rows + 0.9), gridspec_kw={"width_ratios": [1, 1.25, 0.3] * columns, "hspace": 0.35, "wspace": 0.05}
    )
    grid = np.asarray(grid).reshape(rows, 3 * columns)
    for ax in grid[:, 2::3].ravel():
        ax.set_visible(False)
    axes = np.concatenate([grid[:, 3 * c : 3 * c + 2] for c in range(columns)], axis=1)
    step = "row" if config["read_by"] == "rows" else "column"
    for n, (image, label, probs) in enumerate(zip(images, labels, probabilities)):
        picture, heat = axes[n // columns, 2 * (n % columns)], axes[n // columns, 2 * (n % columns) + 1]
        shown = image if config["read_by"] == "rows" else image.T  # steps top to bottom, beside the heat map rows
        picture.imshow(shown, cmap="Greys", vmin=0, vmax=1)
        picture.set_yticks(range(IMAGE_SIZE), [str(k) for k in range(1, IMAGE_SIZE + 1)])
        picture.set_xticks([])
        if n % columns == 0:
            picture.set_ylabel(f"{step} read")
        picture.grid(False)
        final = int(np.argmax(probs[-1]))
        picture.set_title(f"true {label}", loc="left", fontsize=11)
        # Square cells, so heat map row k sits beside image row k.
        image_shown = heat.imshow(probs, cmap="Blues", vmin=0, vmax=1, aspect="equal")
        heat.set_xticks(range(NUM_CLASSES))
        heat.set_yticks(range(IMAGE_SIZE), [])
        heat.set_xlabel("digit")
        heat.grid(False)
        heat.set_title(f"says {final}", fontsize=11, loc="left", color="black" if final == label else "#D55E00")
    for ax in axes.reshape(-1, 2)[len(images) :].ravel():
        ax.set_visible(False)
    fig.colorbar(image_shown, ax=grid.ravel().tolist(), fraction=0.015, pad=0.01, label="probability")
    if config["model"] == "cnn":
        how = f"the CNN on the image with the {step}s after k blanked"
    else:
        how = f"the {'bidirectional ' if config['model'] == 'bidirectional_lstm' else ''}LSTM's output after reading {step}s 1 to k only"
    fig.suptitle(
        f"image_rows_rnn ({config['model']}): what it knows after k {step}s\neach heat map row k: P(digit) from {how}",
        x=0.02,
        ha="left",
    )
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """reading.png: example test digits and the class probabilities after each row (or column) read."""
    x, y = data["test"]
    chosen = example_indices(y)
    probabilities = probabilities_after_each_step(model, x[chosen], config)
    return [plot_reading(x[chosen], y[chosen], probabilities, config, Path(out_dir) / "reading.png")]
