"""CER/WER on unseen speakers; the posteriorgram of a test utterance, the first layer's filters, transcripts."""

from pathlib import Path

import numpy as np

from recipes.common import ctc
from recipes.wav2letter.model import receptive_field


def evaluate(model, data, config):
    """Character and word error rates on the test split (unseen speakers), greedy and beam search.

    Returns:
        {"cer", "wer" (greedy), "cer_greedy", "wer_greedy", "cer_beam", "wer_beam"}.
    """
    return ctc.evaluate(model, data, config)


def first_layer_filters(model, config):
    """The strided first convolution's filters as (filters, kernel time, mel band) arrays.

    With GLU the layer has twice the channels: the first half are the values that pass, the
    second half the gates; only the first half is returned.
    """
    kernel = np.asarray(model.get_layer("strided_conv").kernel)  # (time, mels, out channels)
    if config["activation"] == "glu":
        kernel = kernel[:, :, : kernel.shape[-1] // 2]
    return np.transpose(kernel, (2, 0, 1))


def plot_filters(filters, config, path, title, count=24, columns=8):
    """The `count` first-layer filters of largest norm as small (time, mel) images, sorted by
    the mel band where their weight is largest. Red: the filter responds to energy there;
    blue: to its absence (the features are normalized log-mel)."""
    from tools import style

    norms = np.sqrt((filters**2).sum(axis=(1, 2)))
    chosen = np.argsort(-norms)[:count]
    peak_band = [np.abs(filters[i]).sum(0).argmax() for i in chosen]
    chosen = chosen[np.argsort(peak_band, kind="stable")]
    rows = int(np.ceil(len(chosen) / columns))
    width_ms = filters.shape[1] * config["hop_ms"]
    fig, axes = style.subplots(rows, columns, figsize=(1.3 * columns, 1.75 * rows + 0.9), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, chosen):
        w = filters[i]
        limit = np.abs(w).max() or 1.0
        ax.imshow(w.T, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                  extent=(0, width_ms, 0, filters.shape[2]), interpolation="nearest")
        ax.set_title(f"filter {i}", fontsize=8, pad=2)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel(f"each image: time left to right ({width_ms} ms) — red excites, blue inhibits", fontsize=9)
    fig.supylabel(f"mel band (low at the bottom, {filters.shape[2]} bands)", fontsize=9)
    return style.save(fig, path)


def write_transcripts(data, greedy, beam, path, count=60):
    """The first test utterances: voice, reference, greedy and beam transcripts; '*' marks an error."""
    lines = ["# test utterances (unseen speakers); * = the beam-search transcript is wrong", "# voice | reference | greedy | beam"]
    for voice, reference, g, b in list(zip(data["voices"]["test"], data["texts"]["test"], greedy, beam))[:count]:
        mark = "*" if b != reference else " "
        lines.append(f"{mark} {voice:24s} | {reference} | {g} | {b}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def demo(model, data, config, out_dir):
    """Posteriorgram of one test utterance, the first layer's filters, and test transcripts.

    Returns:
        [posteriorgram.png, first_layer_filters.png, transcripts.txt] paths.
    """
    out_dir = Path(out_dir)
    features, _ = data["test"]
    logits = ctc.predict_logits(model, features)
    lengths = ctc.output_lengths(data["lengths"]["test"], features.shape[1], logits.shape[1])
    greedy = ctc.decode(logits, lengths, 1)
    beam = ctc.decode(logits, lengths, config["beam_width"])

    # The first test utterance of four or more digits (a long, typical one).
    references = data["texts"]["test"]
    index = next((i for i, text in enumerate(references) if len(text.split()) >= 4), 0)
    n_in, n_out = data["lengths"]["test"][index], lengths[index]
    posteriorgram = ctc.posteriorgram_figure(
        features[index, :n_in], logits[index, :n_out], references[index], greedy[index], config,
        out_dir / "posteriorgram.png",
        f"wav2letter on an unseen speaker ({data['voices']['test'][index]}): "
        f"one output every {config['first_stride'] * config['hop_ms']} ms, "
        f"each seeing {receptive_field(config) * config['hop_ms'] / 1000:.2f} s of input",
    )
    filters = plot_filters(
        first_layer_filters(model, config), config, out_dir / "first_layer_filters.png",
        "wav2letter: the 24 largest filters of the strided first convolution, each over (time, mel)",
    )
    transcripts = write_transcripts(data, greedy, beam, out_dir / "transcripts.txt")
    return [posteriorgram, filters, transcripts]
