"""Graph plots are deterministic and named by layer; weight figures split gates correctly."""

import hashlib

import keras
import numpy as np
import pytest

from recipes.common.cells import LSTMCell, recurrent_layer
from tools import graph, weights


def small_model():
    inputs = keras.Input((None, 2), name="signal")
    inner_in = keras.Input((None, 2), name="frames")
    encoder = keras.Model(inner_in, recurrent_layer("lstm", 8, "encoder_lstm")(inner_in), name="encoder")
    hidden = encoder(inputs)
    hidden = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True), name="context_gru")(hidden)
    return keras.Model(inputs, keras.layers.Dense(1, name="readout")(hidden), name="toy")


def test_dot_nodes_are_named_by_layer_path():
    text = graph.model_dot(small_model())
    for name in ('"signal"', '"encoder/encoder_lstm"', '"context_gru"', '"readout"'):
        assert name in text
    assert "RNN of LSTMCell" in text and "Bidirectional of GRU" in text


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_plot_is_byte_identical_across_builds(tmp_path, fmt, magic):
    digests = set()
    for attempt in range(2):
        path = graph.plot_model(small_model(), tmp_path / f"graph{attempt}.{fmt}", fmt=fmt)
        data = path.read_bytes()
        assert data.startswith(magic)
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == 1


def test_keras_lstm_blocks_split_in_gate_order():
    layer = keras.layers.LSTM(3, unit_forget_bias=True)
    layer(np.zeros((1, 2, 2), "float32"))
    gates = weights.cell_gates(layer.cell)
    bias = weights.cell_blocks(layer.cell)["bias"]
    parts = dict(zip(gates, np.split(bias, len(gates))))
    assert gates == ("i", "f", "c", "o")
    np.testing.assert_array_equal(parts["f"], np.ones(3))
    for gate in "ico":
        np.testing.assert_array_equal(parts[gate], np.zeros(3))


def test_our_cell_splits_like_keras():
    cell = LSTMCell(3)
    keras.layers.RNN(cell)(np.zeros((1, 2, 5), "float32"))
    blocks = weights.cell_blocks(cell)
    assert blocks["kernel"].shape == (5, 12) and blocks["recurrent_kernel"].shape == (3, 12)


def test_weight_figures_cover_every_layer(tmp_path):
    written = weights.weight_figures(small_model(), tmp_path)
    names = [summary.split(" ")[0] for _, summary in written]
    # One figure per cell (forward and backward GRU separately) and per plain layer.
    assert names == ["encoder/encoder_lstm", "context_gru/forward", "context_gru/backward", "readout"]
    assert "i: mean|w|" in written[0][1] and "z: mean|w|" in written[1][1]
    for path, _ in written:
        assert (tmp_path / path.split("/")[-1]).stat().st_size > 5000
