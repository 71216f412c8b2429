"""recipes/common/speech.py: espeak-ng synthesis, the on-disk cache, noise, log-mel features, WAV files."""

import numpy as np
import pytest

from recipes.common import speech

CONFIG = {"seed": 0, **speech.SYNTHESIS_DEFAULTS, **speech.FEATURE_DEFAULTS}


def test_synthesis_is_deterministic_whatever_came_before_and_reports_word_starts():
    a, starts = speech.synthesize("three one four", "en-us+m3", rate=170, pitch=50, sample_rate=16000)
    # Other voices and engines in between: espeak-ng's flutter and phase would carry over, but the
    # library is reloaded for every utterance, so the same settings give the same samples.
    speech.synthesize("seven eight nine", "en-gb-x-rp+f2", rate=220, pitch=20)
    speech.synthesize("two", "en-us+klatt4", rate=120, pitch=80)
    b, starts_b = speech.synthesize("three one four", "en-us+m3", rate=170, pitch=50, sample_rate=16000)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(starts, starts_b)
    assert a.dtype == np.float32 and 0.3 < len(a) / 16000 < 3 and np.abs(a).max() <= 1
    assert len(starts) == 3 and np.all(np.diff(starts) > 0) and starts[-1] < len(a)
    slow, _ = speech.synthesize("three one four", "en-us+m3", rate=100, sample_rate=16000)
    assert len(slow) > 1.3 * len(a)


def test_varied_prosody_is_ssml_with_one_word_event_per_word():
    rng = np.random.default_rng(0)
    words = ["three", "one", "four", "one", "five"]
    markup = speech.varied_prosody(words, rng)
    assert markup.startswith("<speak>") and markup.count("<prosody") == len(words)
    waveform, starts = speech.synthesize(markup, "en-us+m3", sample_rate=16000, ssml=True)
    plain, _ = speech.synthesize(" ".join(words), "en-us+m3", sample_rate=16000)
    assert len(starts) == len(words) and np.all(np.diff(starts) > 0)
    assert not np.array_equal(waveform[: len(plain)], plain[: len(waveform)])


def test_the_klatt_variants_are_exactly_the_voices_of_the_klatt_synthesizer():
    import re
    from pathlib import Path

    import espeakng_loader

    variants = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    klatt = {f.name for f in variants.iterdir() if re.search(r"^\s*klatt\s+[1-9]", f.read_text(errors="replace"), re.M)}
    assert klatt == set(speech.KLATT_VARIANTS)
    every = {f.name for f in variants.iterdir()}
    for voices in speech.RECOGNIZER_TRAIN_VARIANTS.values():
        assert set(voices) <= every - klatt - set(speech.IN_FAMILY_TEST_VARIANTS)
    assert set(speech.RECOGNIZER_TRAIN_VARIANTS["classic"]) < set(speech.RECOGNIZER_TRAIN_VARIANTS["all"])
    assert set(speech.IN_FAMILY_TEST_VARIANTS) <= every - klatt
    for variant in set(speech.RECOGNIZER_TRAIN_VARIANTS["all"]) | set(speech.IN_FAMILY_TEST_VARIANTS) | klatt:
        waveform, _ = speech.synthesize("seven", f"en-us+{variant}")
        assert len(waveform) > 0.2 * speech.ESPEAK_RATE, variant


def test_every_speaker_exists_and_test_speakers_are_unseen():
    assert not set(speech.TRAIN_VARIANTS) & set(speech.TEST_VARIANTS)
    assert not set(speech.speakers("train")) & set(speech.speakers("test"))
    assert speech.speakers("train") == speech.speakers("validation")
    for voice in speech.speakers("train") + speech.speakers("test"):
        waveform, _ = speech.synthesize("seven", voice)
        assert len(waveform) > 0.2 * speech.ESPEAK_RATE, voice
    with pytest.raises(ValueError, match="no voice"):
        speech.synthesize("seven", "xx-nowhere+m1")
    # The recognizers' splits: training voices by config; in-family and out-of-family test voices apart.
    for voices in ("classic", "all"):
        train = set(speech.speakers("train", voices))
        assert train == set(speech.speakers("validation", voices))
        assert not train & set(speech.speakers("test", voices)) and not train & set(speech.speakers("out_of_family", voices))
    assert {v.split("+")[1] for v in speech.speakers("out_of_family", "all")} == set(speech.KLATT_VARIANTS)


