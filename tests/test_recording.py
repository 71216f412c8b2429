"""recording: what a phone or laptop records is cleaned, and a file with no speech is told apart, whatever its level."""

import functools

import numpy as np
import pytest

from recipes.common import recording, speech

TEXT, VOICE = "seven three one four", "en-gb-x-rp+f4"  # a voice never heard in training
RATES = (8000, 16000, 44100, 48000)


@functools.cache
def _spoken(rate):
    """(waveform peaking at 0.5, first word's start sample, last sample above 1% of the peak) at `rate` Hz."""
    waveform, starts = speech.synthesize(TEXT, VOICE, sample_rate=rate)
    waveform = 0.5 * waveform / np.abs(waveform).max()
    audible = np.flatnonzero(np.abs(waveform) > 0.005)
    return waveform.astype(np.float64), int(starts[0]), int(audible[-1])


def _noise_like(waveform, snr_db, rng, length=None):
    """White noise at `snr_db` below the power of the speech's loud samples."""
    loud = waveform[np.abs(waveform) > 0.05]
    return rng.standard_normal(length or len(waveform)) * np.sqrt(np.mean(loud**2) / 10 ** (snr_db / 10))


def _recording(rate, kind, rng):
    """The digit string at 10 dB SNR, as one kind of bad recording."""
    waveform, _, _ = _spoken(rate)
    noisy = waveform + _noise_like(waveform, 10, rng)
    pad = np.zeros(2 * rate)
    return {
        "plain": noisy,
        "stereo": np.stack([noisy, 0.7 * noisy], axis=1),
        "silence around": np.concatenate([pad, noisy, pad]),
        "noise around": np.concatenate([pad, waveform, pad]) + _noise_like(waveform, 10, rng, len(waveform) + 2 * len(pad)),
        "clipped": np.clip(8 * noisy, -1, 1),
        "dc offset": noisy + 0.3,
        "quiet": 0.003 * noisy,
    }[kind]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("kind", ["plain", "stereo", "silence around", "noise around", "clipped", "dc offset", "quiet"])
def test_a_digit_string_in_a_bad_recording_is_speech(rate, kind):
    present, reason = recording.speech_present(_recording(rate, kind, np.random.default_rng(0)), rate)
    assert present and reason == "speech", (rate, kind, reason, recording.measure(_recording(rate, kind, np.random.default_rng(0)), rate))


@pytest.mark.parametrize("variant", speech.TEST_VARIANTS)
def test_every_unseen_voice_is_speech(variant):
    # Voices differ most in how their power spreads over harmonics (tonality) and how periodic they are.
    waveform, _ = speech.synthesize("nine one five two", f"en-us-nyc+{variant}", sample_rate=44100)
    waveform = 0.5 * waveform / np.abs(waveform).max() + 0.01 * np.random.default_rng(5).standard_normal(len(waveform))
    assert recording.speech_present(waveform, 44100) == (True, "speech"), recording.measure(waveform, 44100)


