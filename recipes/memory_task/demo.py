"""Recall accuracy, and a figure of what the trained network writes along a few test sequences."""

import numpy as np

from recipes.memory_task.data import BLANK, DELIMITER, NUM_DIGITS

# Chance level of one recalled digit: a uniform guess among the 9 digits.
CHANCE_RECALL = 1.0 / NUM_DIGITS


def recall_accuracy(probabilities, targets, num_digits):
    """Accuracy over the last `num_digits` steps only, where the digits are recalled.

    Args:
        probabilities: (batch, T, classes) predicted probabilities (or scores).
        targets: (batch, T) int target ids.
        num_digits: K.

    Returns:
        The float fraction of recalled digits predicted right (chance is 1/9).
    """
    # (batch, K): the argmax on the recall steps; the blank steps before them are left out.
    predicted = np.argmax(probabilities[:, -num_digits:], axis=-1)
    return float(np.mean(predicted == targets[:, -num_digits:]))


def evaluate(model, data, config):
    """Recall accuracy on the test split (Keras' own accuracy mostly counts blanks).

    Args:
        model: the trained model.
        data: load_data's dict.
        config: the run's config (num_digits, batch_size).

    Returns:
        {"recall_accuracy": float}.
    """
    x, y = data["test"]
    probabilities = model.predict(x, batch_size=config["batch_size"], verbose=0)
    return {"recall_accuracy": recall_accuracy(probabilities, y, config["num_digits"])}
