"""CER/WER on unseen speakers; the posteriorgram of a test utterance, the first layer's filters, transcripts."""

from pathlib import Path

import numpy as np

from recipes.common import ctc
from recipes.wav2letter.model import receptive_field

METRICS = ctc.METRICS


def evaluate(model, data, config):
    """cer, wer (greedy), cer_greedy, wer_greedy, cer_beam, wer_beam on the test split (unseen speakers)."""
    return ctc.evaluate(model, data, config)


transcribe = ctc.transcribe  # `recipe transcribe`'s hook: [(path, text)] for WAV files


def first_layer_filters(model, config):
    """The strided first convolution's filters as (filters, kernel time, mel band) arrays.

    With GLU the layer has twice the channels: the first half are the values that pass, the
    second half the gates; only the first half is returned.
    """
    kernel = np.asarray(model.get_layer("strided_conv").kernel)  # (time, mels, out channels)
    if config["activation"] == "glu":
        kernel = kernel[:, :, : kernel.shape[-1] // 2]
    return np.transpose(kernel, (2, 0, 1))


def demo(model, data, config, out_dir):
    """posteriorgram.png, transcripts.txt, test_utterance.wav and first_layer_filters.png."""
    step_ms = config["first_stride"] * config["hop_ms"]
    seconds = receptive_field(config) * config["hop_ms"] / 1000
    written = ctc.demo(
        model,
        data,
        config,
        out_dir,
        f"wav2letter on an unseen voice ({{voice}}): one output every {step_ms} ms, each seeing {seconds:.2f} s of input; CER {{cer:.2f}}",
    )
    written.append(
        ctc.filters_figure(
            first_layer_filters(model, config),
            config,
            Path(out_dir) / "first_layer_filters.png",
            "wav2letter: the 24 largest filters of the strided first convolution, each over (time, mel)",
        )
    )
    return written
