"""Character and word error rates on unseen speakers (greedy and beam search), a posteriorgram,
the first convolution's learned filters, and transcripts of test utterances."""

from pathlib import Path

import numpy as np

from recipes.common import ctc, speech

NUM_TRANSCRIPTS = 12


def evaluate(model, data, config):
    """CER and WER on the test split (voices never heard in training), greedy and beam search.

    Returns:
        {"cer", "wer" (greedy), "cer_greedy", "wer_greedy", "cer_beam", "wer_beam"}.
    """
    return ctc.evaluate(model, data, config, split="test")


def test_decodes(model, data, config, count):
    """The first `count` test utterances: (reference, greedy, beam, voice, logits, output frames)."""
    features = data["test"][0][:count]
    logits = ctc.predict_logits(model, features)
    lengths = ctc.output_lengths(data["lengths"]["test"][:count], features.shape[1], logits.shape[1])
    greedy = ctc.decode(logits, lengths, 1)
    beam = ctc.decode(logits, lengths, config["beam_width"])
    references = data["texts"]["test"][:count]
    voices = data["voices"]["test"][:count]
    return references, greedy, beam, voices, logits, lengths


def write_transcripts(references, greedy, beam, voices, beam_width, path):
    """A text table: voice, reference, greedy and beam transcripts, each utterance's CER; * marks errors."""
    lines = [
        "# Test utterances (voices never heard in training): reference, greedy decoding, "
        f"beam search (width {beam_width}). * = differs from the reference.",
        "",
    ]
    for i, (reference, g, b, voice) in enumerate(zip(references, greedy, beam, voices)):
        cer_g, _ = ctc.error_rates([reference], [g])
        cer_b, _ = ctc.error_rates([reference], [b])
        lines += [
            f"[{i}] voice {voice}",
            f"    reference: {reference}",
            f"  {'*' if g != reference else ' '} greedy:    {g}   (CER {cer_g:.2f})",
            f"  {'*' if b != reference else ' '} beam:      {b}   (CER {cer_b:.2f})",
            "",
        ]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def conv_filters_figure(model, config, path, title):
    """The first conv layer's kernels as small images: time (frames) across, mel bands up.

    Each kernel is drawn on its own symmetric colour scale (red positive, blue negative),
    scaled by its batch norm's gain |gamma| / sqrt(var) so the strongest filters come first.
    """
    from tools import style

    kernel = np.asarray(model.get_layer("conv_1").get_weights()[0])[:, :, 0, :]  # (time, mel, channels)
    gamma, _, _, variance = (np.asarray(w) for w in model.get_layer("conv_1_batch_norm").get_weights())
    gain = np.abs(gamma) / np.sqrt(variance + 1e-3)
    strength = gain * np.sqrt((kernel**2).sum(axis=(0, 1)))
    order = np.argsort(-strength)
    channels = kernel.shape[-1]
    columns = 8
    rows = int(np.ceil(channels / columns))
    kt, km = kernel.shape[:2]
    fig, axes = style.subplots(rows, columns, figsize=(1.35 * columns, 1.35 * rows * km / kt + 1.0), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, order):
        image = kernel[:, :, c].T  # mel up, time across
        limit = np.abs(image).max() or 1.0
        ax.imshow(image, origin="lower", cmap=style.WEIGHT_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"#{c}", fontsize=8, pad=2)
    fig.suptitle(title, fontsize=11)
    fig.supxlabel(f"each filter: {kt} frames ({kt * config['hop_ms']} ms) across × {km} mel bands up; red > 0, blue < 0; strongest first", fontsize=9)
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """Posteriorgram of a test utterance, the conv filters, transcripts, and a WAV to try `recipe transcribe` on.

    Returns:
        [posteriorgram.png, conv_filters.png, transcripts.txt, test_utterance.wav].
    """
    out_dir = Path(out_dir)
    references, greedy, beam, voices, logits, lengths = test_decodes(model, data, config, NUM_TRANSCRIPTS)
    written = []
    # The first test utterance of four or more digits, a typical one.
    pick = next((i for i, r in enumerate(references) if len(r.split()) >= 4), 0)
    frames = int(data["lengths"]["test"][pick])
    cer, _ = ctc.error_rates([references[pick]], [greedy[pick]])
    written.append(ctc.posteriorgram_figure(
        data["test"][0][pick, :frames], logits[pick, : lengths[pick]], references[pick], greedy[pick], config,
        out_dir / "posteriorgram.png",
        f"deepspeech2_ctc on an unseen voice ({voices[pick]}), greedy decoding, CER {cer:.2f}",
    ))
    written.append(conv_filters_figure(
        model, config, out_dir / "conv_filters.png",
        "deepspeech2_ctc: the first convolution's learned filters over the log-mel spectrogram",
    ))
    written.append(write_transcripts(references, greedy, beam, voices, config["beam_width"], out_dir / "transcripts.txt"))
    wav = speech.write_wav(out_dir / "test_utterance.wav", data["waveforms"]["test"][pick], config["sample_rate"])
    written.append(str(wav))
    return [str(p) for p in written]
