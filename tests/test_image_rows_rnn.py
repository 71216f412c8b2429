"""image_rows_rnn: the split by image, the shifted and rotated test images, the reader's order of rows
(causal in the rows, changed by permuting them), the column reader, parameter counts, and the baseline."""

import keras
import numpy as np
import pytest

from recipes.common.digits import digit_images
from recipes.image_rows_rnn import data as D
from recipes.image_rows_rnn import demo
from recipes.image_rows_rnn.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config

SMALL = {**DEFAULT_CONFIG, "units": 8, "channels": 4}


def test_splits_are_disjoint_complete_and_stratified():
    data = D.load_data(SMALL)
    images, labels = digit_images()
    sizes = {name: len(data[name][1]) for name in ("train", "validation", "test")}
    assert sum(sizes.values()) == len(labels)
    assert data["test"][0].shape[1:] == (8, 8) and data["test"][0].min() >= 0 and data["test"][0].max() <= 1
    np.testing.assert_array_equal(data["test"][0], images[data["test_indices"]])
    for name, fraction in (("validation", SMALL["validation_fraction"]), ("test", SMALL["test_fraction"])):
        counts = np.bincount(data[name][1], minlength=10)
        assert np.all(np.abs(counts - fraction * np.bincount(labels)) <= 1), (name, counts)
    # No image is in two splits (compared by content, so duplicates across splits would show too).
    seen = {row.tobytes() for row in data["train"][0]}
    assert not any(row.tobytes() in seen for row in data["test"][0])
    # Another seed, another split.
    other = D.load_data({**SMALL, "seed": 1})
    assert not np.array_equal(other["test_indices"], data["test_indices"])


def test_shift_and_rotation_on_a_toy_image():
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    right = D.shift_images(image, 0, 1)
    np.testing.assert_array_equal(right[0, :, 1:], image[0, :, :-1])
    assert np.all(right[0, :, 0] == 0)
    up = D.shift_images(image, -1, 0)
    np.testing.assert_array_equal(up[0, :-1], image[0, 1:])
    assert np.all(up[0, -1] == 0)
    # A quarter turn anticlockwise, exactly, as np.rot90 does it.
    np.testing.assert_allclose(D.rotate_images(image, 90.0), np.rot90(image, 1, axes=(1, 2)), atol=1e-5)
    # 15 degrees moves ink but keeps most of it in the 8x8 frame.
    x = D.load_data(SMALL)["test"][0][:50]
    rotated = D.rotate_images(x, D.ROTATION_DEGREES)
    assert np.abs(rotated - x).mean() > 0.05 and rotated.sum() > 0.8 * x.sum()


def test_the_reader_reads_rows_in_order():
    """After k rows the LSTM knows rows 1..k only; permuting the rows changes what it says."""
    keras.utils.set_random_seed(0)
    model = build_model(SMALL)
    x = D.load_data(SMALL)["test"][0][:16]
    after = demo.probabilities_after_each_step(model, x, SMALL)  # (16, 8, 10)
    np.testing.assert_allclose(after[:, -1], model.predict_on_batch(x), atol=1e-5)
    changed = x.copy()
    changed[:, 5:] = 1.0 - changed[:, 5:]  # rows 6-8 only
    after_changed = demo.probabilities_after_each_step(model, changed, SMALL)
    np.testing.assert_allclose(after_changed[:, :5], after[:, :5], atol=1e-6)
    assert np.abs(after_changed[:, 5:] - after[:, 5:]).max() > 1e-4
    reversed_rows = model.predict_on_batch(x[:, ::-1])
    assert np.abs(reversed_rows - model.predict_on_batch(x)).max() > 1e-4


def test_column_reader_is_the_row_reader_on_the_transposed_image():
    keras.utils.set_random_seed(0)
    rows = build_model(SMALL)
    columns = build_model({**SMALL, "read_by": "columns"})
    columns.set_weights(rows.get_weights())
    x = D.load_data(SMALL)["test"][0][:16]
    np.testing.assert_allclose(columns.predict_on_batch(x), rows.predict_on_batch(np.transpose(x, (0, 2, 1))), atol=1e-6)


@pytest.mark.parametrize("model_name", ["lstm", "bidirectional_lstm", "cnn"])
def test_reported_parameter_count_is_the_models(model_name):
    config = {**SMALL, "model": model_name, "validation_fraction": 0.3, "test_fraction": 0.2}
    model = build_model(config)
    metrics = demo.evaluate(model, D.load_data(config), config)
    units, channels = config["units"], config["channels"]
    lstm = 4 * (8 + units + 1) * units  # kernel, recurrent kernel and bias of the four gates
    expected = {
        "lstm": lstm + (units + 1) * 10,
        "bidirectional_lstm": 2 * lstm + (2 * units + 1) * 10,
        "cnn": (9 + 1) * channels + (9 * channels + 1) * 2 * channels + (2 * 2 * 2 * channels + 1) * 10,
    }[model_name]
    assert metrics["parameters"] == model.count_params() == expected
    assert 0 <= metrics["shifted_accuracy"] <= 1 and 0 <= metrics["rotated_accuracy"] <= 1


def test_nearest_centroid_on_a_toy_case():
    train = np.array([[[0.0, 0.0]], [[0.2, 0.0]], [[1.0, 1.0]], [[0.8, 1.0]]])
    labels = np.array([0, 0, 1, 1])
    queries = np.array([[[0.1, 0.2]], [[0.9, 0.7]], [[0.4, 0.4]]])
    np.testing.assert_array_equal(demo.nearest_centroid_predictions(train, labels, queries)[:3], [0, 1, 0])


def test_config_errors_name_the_key():
    from recipes.common.config import ConfigError, check_rules

    with pytest.raises(ConfigError, match="'model' takes one of lstm, bidirectional_lstm, cnn, got gru"):
        check_rules({**SMALL, "model": "gru"}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'test_fraction' takes at most 0.1 with validation_fraction=0.4"):
        check_config({**SMALL, "validation_fraction": 0.4, "test_fraction": 0.3})
