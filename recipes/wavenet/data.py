"""Spoken digits at 8 kHz, μ-law quantized and cut into windows of receptive field + targets.

Speech: strings of 1 to 3 digit words ("four", "seven two") synthesized by espeak-ng through
recipes/common/speech.py, each utterance with a random voice, speaking rate, pitch and gain.
Train and validation use the training voices; test uses voices never heard in training
("unseen speakers", speech.TEST_VARIANTS). By default the model reads the clean speech;
`noisy=True` uses the versions with white noise at 10-30 dB SNR, whose hiss no model can
predict (it raises every model's bits per sample alike).

μ-law companding (ITU-T G.711 style, as in the WaveNet paper) maps a sample x in [-1, 1] to

    F(x) = sign(x) ln(1 + μ |x|) / ln(1 + μ),    μ = Q - 1,

then to one of Q integer codes: round((F(x) + 1) / 2 * μ). Quiet samples get fine steps and
loud ones coarse steps, which matches how we hear and spreads the codes of speech more
evenly than linear quantization.

Windows: each utterance gives `windows_per_utterance` windows of receptive_field - 1 +
target_length input codes, at random positions inside the utterance's speech (between its
first and last sample louder than 2 % of full scale, so leading silence, which is all one
code, does not make the task easy). The targets are the target_length codes after the
window's first receptive_field - 1 samples: target j is the sample after input
j + receptive_field - 1, the next sample for the j-th output of the model.
"""

import numpy as np

from recipes.common import speech
from recipes.common.splits import SPLIT_STREAMS
from recipes.wavenet.model import receptive_field

SPEECH_THRESHOLD = 0.02  # |sample| above which a sample counts as speech (full scale is 1)


def mu_law_encode(waveform, channels=256):
    """Float samples in [-1, 1] -> int32 μ-law codes 0..channels-1 (μ = channels - 1).

    Args:
        waveform: float array, any shape; values outside [-1, 1] are clipped.
        channels: Q, the number of codes.

    Returns:
        int32 array of the same shape; 0.0 maps to the middle code (channels - 1) / 2 rounded.
    """
    mu = channels - 1
    x = np.clip(np.asarray(waveform, dtype=np.float64), -1.0, 1.0)
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)  # in [-1, 1]
    return np.round((companded + 1) / 2 * mu).astype(np.int32)


def mu_law_decode(codes, channels=256):
    """int μ-law codes 0..channels-1 -> float32 samples in [-1, 1] (the inverse of the companding).

    Args:
        codes: int array, any shape.
        channels: Q, the number of codes.

    Returns:
        float32 array of the same shape.
    """
    mu = channels - 1
    companded = 2 * np.asarray(codes, dtype=np.float64) / mu - 1
    return (np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(mu)) / mu).astype(np.float32)


def texts(config):
    """The digit-string transcripts of every split, seeded by config["seed"]."""
    out = {}
    for split in ("train", "validation", "test"):
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[split], 3])
        out[split] = speech.digit_strings(rng, config[f"num_{split}"], config["min_digits"], config["max_digits"])
    return out


def speech_span(waveform, threshold=SPEECH_THRESHOLD):
    """(first, last + 1): the sample range between the first and last sample louder than `threshold`."""
    loud = np.flatnonzero(np.abs(waveform) > threshold)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, len(waveform))


def cut_windows(codes_list, waveforms, window_length, count, rng):
    """`count` random windows of `window_length` codes from each utterance's speech span.

    Utterances shorter than a window are zero-padded (the silence code) at the start.

    Args:
        codes_list: μ-law code arrays, one per utterance.
        waveforms: the float waveforms they came from (to find the speech span).
        window_length: codes per window.
        count: windows per utterance.
        rng: a numpy.random.Generator.

    Returns:
        (windows int32 (N * count, window_length), utterance index of each window (N * count,)).
    """
    windows, owners = [], []
    for index, (codes, waveform) in enumerate(zip(codes_list, waveforms)):
        start, end = speech_span(waveform)
        if end - start < window_length:
            # Centre the window on the speech, clamped to the utterance; pad if still short.
            start = max(0, min(len(codes) - window_length, (start + end - window_length) // 2))
            end = start + window_length
        if len(codes) < window_length:
            silence = codes[0] if len(codes) else 0
            codes = np.concatenate([np.full(window_length - len(codes), silence, np.int32), codes])
            start, end = 0, window_length
        for offset in rng.integers(start, end - window_length + 1, size=count):
            windows.append(codes[offset : offset + window_length])
            owners.append(index)
    return np.stack(windows).astype(np.int32), np.asarray(owners, dtype=np.int64)


def load_data(config):
    """Synthesize (or load from the cache) the speech, μ-law encode it and cut the windows.

    Args:
        config: the recipe config (DEFAULT_CONFIG keys).

    Returns:
        dict with "train", "validation", "test": (x int32 (N, rf - 1 + target_length) input
        codes, y int32 (N, target_length) next-sample codes); "waveforms": {split: list of
        the float waveforms the model reads (clean, or noisy with noisy=True)};
        "texts", "voices": {split: list}; "receptive_field": int.
    """
    field = receptive_field(config)
    sets = speech.synthesize_sets(texts(config), config, "wavenet")
    window_length = field - 1 + config["target_length"]
    data = {"waveforms": {}, "texts": {}, "voices": {}, "receptive_field": field}
    for split, split_set in sets.items():
        waveforms = split_set["waveforms"] if config["noisy"] else split_set["clean"]
        codes = [mu_law_encode(w, config["quantization_channels"]) for w in waveforms]
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[split], 5])
        windows, _ = cut_windows(codes, waveforms, window_length + 1, config["windows_per_utterance"], rng)
        # Window of rf + T codes: inputs are all but the last; output j sees inputs j..j+rf-1
        # and predicts code j + rf, so the targets are the last T codes.
        data[split] = (windows[:, :-1], windows[:, field:])
        data["waveforms"][split] = waveforms
        data["texts"][split] = split_set["texts"]
        data["voices"][split] = split_set["voices"]
    return data
