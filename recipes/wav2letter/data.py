"""Spoken digit strings for the Wav2Letter recognizer: the same data as deepspeech2_ctc.

Everything is done by recipes.common.ctc.load_spoken_digits (speech synthesized with
espeak-ng, noise added, log-mel features, CTC targets; see recipes/common/speech.py). The
test split is spoken by voice variants never used in training ("unseen speakers"). The
data keys of DEFAULT_CONFIG are ctc.DATA_DEFAULTS, spread in, so both recognizers train on
identical utterances and share the synthesis cache under .cache/speech/.
"""

from recipes.common import ctc


def load_data(config):
    """Spoken digit strings as (log-mel features, padded character ids) per split.

    Args:
        config: the recipe config (seed and every key of ctc.DATA_DEFAULTS).

    Returns:
        {"train"/"validation"/"test": (features (N, T, num_mels), char ids (N, L)),
        "texts", "lengths", "voices", "waveforms": {split: ...}}; see
        recipes.common.ctc.load_spoken_digits.
    """
    return ctc.load_spoken_digits(config)
