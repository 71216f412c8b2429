"""Deep RNN: the product-sum data, the deep-transition cell against NumPy, and the wiring of
stacked layers with and without skip connections."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.deep_rnn import data as deep_data
from recipes.deep_rnn import demo as deep_demo
from recipes.deep_rnn.model import CONFIG_RULES, DEFAULT_CONFIG, DeepTransitionCell, build_model, check_config

SMALL = {**DEFAULT_CONFIG, "units": 8, "num_train": 16, "num_validation": 8, "num_test": 8, "sequence_length": 6}


def test_targets_are_running_sums_of_products():
    x, y = deep_data.product_sum_sequences(50, 12, 7, np.random.default_rng(0))
    assert x.shape == (50, 12, 14) and y.shape == (50, 12)
    a, b = np.argmax(x[..., :7], axis=-1), np.argmax(x[..., 7:], axis=-1)
    np.testing.assert_array_equal(x.sum(axis=-1), 2.0)  # one one-hot digit in each half
    for n in range(50):
        value = 0
        for t in range(12):
            value = (value + a[n, t] * b[n, t]) % 7
            assert y[n, t] == value


def test_splits_are_seeded_and_independent():
    config = {**SMALL, "num_train": 30}
    first, again = deep_data.load_data(config), deep_data.load_data(config)
    np.testing.assert_array_equal(first["train"][0], again["train"][0])
    assert not np.array_equal(first["train"][0][:8], first["test"][0])
    # Resizing the training split leaves the test split unchanged.
    np.testing.assert_array_equal(first["test"][0], deep_data.load_data({**config, "num_train": 10})["test"][0])
    with pytest.raises(ConfigError, match="'modulus' takes an integer from 2 to 100, got 1"):
        check_rules({**config, "modulus": 1}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'num_train' takes at most 100,000 sequences of 50 steps x 20 one-hot features"):
        check_config({**config, "sequence_length": 50, "modulus": 10, "num_train": 100_001})


def numpy_deep_transition(cell, inputs):
    """The DT(S)-RNN update of the cell's docstring, in NumPy."""
    kernels = [keras.ops.convert_to_numpy(k).astype("float64") for k in cell.kernels]
    biases = [keras.ops.convert_to_numpy(b).astype("float64") for b in cell.biases]
    shortcut = None if cell.shortcut_kernel is None else keras.ops.convert_to_numpy(cell.shortcut_kernel).astype("float64")
    h = np.zeros((inputs.shape[0], cell.units))
    outputs = []
    for t in range(inputs.shape[1]):
        joined = np.concatenate([inputs[:, t], h], axis=-1)
        z = joined
        for kernel, bias in zip(kernels[:-1], biases[:-1]):
            z = np.maximum(z @ kernel + bias, 0.0)
        pre = z @ kernels[-1] + biases[-1] + (0.0 if shortcut is None else joined @ shortcut)
        h = np.tanh(pre)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("depth,shortcut", [(1, False), (2, False), (3, False), (2, True), (3, True)])
def test_deep_transition_cell_matches_numpy(depth, shortcut):
    keras.utils.set_random_seed(depth)
    inputs = np.random.default_rng(depth).normal(size=(4, 7, 3)).astype("float32")
    cell = DeepTransitionCell(5, depth=depth, shortcut=shortcut)
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build(inputs.shape)
    # Random biases, so the test also checks where they are added.
    for bias in cell.biases:
        bias.assign(np.random.default_rng(9).normal(size=bias.shape))
    outputs = keras.ops.convert_to_numpy(layer(inputs))
    np.testing.assert_allclose(outputs, numpy_deep_transition(cell, inputs.astype("float64")), rtol=1e-4, atol=1e-5)


def test_deep_transition_weights():
    cell = DeepTransitionCell(6, depth=3, shortcut=True)
    cell.build((None, 4))
    assert [tuple(k.shape) for k in cell.kernels] == [(10, 6), (6, 6), (6, 6)]
    assert tuple(cell.shortcut_kernel.shape) == (10, 6)
    shallow = DeepTransitionCell(6, depth=1, shortcut=True)
    shallow.build((None, 4))
    assert shallow.shortcut_kernel is None and len(shallow.weights) == 2  # depth 1 is the basic RNN
    with pytest.raises(ValueError, match="depth"):
        DeepTransitionCell(6, depth=0)


def layer_input_widths(model):
    """{recurrent layer name: width of its input}."""
    return {name: int(model.get_layer(name).input.shape[-1]) for name in deep_demo.recurrent_layer_names(model)}


def test_stacked_wiring_with_and_without_skips():
    features = 2 * SMALL["modulus"]
    plain = build_model({**SMALL, "num_layers": 3, "skip_connections": False, "dropout": 0.2})
    assert layer_input_widths(plain) == {"recurrent_1": features, "recurrent_2": 8, "recurrent_3": 8}
    assert int(plain.get_layer("readout").input.shape[-1]) == 8
    assert [layer.name for layer in plain.layers if isinstance(layer, keras.layers.Dropout)] == ["recurrent_dropout_1", "recurrent_dropout_2"]
    skips = build_model({**SMALL, "num_layers": 3, "skip_connections": True, "dropout": 0.2})
    # Every layer above the first also reads the input; the readout reads all three layers.
    assert layer_input_widths(skips) == {"recurrent_1": features, "recurrent_2": features + 8, "recurrent_3": features + 8}
    assert int(skips.get_layer("readout").input.shape[-1]) == 3 * 8
    assert [layer.name for layer in skips.layers if isinstance(layer, keras.layers.Dropout)] == ["recurrent_dropout_1", "recurrent_dropout_2"]


def test_deep_transition_model_has_one_recurrent_layer():
    model = build_model({**SMALL, "architecture": "deep_transition", "num_layers": 3})
    assert deep_demo.recurrent_layer_names(model) == ["deep_transition"]
    assert model.get_layer("deep_transition").cell.depth == 3


def test_probe_reads_a_linear_code_and_not_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=(40, 10))
    assert deep_demo.probe_accuracy(np.eye(5)[labels] * 2.0 - 1.0, labels, 5) == 1.0
    assert deep_demo.probe_accuracy(rng.normal(size=(40, 10, 5)), labels, 5) < 0.4


def test_evaluate_reports_parameters_and_sequence_accuracy():
    config = {**SMALL, "num_layers": 2}
    keras.utils.set_random_seed(0)
    model = build_model(config)
    metrics = deep_demo.evaluate(model, deep_data.load_data(config), config)
    assert metrics["parameters"] == model.count_params()
    assert 0.0 <= metrics["sequence_accuracy"] <= 1.0
