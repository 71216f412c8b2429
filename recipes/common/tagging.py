"""Scoring and drawing one label per step, shared by the tagging recipes.

`token_accuracy` scores per-step predictions on the real steps only (padding left out);
`plot_label_rows` draws sequences as columns of text, one row per labelling (the input,
the truth, one or more models), with every wrong label highlighted: the figure a
tagging recipe uses to show where a model goes wrong.
"""

import numpy as np


def token_accuracy(predicted, targets, mask=None):
    """The share of steps whose predicted label equals the target.

    Args:
        predicted: (batch, T) int predicted labels, or (batch, T, classes) scores (argmax taken).
        targets: (batch, T) int true labels.
        mask: (batch, T) bool, True on the steps to score (e.g. word_ids > 0); None scores all.

    Returns:
        float accuracy over the scored steps (nan when none is scored).
    """
    predicted = np.asarray(predicted)
    if predicted.ndim == np.ndim(targets) + 1:
        predicted = predicted.argmax(axis=-1)
    correct = predicted == np.asarray(targets)
    if mask is not None:
        correct = correct[np.asarray(mask, dtype=bool)]
    return float(correct.mean()) if correct.size else float("nan")


def plot_label_rows(sequences, path, title, note=None):
    """Sequences drawn as aligned text columns, one row per labelling, wrong labels highlighted.

    Args:
        sequences: list of dicts, one panel each, with
            "title": the panel's title;
            "tokens": the input tokens (list of str), written in the first row;
            "rows": list of (row name, list of str labels); the first row is the truth;
                a label in a later row that differs from the truth is drawn on orange.
        path: PNG file to write.
        title: figure title.
        note: optional line under the last panel (e.g. what the colours mean).

    Returns:
        The path written, as a str.
    """
    from matplotlib.patches import Rectangle

    from recipes.common import style

    row_counts = [1 + len(s["rows"]) for s in sequences]
    # Column width in characters: the longest text in that column, plus a gap.
    widths = [
        [max(len(str(t)) for t in [token, *(labels[i] for _, labels in s["rows"])]) + 2 for i, token in enumerate(s["tokens"])] for s in sequences
    ]
    name_width = max(len(name) for s in sequences for name, _ in s["rows"]) + 2
    total = max(name_width + sum(w) for w in widths)
    fig, axes = style.subplots(
        len(sequences),
        1,
        figsize=(max(6.0, 0.085 * total + 0.6), sum(0.32 * r + 0.45 for r in row_counts)),
        squeeze=False,
        gridspec_kw={"height_ratios": row_counts},
    )
    for ax, sequence, column_widths in zip(axes[:, 0], sequences, widths):
        rows = [("input", list(sequence["tokens"])), *sequence["rows"]]
        truth = sequence["rows"][0][1]
        ax.set_xlim(0, total)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # row 0 on top
        ax.axis("off")
        for r, (name, labels) in enumerate(rows):
            ax.text(
                0,
                r,
                name,
                ha="left",
                va="center",
                family="monospace",
                fontsize=8.5,
                color=style.SERIES[7] if r else "#555555",
                fontweight="bold" if r else "normal",
            )
            x = name_width
            for i, label in enumerate(labels):
                wrong = r >= 2 and label != truth[i]
                if wrong:
                    ax.add_patch(Rectangle((x + 0.2, r - 0.42), column_widths[i] - 1.4, 0.84, color=style.SERIES[1], alpha=0.25, linewidth=0))
                ax.text(
                    x + (column_widths[i] - 1) / 2,
                    r,
                    str(label),
                    ha="center",
                    va="center",
                    family="monospace",
                    fontsize=8.5,
                    color=style.SERIES[1] if wrong else ("#333333" if r == 0 else style.SERIES[0] if r == 1 else "black"),
                )
                x += column_widths[i]
        ax.set_title(sequence["title"], loc="left", fontsize=9)
    if note:
        axes[-1, 0].text(0, len(rows) - 0.1, note, ha="left", va="top", fontsize=8, color="#555555")
    fig.suptitle(title, x=0.02, ha="left")
    return style.save(fig, path)
