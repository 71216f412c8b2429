"""Our cells against a NumPy reference and against Keras' SimpleRNN/LSTM with copied weights."""

import keras
import numpy as np
import pytest

from recipes.common.cells import (
    CELL_CHOICES,
    BasicRNNCell,
    LSTMCell,
    PeepholeLSTMCell,
    matched_units,
    recurrent_layer,
    recurrent_parameter_count,
    recurrent_stack,
)
from recipes.common.config import ConfigError

TOLERANCE = 1e-5


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_basic_rnn(x, w, b):
    """h_t = tanh([x_t, h_{t-1}] W + b), written out step by step."""
    h = np.zeros((x.shape[0], w.shape[1]))
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(np.concatenate([x[:, t], h], axis=-1) @ w + b)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def numpy_lstm(x, w, b):
    """The LSTM equations with gate blocks i, f, c, o."""
    units = w.shape[1] // 4
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = np.concatenate([x[:, t], h], axis=-1) @ w + b
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.fixture
def sequence():
    return np.random.default_rng(0).normal(size=(4, 9, 3)).astype("float32")


def run_cell(cell, x):
    layer = keras.layers.RNN(cell, return_sequences=True)
    return layer, np.asarray(layer(x))


def randomise(cell, seed=1):
    """Non-trivial weights (including the bias) so every term of the update is exercised."""
    rng = np.random.default_rng(seed)
    cell.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in cell.get_weights()])


def test_basic_rnn_matches_numpy(sequence):
    cell = BasicRNNCell(5)
    run_cell(cell, sequence)
    randomise(cell)
    _, ours = run_cell(cell, sequence)
    w, b = cell.get_weights()
    np.testing.assert_allclose(ours, numpy_basic_rnn(sequence, w, b), atol=TOLERANCE)


def test_lstm_matches_numpy(sequence):
    cell = LSTMCell(5)
    run_cell(cell, sequence)
    randomise(cell)
    _, ours = run_cell(cell, sequence)
    w, b = cell.get_weights()
    np.testing.assert_allclose(ours, numpy_lstm(sequence, w, b), atol=TOLERANCE)


@pytest.mark.parametrize("cell_class, keras_layer", [(BasicRNNCell, keras.layers.SimpleRNN), (LSTMCell, keras.layers.LSTM)])
def test_matches_keras_with_copied_weights(sequence, cell_class, keras_layer):
    cell = cell_class(6)
    run_cell(cell, sequence)
    randomise(cell)
    _, ours = run_cell(cell, sequence)
    reference = keras_layer(6, return_sequences=True)
    reference(sequence)
    blocks = cell.weight_blocks()
    reference.set_weights([blocks["kernel"], blocks["recurrent_kernel"], blocks["bias"]])
    np.testing.assert_allclose(ours, np.asarray(reference(sequence)), atol=TOLERANCE)


def test_lstm_forget_bias_starts_at_one():
    cell = LSTMCell(3, forget_bias=1.0)
    run_cell(cell, np.zeros((1, 2, 2), "float32"))
    bias = cell.weight_blocks()["bias"].reshape(4, 3)
    np.testing.assert_array_equal(bias, [[0, 0, 0], [1, 1, 1], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("cell", CELL_CHOICES)
def test_parameter_count_formula_matches_keras(cell):
    layer = recurrent_layer(cell, 7, "rnn")
    layer(np.zeros((1, 2, 3), "float32"))
    assert layer.count_params() == recurrent_parameter_count(cell, 7, 3)


def test_matched_units_gives_a_fair_comparison():
    units = matched_units("basic_rnn", "lstm", 32, input_dim=1, output_dim=1)
    lstm = recurrent_parameter_count("lstm", 32, 1) + 33
    basic = recurrent_parameter_count("basic_rnn", units, 1) + units + 1
    assert units > 32 and abs(basic - lstm) / lstm < 0.03


def test_unknown_cell_is_a_config_error():
    with pytest.raises(ConfigError, match="'cell' takes one of .*, got lstn. Use e.g. --set cell=basic_rnn."):
        recurrent_layer("lstn", 4, "rnn")


@pytest.mark.parametrize("cell_class", [BasicRNNCell, LSTMCell])
def test_cell_saves_and_loads(tmp_path, sequence, cell_class):
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.RNN(cell_class(4), return_sequences=True)(inputs))
    path = tmp_path / "cell.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(model.predict(sequence, verbose=0), loaded.predict(sequence, verbose=0), atol=1e-6)


def numpy_peephole_lstm(x, w, b, p):
    """The peephole LSTM: i and f peek at c_{t-1}, o at c_t (diagonal weights p)."""
    units = w.shape[1] // 4
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = np.concatenate([x[:, t], h], axis=-1) @ w + b
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = sigmoid(f + p[1] * c) * c + sigmoid(i + p[0] * c) * np.tanh(g)
        h = sigmoid(o + p[2] * c) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def test_peephole_lstm_matches_numpy(sequence):
    cell = PeepholeLSTMCell(5)
    run_cell(cell, sequence)
    randomise(cell)
    _, ours = run_cell(cell, sequence)
    w, b, p = cell.get_weights()
    assert np.abs(p).min() > 0  # the peepholes are exercised
    np.testing.assert_allclose(ours, numpy_peephole_lstm(sequence, w, b, p), atol=TOLERANCE)


def test_peephole_lstm_with_zero_peepholes_is_the_lstm(sequence):
    plain, peephole = LSTMCell(4), PeepholeLSTMCell(4)
    run_cell(plain, sequence)
    run_cell(peephole, sequence)
    randomise(plain)
    peephole.set_weights([*plain.get_weights(), np.zeros((3, 4), "float32")])
    np.testing.assert_allclose(run_cell(plain, sequence)[1], run_cell(peephole, sequence)[1], atol=TOLERANCE)


def test_recurrent_stack_depth_and_dropout():
    inputs = keras.Input((None, 3))
    outputs = recurrent_stack(inputs, "keras_gru", 4, num_layers=3, name="deep", dropout=0.2, return_sequences=False)
    model = keras.Model(inputs, outputs)
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["deep_1", "deep_dropout_1", "deep_2", "deep_dropout_2", "deep_3"]
    assert model.output_shape == (None, 4)
    with pytest.raises(ConfigError, match="'num_layers' takes an integer of at least 1, got 0"):
        recurrent_stack(inputs, "lstm", 4, num_layers=0, name="x")
