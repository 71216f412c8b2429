"""Spoken digit strings with one label per log-mel frame: the digit being spoken, or silence.

Utterances of 3 to 5 digits ("seven one four") are synthesized with espeak-ng by
recipes/common/speech.py (many voices, rates and pitches, white noise at 10-30 dB SNR;
the test set is spoken by voices never used in training). Each utterance is placed at
the start of a fixed-length recording, as long as the longest utterance of all splits:
the noise goes on after the speech ends, so every frame of every clip is a real frame
and no padding needs masking.

Frame labels (11 classes: 0 = silence, 1 + d = digit d) come from two sources, neither
of which the model sees:

- espeak-ng's word start events (`word_starts`, in samples): word i owns the frames whose
  centre lies in [start_i, start_{i+1}) (the last word runs to the end of the clip);
- the energy of the CLEAN waveform over each frame's window, in dB below the loudest
  frame of the utterance: within a word's span, the frames from its first to its last
  frame louder than `silence_db` get the word's digit, the rest are silence. Quiet frames
  inside a word (the closure before the "k" of "six") keep the digit.

The model reads log-mel features of the NOISY waveform (speech.log_mel, per-utterance
normalization). Frame t is centred on sample t * hop (Keras' MelSpectrogram centres its
frames), which is also where its label is measured.
"""

import numpy as np

from recipes.common import speech
from recipes.common.splits import SPLIT_STREAMS

CLASSES = ("silence",) + speech.DIGIT_WORDS  # label 0 = silence, 1 + d = digit d
SILENCE = 0


def frame_energy_db(clean, num_frames, config):
    """Energy of each frame's window of `clean` (centred on sample t * hop), in dB below the loudest frame.

    Args:
        clean: 1-D float waveform.
        num_frames: how many frames to measure (past the end the signal counts as zero).
        config: holds sample_rate, frame_ms, hop_ms.

    Returns:
        float (num_frames,) array, 0 at the loudest frame, -inf-like (-200) for digital silence.
    """
    hop = speech.hop_length(config)
    window = int(round(config["sample_rate"] * config["frame_ms"] / 1000))
    half = window // 2
    padded = np.pad(np.asarray(clean, np.float64), (half, num_frames * hop + window))
    cumulative = np.concatenate([[0.0], np.cumsum(padded**2)])
    starts = np.arange(num_frames) * hop  # window of frame t: samples t*hop - half .. t*hop + half
    energy = (cumulative[starts + window] - cumulative[starts]) / window
    db = 10 * np.log10(np.maximum(energy, 1e-20))
    return np.maximum(db - db.max(), -200.0)


def frame_labels(clean, word_starts, text, num_frames, config):
    """The class of every frame of one utterance (see the module docstring).

    Args:
        clean: the clean waveform.
        word_starts: sample index where each word starts (espeak-ng's word events).
        text: the transcript, one digit word per word start.
        num_frames: frames in the clip.
        config: holds sample_rate, frame_ms, hop_ms, silence_db.

    Returns:
        int32 (num_frames,) labels: 0 silence, 1 + d for digit d.
    """
    words = text.split()
    if len(words) != len(word_starts):
        raise ValueError(f"{len(word_starts)} word start events for {len(words)} words in {text!r}")
    hop = speech.hop_length(config)
    loud = frame_energy_db(clean, num_frames, config) > config["silence_db"]
    centres = np.arange(num_frames) * hop
    bounds = list(word_starts) + [np.iinfo(np.int64).max]
    labels = np.full(num_frames, SILENCE, dtype=np.int32)
    for i, word in enumerate(words):
        in_word = np.flatnonzero((centres >= bounds[i]) & (centres < bounds[i + 1]) & loud)
        if in_word.size:
            labels[in_word[0] : in_word[-1] + 1] = 1 + speech.DIGIT_WORDS.index(word)
    return labels


def _extend_with_noise(noisy, clean, length, rng):
    """`noisy` continued to `length` samples with white noise at the level of its own noise."""
    level = float(np.std(noisy - clean)) if len(noisy) else 0.0
    tail = rng.standard_normal(length - len(noisy)).astype(np.float32) * np.float32(level)
    return np.concatenate([noisy, tail]).astype(np.float32)


def load_data(config):
    """Spoken digit strings as log-mel features with one label per frame.

    Args:
        config: seed, num_train/num_validation/num_test, min_digits/max_digits, the keys of
            speech.SYNTHESIS_DEFAULTS, frame_ms, hop_ms, num_mels, silence_db.

    Returns:
        {"train"/"validation"/"test": (features float32 (N, T, num_mels), labels int32 (N, T)),
         "classes": CLASSES, "texts", "voices", "waveforms" (noisy, clip length), "clean",
         "word_starts": {split: [...]}}. Every split has the same T. Test voices are unseen.
    """
    rng = np.random.default_rng([config["seed"], 3])
    counts = {"train": config["num_train"], "validation": config["num_validation"], "test": config["num_test"]}
    texts = {split: speech.digit_strings(rng, n, config["min_digits"], config["max_digits"]) for split, n in counts.items()}
    sets = speech.synthesize_sets(texts, config, "digit-strings")
    longest = max(len(w) for s in sets.values() for w in s["waveforms"])
    data = {"classes": CLASSES, "texts": {}, "voices": {}, "waveforms": {}, "clean": {}, "word_starts": {}}
    for split, s in sets.items():
        noise_rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[split], 13])
        waveforms = [_extend_with_noise(w, c, longest, noise_rng) for w, c in zip(s["waveforms"], s["clean"])]
        features, lengths = speech.log_mel(waveforms, config)
        num_frames = features.shape[1]
        labels = np.stack([frame_labels(c, starts, text, num_frames, config) for c, starts, text in zip(s["clean"], s["word_starts"], s["texts"])])
        data[split] = (features, labels)
        data["texts"][split], data["voices"][split] = s["texts"], s["voices"]
        data["waveforms"][split], data["clean"][split] = waveforms, s["clean"]
        data["word_starts"][split] = s["word_starts"]
    return data
