"""Echo state network: the reservoir's spectral radius, its frozen weights, the leaky update
against NumPy, the data windows, the closed-form readout, and free-running generation."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError
from recipes.echo_state_network import data as esn_data
from recipes.echo_state_network import demo as esn_demo
from recipes.echo_state_network.model import (
    DEFAULT_CONFIG,
    ReservoirCell,
    build_model,
    check_config,
    prepare,
    reservoir_matrices,
    ridge_readout,
)

# A small, quick configuration of the recipe (same code paths as the default).
SMALL = {**DEFAULT_CONFIG, "units": 40, "series_length": 600, "washout": 20, "window": 40, "free_run_steps": 20}


@pytest.mark.parametrize("spectral_radius", [0.5, 0.9, 1.3])
@pytest.mark.parametrize("sparsity", [0.0, 0.9])
def test_reservoir_has_the_configured_spectral_radius(spectral_radius, sparsity):
    cell = ReservoirCell(60, spectral_radius=spectral_radius, sparsity=sparsity, seed=3)
    cell.build((None, 1))
    recurrent = keras.ops.convert_to_numpy(cell.recurrent_kernel).astype("float64")
    assert np.max(np.abs(np.linalg.eigvals(recurrent))) == pytest.approx(spectral_radius, rel=1e-5)
    zero_fraction = np.mean(recurrent == 0.0)
    assert zero_fraction == pytest.approx(sparsity, abs=0.05)


def test_same_seed_same_reservoir_other_seed_other_reservoir():
    first = reservoir_matrices(30, 1, 0.9, 1.0, 0.5, seed=1)
    again = reservoir_matrices(30, 1, 0.9, 1.0, 0.5, seed=1)
    other = reservoir_matrices(30, 1, 0.9, 1.0, 0.5, seed=2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[1], other[1])


def test_reservoir_is_not_trained():
    config = {**SMALL, "readout": "gradient"}
    data = esn_data.load_data(config)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    cell = model.get_layer("reservoir").cell
    assert cell.trainable_weights == [] and len(cell.non_trainable_weights) == 3
    # Only the readout (kernel and bias) is trainable.
    assert sorted(w.path for w in model.trainable_weights) == ["readout/bias", "readout/kernel"]
    before = [keras.ops.convert_to_numpy(w) for w in cell.weights]
    readout_before = keras.ops.convert_to_numpy(model.get_layer("readout").kernel)
    x, y = data["train"]
    model.train_on_batch(x[:4], y[:4])
    for old, new in zip(before, cell.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
    assert not np.allclose(readout_before, keras.ops.convert_to_numpy(model.get_layer("readout").kernel))


def test_build_model_only_builds_and_prepare_solves_the_frozen_readout():
    keras.utils.set_random_seed(0)
    model = build_model(SMALL)
    assert model.trainable_weights == []
    data = esn_data.load_data(SMALL)
    x, y = data["validation"]
    # Built, the readout is still its random initialisation.
    assert esn_demo.nrmse(model.predict(x, verbose=0), y) > 0.2
    prepare(model, data, SMALL)
    assert model.trainable_weights == []
    # The closed-form readout already predicts the next step well before any fit.
    assert esn_demo.nrmse(model.predict(x, verbose=0), y) < 0.05


def test_prepare_leaves_a_gradient_readout_alone():
    config = {**SMALL, "readout": "gradient"}
    keras.utils.set_random_seed(0)
    model = build_model(config)
    before = keras.ops.convert_to_numpy(model.get_layer("readout").kernel)
    prepare(model, esn_data.load_data(config), config)
    np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(model.get_layer("readout").kernel))


def test_cell_matches_numpy_leaky_update():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 25, 2)).astype("float32")
    leak = 0.3
    cell = ReservoirCell(16, spectral_radius=1.1, leak_rate=leak, input_scaling=0.5, sparsity=0.5, seed=7)
    outputs = keras.ops.convert_to_numpy(keras.layers.RNN(cell, return_sequences=True)(inputs))
    w_in, w, b = (keras.ops.convert_to_numpy(v).astype("float64") for v in (cell.input_kernel, cell.recurrent_kernel, cell.bias))
    h = np.zeros((3, 16))
    expected = []
    for t in range(inputs.shape[1]):
        h = (1 - leak) * h + leak * np.tanh(inputs[:, t] @ w_in + h @ w + b)
        expected.append(h)
    np.testing.assert_allclose(outputs, np.stack(expected, axis=1), rtol=1e-4, atol=1e-5)


def test_ridge_readout_recovers_a_linear_map():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(200, 5))
    targets = features @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.7
    kernel, bias = ridge_readout(features, targets, penalty=0.0)
    np.testing.assert_allclose(kernel[:, 0], [1.0, -2.0, 0.5, 0.0, 3.0], atol=1e-4)
    np.testing.assert_allclose(bias, [0.7], atol=1e-4)


def test_mackey_glass_is_the_bounded_chaotic_series():
    series = esn_data.mackey_glass(1500)
    assert series.shape == (1500,)
    assert series.min() > 0.2 and series.max() < 1.45 and series.std() > 0.15
    np.testing.assert_array_equal(series, esn_data.mackey_glass(1500))


@pytest.mark.parametrize("series", ["mackey_glass", "sunspots"])
@pytest.mark.parametrize("horizon", [1, 3])
def test_windows_target_the_value_horizon_steps_ahead(series, horizon):
    config = {**SMALL, "series": series, "horizon": horizon, "washout": 10, "window": 15}
    data = esn_data.load_data(config)
    s, washout = data["series"], config["washout"]
    x, y = data["train"]
    assert x.shape[1] == washout + 15 and y.shape[1] == 15
    # Window k starts at 15 k; the output after the washout at step i predicts input i + horizon.
    for k in (0, len(x) - 1):
        np.testing.assert_array_equal(x[k, :, 0], s[15 * k : 15 * k + washout + 15])
        np.testing.assert_array_equal(y[k, :, 0], s[15 * k + washout + horizon : 15 * k + washout + 15 + horizon])
    assert 15 * (len(x) - 1) + washout + 15 + horizon <= data["validation_start"]  # no training target past the split
    x_test, y_test = data["test"]
    np.testing.assert_array_equal(y_test[0, :, 0], s[data["test_start"] :])
    np.testing.assert_array_equal(x_test[0, washout:, 0], s[data["test_start"] - horizon : len(s) - horizon])


def test_too_long_windows_raise_a_config_error():
    check_config(SMALL)
    check_config({**SMALL, "series": "sunspots", "window": 100})
    fragment = "'window' takes at most 146 for the 247 training samples of series=sunspots with washout=100 and horizon=1"
    with pytest.raises(ConfigError, match=fragment):
        check_config({**SMALL, "series": "sunspots", "window": 300, "washout": 100})
    with pytest.raises(ConfigError, match="'washout' takes at most 245 for the 247 training samples"):
        check_config({**SMALL, "series": "sunspots", "washout": 300})
    with pytest.raises(ConfigError, match="'sample_step' takes a positive multiple of 0.1, got 0.15"):
        check_config({**SMALL, "sample_step": 0.15})


def test_free_running_starts_with_the_one_step_prediction():
    keras.utils.set_random_seed(0)
    model = build_model(SMALL)
    data = esn_data.load_data(SMALL)
    prepare(model, data, SMALL)
    generated, true_values = esn_demo.free_run_from_test_start(model, data, SMALL)
    assert generated.shape == true_values.shape == (20,)
    one_step = model.predict(data["test"][0], verbose=0)[0, 0, 0]
    assert generated[0] == pytest.approx(one_step, abs=1e-4)