def _colored_noise(n, rng, exponent):
    """Noise with power falling as 1/f**exponent (1: pink, 2: brown), peak 0.3."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.arange(len(spectrum)), 1)
    x = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    return 0.3 * x / np.abs(x).max()


NOT_SPEECH = {
    "digital silence": (lambda t, rng: np.zeros(len(t)), "silent (digital silence)"),
    "quiet hiss": (lambda t, rng: 10 ** (-80 / 20) / 4 * np.clip(rng.standard_normal(len(t)), -4, 4), "silent (peak -80 dBFS)"),
    "white noise": (lambda t, rng: 0.1 * rng.standard_normal(len(t)), "steady noise or tone"),
    "pink noise": (lambda t, rng: _colored_noise(len(t), rng, 1), "steady noise or tone"),
    "brown noise": (lambda t, rng: _colored_noise(len(t), rng, 2), "steady noise or tone"),
    "mains hum": (lambda t, rng: 0.3 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 8)), "steady noise or tone"),
    "tone with dc": (lambda t, rng: 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.3, "steady noise or tone"),
    "tone bursts": (lambda t, rng: 0.5 * np.sin(2 * np.pi * 1000 * t) * ((t % 0.5) < 0.25) + 1e-3 * rng.standard_normal(len(t)), "tones or beeps"),
    "two-tone beeps": (
        lambda t, rng: 0.5 * np.sin(2 * np.pi * np.where((t % 0.4) < 0.2, 700, 1200) * t) * ((t % 0.2) < 0.15) + 1e-4 * rng.standard_normal(len(t)),
        "tones or beeps",
    ),
    "noise bursts": (
        lambda t, rng: 0.3 * rng.standard_normal(len(t)) * ((t % 0.5) < 0.2) + 1e-3 * rng.standard_normal(len(t)),
        "noise that starts and stops",
    ),
    "clicks": (lambda t, rng: np.where(np.arange(len(t)) % (len(t) // 9) == 0, 0.9, 0.0) + 1e-3 * rng.standard_normal(len(t)), "only clicks"),
}


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("name", sorted(NOT_SPEECH))
def test_no_speech_is_told_apart_with_a_reason(rate, name):
    make, reason = NOT_SPEECH[name]
    waveform = make(np.arange(3 * rate) / rate, np.random.default_rng(1))
    present, why = recording.speech_present(waveform, rate)
    assert not present and why.startswith(reason), (name, why, recording.measure(waveform, rate))


def test_the_level_does_not_decide():
    # The same noise and the same speech, 40 dB apart: each keeps its verdict.
    rng = np.random.default_rng(2)
    noise = 0.1 * rng.standard_normal(3 * 16000)
    spoken = _recording(16000, "noise around", rng)
    for gain in (1.0, 0.01):
        assert not recording.speech_present(gain * noise, 16000)[0]
        assert recording.speech_present(gain * spoken, 16000)[0]


@pytest.mark.parametrize("rate", RATES)
def test_trimming_keeps_the_speech_and_about_the_margin_around_it(rate):
    waveform, first_word, last_audible = _spoken(rate)
    pad = 2 * rate
    rng = np.random.default_rng(3)
    for around in ("silence", "noise"):
        x = np.concatenate([np.zeros(pad), waveform, np.zeros(pad)])
        if around == "noise":
            x = x + _noise_like(waveform, 10, rng, len(x))
        start, end = recording.speech_bounds(x, rate)
        assert start <= pad + first_word and end > pad + last_audible, (around, start, end)  # never into speech
        # ...and the seconds of silence or noise are gone, but for about the margin.
        kept = (end - start - (last_audible - first_word)) / rate
        assert kept < 2 * recording.TRIM_MARGIN + 0.4, (around, kept)


def test_clean_removes_dc_trims_sets_the_level_and_mixes_to_mono():
    rate = 16000
    waveform, _, _ = _spoken(rate)
    rng = np.random.default_rng(4)
    pad = np.zeros(2 * rate)
    x = np.concatenate([pad, waveform, pad]) + _noise_like(waveform, 20, rng, len(waveform) + 4 * rate) + 0.3
    cleaned, notes = recording.clean(np.stack([x, x], axis=1), rate)
    assert cleaned.ndim == 1 and cleaned.dtype == np.float32
    assert abs(float(cleaned.mean())) < 0.01
    assert np.abs(cleaned).max() == pytest.approx(recording.PEAK_LEVEL, abs=0.05)
    # No stretch of digital silence is left (the recognizers never heard one), and the same file cleans the same.
    assert np.sqrt(np.mean(cleaned[: len(cleaned) // 160 * 160].reshape(-1, 160) ** 2, axis=1)).min() > 0.5 * 10 ** (recording.NOISE_FLOOR_DBFS / 20)
    assert np.array_equal(cleaned, recording.clean(np.stack([x, x], axis=1), rate)[0])
    assert len(cleaned) < len(waveform) + 2 * (recording.TRIM_MARGIN + 0.2) * rate
    assert notes == []


def test_clipping_is_measured_and_becomes_a_note():
    rate = 16000
    waveform, _, _ = _spoken(rate)
    assert recording.clipped_fraction(waveform) == 0.0
    assert recording.clipped_fraction(np.zeros(1000)) == 0.0
    clipped = np.clip(8 * waveform, -1, 1)
    share = float(np.mean(np.abs(clipped) >= 0.999))
    assert recording.clipped_fraction(clipped) == pytest.approx(share)
    _, notes = recording.clean(clipped, rate)
    assert notes == [f"{share:.0%} of samples are clipped: record further from the microphone or at lower gain"]
    # Flat tops below full scale (clipped before a gain stage) count too, but only in runs of CLIP_RUN or more.
    flat = np.clip(waveform, -0.2, 0.2)
    at_extreme = float(np.mean(np.abs(flat) >= 0.2))
    assert 0.5 * at_extreme < recording.clipped_fraction(flat) <= at_extreme
    assert recording.clipped_fraction(np.array([0.0, 0.1, 0.5, 0.1, 0.0, -0.3, 0.0])) == 0.0
    assert recording.clean(waveform, rate)[1] == []


@pytest.mark.parametrize("rate, accepted", [(4000, False), (7999, False), (8000, True), (44100, True), (48000, True), (96000, False)])
def test_sample_rates_from_8_to_48_khz(rate, accepted):
    if accepted:
        recording.check_rate(rate, "me.wav")
    else:
        with pytest.raises(speech.AudioError, match=rf"me.wav is sampled at {rate:,} Hz; .*8,000 to 48,000 Hz: resample to 16 kHz"):
            recording.check_rate(rate, "me.wav")
