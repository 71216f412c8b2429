"""Image rows RNN: an LSTM reads a handwritten digit one pixel row at a time and names it after the last row.

The classic "MNIST rows" recipe: each 28x28 MNIST image is a sequence of 28 rows of 28
pixels, read by an LSTM whose last state a softmax classifies, as in pytorch/examples
(https://github.com/pytorch/examples, the "mnist_rnn" example) and TensorFlow-Examples by
Aymeric Damien (https://github.com/aymericdamien/TensorFlow-Examples, "recurrent_network").
The cell: "Long Short-Term Memory", Sepp Hochreiter and Jurgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735; the architecture is figure 10.5 of "Deep
Learning", Goodfellow, Bengio and Courville, 2016, chapter 10
(https://www.deeplearningbook.org/contents/rnn.html): one output after the whole input.
The baseline CNN follows "Gradient-Based Learning Applied to Document Recognition", Yann
LeCun, Leon Bottou, Yoshua Bengio and Patrick Haffner, 1998,
https://doi.org/10.1109/5.726791 (two convolution + pooling stages, then a classifier).

What the recipe shows: an image is a sequence if you decide an order to read it in. The
LSTM sees row t at step t and nothing of the rows below it yet; its state after row k is
all it knows about the digit so far, and demo.py draws the class probabilities it would
give after each row. Config `model` picks the reader:

    pixel rows (batch, 8 steps, 8 pixels), values in [0, 1]
      "lstm":               [columns_as_steps: Permute, only when read_by=columns]
                            -> reader: LSTM(units), last state -> Dense softmax over 10 digits
      "bidirectional_lstm": the same with a Bidirectional LSTM (one reader top-down, one
                            bottom-up, their last states concatenated)
      "cnn":                Reshape to (8, 8, 1) -> [Conv2D 3x3 same, ReLU -> MaxPool 2] x 2
                            (channels, 2 x channels) -> Flatten -> Dense softmax

`read_by` = "columns" makes the recurrent readers read left to right, one column per step
(the CNN ignores it). demo.evaluate reports accuracy on the random test split and on the
same test images shifted by one pixel and rotated by 15 degrees, and each model's
parameter count, so readers are compared on accuracy and size side by side.

Deviations from the sources:
- Data: scikit-learn's bundled 8x8 digits (1,797 images, 17 grey levels), not MNIST's 28x28
  (70,000 images): 8 steps of 8 pixels, so everything trains in seconds on a CPU; accuracies
  are not comparable with MNIST's.
- Smaller models (64 LSTM units instead of 128; a 16/32-channel CNN), Adam with a fixed
  learning rate, no dropout.
"""

import keras

from recipes.common.config import COMMON_RULES, choice, config_error, integer, number
from recipes.common.digits import IMAGE_SIZE, NUM_CLASSES

MODELS = ("lstm", "bidirectional_lstm", "cnn")
READING_ORDERS = ("rows", "columns")
TEACHER_FORCED_INPUTS = ()

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 60,
    "batch_size": 32,
    "learning_rate": 0.003,
    # Model: "lstm" (reads rows in order), "bidirectional_lstm" or "cnn" (the baseline).
    "model": "lstm",
    "read_by": "rows",
    "units": 64,
    # CNN: channels of the first convolution (the second has twice as many).
    "channels": 16,
    # Data: shares of each digit's images held out for validation and for the test split.
    "validation_fraction": 0.15,
    "test_fraction": 0.25,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "model": choice(*MODELS),
    "read_by": choice(*READING_ORDERS),
    "units": integer(1, 4096),
    "channels": integer(1, 1024),
    "validation_fraction": number(0.05, 0.5),
    "test_fraction": number(0.05, 0.5),
}


def check_config(config):
    """Raise ConfigError unless at least half of the images are left for training."""
    held_out = config["validation_fraction"] + config["test_fraction"]
    if held_out > 0.5:
        limit = 0.5 - config["validation_fraction"]
        raise config_error(
            "test_fraction",
            config["test_fraction"],
            f"at most {limit:g} with validation_fraction={config['validation_fraction']:g} (half the images train)",
            max(0.05, round(limit, 2)),
        )


def build_model(config):
    """The digit reader chosen by config model: an LSTM over rows (or columns), a bidirectional LSTM, or a CNN.

    Args:
        config: dict with model, read_by, units, channels and learning_rate.

    Returns:
        A compiled keras.Model from (batch, 8, 8) images, axis 1 read as time, to (batch, 10)
        digit probabilities.
    """
    rows = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), name="pixel_rows")  # (batch, 8 rows, 8 pixels)
    if config["model"] == "cnn":
        image = keras.layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1), name="as_image")(rows)
        features = image
        for block, channels in enumerate((config["channels"], 2 * config["channels"]), start=1):
            features = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"conv_{block}")(features)
            features = keras.layers.MaxPooling2D(2, name=f"pool_{block}")(features)  # 8x8 -> 4x4 -> 2x2
        summary = keras.layers.Flatten(name="flatten")(features)  # (batch, 2 * 2 * 2 * channels)
    else:
        steps = rows
        if config["read_by"] == "columns":
            # Swap rows and columns: step t is column t, top pixel first.
            steps = keras.layers.Permute((2, 1), name="columns_as_steps")(rows)
        reader = keras.layers.LSTM(config["units"], name="reader")  # last state only (DL book fig. 10.5)
        if config["model"] == "bidirectional_lstm":
            reader = keras.layers.Bidirectional(reader, name="bidirectional_reader")
        summary = reader(steps)  # (batch, units), or (batch, 2 * units) read both ways
    probabilities = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="digit_probabilities")(summary)
    model = keras.Model(rows, probabilities, name=f"image_rows_{config['model']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
