"""Spoken command words, one per clip, as fixed-length raw waveforms at 8 kHz.

Each utterance is one of the 20 words of speech.COMMAND_WORDS (the ten digits and "yes",
"no", "up", "down", "left", "right", "on", "off", "stop", "go"), spoken by espeak-ng through
recipes/common/speech.py with a random voice, speaking rate, pitch, gain, leading silence
(up to 0.25 s) and white noise (10-30 dB SNR). Train and validation use the training
voices; the test split uses only the held-out voice variants ("unseen speakers").

Every split holds the same number of utterances of each word (num_<split> must be a
multiple of 20), in a seeded random order. Clips are zero-padded at the end (or cut) to
`clip_seconds`; at the default 1 s and 8 kHz no synthesized word is cut (the longest is
about 0.9 s with its leading silence). The gain is left as synthesized (0.3-0.9 of full
scale): the model normalizes each clip itself, so it reads any WAV file the same way.
"""

import numpy as np

from recipes.common import speech
from recipes.common.splits import SPLIT_STREAMS

WORDS = speech.COMMAND_WORDS
SPLITS = ("train", "validation", "test")


def clip_length(config):
    """Samples per clip: config clip_seconds at config sample_rate."""
    return int(round(config["clip_seconds"] * config["sample_rate"]))


def word_list(count, seed, split):
    """`count` words, each of WORDS equally often, in a seeded random order."""
    rng = np.random.default_rng([seed, SPLIT_STREAMS[split]])
    labels = rng.permutation(np.arange(count) % len(WORDS))
    return [WORDS[i] for i in labels]


def fix_length(waveforms, length):
    """Zero-pad at the end, or cut, every 1-D waveform to `length` samples: float32 (N, length, 1)."""
    out = np.zeros((len(waveforms), length, 1), dtype=np.float32)
    for i, waveform in enumerate(waveforms):
        n = min(len(waveform), length)
        out[i, :n, 0] = waveform[:n]
    return out


def load_data(config):
    """Synthesize (or load from the cache) the three splits of spoken words.

    Args:
        config: dict with seed, num_train, num_validation, num_test, clip_seconds and every
            key of speech.SYNTHESIS_DEFAULTS.

    Returns:
        dict with "train", "validation", "test": (x, y), x float32 (N, samples, 1) noisy
        waveforms padded to clip_seconds, y int32 (N,) word indices into WORDS; "words":
        WORDS; "test_voices": the "accent+variant" voice of each test clip.
    """
    texts = {split: word_list(config[f"num_{split}"], config["seed"], split) for split in SPLITS}
    sets = speech.synthesize_sets(texts, config, "raw_waveform_words")
    length = clip_length(config)
    data = {}
    for split in SPLITS:
        labels = np.array([WORDS.index(t) for t in sets[split]["texts"]], dtype=np.int32)
        data[split] = (fix_length(sets[split]["waveforms"], length), labels)
    data.update(words=WORDS, test_voices=sets["test"]["voices"])
    return data
