"""raw_waveform_cnn: balanced, seeded word splits with unseen test voices, fixed-length clips,
gain invariance, a log-mel front end independent of the batch, reproducible initial filters,
and the frequency-response analysis against known filters."""

import keras
import numpy as np
import pytest

from recipes.common import speech
from recipes.common.config import ConfigError, check_rules
from recipes.raw_waveform_cnn import data as D
from recipes.raw_waveform_cnn import demo
from recipes.raw_waveform_cnn.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config

SMALL = {**DEFAULT_CONFIG, "num_train": 40, "num_validation": 20, "num_test": 20, "num_filters": 8, "channels": 8, "num_blocks": 2}


def test_word_list_is_balanced_and_seeded():
    words = D.word_list(60, seed=0, split="train")
    assert sorted(words) == sorted(D.WORDS * 3)
    assert words == D.word_list(60, seed=0, split="train")
    assert words != D.word_list(60, seed=0, split="test")
    assert words != D.word_list(60, seed=1, split="train")


def test_fix_length_pads_at_the_end_and_cuts():
    x = D.fix_length([np.ones(3, np.float32), np.arange(10, dtype=np.float32)], 5)
    assert x.shape == (2, 5, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :, 0], [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(x[1, :, 0], [0, 1, 2, 3, 4])


def test_split_sizes_must_be_multiples_of_the_vocabulary():
    with pytest.raises(ConfigError, match=r"'num_train' takes a multiple of 20 \(the number of words\), got 30. Use e.g. --set num_train=40."):
        check_config({**SMALL, "num_train": 30})
    with pytest.raises(ConfigError, match="'front_end' takes one of raw, log_mel, got mfcc"):
        check_rules({**SMALL, "front_end": "mfcc"}, CONFIG_RULES)


def test_front_end_sizes_must_fit_the_clip():
    check_config(SMALL)
    with pytest.raises(ConfigError, match="'num_blocks' takes at most 6 for the 125 frames of a clip"):
        check_config({**SMALL, "clip_seconds": 1.0, "frame_ms": 8.0, "num_blocks": 7})
    with pytest.raises(ConfigError, match="'stride_ms' takes a value at most frame_ms=8"):
        check_config({**SMALL, "stride_ms": 10.0})
    with pytest.raises(ConfigError, match="'channels' takes at most 16 for 10 blocks"):
        check_config({**SMALL, "clip_seconds": 10.0, "stride_ms": 0.5, "frame_ms": 1.0, "num_blocks": 10, "channels": 64})


def test_load_data_splits_labels_and_unseen_voices(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_RECIPES_CACHE", str(tmp_path))
    data = D.load_data(SMALL)
    for split in D.SPLITS:
        x, y = data[split]
        assert x.shape == (SMALL[f"num_{split}"], 8000, 1) and x.dtype == np.float32
        assert y.dtype == np.int32 and np.bincount(y, minlength=20).tolist() == [SMALL[f"num_{split}"] // 20] * 20
        assert np.all(np.abs(x) <= 1.0) and np.all(np.abs(x).max(axis=(1, 2)) > 0.1)
    test_variants = {voice.split("+")[1] for voice in data["test_voices"]}
    assert test_variants <= set(speech.TEST_VARIANTS) and not test_variants & set(speech.TRAIN_VARIANTS)
    # Labels follow the synthesized texts: the same seed gives the same word order.
    np.testing.assert_array_equal(data["train"][1], [D.WORDS.index(w) for w in D.word_list(40, 0, "train")])


@pytest.mark.parametrize("front_end", ["raw", "log_mel"])
def test_prediction_ignores_the_gain_and_the_rest_of_the_batch(front_end):
    keras.utils.set_random_seed(0)
    model = build_model({**SMALL, "front_end": front_end})
    rng = np.random.default_rng(0)
    quiet = (0.05 * rng.standard_normal((1, 8000, 1))).astype(np.float32)
    loud = (0.9 * np.sign(rng.standard_normal((3, 8000, 1)))).astype(np.float32)
    alone = model.predict_on_batch(quiet)
    # Per-clip normalization: scaling a clip changes nothing.
    np.testing.assert_allclose(model.predict_on_batch(4 * quiet), alone, atol=1e-5)
    # Per-value dB floor (no batch-wide top_db): a loud neighbour in the batch changes nothing.
    np.testing.assert_allclose(model.predict_on_batch(np.concatenate([quiet, loud]))[:1], alone, atol=1e-5)


def test_rebuilding_gives_the_initial_filters_demo_draws():
    first = build_model(SMALL).get_layer("waveform_filters").get_weights()[0]
    keras.utils.set_random_seed(123)  # the global seed must not matter: the initializer has its own
    again = build_model(SMALL).get_layer("waveform_filters").get_weights()[0]
    other = build_model({**SMALL, "seed": 1}).get_layer("waveform_filters").get_weights()[0]
    assert first.shape == (80, 1, 8)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_frequency_responses_find_and_sort_known_band_pass_filters():
    rate, taps = 8000, 80
    t = np.arange(taps) / rate
    centres = [2000.0, 500.0, 1000.0]
    kernel = np.stack([np.hanning(taps) * np.cos(2 * np.pi * f * t) for f in centres], axis=-1)[:, None, :]
    frequencies, db, peaks, order = demo.frequency_responses(kernel, rate)
    assert frequencies[0] == 0 and frequencies[-1] == rate / 2
    np.testing.assert_allclose(peaks, [500, 1000, 2000], atol=rate / demo.FFT_LENGTH)
    np.testing.assert_array_equal(order, [1, 2, 0])
    np.testing.assert_allclose(db.max(axis=1), 0.0, atol=1e-9)
    # A 10 ms Hann-windowed tone is down by more than 30 dB 1 kHz away from its centre.
    assert db[0, np.argmin(np.abs(frequencies - 1500))] < -30


def test_mel_centres_are_increasing_and_denser_at_low_frequencies():
    centres = demo.mel_centres(64, 8000)
    gaps = np.diff(centres)
    assert centres[0] > 20 and centres[-1] < 4000 and np.all(gaps > 0)
    assert gaps[-1] > 3 * gaps[0]
