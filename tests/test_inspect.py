"""`recipe inspect`: exact state recomputation, gradient flow against a direct computation, spectra,
deterministic figures and one-line errors."""

import keras
import numpy as np
import pytest

from recipes.common.cells import BasicRNNCell, LSTMCell, PeepholeLSTMCell
from recipes.echo_state_network.model import ReservoirCell
from tools import cli, gradients, introspect, states

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 7, 5)).astype("float32")


def layers():
    return {
        "SimpleRNN": keras.layers.SimpleRNN(6, return_sequences=True),
        "LSTM": keras.layers.LSTM(6, return_sequences=True),
        "LSTM hard_sigmoid, no bias": keras.layers.LSTM(6, return_sequences=True, recurrent_activation="hard_sigmoid", use_bias=False),
        "GRU": keras.layers.GRU(6, return_sequences=True),
        "GRU reset_after=False": keras.layers.GRU(6, return_sequences=True, reset_after=False),
        "our basic": keras.layers.RNN(BasicRNNCell(6), return_sequences=True),
        "our LSTM": keras.layers.RNN(LSTMCell(6, forget_bias=0.5), return_sequences=True),
        "our peephole LSTM": keras.layers.RNN(PeepholeLSTMCell(6), return_sequences=True),
        "reservoir": keras.layers.RNN(ReservoirCell(12, leak_rate=0.3), return_sequences=True),
    }


@pytest.mark.parametrize("name", sorted(layers()))
def test_recomputed_states_equal_the_layers_output(name):
    layer = layers()[name]
    layer(X)
    if name == "our peephole LSTM":  # peepholes start at zero: give them values so they count
        layer.cell.peephole.assign(RNG.normal(size=(3, 6)).astype("float32"))
    traced = states.trace(layer.cell, X)
    np.testing.assert_allclose(traced["h"], keras.ops.convert_to_numpy(layer(X)), atol=1e-5)
    gates = [key for key in traced if key in ("i", "f", "o", "z", "r")]
    for gate in gates:
        assert traced[gate].min() >= 0 and traced[gate].max() <= 1


def tiny_model(cell_layer):
    inputs = keras.Input((None, 5))
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(cell_layer(inputs)))
    model.compile(loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_gradient_flow_equals_a_direct_computation(kind):
    """dL/dh(t) from the tool against central differences of the loss on the same unrolled network."""
    layer = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}[kind](3, return_sequences=True)
    model = tiny_model(layer)
    y = RNG.integers(0, 4, size=(3, 7))
    # With no perturbation the unrolled network is the layer itself.
    unrolled = keras.ops.convert_to_numpy(gradients.unroll(layer.cell, keras.ops.convert_to_tensor(X), np.zeros((3, 7, 3), "float32")))
    np.testing.assert_allclose(unrolled, keras.ops.convert_to_numpy(layer(X)), atol=1e-5)
    found = gradients.flow(model, layer, X, y, loss_steps=2)[layer.name]["dL/dh"]

    def loss_at(perturbation):
        sequence = gradients.unroll(layer.cell, keras.ops.convert_to_tensor(X.astype("float64")), perturbation)
        prediction = model.layers[-1](keras.ops.cast(sequence, "float32"))
        return float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y[:, -2:], prediction[:, -2:])))

    epsilon, direct = 1e-3, np.zeros((3, 7, 3))
    for b in range(3):
        for t in range(7):
            for u in range(3):
                delta = np.zeros((3, 7, 3))
                delta[b, t, u] = epsilon
                direct[b, t, u] = (loss_at(delta) - loss_at(-delta)) / (2 * epsilon)
    np.testing.assert_allclose(found, np.linalg.norm(direct, axis=-1).mean(axis=0), rtol=2e-2, atol=1e-6)


def test_state_jacobian_equals_a_direct_computation():
    layer = keras.layers.SimpleRNN(3, return_sequences=True)
    model = tiny_model(layer)
    found = gradients.flow(model, layer, X, RNG.integers(0, 4, size=(3, 7)))[layer.name]["dh_T/dx"]
    epsilon, squares = 1e-3, np.zeros((3, 7))
    for t in range(7):
        for d in range(5):
            delta = np.zeros_like(X, dtype=np.float64)
            delta[:, t, d] = epsilon
            plus = states.trace(layer.cell, X + delta)["h"][:, -1]
            minus = states.trace(layer.cell, X - delta)["h"][:, -1]
            squares[:, t] += np.sum(((plus - minus) / (2 * epsilon)) ** 2, axis=-1)
    np.testing.assert_allclose(found, np.sqrt(squares).mean(axis=0), rtol=1e-3)


def test_spectrum_reads_each_gate_block_and_the_reservoirs_radius():
    lstm = keras.layers.LSTM(5)
    lstm(X)
    blocks = introspect.recurrent_blocks(lstm.cell)
    assert list(blocks) == ["i", "f", "c", "o"] and all(b.shape == (5, 5) for b in blocks.values())
    reservoir = keras.layers.RNN(ReservoirCell(40, spectral_radius=0.8))
    reservoir(X)
    (matrix,) = introspect.recurrent_blocks(reservoir.cell).values()
    assert abs(np.abs(np.linalg.eigvals(matrix)).max() - 0.8) < 1e-5
    assert introspect.pascanu_bound(lstm.cell, "f") == 4.0 and introspect.pascanu_bound(lstm.cell, "c") == 1.0


@pytest.mark.parametrize("figure", ["states", "spectrum", "gradients"])
def test_figures_render_and_repeat_byte_for_byte(figure, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    extra = ["--samples", "8"] if figure == "gradients" else []
    assert cli.main(["inspect", "memory_task", figure, "--out", "a.png", *extra]) == 0
    assert cli.main(["inspect", "memory_task", figure, "--out", "b.png", *extra]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert "matches the layer to" in capsys.readouterr().out or figure != "states"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["inspect", "memory_task", "gates"], "invalid choice"),
        (["inspect", "wav2letter", "states"], "has no recurrent layer"),
        (["inspect", "memory_task", "states", "--layer", "lstm_9"], "Its layers: memory_rnn"),
        (["inspect", "memory_task", "states", "--units", "a,b"], "--units takes unit numbers"),
        (["inspect", "memory_task", "states", "--units", "999"], "is not a unit of memory_rnn"),
        (["inspect", "memory_task", "spectrum", "--against", "memory_task"], "--against compares models in the gradients figure only"),
        (["inspect", "memory_task", "gradients", "--samples", "0"], "--samples takes 1 to 1,024"),
        (["inspect", "sequence_classifier", "gradients"], "return_sequences"),
        (["inspect", "memory_tsak", "states"], "Did you mean 'memory_task'"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, fragment, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(argv)
    except SystemExit as exit:
        code = exit.code
    err = capfd.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert not list(tmp_path.iterdir())
