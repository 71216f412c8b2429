"""LibriSpeech for the CTC recognizers: `--set corpus=librispeech --set corpus_dir=PATH` (work in progress)."""

from recipes.common.config import choice, number, text

# Config keys of the corpus choice (spread into recipes/common/ctc.py DATA_DEFAULTS and DATA_RULES).
CORPUS_DEFAULTS = {
    "corpus": "synthetic",  # "synthetic" (espeak-ng digit strings) or "librispeech" (read from corpus_dir)
    "corpus_dir": "",  # a LibriSpeech folder: SPEAKER/CHAPTER/*.flac with SPEAKER-CHAPTER.trans.txt
    "max_hours": 1.0,  # most hours of training audio read from corpus_dir
}
CORPUS_RULES = {
    "corpus": choice("synthetic", "librispeech"),
    "corpus_dir": text(4096),
    "max_hours": number(0, 10_000, low_open=True),
}
