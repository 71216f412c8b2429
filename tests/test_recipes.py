"""Driven by the catalog: every recipe builds, trains a step, saves and loads; every brief run
reaches its catalog expectation."""

import numpy as np
import pytest
from conftest import RECIPE_IDS

from tools import runner, smoke
from tools.catalog import get_entry, load_catalog


def named_inputs(model, x):
    """{input name: array} of a batch given as one array, a list or a dict."""
    if isinstance(x, dict):
        return {name: np.asarray(value) for name, value in x.items()}
    names = [tensor._keras_history.operation.name for tensor in model.inputs]
    return dict(zip(names, x if isinstance(x, (list, tuple)) else [x]))


def carries_previous_targets(x, y):
    """True when x[:, t] is a one-to-one function of y[:, t-1] wherever x is not all zero (padding,
    or a step not given): an input fed with the targets shifted by one step (teacher forcing).
    A shorter y is aligned with the end of x (a model that drops a warm-up, like the echo state network)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim < 2 or y.ndim < 2 or y.shape[1] < 2 or x.shape[1] < y.shape[1]:
        return False
    x = x.reshape(x.shape[0], x.shape[1], -1)[:, x.shape[1] - y.shape[1] + 1 :]
    y = y.reshape(y.shape[0], y.shape[1], -1)[:, :-1]
    xs, ys = x.reshape(-1, x.shape[2]), y.reshape(-1, y.shape[2])
    keep = np.any(xs != 0, axis=1)
    forward, backward = {}, {}
    for a, b in zip(map(bytes, xs[keep]), map(bytes, ys[keep])):
        if forward.setdefault(b, a) != a or backward.setdefault(a, b) != b:
            return False
    return len(forward) > 1


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_smoke(recipe_id, tmp_path):
    """Build, forward pass on real data, one training step, .keras round trip with equal predictions
    (tools/smoke.py, which tests/test_backends.py runs on the other backends); and
    TEACHER_FORCED_INPUTS (what `recipe diagram` draws as y(t-1) -> h(t)) names exactly the inputs that
    carry the shifted targets in the recipe's own training data."""
    _, data, model = smoke.check(recipe_id, tmp_path)
    assert "train" in data and "validation" in data
    x, y = smoke.first_batch(data["train"], 500)
    shifted = {name for name, value in named_inputs(model, x).items() if carries_previous_targets(value, y)}
    declared = set(getattr(runner.import_recipe(recipe_id)[0], "TEACHER_FORCED_INPUTS", ()))
    assert shifted == declared, f"inputs carrying the previous targets: {sorted(shifted)}; TEACHER_FORCED_INPUTS: {sorted(declared)}"


@pytest.mark.brief
@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_brief_run_meets_catalog_expectation(recipe_id, tmp_path):
    result = runner.run(recipe_id, brief=True, out=tmp_path / "run", verbose=0, log=lambda *_: None)
    declared = runner.metric_names(runner.load_run(result.run_dir)[2], runner.import_recipe(recipe_id)[2])
    undeclared = [m for m in result.metrics if not runner.reports(declared, m)]
    assert not undeclared, f"{recipe_id} reports {undeclared}, which its demo's METRICS does not declare"
    assert result.status == "complete"
    assert result.met, result.expectation
    for name in ("config.json", "history.csv", "metrics.json", "model.keras", "run.json", "loss.png"):
        assert (result.run_dir / name).is_file(), name
    entry = get_entry(load_catalog(), recipe_id)
    if entry["task"] == "speech_recognition":
        transcribes_wav_files(result.run_dir, tmp_path, entry["brief"]["expect"]["max"])
    print(f"{recipe_id}: {result.expectation} in {result.seconds:.1f} s")


def transcribes_wav_files(run_dir, tmp_path, cer_bound):
    """The trained recognizer, through `recipe transcribe`'s code path, on WAV files of unseen voices
    at espeak-ng's own 22,050 Hz (not the training rate), with no added noise."""
    from recipes.common import ctc, speech
    from tools.transcribe import transcribe_files

    rng = np.random.default_rng(123)
    texts = speech.digit_strings(rng, 6, 2, 5)
    paths = []
    for i, text in enumerate(texts):
        voices = speech.speakers("test", "all")  # the recognizers' in-family unseen voices
        voice = voices[int(rng.integers(len(voices)))]
        waveform, _ = speech.synthesize(text, voice, rate=160, pitch=50)
        paths.append(speech.write_wav(tmp_path / f"utterance{i}.wav", 0.5 * waveform / np.abs(waveform).max(), speech.ESPEAK_RATE))
    hypotheses = [text for _, text in transcribe_files(run_dir, paths)]
    cer, _ = ctc.error_rates(texts, hypotheses)
    assert cer <= 2 * cer_bound, list(zip(texts, hypotheses))
