"""Token accuracy against two lookup baselines, and figures of where context changes a tag.

Baselines, both computed from the training lines alone:
- majority tag per word: each word gets the tag it had most often in training (a word
  never seen in training gets the most frequent tag overall). This is what a tagger
  without context can do at best on known words, and about what `model="per_word"` learns.
- global majority tag: every word gets the most frequent tag (NN).
Accuracy is also split by kind of word: "ambiguous" words had more than one tag in
training (context must decide), "unknown" words never appeared in training.
"""

from pathlib import Path

import numpy as np

from recipes.common.tagging import plot_label_rows, token_accuracy
from recipes.sequence_labeling.data import PAD_ID, TAG_INDEX, TAGS


def most_frequent(counts):
    """The most frequent key of a Counter, ties broken alphabetically (not by the seed's line order)."""
    return min(counts, key=lambda key: (-counts[key], key))


def baseline_tags(tagged_lines, word_tag_counts, majority_tag):
    """Majority-tag-per-word predictions, padded like encode_lines' targets.

    Args:
        tagged_lines: sequences of (word, tag).
        word_tag_counts: word -> Counter of training tags.
        majority_tag: the tag for words never seen in training.

    Returns:
        int32 (num_lines, longest line) tag ids (0 after each line's end).
    """
    length = max(len(line) for line in tagged_lines)
    predicted = np.zeros((len(tagged_lines), length), dtype=np.int32)
    for n, line in enumerate(tagged_lines):
        for t, (word, _) in enumerate(line):
            counts = word_tag_counts.get(word)
            predicted[n, t] = TAG_INDEX[most_frequent(counts) if counts else majority_tag]
    return predicted


def word_kinds(tagged_lines, word_tag_counts):
    """(ambiguous, unknown) bool masks, padded like encode_lines' targets.

    Args:
        tagged_lines: sequences of (word, tag).
        word_tag_counts: word -> Counter of training tags.

    Returns:
        Two bool arrays (num_lines, longest line): words with more than one training tag,
        and words absent from the training lines.
    """
    length = max(len(line) for line in tagged_lines)
    ambiguous = np.zeros((len(tagged_lines), length), dtype=bool)
    unknown = np.zeros_like(ambiguous)
    for n, line in enumerate(tagged_lines):
        for t, (word, _) in enumerate(line):
            counts = word_tag_counts.get(word)
            unknown[n, t] = counts is None
            ambiguous[n, t] = counts is not None and len(counts) > 1
    return ambiguous, unknown


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "token_accuracy",
    "ambiguous_accuracy",
    "unknown_accuracy",
    "baseline_accuracy",
    "baseline_ambiguous_accuracy",
    "baseline_unknown_accuracy",
    "majority_tag_accuracy",
    "ambiguous_share",
    "unknown_share",
)


def evaluate(model, data, config):
    """Test token_, ambiguous_ and unknown_accuracy (padding left out), the same of the majority tag per word
    (baseline_*), majority_tag_accuracy, and the test tokens' ambiguous_share and unknown_share."""
    x, _ = data["test"]
    return scores(model.predict(x, batch_size=config["batch_size"], verbose=0).argmax(axis=-1), data)


def scores(predicted, data):
    """evaluate's dict for (num_lines, T) predicted tag ids on the test lines."""
    x, y = data["test"]
    lines = data["test_lines"]
    real = x != PAD_ID
    baseline = baseline_tags(lines, data["word_tag_counts"], data["majority_tag"])
    ambiguous, unknown = word_kinds(lines, data["word_tag_counts"])
    return {
        "token_accuracy": token_accuracy(predicted, y, real),
        "ambiguous_accuracy": token_accuracy(predicted, y, ambiguous),
        "unknown_accuracy": token_accuracy(predicted, y, unknown),
        "baseline_accuracy": token_accuracy(baseline, y, real),
        "baseline_ambiguous_accuracy": token_accuracy(baseline, y, ambiguous),
        "baseline_unknown_accuracy": token_accuracy(baseline, y, unknown),
        "majority_tag_accuracy": token_accuracy(np.full_like(y, TAG_INDEX[data["majority_tag"]]), y, real),
        "ambiguous_share": float(ambiguous.sum() / real.sum()),
        "unknown_share": float(unknown.sum() / real.sum()),
    }


