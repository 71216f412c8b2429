"""Accuracy per construction, and a figure of the prediction as the model reads a review word by word."""

from pathlib import Path

import numpy as np

from recipes.sequence_classifier.data import CONSTRUCTIONS, PAD, encode

# Reviews the figure reads, written in the data's vocabulary: the brief's examples of
# negation and contrast, with their template labels (1 = positive).
EXAMPLE_REVIEWS = (
    ("the acting was not bad at all .", 1),
    ("not exactly great .", 0),
    ("good but overlong .", 0),
    ("i expected to hate it but loved it .", 1),
    ("i had not read the book . the story is really charming , but the ending was by no means good .", 0),
)


def accuracy_by_construction(probabilities, labels, constructions):
    """Accuracy overall and per construction.

    Args:
        probabilities: (N,) or (N, 1) predicted probabilities of "positive".
        labels: (N,) 0/1 labels.
        constructions: N construction names (data.CONSTRUCTIONS).

    Returns:
        {"accuracy": float, "plain_accuracy": float, "negation_accuracy": float,
        "contrast_accuracy": float}.
    """
    correct = (np.reshape(probabilities, -1) >= 0.5) == (np.asarray(labels) >= 0.5)
    constructions = np.asarray(constructions)
    metrics = {"accuracy": float(np.mean(correct))}
    for name in CONSTRUCTIONS:
        metrics[f"{name}_accuracy"] = float(np.mean(correct[constructions == name]))
    return metrics


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "accuracy",
    "*_accuracy",
)


def evaluate(model, data, config):
    """Test accuracy overall and on plain, negated and contrastive reviews (see accuracy_by_construction)."""
    x, y = data["test"]
    probabilities = model.predict(x, batch_size=256, verbose=0)
    return accuracy_by_construction(probabilities, y, data["test_constructions"])


def prefix_probabilities(model, tokens, word_index, width):
    """P(positive) after each prefix of one review: what the model would say if the review stopped there.

    Args:
        model: a trained model.
        tokens: the review's tokens.
        word_index: {token: id}.
        width: padded length and batch size (>= len(tokens)); one width for every review
            keeps the model from being retraced for each new shape.

    Returns:
        (len(tokens),) float array; entry t is the output after reading tokens[: t + 1].
    """
    ids = encode([tokens], width, word_index)[0]
    # Row t holds the first t + 1 tokens, then padding, which the mask hides: (width, width).
    prefixes = np.where(np.tril(np.ones((width, width), dtype=bool)), ids[None, :], PAD).astype(np.int32)
    return np.reshape(model.predict_on_batch(prefixes), -1)[: len(tokens)]


def plot_reading(model, word_index, reviews, path, title):
    """One strip per review: its words, coloured by P(positive) after reading up to each word.

    The colour under a word is the readout applied to the state after that word, i.e. the
    output if the review stopped there. The readout is trained only on the state after
    the last token, so mid-review values show what the state holds, not trained predictions.

    Args:
        model: a trained model.
        word_index: {token: id}.
        reviews: (text, label) pairs.
        path: PNG file to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    longest = max(len(text.split()) for text, _ in reviews)
    fig, axes = style.subplots(
        len(reviews),
        1,
        figsize=(max(7.0, 0.5 * longest + 1.5), 1.25 * len(reviews) + 0.9),
        squeeze=False,
        gridspec_kw={"hspace": 2.2},
    )
    for ax, (text, label) in zip(axes[:, 0], reviews):
        tokens = text.split()
        probabilities = prefix_probabilities(model, tokens, word_index, longest)
        image = ax.imshow(probabilities[None, :], cmap="RdBu", vmin=0.0, vmax=1.0, aspect="auto", extent=(-0.5, len(tokens) - 0.5, 0, 1))
        ax.set_xlim(-0.5, longest - 0.5)
        ax.grid(False)
        ax.set_yticks([])
        ax.set_xticks(range(len(tokens)), tokens, rotation=35, ha="right", rotation_mode="anchor", fontsize=9)
        ax.tick_params(axis="x", length=0, pad=2)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        final = probabilities[-1]
        verdict = "right" if (final >= 0.5) == bool(label) else "WRONG"
        truth = "positive" if label else "negative"
        ax.set_title(f"label: {truth}; output after the last word: P(positive) = {final:.2f} ({verdict})", loc="left", fontsize=9)
    colorbar = fig.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.02, pad=0.01)
    colorbar.set_label("P(positive) if the review\nended at this word")
    fig.suptitle(title, x=0.02, ha="left")
    return style.save(fig, path)


def write_predictions(model, data, path, num_reviews=40):
    """Write the first test reviews with label, construction and prediction, mistakes marked.

    Returns:
        The path written, as a str.
    """
    x, y = data["test"]
    probabilities = np.reshape(model.predict(x[:num_reviews], verbose=0), -1)
    lines = ["# P(positive)  true      construction  review   (* = wrong)"]
    for tokens, label, construction, p in zip(data["test_reviews"], y, data["test_constructions"], probabilities):
        mark = "*" if (p >= 0.5) != (label >= 0.5) else " "
        lines.append(f"{mark} {p:.2f}  {'positive' if label else 'negative':8s}  {construction:12s}  {' '.join(tokens)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def demo(model, data, config, out_dir):
    """reading.png (the prediction along a few example reviews) and predictions.txt."""
    name = "RNN" if config["model"] == "rnn" else "bag of words"
    title = (
        f"sequence_classifier ({name}): the output as the model reads each review, word by word\n"
        "(trained only on its output after the last word; each colour is the output had the review ended there)"
    )
    figure = plot_reading(model, data["word_index"], EXAMPLE_REVIEWS, Path(out_dir) / "reading.png", title)
    return [figure, write_predictions(model, data, Path(out_dir) / "predictions.txt")]