def test_sets_are_cached_and_noise_has_the_drawn_snr(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_RECIPES_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    texts = {"train": speech.digit_strings(rng, 20, 2, 3), "test": speech.digit_strings(rng, 5, 2, 3)}
    first = speech.synthesize_sets(texts, CONFIG, "unit")
    assert len(list(tmp_path.glob("unit-*.npz"))) == 1
    assert {v.split("+")[1] for v in first["test"]["voices"]} <= set(speech.TEST_VARIANTS)
    assert {v.split("+")[1] for v in first["train"]["voices"]} <= set(speech.TRAIN_VARIANTS)

    def no_synthesis(*args, **kwargs):
        raise AssertionError("synthesized again instead of reading the cache")

    original = speech._synthesize_split
    monkeypatch.setattr(speech, "_synthesize_split", no_synthesis)
    second = speech.synthesize_sets(texts, CONFIG, "unit")
    for split in texts:
        assert second[split]["texts"] == texts[split]
        for a, b in zip(first[split]["waveforms"], second[split]["waveforms"]):
            np.testing.assert_array_equal(a, b)
    # The noise: the measured SNR over speech samples is the drawn one (clipping aside).
    for clean, noisy, snr in zip(first["train"]["clean"], first["train"]["waveforms"], first["train"]["snr_db"]):
        loud = np.abs(clean) > 0.1 * np.abs(clean).max()
        measured = 10 * np.log10(np.mean(clean[loud] ** 2) / np.mean((noisy - clean) ** 2))
        assert abs(measured - snr) < 0.5
    # Another config is another cache file.
    monkeypatch.setattr(speech, "_synthesize_split", original)
    speech.synthesize_sets({"test": texts["test"]}, {**CONFIG, "snr_min_db": 5.0}, "unit")
    assert len(list(tmp_path.glob("unit-*.npz"))) == 2


def test_log_mel_shapes_padding_and_normalization():
    a, _ = speech.synthesize("one two", "en-us+m1", sample_rate=16000)
    b, _ = speech.synthesize("seven eight nine four", "en+f2", sample_rate=16000)
    features, lengths = speech.log_mel([a, b], CONFIG)
    assert features.shape == (2, lengths.max(), 40)
    assert list(lengths) == [speech.frame_count(len(a), CONFIG), speech.frame_count(len(b), CONFIG)]
    assert lengths[0] == len(a) // 160 + 1
    np.testing.assert_array_equal(features[0, lengths[0] :], 0)
    valid = features[1, : lengths[1]]
    np.testing.assert_allclose(valid.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(valid.std(0), 1, atol=1e-2)
    # Batching with a longer utterance changes nothing: each is reflected past its own end.
    alone, _ = speech.log_mel([a], CONFIG)
    np.testing.assert_allclose(features[0, : lengths[0]], alone[0, : lengths[0]], atol=1e-3)


def test_wav_round_trip_and_other_sample_formats(tmp_path):
    waveform = (0.5 * np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000)).astype(np.float32)
    path = speech.write_wav(tmp_path / "tone.wav", waveform, 8000)
    read, rate = speech.read_wav(path)
    assert rate == 8000
    np.testing.assert_allclose(read, waveform, atol=1 / 32767)
    # Float32 stereo, channels mixed to mono.
    stereo = np.stack([waveform, -waveform / 2], axis=1).astype("<f4")
    _write_raw(tmp_path / "float.wav", stereo.tobytes(), code=3, channels=2, rate=22050, bits=32)
    read, rate = speech.read_wav(tmp_path / "float.wav")
    assert rate == 22050
    np.testing.assert_allclose(read, waveform / 4, atol=1e-6)
    # 24-bit PCM.
    ints = np.round(waveform * (2**23 - 1)).astype(np.int32)
    packed = np.stack([ints & 0xFF, (ints >> 8) & 0xFF, (ints >> 16) & 0xFF], axis=1).astype(np.uint8)
    _write_raw(tmp_path / "pcm24.wav", packed.tobytes(), code=1, channels=1, rate=16000, bits=24)
    read, _ = speech.read_wav(tmp_path / "pcm24.wav")
    np.testing.assert_allclose(read, waveform, atol=1e-6)


def _write_raw(path, payload, code, channels, rate, bits):
    import struct

    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", code, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("hello"), "not a WAV file"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: _write_raw(p, b"", code=1, channels=1, rate=16000, bits=16), "no audio samples"),
        (lambda p: _write_raw(p, b"\0" * 64, code=1, channels=1, rate=16000, bits=12), "12-bit PCM"),
        (lambda p: speech.write_wav(p, np.zeros(16000 * 3), 16000), "limit is 2 s"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "cannot read"),
    ],
)
def test_unusable_wav_files_are_refused_with_a_reason(tmp_path, make, message):
    path = tmp_path / "input.wav"
    make(path)
    with pytest.raises(speech.AudioError, match=message):
        speech.read_wav(path, max_seconds=2)


def test_resample_keeps_a_tone_and_its_duration():
    tone = np.sin(np.arange(22050) * 2 * np.pi * 300 / 22050).astype(np.float32)
    out = speech.resample(tone, 22050, 16000)
    assert len(out) == 16000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 300) <= 1


def test_the_recognizers_test_voices_speak_the_same_in_every_process():
    """Breathy variants differ from process to process; no recognizer test split uses them."""
    import subprocess
    import sys

    voices = [f"en-gb-x-rp+{v}" for v in speech.IN_FAMILY_TEST_VARIANTS + speech.KLATT_VARIANTS]
    script = (
        "import hashlib, sys\n"
        "from recipes.common import speech\n"
        "for voice in sys.argv[1:]:\n"
        "    print(hashlib.sha1(speech.synthesize('two seven six five', voice)[0].tobytes()).hexdigest())\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script, *voices], capture_output=True, text=True, check=True).stdout.split() for _ in range(3)]
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == len(voices)
    assert not set(speech.BREATHY_VARIANTS) & set(speech.IN_FAMILY_TEST_VARIANTS + speech.KLATT_VARIANTS)
