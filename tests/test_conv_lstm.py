"""conv_lstm: bouncing inside the frame, digit images split before the videos are made, the shifted
targets, the model's causality in time, the rollout against a known copying model, and parameter counts."""

import keras
import numpy as np
import pytest

from recipes.common.digits import digit_images
from recipes.conv_lstm import data as D
from recipes.conv_lstm import demo
from recipes.conv_lstm.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config

SMALL = {**DEFAULT_CONFIG, "num_train": 40, "num_validation": 8, "num_test": 16, "filters": 4, "units": 3}


def test_bounce_reflects_at_the_walls():
    np.testing.assert_array_equal(D.bounce(np.array([0]), np.array([3]), 6, 4)[:, 0], [0, 3, 2, 1, 4, 1])
    rng = np.random.default_rng(0)
    start = rng.integers(0, 17, size=500)
    velocity = rng.integers(-8, 9, size=500)
    positions = D.bounce(start, velocity, 30, 16)
    assert positions.min() >= 0 and positions.max() <= 16
    # The speed never changes, only the direction.
    np.testing.assert_array_equal(np.abs(np.diff(positions, axis=0)).max(axis=0) <= np.abs(velocity), True)


def test_digits_stay_whole_inside_the_frame_and_bounce():
    config = {**SMALL, "num_digits": 1, "num_test": 64, "num_frames": 16}
    data = D.load_data(config)
    images, _ = digit_images()
    x, y = data["test"]
    frames = np.concatenate([x, y[:, -1:]], axis=1)[..., 0]  # (N, T, S, S)
    positions, digits = data["test_positions"], data["test_digits"]
    for n in range(len(frames)):
        image = images[digits[n, 0]]
        for t in range(frames.shape[1]):
            row, column = positions[n, t, 0]
            assert 0 <= row <= 16 and 0 <= column <= 16
            np.testing.assert_array_equal(frames[n, t, row : row + 8, column : column + 8], image)
            assert np.isclose(frames[n, t].sum(), image.sum())  # no ink anywhere else, none cut off
    steps = np.diff(positions[:, :, 0], axis=1)  # (N, T-1, 2)
    assert np.all(np.abs(steps) <= config["max_speed"])
    assert np.any(np.sign(steps[:, 1:]) == -np.sign(steps[:, :-1]))  # some digit turned at a wall


def test_test_videos_move_digit_images_never_used_in_training():
    data = D.load_data(SMALL)
    pools = data["digit_pools"]
    assert not set(pools["train"]) & set(pools["test"]) and not set(pools["train"]) & set(pools["validation"])
    assert set(data["test_digits"].ravel()) <= set(pools["test"])
    images, _ = digit_images()
    train_images = {images[i].tobytes() for i in pools["train"]}
    assert not any(images[i].tobytes() in train_images for i in data["test_digits"].ravel())


def test_targets_are_the_inputs_one_frame_later():
    for split in ("train", "test"):
        x, y = D.load_data(SMALL)[split]
        assert x.shape == y.shape == (SMALL[f"num_{split}"], SMALL["num_frames"] - 1, 24, 24, 1)
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        assert np.any(x[:, 0] != y[:, 0])


@pytest.mark.parametrize("model_name", ["conv_lstm", "lstm"])
def test_prediction_at_step_t_ignores_later_frames(model_name):
    keras.utils.set_random_seed(0)
    model = build_model({**SMALL, "model": model_name})
    x = D.load_data(SMALL)["test"][0][:4]
    changed = x.copy()
    changed[:, 5:] = 1.0 - changed[:, 5:]
    before, after = model.predict_on_batch(x), model.predict_on_batch(changed)
    np.testing.assert_allclose(after[:, :5], before[:, :5], atol=1e-6)
    assert np.abs(after[:, 5:] - before[:, 5:]).max() > 1e-5


def test_rollout_of_a_copying_model_is_the_copy_baseline():
    """A model that outputs its input frame is exactly 'copy the last frame', closed loop or not."""
    frames = keras.Input(shape=(None, 24, 24, 1), name="frames")
    copying = keras.Model(frames, keras.layers.Identity()(frames))
    config = {**SMALL, "context_frames": 3, "rollout_frames": 4}
    data = D.load_data(config)
    metrics = demo.evaluate(copying, data, config)
    assert metrics["next_frame_mse"] == pytest.approx(metrics["copy_last_mse"])
    assert metrics["rollout_mse"] == pytest.approx(metrics["copy_last_rollout_mse"])
    assert metrics["copy_last_rollout_mse"] > metrics["copy_last_mse"] > 0  # later frames drift further
    x, y = data["test"]
    truth, copy = demo.rollout_targets(x, y, 3, 4)
    np.testing.assert_array_equal(truth, x[:, 3:7])
    np.testing.assert_array_equal(copy, np.repeat(x[:, 2:3], 4, axis=1))


@pytest.mark.parametrize("model_name", ["conv_lstm", "lstm"])
def test_reported_parameter_count_is_the_models(model_name):
    config = {**SMALL, "model": model_name}
    model = build_model(config)
    f, k, u, pixels = config["filters"], config["kernel_size"], config["units"], 24 * 24
    expected = {
        # Four gates: a k x k convolution of [x_t, h_{t-1}] (1 + f channels) to f channels, plus biases; then the readout.
        "conv_lstm": 4 * f * (k * k * (1 + f) + 1) + (k * k * f + 1),
        "lstm": 4 * u * (pixels + u + 1) + (u + 1) * pixels,
    }[model_name]
    assert demo.evaluate(model, D.load_data(config), config)["parameters"] == model.count_params() == expected


def test_config_errors_name_the_key():
    from recipes.common.config import ConfigError, check_rules

    with pytest.raises(ConfigError, match="'model' takes one of conv_lstm, lstm, got gru"):
        check_rules({**SMALL, "model": "gru"}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'rollout_frames' takes at most 5"):
        check_config({**SMALL, "rollout_frames": 6})
    with pytest.raises(ConfigError, match="'max_speed' takes at most 2"):
        check_config({**SMALL, "frame_size": 10, "max_speed": 3})
