"""Free-running greedy decoding, name and character accuracy, a plain classifier for reference,
and a figure of test digits with the names the model writes."""

from pathlib import Path

import numpy as np

from recipes.common import decoding
from recipes.vector_to_sequence.data import DIGIT_NAMES, END, IMAGE_SIZE, MAX_STEPS, PAD, START, tokens_to_name


def buffer_step(model):
    """A step function for recipes.common.decoding over the whole-sequence (teacher-forcing) model.

    The trained model reads a whole (batch, MAX_STEPS) buffer of previous letters and is
    causal, so no separate one-step model is needed: step t writes the previous token
    into the buffer at position t, runs the model on the buffer (the positions after t
    are padding, which the mask skips) and returns its output at position t. The states
    are the buffer and the position; the image is the fixed context.

    Args:
        model: the trained model.

    Returns:
        step(tokens, states, context) -> (probabilities (batch, vocabulary), new_states).
    """

    def step(tokens, states, context):
        buffer, position = states
        t = int(position[0])
        buffer = buffer.copy()
        buffer[:, t] = tokens  # output-to-input feedback: the token chosen at step t - 1
        probabilities = np.array(model.predict_on_batch({"image": context[0], "previous_letters": buffer})[:, t])
        probabilities[:, :END] = 0.0  # padding and <start> are never outputs
        return probabilities, [buffer, position + 1]

    return step


def greedy_decode(model, images):
    """Spell the name of each image, feeding the model's own argmax letter back at every step.

    Args:
        model: the trained model.
        images: float32 (N, 64) pixels.

    Returns:
        int32 (N, MAX_STEPS) generated tokens laid out like the targets: the letters, then
        <end> where the model wrote it, then padding (six letters and no <end> when it never did).
    """
    num_images = len(images)
    states = [np.full((num_images, MAX_STEPS), PAD, dtype=np.int32), np.zeros(num_images, dtype=np.int32)]
    letters = decoding.greedy_decode(buffer_step(model), states, START, END, MAX_STEPS, context=[images], pad_id=PAD)
    # common.decoding leaves <end> out; put it back after the letters of every ended sequence.
    lengths = np.sum(letters != PAD, axis=1)
    ended = lengths < MAX_STEPS
    generated = letters.copy()
    generated[np.flatnonzero(ended), lengths[ended]] = END
    return generated


def spelling_metrics(generated, targets):
    """Name and character accuracy of generated tokens against the teacher-forcing targets.

    Args:
        generated: int (N, MAX_STEPS) tokens from greedy_decode.
        targets: int (N, MAX_STEPS) target tokens (letters, <end>, padding).

    Returns:
        {"name_accuracy": share of names spelled exactly, <end> included;
        "character_accuracy": share of target positions (letters and <end>) where the
        generated token is right, in free-running mode, so an early slip is not undone}.
    """
    real = targets != PAD
    right = generated == targets
    # A name is right when every real position matches (a missing <end> fails it).
    return {
        "name_accuracy": float(np.mean(np.all(right | ~real, axis=1))),
        "character_accuracy": float(np.sum(right & real) / np.sum(real)),
    }


def classifier_accuracy(data, config):
    """Test accuracy of a plain digit classifier on the same split, for reference.

    The classifier has the decoder's image encoder shape (one tanh layer of
    context_units) and a softmax over the ten digits: scikit-learn's MLPClassifier,
    200 epochs of Adam on the original training images (the augmented copies would
    triple its training time for no gain at this size).

    Returns:
        The float share of test digits it classifies right.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    originals = data["num_train_originals"]
    x_train = data["train"][0]["image"][:originals]
    classifier = MLPClassifier((config["context_units"],), activation="tanh", max_iter=200, random_state=config["seed"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 200 epochs are enough here
        classifier.fit(x_train, data["train_digits"][:originals])
    return float(classifier.score(data["test"][0]["image"], data["test_digits"]))


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "name_accuracy",
    "character_accuracy",
    "classifier_accuracy",
)


def evaluate(model, data, config):
    """name_accuracy and character_accuracy of free-running greedy spelling of the test images, and classifier_accuracy:
    a plain classifier's, the name accuracy of a perfect speller that reads the images as well as it does."""
    x, y = data["test"]
    metrics = spelling_metrics(greedy_decode(model, x["image"]), y)
    metrics["classifier_accuracy"] = classifier_accuracy(data, config)
    return metrics


def plot_names(images, names, true_names, path, title, columns=10):
    """A grid of digit images, each titled with the generated name: orange, with the true name, when wrong.

    Args:
        images: (N, 8, 8) pixels in 0..1.
        names: N generated names.
        true_names: N true names.
        path: PNG file to write.
        title: figure title.
        columns: images per row.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    rows = -(-len(images) // columns)
    fig, axes = style.subplots(rows, columns, figsize=(1.05 * columns, 1.3 * rows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, name, true_name in zip(axes.flat, images, names, true_names):
        ax.imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
        right = name == true_name
        shown = name if name else "(nothing)"
        color = "black" if right else style.SERIES[1]  # the palette's "wrong" colour (as in memory_task)
        ax.set_title(shown if right else f"{shown}\n(is {true_name})", color=color, fontsize=9, pad=3)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, hspace=0.45)
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return style.save(fig, path)


def demo(model, data, config, out_dir, num_images=40):
    """names.png (the first `num_images` test digits with the names spelled) and mistakes.txt (every test mistake)."""
    x, y = data["test"]
    names = [tokens_to_name(tokens) for tokens in greedy_decode(model, x["image"])]
    true_names = [DIGIT_NAMES[d] for d in data["test_digits"]]
    wrong = [i for i, (a, b) in enumerate(zip(names, true_names)) if a != b]
    shown = slice(0, num_images)
    title = (
        f"vector_to_sequence ({config['conditioning'].replace('_', ' ')}): names spelled letter by letter from "
        f"{IMAGE_SIZE}x{IMAGE_SIZE} test digits\n{len(names) - len(wrong)} of {len(names)} test names right; "
        f"first {num_images} shown, mistakes in orange"
    )
    figure = plot_names(data["test_images"][shown], names[shown], true_names[shown], Path(out_dir) / "names.png", title)
    lines = ["# test index  true name  generated"] + [f"{i:4d}  {true_names[i]:6s}  {names[i] or '(nothing)'}" for i in wrong]
    listing = Path(out_dir) / "mistakes.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [figure, str(listing)]