def plot_accuracy_by_kind(metrics, path, title):
    """Grouped bars: accuracy on all, ambiguous and unknown test words, for the baselines and the model.

    Args:
        metrics: evaluate's dict.
        path: PNG file to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    groups = [
        ("all words", "token_accuracy", "baseline_accuracy", "majority_tag_accuracy", 1.0),
        ("ambiguous words", "ambiguous_accuracy", "baseline_ambiguous_accuracy", None, metrics["ambiguous_share"]),
        ("unknown words", "unknown_accuracy", "baseline_unknown_accuracy", None, metrics["unknown_share"]),
    ]
    fig, ax = style.subplots(figsize=(7, 3.8))
    width = 0.26
    series = [("global majority tag (NN)", 3, style.SERIES[7]), ("majority tag per word", 2, style.SERIES[4]), ("this model", 1, style.SERIES[0])]
    for g, group in enumerate(groups):
        for s, (label, index, color) in enumerate(series):
            key = group[index]
            if key is None:
                continue
            value = metrics[key]
            bar = ax.bar(g + (s - 1) * width, value, width * 0.92, color=color, label=label if g == 0 else None)
            ax.bar_label(bar, [f"{value:.3f}"], fontsize=7.5, padding=2)
    ax.set_xticks(range(len(groups)), [f"{name}\n({share:.1%} of tokens)" for name, *_, share in groups])
    ax.set_ylabel("token accuracy (test lines)")
    ax.set_ylim(0, 1.12)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 1.0))
    return style.save(fig, path)


def disagreement_lines(predicted, baseline, data, num_lines, max_tokens):
    """Indices of the first test lines (at most `max_tokens` long) where the model and the baseline disagree."""
    lines = data["test_lines"]
    chosen = []
    for n, line in enumerate(lines):
        if len(line) <= max_tokens and np.any(predicted[n, : len(line)] != baseline[n, : len(line)]):
            chosen.append(n)
        if len(chosen) == num_lines:
            break
    return chosen


def demo(model, data, config, out_dir, num_lines=5, max_tokens=11):
    """accuracy_by_kind.png, and tagged_lines.png: up to `num_lines` test lines of at most `max_tokens` where context
    made the model differ from the lookup."""
    out_dir = Path(out_dir)
    name = "recurrent tagger" if config["model"] == "rnn" else "per-word tagger"
    label = f"{name} ({config['cell']})" if config["model"] == "rnn" else name
    x, _ = data["test"]
    predicted = model.predict(x, batch_size=config["batch_size"], verbose=0).argmax(axis=-1)
    paths = [
        plot_accuracy_by_kind(
            scores(predicted, data),
            out_dir / "accuracy_by_kind.png",
            f"{label} vs lookup baselines: POS tags on held-out Shakespeare lines (silver labels)",
        )
    ]
    baseline = baseline_tags(data["test_lines"], data["word_tag_counts"], data["majority_tag"])
    sequences = []
    for n in disagreement_lines(predicted, baseline, data, num_lines, max_tokens):
        line = data["test_lines"][n]
        length = len(line)
        silver = [tag for _, tag in line]
        model_tags = [TAGS[i] for i in predicted[n, :length]]
        lookup_tags = [TAGS[i] for i in baseline[n, :length]]
        right = sum(a == b for a, b in zip(model_tags, silver))
        sequences.append(
            {
                "title": f"test line {n}: {label} {right}/{length} right, lookup {sum(a == b for a, b in zip(lookup_tags, silver))}/{length}",
                "tokens": [word for word, _ in line],
                "rows": [("silver", silver), ("per-word lookup", lookup_tags), ("model", model_tags)],
            }
        )
    if sequences:
        paths.append(
            plot_label_rows(
                sequences,
                out_dir / "tagged_lines.png",
                f"Test lines where the {label} and the majority-tag-per-word lookup disagree",
                note=f"silver: the training labels (Brill tagger, silver_tagger={config['silver_tagger']}); orange: differs from silver",
            )
        )
    return paths
