"""recipes/common/augment.py: what each augmentation does to a signal, VTLP and SpecAugment, and the switches reaching the data."""

import keras
import numpy as np
import pytest

from recipes.common import augment, ctc, speech

RATE = 16000
OFF = {"speed_perturb": False, "reverb": False, "channel": False, "noise": "white"}


@pytest.fixture(scope="module")
def utterance():
    waveform, starts = speech.synthesize("three one four", "en-us+m3", sample_rate=RATE)
    return waveform * np.float32(0.5 / np.abs(waveform).max()), starts


def spectrum_slope(noise):
    """Least-squares slope of log power against log frequency (beta of 1 / f^beta, negated)."""
    power = np.abs(np.fft.rfft(noise)) ** 2
    f = np.arange(len(power))
    band = (f > 10) & (f < len(power) // 2)
    return np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]


@pytest.mark.parametrize("colour", sorted(augment.NOISE_COLOURS))
def test_coloured_noise_has_its_slope_and_unit_power(colour):
    noise = augment.coloured_noise(2**16, augment.NOISE_COLOURS[colour], np.random.default_rng(0))
    assert np.sqrt(np.mean(noise**2)) == pytest.approx(1, rel=1e-3)
    assert spectrum_slope(noise) == pytest.approx(-augment.NOISE_COLOURS[colour], abs=0.15)


def test_speed_perturbation_changes_the_length_by_its_factor(utterance):
    waveform, _ = utterance
    for factor in augment.SPEEDS:
        assert len(augment.speed(waveform, factor)) == pytest.approx(len(waveform) / factor, abs=2)


def test_reverberation_keeps_length_and_peak_and_spreads_energy_in_time(utterance):
    waveform, _ = utterance
    wet = augment.reverberate(waveform, RATE, np.random.default_rng(1))
    assert len(wet) == len(waveform) and np.abs(wet).max() == pytest.approx(np.abs(waveform).max(), rel=1e-5)
    response = augment.room_impulse_response(RATE, np.random.default_rng(1))
    assert response[0] == 1 and np.abs(response[1:]).max() < 1 and augment.RT60_RANGE[0] * RATE <= len(response) <= augment.RT60_RANGE[1] * RATE


def test_the_telephone_channel_removes_low_and_high_frequencies():
    rng = np.random.default_rng(0)
    noise = augment.coloured_noise(RATE, 0.0, rng)
    # The first seed whose first draw is below TELEPHONE_PROBABILITY picks the telephone band.
    seed = next(s for s in range(100) if np.random.default_rng(s).random() < augment.TELEPHONE_PROBABILITY)
    phone = augment.channel(noise, RATE, np.random.default_rng(seed))
    power = np.abs(np.fft.rfft(phone)) ** 2
    hz = np.fft.rfftfreq(len(phone), 1 / RATE)
    inside, outside = power[(hz > 500) & (hz < 3000)].mean(), power[(hz < 150) | (hz > 5000)].mean()
    assert outside < inside / 100


def test_noise_is_added_at_the_asked_snr(utterance):
    waveform, _ = utterance
    noise = augment.coloured_noise(len(waveform), 1.0, np.random.default_rng(2))
    noisy = augment.add_noise(waveform, noise, 12.0)
    measured = 10 * np.log10(augment.speech_power(waveform) / np.mean((noisy - waveform) ** 2))
    assert measured == pytest.approx(12.0, abs=0.2)


def test_babble_is_other_speech():
    others = [speech.synthesize(t, "en-us+f2", sample_rate=RATE)[0] for t in ("one two", "five six seven", "nine", "eight zero")]
    crowd = augment.babble(RATE, others, np.random.default_rng(0))
    assert len(crowd) == RATE and np.sqrt(np.mean(crowd**2)) == pytest.approx(1, rel=1e-3)


def test_with_every_switch_off_training_audio_is_only_white_noise(utterance):
    waveform, starts = utterance
    config = {**augment.AUGMENT_DEFAULTS, **OFF, "sample_rate": RATE}
    [noisy], [moved] = augment.augment_waveforms([waveform], [starts], [20.0], config, np.random.default_rng(0))
    assert len(noisy) == len(waveform) and np.array_equal(moved, starts)
    assert spectrum_slope(noisy - waveform) == pytest.approx(0, abs=0.15)
    config = {**config, "speed_perturb": True}
    lengths = {len(augment.augment_waveforms([waveform], [starts], [20.0], config, np.random.default_rng(s))[0][0]) for s in range(20)}
    assert len(lengths) == 3  # 0.9, 1.0, 1.1


def test_vtlp_moves_energy_along_the_bands():
    mel = np.zeros((1, 40))
    mel[0, 10] = 1.0
    assert np.array_equal(speech.warp_mel(mel, 1.0, RATE), mel)
    up, down = speech.warp_mel(mel, 1.1, RATE), speech.warp_mel(mel, 0.9, RATE)
    centre = np.arange(40)

    def centroid(m):
        return (m[0] * centre).sum() / m[0].sum()

    assert centroid(up) > 10 > centroid(down)  # a longer vocal tract (alpha < 1) lowers the formants


def test_spec_augment_masks_only_while_training_and_round_trips(tmp_path):
    features = np.random.default_rng(0).standard_normal((4, 120, 40)).astype("float32")
    layer = augment.SpecAugment(freq_masks=2, freq_width=6, time_masks=2, time_width=8, seed=3)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(features)), features)
    masked = keras.ops.convert_to_numpy(layer(features, training=True))
    zero = masked == 0
    assert zero.any() and zero.mean() < 0.5
    # Masks are whole bands and whole frames: a zeroed entry is in a zeroed band or a zeroed frame.
    bands, frames = zero.all(axis=1), zero.all(axis=2)
    assert np.array_equal(zero, bands[:, None, :] | frames[:, :, None])
    assert not np.array_equal(masked, keras.ops.convert_to_numpy(layer(features, training=True)))
    inputs = keras.Input((None, 40))
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[1].get_config() == layer.get_config()


def test_the_switches_reach_the_data(tmp_path, monkeypatch):
    """Classic voices and plain prosody change the training voices; the test splits never change."""
    monkeypatch.setenv("RNN_RECIPES_CACHE", str(tmp_path))
    base = {**ctc.DATA_DEFAULTS, "seed": 0, "num_train": 12, "num_validation": 3, "num_test": 4}
    plain = ctc.load_spoken_digits({**base, **OFF, "voices": "classic", "prosody": "plain", "vtlp": False})
    varied = ctc.load_spoken_digits(base)
    classic = set(speech.RECOGNIZER_TRAIN_VARIANTS["classic"])
    assert {v.split("+")[1] for v in plain["voices"]["train"]} <= classic
    assert {v.split("+")[1] for v in plain["voices"]["out_of_family"]} <= set(speech.KLATT_VARIANTS)
    for split in ("test", "out_of_family"):
        assert plain["texts"][split] == varied["texts"][split]
        for a, b in zip(plain["waveforms"][split], varied["waveforms"][split]):
            np.testing.assert_array_equal(a, b)
    assert plain["texts"]["train"] == varied["texts"]["train"]
    assert not np.array_equal(plain["train"][0], varied["train"][0][:, : plain["train"][0].shape[1]])
