"""sine_continuation: the data and its given flags, the closed loop, and parameter matching."""

import keras
import numpy as np
import pytest

from recipes.common.cells import recurrent_parameter_count
from recipes.common.config import ConfigError, check_rules
from recipes.sine_continuation import data, demo
from recipes.sine_continuation.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config


def small_config(**changes):
    return {
        **DEFAULT_CONFIG,
        "units": 6,
        "num_train": 16,
        "num_validation": 8,
        "num_test": 4,
        "sequence_length": 30,
        "min_teacher_forced_steps": 10,
        "prime_steps": 12,
        "continuation_steps": 20,
        **changes,
    }


def test_data_shapes_flags_and_targets():
    config = small_config()
    splits = data.load_data(config)
    x, y = splits["train"]
    assert x.shape == (16, 29, 2) and y.shape == (16, 29, 1)
    assert x.dtype == y.dtype == np.float32
    given = x[..., 1]
    # Each curve is given for a prefix of at least min_teacher_forced_steps steps, then never again.
    lengths = given.sum(axis=1)
    assert lengths.min() >= 10 and lengths.max() <= 29
    np.testing.assert_array_equal(given, np.arange(29)[None, :] < lengths[:, None])
    # Where a sample is given, the target is the next input sample; elsewhere the sample is 0.
    np.testing.assert_array_equal((x[:, 1:, 0] - y[:, :-1, 0])[given[:, 1:] == 1], 0.0)
    np.testing.assert_array_equal(x[..., 0][given == 0], 0.0)
    # The test inputs give exactly the priming samples.
    x_test, _ = splits["test"]
    assert x_test.shape == (4, 31, 2)
    np.testing.assert_array_equal(x_test[..., 1].sum(axis=1), 12)
    np.testing.assert_array_equal(x_test[:, :12, 0], splits["test_curves"][:, :12])


def test_curves_have_the_drawn_period_and_are_seeded():
    splits = data.load_data(small_config(continuation_steps=400))
    curves, periods = splits["test_curves"], splits["test_periods"]
    assert np.all((periods >= 20.0) & (periods <= 60.0))
    # A sine of period p repeats after p samples: compare x_t with the curve interpolated at t + p.
    t = np.arange(curves.shape[1] - 70)
    for curve, period in zip(curves, periods):
        shifted = np.interp(t + period, np.arange(curves.shape[1]), curve)
        np.testing.assert_allclose(shifted, curve[t], atol=0.02)
    again = data.load_data(small_config(continuation_steps=400))
    np.testing.assert_array_equal(again["test_curves"], curves)
    other = data.load_data(small_config(continuation_steps=400, seed=1))
    assert not np.allclose(other["test_curves"], curves)
    # A bigger training split leaves the other splits unchanged.
    bigger = data.load_data(small_config(continuation_steps=400, num_train=32))
    np.testing.assert_array_equal(bigger["test_curves"], curves)
    np.testing.assert_array_equal(bigger["validation"][0], splits["validation"][0])


@pytest.mark.parametrize("cell", ["lstm", "basic_rnn", "keras_gru"])
def test_free_running_equals_teacher_forcing_on_its_own_predictions(cell):
    # Running free must be the same as teacher forcing where the "true" samples after
    # priming are the model's own earlier predictions.
    keras.utils.set_random_seed(0)
    config = small_config(cell=cell)
    model = build_model(config)
    splits = data.load_data(config)
    prime = config["prime_steps"]
    generated = demo.continuation(model, splits, config)
    assert generated.shape == (4, 20)
    # Known samples: the priming curve, then the generated ones, all marked as given.
    known = np.concatenate([splits["test_curves"][:, :prime], generated[:, :-1]], axis=1)
    forced = np.stack([known, np.ones_like(known)], axis=-1)
    one_step = np.asarray(model.predict_on_batch(forced))[:, prime - 1 :, 0]
    np.testing.assert_allclose(one_step, generated, atol=1e-5)


def test_evaluate_reports_both_errors():
    keras.utils.set_random_seed(0)
    config = small_config()
    metrics = demo.evaluate(build_model(config), data.load_data(config), config)
    assert set(metrics) == {"continuation_mse", "next_sample_mse"}
    assert all(np.isfinite(value) and value >= 0 for value in metrics.values())


@pytest.mark.parametrize("cell", ["basic_rnn", "keras_simple_rnn", "keras_gru", "keras_lstm"])
def test_match_params_sizes_the_cell_like_our_lstm(cell):
    reference = recurrent_parameter_count("lstm", 64, 1) + 64 + 1
    model = build_model({**DEFAULT_CONFIG, "cell": cell, "match_params": True})
    assert abs(model.count_params() - reference) / reference < 0.03


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="'cell' takes one of .*, got foo"):
        check_rules({**DEFAULT_CONFIG, "cell": "foo"}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'min_period' takes a number in"):
        check_rules({**DEFAULT_CONFIG, "min_period": 1.0}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'min_period' takes a value at most max_period=60"):
        check_config({**DEFAULT_CONFIG, "min_period": 80.0})
    with pytest.raises(ConfigError, match="'num_train' takes at most 100,000 curves of 200 steps"):
        check_config({**DEFAULT_CONFIG, "num_train": 200_000})
