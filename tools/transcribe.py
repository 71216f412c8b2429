"""`recipe transcribe ID|RUN_DIR FILE ...`: a trained speech recognizer transcribes recordings (WAV, FLAC, OGG).

An id means the recipe's pretrained checkpoint (recipes/<id>/pretrained), so it works with no training.

The run must be of a recipe whose demo.py provides the `transcribe(model, config, paths,
beam_width)` hook (the speech_recognition recipes: deepspeech2_ctc, wav2letter). Given a
loader as `model`, the hook reads and checks every file before it loads the model, then
turns each into the features the model was trained on and decodes it (greedy, or beam
search with --beam N); a file it cannot use is a one-line error (a ConfigError). So bad
files, a bad --beam and a run of any other recipe are all refused before the model loads.
Each result is a (path, text) pair; text is None for a file with no speech in it, and the
pair's `.reason` says why (recipes.common.ctc.Transcript; its `.notes`, e.g. clipping, are
for stderr). A file without speech is a result, not an error: `recipe transcribe` prints
"FILE: no speech found (REASON)" and exits 0 once every file was read.
"""

from pathlib import Path

from tools import errors
from tools.catalog import load_catalog

MAX_BEAM = 256  # wider beams cost time and memory for no measurable gain on digit strings


def recognizer_ids():
    """The catalog's speech-recognition recipes."""
    return sorted(rid for rid, entry in load_catalog().items() if isinstance(entry, dict) and entry.get("task") == "speech_recognition")


def transcriber(recipe_id):
    """The `transcribe` hook of a catalog recipe's demo module, or None when it has none."""
    from tools import runner

    if not isinstance(load_catalog().get(recipe_id), dict):
        return None
    _, _, demo = runner.import_recipe(recipe_id)
    return getattr(demo, "transcribe", None)


def transcribe_files(run_dir, paths, beam_width=None, log=None):
    """[(path, transcript)] for each audio file (transcript None: no speech, see the module docstring), by the recognizer trained in `run_dir` (a recipe id: its
    pretrained checkpoint, which `log` is told).

    Raises:
        UsageError: not a finished run, not a recognizer's run, or a bad beam width.
        ConfigError: a file that is not usable audio (from the recipe's hook).
    """
    from tools import pretrained, runner

    if beam_width is not None and not 1 <= beam_width <= MAX_BEAM:  # checked first: it needs no import of the recipe
        raise errors.UsageError(f"--beam takes a beam width from 1 (greedy) to {MAX_BEAM}, got {beam_width}. Use e.g. --beam 8.")
    if isinstance(load_catalog().get(str(run_dir)), dict) and transcriber(str(run_dir)) is None and not Path(run_dir).exists():
        raise errors.UsageError(
            f"{run_dir} does not transcribe speech. Use a recognizer, {' or '.join(recognizer_ids())} (its pretrained checkpoint), or a run of one."
        )
    run_dir = pretrained.run_dir_of(run_dir, log)
    record, config = runner.read_run(run_dir)
    recipe_id = record.get("recipe")
    hook = transcriber(recipe_id)
    if hook is None:
        recognizers = recognizer_ids()
        raise errors.UsageError(
            f"'{run_dir}' is a run of {recipe_id}, which does not transcribe speech. "
            f"Train a recognizer first ({', '.join(recognizers) or 'none in the catalog'}), e.g. with "
            f"'recipe run ID --brief', and pass its run directory."
        )
    # The hook loads the model only once every file has passed its checks.
    return hook(lambda: runner.load_run(run_dir)[2], config, paths, beam_width=beam_width)
