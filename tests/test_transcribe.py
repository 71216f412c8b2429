"""`recipe transcribe`: a recognizer's run transcribes WAV files; bad input is one line and exit 2."""

import json

import keras
import numpy as np
import pytest
from test_cli import one_line_error, recipe
from test_speech import _write_raw

from recipes.common import ctc, speech
from recipes.common.config import ConfigError
from tools import runner
from tools.catalog import load_catalog
from tools.transcribe import recognizer_ids, transcribe_files, transcriber


def fake_run(run_dir, recipe_id):
    """A run directory holding an untrained model, as `recipe run` would leave it."""
    config, model = runner.build_untrained(recipe_id)
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "run.json").write_text(json.dumps({"recipe": recipe_id, "status": "complete"}))
    return config, model


def test_the_recognizers_are_the_speech_recognition_recipes():
    assert recognizer_ids() == ["deepspeech2_ctc", "wav2letter"]


def test_the_recipes_with_a_transcribe_hook_are_the_recognizers():
    # The refusal lists recognizer_ids(); `recipe transcribe` dispatches on the hook.
    assert sorted(rid for rid in load_catalog() if transcriber(rid)) == recognizer_ids()
    assert transcriber("no_such_recipe") is None


@pytest.mark.parametrize("recipe_id", ["deepspeech2_ctc", "wav2letter"])
def test_a_wav_at_another_rate_in_stereo_goes_through_the_training_pipeline(tmp_path, recipe_id):
    config, model = fake_run(tmp_path / "run", recipe_id)
    waveform, _ = speech.synthesize("four two", "en-gb-x-rp+f4", sample_rate=speech.ESPEAK_RATE)
    stereo = np.stack([waveform, waveform], axis=1).astype("<f4")
    _write_raw(tmp_path / "me.wav", stereo.tobytes(), code=3, channels=2, rate=speech.ESPEAK_RATE, bits=32)
    [(path, text)] = transcribe_files(tmp_path / "run", [tmp_path / "me.wav"], beam_width=1)
    # The same utterance through the data pipeline by hand: resample, log-mel, model, greedy decoding.
    features, lengths = speech.log_mel([speech.resample(waveform, speech.ESPEAK_RATE, config["sample_rate"])], config)
    logits = keras.ops.convert_to_numpy(model(features))
    assert text == ctc.decode(logits, ctc.output_lengths(lengths, features.shape[1], logits.shape[1]))[0]
    assert set(text) <= set(ctc.ALPHABET)


def test_the_hook_refuses_a_bad_file_before_it_loads_the_model(tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    speech.write_wav(tmp_path / "ok.wav", np.zeros(16000), 16000)

    def load():
        raise AssertionError("the model was loaded")

    with pytest.raises(ConfigError, match="notes.wav is not a WAV file"):
        ctc.transcribe(load, {"max_seconds": 20.0}, [tmp_path / "ok.wav", tmp_path / "notes.wav"])


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    fake_run(tmp_path / "run", "wav2letter")
    (tmp_path / "notes.wav").write_text("not audio")
    speech.write_wav(tmp_path / "empty.wav", np.zeros(0), 16000)
    (tmp_path / "zero_bytes.wav").write_bytes(b"")
    speech.write_wav(tmp_path / "long.wav", np.zeros(16000 * 25), 16000)
    speech.write_wav(tmp_path / "click.wav", np.zeros(100), 16000)
    speech.write_wav(tmp_path / "ok.wav", np.zeros(16000), 16000)
    cases = [
        ((tmp_path / "run", tmp_path / "notes.wav"), "not a WAV file"),
        ((tmp_path / "run", tmp_path / "empty.wav"), "no audio samples"),
        ((tmp_path / "run", tmp_path / "zero_bytes.wav"), "is empty (0 bytes)"),
        ((tmp_path / "run", tmp_path / "long.wav"), "25.0 s long; the limit is 20 s"),
        ((tmp_path / "run", tmp_path / "click.wav"), "at least 100 ms"),
        ((tmp_path / "run", tmp_path / "missing.wav"), "cannot read"),
        ((tmp_path / "run", tmp_path / "ok.wav", "--beam", "0"), "--beam takes a beam width from 1 (greedy) to 256"),
        ((tmp_path / "run", tmp_path / "ok.wav", "--beam", "100000"), "got 100000"),
        ((tmp_path / "nowhere", tmp_path / "ok.wav"), "not a usable run directory"),
    ]
    for args, fragment in cases:
        assert fragment in one_line_error(recipe("transcribe", *args)), args


def test_a_run_of_another_recipe_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "model.keras").write_bytes(b"")
    (run_dir / "config.json").write_text("{}")
    (run_dir / "run.json").write_text(json.dumps({"recipe": "memory_task", "status": "complete"}))
    speech.write_wav(tmp_path / "ok.wav", np.zeros(16000), 16000)
    line = one_line_error(recipe("transcribe", run_dir, tmp_path / "ok.wav"))
    assert "memory_task, which does not transcribe speech" in line and "(deepspeech2_ctc, wav2letter)" in line and "recipe run ID --brief" in line
