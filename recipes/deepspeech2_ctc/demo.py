"""Character and word error rates on unseen speakers (greedy and beam search), a posteriorgram,
the first convolution's learned filters, and transcripts of test utterances."""

from pathlib import Path

import numpy as np

from recipes.common import ctc

METRICS = ctc.METRICS


def evaluate(model, data, config):
    """cer, wer (greedy), cer_greedy, wer_greedy, cer_beam, wer_beam on the test split (voices never heard in training)."""
    return ctc.evaluate(model, data, config, split="test")


transcribe = ctc.transcribe  # `recipe transcribe`'s hook: [(path, text)] for WAV files


def first_layer_filters(model):
    """The first convolution's kernels as (filters, time, mel) and the strength of each.

    Strength is the kernel's norm times its batch norm's gain |gamma| / sqrt(var): what
    reaches the clipped ReLU, so the filters the network relies on come first.
    """
    kernel = np.asarray(model.get_layer("conv_1").get_weights()[0])[:, :, 0, :]  # (time, mel, channels)
    gamma, _, _, variance = (np.asarray(w) for w in model.get_layer("conv_1_batch_norm").get_weights())
    strength = np.abs(gamma) / np.sqrt(variance + 1e-3) * np.sqrt((kernel**2).sum(axis=(0, 1)))
    return np.transpose(kernel, (2, 0, 1)), strength


def demo(model, data, config, out_dir):
    """posteriorgram.png, transcripts.txt, test_utterance.wav (to try `recipe transcribe` on) and conv_filters.png."""
    written = ctc.demo(model, data, config, out_dir, "deepspeech2_ctc on an unseen voice ({voice}), greedy decoding, CER {cer:.2f}")
    kernels, strength = first_layer_filters(model)
    written.append(
        ctc.filters_figure(
            kernels,
            config,
            Path(out_dir) / "conv_filters.png",
            f"deepspeech2_ctc: the {len(kernels)} filters of the first 2-D convolution over (time, mel)",
            strength=strength,
        )
    )
    return written
