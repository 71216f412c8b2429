"""recipes/common/speech.py: espeak-ng synthesis, the on-disk cache, noise, log-mel features, WAV files."""

import numpy as np
import pytest

from recipes.common import speech

CONFIG = {"seed": 0, **speech.SYNTHESIS_DEFAULTS, **speech.FEATURE_DEFAULTS}


def test_synthesis_repeats_up_to_pitch_flutter_and_reports_word_starts():
    a, starts = speech.synthesize("three one four", "en-us+m3", rate=170, pitch=50, sample_rate=16000)
    b, starts_b = speech.synthesize("three one four", "en-us+m3", rate=170, pitch=50, sample_rate=16000)
    # espeak-ng's flutter state carries over between calls: the same words, a few samples apart.
    assert abs(len(a) - len(b)) < 0.01 * len(a)
    assert np.abs(starts - starts_b).max() < 0.005 * 16000
    assert a.dtype == np.float32 and 0.3 < len(a) / 16000 < 3 and np.abs(a).max() <= 1
    assert len(starts) == 3 and np.all(np.diff(starts) > 0) and starts[-1] < len(a)
    slow, _ = speech.synthesize("three one four", "en-us+m3", rate=100, sample_rate=16000)
    assert len(slow) > 1.3 * len(a)


def test_every_speaker_exists_and_test_speakers_are_unseen():
    assert not set(speech.TRAIN_VARIANTS) & set(speech.TEST_VARIANTS)
    assert not set(speech.speakers("train")) & set(speech.speakers("test"))
    assert speech.speakers("train") == speech.speakers("validation")
    for voice in speech.speakers("train") + speech.speakers("test"):
        waveform, _ = speech.synthesize("seven", voice)
        assert len(waveform) > 0.2 * speech.ESPEAK_RATE, voice
    with pytest.raises(ValueError, match="no voice"):
        speech.synthesize("seven", "xx-nowhere+m1")


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
    # Batching with a longer utterance changes nothing but the edge frame (and so, slightly, the statistics).
    alone, _ = speech.log_mel([a], CONFIG)
    np.testing.assert_allclose(features[0, : lengths[0] - 1], alone[0, : lengths[0] - 1], atol=0.05)


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
