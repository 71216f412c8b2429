"""`recipe transcribe`: a recognizer's run transcribes WAV files; bad input is one line and exit 2."""

import json

import keras
import numpy as np
import pytest
from test_cli import one_line_error, recipe
from test_speech import _write_raw

from recipes.common import ctc, recording, speech
from recipes.common.config import ConfigError
from tools import runner
from tools.catalog import load_catalog
from tools.errors import UsageError
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
    # The same utterance through the data pipeline by hand: clean, resample, log-mel, model, greedy decoding.
    waveform, _ = recording.clean(waveform, speech.ESPEAK_RATE)
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


@pytest.mark.parametrize("beam", [0, -3, 257])
def test_a_bad_beam_is_refused_before_the_recipe_or_the_run_is_read(monkeypatch, beam):
    import tools.transcribe

    def never(*_):
        raise AssertionError("read before the beam was checked")

    monkeypatch.setattr(tools.transcribe, "transcriber", never)
    monkeypatch.setattr(runner, "read_run", never)
    with pytest.raises(UsageError, match=f"--beam takes a beam width from 1 \\(greedy\\) to 256, got {beam}"):
        transcribe_files("wav2letter", ["me.wav"], beam_width=beam)


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


# Recordings as people make them (recipes.common.recording): no speech, bad rates, clipping, DC, 8-48 kHz, stereo.


def _hum(path, rate=16000):
    t = np.arange(3 * rate) / rate
    speech.write_wav(path, 0.3 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6)), rate)
    return path


def test_a_file_without_speech_gets_a_reason_and_never_reaches_the_model(tmp_path):
    def load():
        raise AssertionError("the model was loaded")

    [result] = ctc.transcribe(load, {"max_seconds": 20.0}, [_hum(tmp_path / "hum.wav")])
    assert result == (tmp_path / "hum.wav", None)
    assert result.reason == "steady noise or tone, no speech-like energy changes" and result.notes == ()


def test_a_file_without_speech_is_one_line_and_exit_0(tmp_path):
    fake_run(tmp_path / "run", "wav2letter")
    speech.write_wav(tmp_path / "quiet.wav", np.zeros(16000), 16000)
    result = recipe("transcribe", tmp_path / "run", tmp_path / "quiet.wav", _hum(tmp_path / "hum.wav"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'quiet.wav'}: no speech found (silent (digital silence))",
        f"{tmp_path / 'hum.wav'}: no speech found (steady noise or tone, no speech-like energy changes)",
    ]


def test_a_rate_below_8_khz_is_one_line_and_exit_2_before_the_model_loads(tmp_path):
    speech.write_wav(tmp_path / "old.wav", np.zeros(8000), 4000)

    def load():
        raise AssertionError("the model was loaded")

    with pytest.raises(ConfigError, match="old.wav is sampled at 4,000 Hz"):
        ctc.transcribe(load, {"max_seconds": 20.0}, [tmp_path / "old.wav"])
    fake_run(tmp_path / "run", "wav2letter")
    line = one_line_error(recipe("transcribe", tmp_path / "run", tmp_path / "old.wav"))
    assert "sampled at 4,000 Hz; a recognizer takes 8,000 to 48,000 Hz: resample to 16 kHz" in line


def test_flac_and_ogg_are_read_and_what_soundfile_cannot_read_is_one_line(tmp_path):
    import soundfile

    waveform, _ = speech.synthesize("four two", "en-gb-x-rp+f4", sample_rate=16000)
    stereo = np.stack([waveform, 0.5 * waveform], axis=1)
    for name in ("me.flac", "me.ogg"):
        soundfile.write(tmp_path / name, stereo, 16000)
        mono, rate = ctc.read_audio(tmp_path / name, {"max_seconds": 20.0})
        assert rate == 16000 and mono.ndim == 1 and len(mono) == len(waveform)
        assert np.corrcoef(mono, 0.75 * waveform)[0, 1] > 0.95  # the channels' mean (OGG is lossy)
    (tmp_path / "notes.flac").write_text("not audio")
    with pytest.raises(ctc.UnusableAudio, match=r"notes.flac is not audio soundfile can read \(.*\): use WAV, FLAC or OGG"):
        ctc.read_audio(tmp_path / "notes.flac", {"max_seconds": 20.0})


def test_a_bad_recording_of_a_digit_string_is_transcribed_like_the_clean_one(tmp_path):
    # Today's pretrained deepspeech2_ctc, greedy: the same utterance, recorded badly, through the whole pipeline.
    text, voice = "seven three one four", "en-gb-x-rp+f4"

    def spoken(rate):
        waveform, _ = speech.synthesize(text, voice, sample_rate=rate)
        waveform = 0.5 * waveform / np.abs(waveform).max()
        return waveform + 0.005 * np.random.default_rng(0).standard_normal(len(waveform))

    silence = np.zeros(2 * 16000)
    speech.write_wav(tmp_path / "clean.wav", spoken(16000), 16000)
    speech.write_wav(tmp_path / "dc_and_silence.wav", np.concatenate([silence, spoken(16000), silence]) + 0.3, 16000)
    speech.write_wav(tmp_path / "phone.wav", spoken(8000), 8000)
    stereo = np.stack([spoken(48000), 0.7 * spoken(48000)], axis=1).astype("<f4")
    _write_raw(tmp_path / "laptop.wav", stereo.tobytes(), code=3, channels=2, rate=48000, bits=32)
    speech.write_wav(tmp_path / "clipped.wav", np.clip(8 * spoken(16000), -1, 1), 16000)
    names = ["clean", "dc_and_silence", "phone", "laptop", "clipped"]
    results = transcribe_files("deepspeech2_ctc", [tmp_path / f"{name}.wav" for name in names], beam_width=1)
    transcripts = dict(zip(names, (text for _, text in results)))
    assert transcripts["clean"].split() and set(transcripts["clean"]) <= set(ctc.ALPHABET)
    # DC, silence and 48 kHz stereo are undone exactly; 8 kHz loses the band above 4 kHz, so a letter may slip.
    for name in ("dc_and_silence", "laptop"):
        assert transcripts[name] == transcripts["clean"], transcripts
    cer, _ = ctc.error_rates([text], [transcripts["phone"]])
    assert cer <= 0.1, transcripts
    # Clipping cannot be undone: a transcript, and a note saying why it may be wrong.
    assert transcripts["clipped"].split()
    assert [result.notes for result in results] == [()] * 4 + [(results[-1].notes[0],)]
    assert "of samples are clipped: record further from the microphone or at lower gain" in results[-1].notes[0]
