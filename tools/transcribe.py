"""`recipe transcribe RUN_DIR FILE.wav ...`: a trained CTC recognizer transcribes WAV files.

The run must be of a speech_recognition recipe (deepspeech2_ctc, wav2letter). Each file is
read with the standard library (PCM or float WAV, any rate, mixed to mono), resampled to
the rate the model was trained at, turned into the same log-mel features, and decoded
(greedy, or beam search with --beam N). Bad files are refused before the model loads.
"""

from tools import errors
from tools.catalog import load_catalog

MIN_SECONDS = 0.1


def recognizer_ids():
    """The catalog's speech-recognition recipes."""
    return sorted(rid for rid, entry in load_catalog().items() if isinstance(entry, dict) and entry.get("task") == "speech_recognition")


def read_audio(path, config):
    """A WAV file's mono samples and rate, or a UsageError naming the problem and the fix."""
    from recipes.common.speech import AudioError, read_wav

    try:
        waveform, rate = read_wav(path, max_seconds=config["max_seconds"])
    except AudioError as error:
        raise errors.UsageError(str(error)) from None
    if len(waveform) < MIN_SECONDS * rate:
        raise errors.UsageError(f"{path} is {len(waveform) / rate * 1000:.0f} ms long; a recognizer needs at least {MIN_SECONDS * 1000:.0f} ms of speech")
    return waveform, rate


def transcribe_files(run_dir, paths, beam_width=None):
    """[(path, transcript)] for each WAV file, by the recognizer trained in `run_dir`.

    Raises:
        UsageError: not a finished run, not a recognizer's run, or a file that is not usable audio.
    """
    from tools import runner

    record, config = runner.read_run(run_dir)
    recipe_id = record.get("recipe")
    recognizers = recognizer_ids()
    if recipe_id not in recognizers:
        raise errors.UsageError(
            f"'{run_dir}' is a run of {recipe_id}, which does not transcribe speech. "
            f"Train a recognizer first ({', '.join(recognizers) or 'none in the catalog'}), e.g. with "
            f"'recipe run ID --brief', and pass its run directory."
        )
    if beam_width is not None and beam_width < 1:
        raise errors.UsageError(f"--beam takes a beam width of 1 or more (1 = greedy), got {beam_width}")
    audio = [(path, *read_audio(path, config)) for path in paths]
    _, _, model = runner.load_run(run_dir)
    from recipes.common import ctc

    return [(path, ctc.transcribe(model, waveform, rate, config, beam_width)) for path, waveform, rate in audio]
