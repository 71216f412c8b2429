"""Frame-labelling metrics on unseen speakers, and a figure of true and predicted labels over spectrograms.

`evaluate` adds, on the test split (voices never heard in training), what Keras'
per-frame `accuracy` does not say:

- speech_frame_accuracy / silence_frame_accuracy: frame accuracy over the frames whose
  true label is a digit / silence (about half the frames are silence, which is easy);
- word_accuracy: each true digit segment (a run of one digit label) counts as right when
  the majority of the model's labels over its frames is that digit;
- boundary_f1: label changes (word onsets and offsets, silence to digit and digit to digit)
  in the prediction matched one to one to the true ones within BOUNDARY_TOLERANCE frames.

`demo` draws test utterances: the log-mel spectrogram the model reads, then coloured bands
for the true labels, this run's labels and, when a finished run of the other variant sits
next to this run directory (runs/), that run's labels on the same frames.
"""

import json
from pathlib import Path

import numpy as np

from recipes.dilated_context.data import CLASSES
from recipes.dilated_context.model import receptive_field

BOUNDARY_TOLERANCE = 3  # frames (30 ms at a 10 ms hop)
DEMO_UTTERANCES = (0, 1)  # test utterances in the figure
# Frame features that must agree before another run's model may read this run's test frames.
_FEATURE_KEYS = ("sample_rate", "frame_ms", "hop_ms", "num_mels")


def predict_labels(model, features, batch_size=64):
    """Most probable class per frame: int (N, T)."""
    return np.argmax(model.predict(features, batch_size=batch_size, verbose=0), axis=-1)


