"""Spoken digit strings ("three one four") synthesized with espeak-ng, as log-mel features and CTC targets.

All the work is in recipes/common/ctc.py (`load_spoken_digits`) and recipes/common/speech.py:
transcripts of `min_digits`..`max_digits` random digit words, spoken by espeak-ng voices
(accent + voice variant) at random rates and pitches, with white noise at a random SNR;
40 log-mel bands every 10 ms, normalized per utterance. Train and validation use the
training voices; the test split is spoken only by voice variants never heard in training
("unseen speakers"). Generated sets are cached under .cache/speech/.
"""

from recipes.common.ctc import load_spoken_digits


def load_data(config):
    """{"train"/"validation"/"test": (log-mel (N, T, num_mels), char ids (N, L) padded with 0),
    "texts", "lengths", "voices", "waveforms": {split: ...}}; see recipes.common.ctc.load_spoken_digits."""
    return load_spoken_digits(config)