def segments(labels):
    """Runs of equal labels: list of (start, end, label) with end exclusive."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    changes = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], changes])
    ends = np.concatenate([changes, [labels.size]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]


def boundaries(labels):
    """Frame indices t where labels[t] != labels[t - 1]."""
    labels = np.asarray(labels)
    return np.flatnonzero(labels[1:] != labels[:-1]) + 1


def match_count(predicted, true, tolerance):
    """How many predicted boundaries pair one to one with a true one at most `tolerance` frames away (greedy by distance)."""
    pairs = sorted((abs(int(p) - int(t)), i, j) for i, p in enumerate(predicted) for j, t in enumerate(true) if abs(int(p) - int(t)) <= tolerance)
    used_p, used_t, matched = set(), set(), 0
    for _, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            matched += 1
    return matched


def frame_metrics(predicted, true, tolerance=BOUNDARY_TOLERANCE):
    """The metrics of `evaluate` from int (N, T) predicted and true labels."""
    predicted, true = np.asarray(predicted), np.asarray(true)
    speech = true != 0
    words_right = words = 0
    matched = n_predicted = n_true = 0
    for p, t in zip(predicted, true):
        for start, end, label in segments(t):
            if label != 0:
                words += 1
                words_right += int(np.argmax(np.bincount(p[start:end], minlength=len(CLASSES))) == label)
        bp, bt = boundaries(p), boundaries(t)
        matched += match_count(bp, bt, tolerance)
        n_predicted += len(bp)
        n_true += len(bt)
    precision = matched / max(n_predicted, 1)
    recall = matched / max(n_true, 1)
    return {
        "speech_frame_accuracy": float(np.mean(predicted[speech] == true[speech])),
        "silence_frame_accuracy": float(np.mean(predicted[~speech] == true[~speech])),
        "word_accuracy": words_right / max(words, 1),
        "boundary_f1": 2 * precision * recall / max(precision + recall, 1e-12),
    }


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "speech_frame_accuracy",
    "silence_frame_accuracy",
    "word_accuracy",
    "boundary_f1",
)


def evaluate(model, data, config):
    """Speech/silence frame accuracy, word accuracy and boundary F1 on the test split (unseen voices)."""
    features, labels = data["test"]
    return frame_metrics(predict_labels(model, features), labels)


def variant_name(config):
    frames = receptive_field(config)
    what = "with context module" if config["context_module"] else "without (dilation 1)"
    init = "" if config.get("identity_init", True) else ", Glorot init"
    return f"{what}: {frames} frames{init}"


def other_variant_run(run_dir, config):
    """(model, config) of the newest finished dilated_context run beside `run_dir` with the other
    `context_module` setting and the same features, or None."""
    import keras

    candidates = []
    for path in Path(run_dir).resolve().parent.iterdir():
        try:
            record = json.loads((path / "run.json").read_text())
            other = json.loads((path / "config.json").read_text())
        except (OSError, ValueError):
            continue
        if (
            path != Path(run_dir).resolve()
            and record.get("recipe") == "dilated_context"
            and record.get("status") == "complete"
            and (path / "model.keras").is_file()
            and other.get("context_module") != config["context_module"]
            and all(other.get(k) == config[k] for k in _FEATURE_KEYS)
        ):
            candidates.append((record.get("started_at", ""), path.name, path, other))
    if not candidates:
        return None
    for *_, path, other in sorted(candidates, reverse=True):
        try:
            return keras.saving.load_model(path / "model.keras", safe_mode=True), other
        except Exception:  # a corrupt or foreign file in a neighbouring folder: not ours to fix, try the next
            continue
    return None


def plot_labels(features, bands, captions, path, title, hop_ms):
    """Spectrograms with coloured label bands below each.

    Args:
        features: list of (T, mels) log-mel arrays, one per utterance.
        bands: list (one per utterance) of [(name, int (T,) labels), ...], the true labels first.
        captions: one title per utterance.
        path: where to write the PNG.
        title: figure title.
        hop_ms: frame hop, for the time axis.

    Returns:
        The path as a str.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from recipes.common import style

    colours = ["#e8e8e8"] + [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
    ]
    cmap = ListedColormap(colours)
    n_bands = len(bands[0])
    ratios = []
    for _ in features:
        ratios += [3.2, 0.45 * n_bands, 0.7]
    fig, axes = style.subplots(
        len(ratios),
        1,
        figsize=(11, 2.0 * len(features) + 0.75 * n_bands * len(features)),
        gridspec_kw={"height_ratios": ratios, "hspace": 0.08},
    )
    for u, (feature, utterance_bands) in enumerate(zip(features, bands)):
        ax_spec, ax_band, ax_gap = axes[3 * u], axes[3 * u + 1], axes[3 * u + 2]
        ax_gap.axis("off")
        true = utterance_bands[0][1]
        speech = np.flatnonzero(true != 0)
        end = min(len(true), int(speech[-1]) + 25 if speech.size else len(true))
        seconds = end * hop_ms / 1000
        ax_spec.imshow(feature[:end].T, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, feature.shape[1]))
        ax_spec.set_ylabel("mel band")
        ax_spec.grid(False)
        ax_spec.set_xticklabels([])
        stacked = np.stack([labels[:end] for _, labels in utterance_bands])
        ax_band.imshow(
            stacked,
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(CLASSES) - 0.5,
            interpolation="nearest",
            extent=(0, seconds, n_bands, 0),
        )
        for row, (_, labels) in enumerate(utterance_bands):
            for start, stop, label in segments(labels[:end]):
                if label != 0 and stop - start >= 6:
                    ax_band.text(
                        (start + stop) / 2 * hop_ms / 1000,
                        row + 0.5,
                        CLASSES[label],
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white",
                        fontweight="bold",
                    )
        ax_band.set_yticks(np.arange(n_bands) + 0.5)
        ax_band.set_yticklabels([name for name, _ in utterance_bands], fontsize=9)
        ax_band.grid(False)
        for row in range(1, n_bands):
            ax_band.axhline(row, color="white", linewidth=1.5)
        if u == len(features) - 1:
            ax_band.set_xlabel("time (s)")
        ax_spec.set_title(captions[u], fontsize=10, loc="left")
    handles = [Patch(color=c, label=name) for c, name in zip(colours, CLASSES)]
    fig.suptitle(title, fontsize=12, y=0.995)
    fig.legend(handles=handles, loc="upper center", ncol=len(CLASSES), fontsize=8.5, bbox_to_anchor=(0.5, 0.965), handlelength=1.2)
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """frame_labels.png: test spectrograms with true and predicted frame labels, and those of a finished run of the
    other variant beside out_dir."""
    features, labels = data["test"]
    picks = [i for i in DEMO_UTTERANCES if i < len(labels)]
    runs = [(variant_name(config), predict_labels(model, features[picks]))]
    other = other_variant_run(out_dir, config)
    if other is not None:
        other_model, other_config = other
        runs.append((variant_name(other_config), predict_labels(other_model, features[picks])))
        runs.sort(key=lambda run: not run[0].startswith("with context"))
    bands, captions = [], []
    for n, i in enumerate(picks):
        captions.append(f'"{data["texts"]["test"][i]}"  ({data["voices"]["test"][i]}, a voice unseen in training)')
        bands.append([("true labels", labels[i])] + [(run_name, predicted[n]) for run_name, predicted in runs])
    path = Path(out_dir) / "frame_labels.png"
    title = "dilated_context: per-frame labels of noisy spoken digits (receptive field in 10 ms frames)"
    return [plot_labels(list(features[picks]), bands, captions, path, title, config["hop_ms"])]
