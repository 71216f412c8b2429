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


# On TensorFlow the float64 model and its central differences agree to 1e-4. JAX computes in float32 unless
# x64 is enabled at start-up, and on PyTorch the central differences differ from autodiff by the same ~1e-2 at
# most, so there the check is to float32 precision of a finite difference (epsilon 1e-3).
GRADIENT_RTOL = 1e-4 if keras.backend.backend() == "tensorflow" else 3e-2


def tiny_model(cell_layer):
    """cell_layer -> Dense softmax, in float64 so that central differences are exact enough to compare."""
    inputs = keras.Input((None, 5), dtype="float64")
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax", dtype="float64")(cell_layer(inputs)))
    model.compile(loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_gradient_flow_equals_a_direct_computation(kind):
    """dL/dh(t) from the tool against central differences of the loss on the same unrolled network."""
    layer = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}[kind](3, return_sequences=True, dtype="float64")
    model = tiny_model(layer)
    y = RNG.integers(0, 4, size=(3, 7))
    # With no perturbation the unrolled network is the layer itself.
    unrolled = keras.ops.convert_to_numpy(gradients.unroll(layer.cell, keras.ops.convert_to_tensor(X.astype("float64")), np.zeros((3, 7, 3))))
    np.testing.assert_allclose(unrolled, keras.ops.convert_to_numpy(layer(X)), atol=1e-5)
    found = gradients.flow(model, layer, X, y, loss_steps=2)[layer.name]["dL/dh"]

    def loss_at(perturbation):
        sequence = gradients.unroll(layer.cell, keras.ops.convert_to_tensor(X.astype("float64")), perturbation)
        prediction = model.layers[-1](sequence)
        return float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y[:, -2:], prediction[:, -2:])))

    epsilon, direct = 1e-3, np.zeros((3, 7, 3))
    for b in range(3):
        for t in range(7):
            for u in range(3):
                delta = np.zeros((3, 7, 3))
                delta[b, t, u] = epsilon
                direct[b, t, u] = (loss_at(delta) - loss_at(-delta)) / (2 * epsilon)
    np.testing.assert_allclose(found, np.linalg.norm(direct, axis=-1).mean(axis=0), rtol=GRADIENT_RTOL, atol=1e-8)


def test_state_jacobian_equals_a_direct_computation():
    layer = keras.layers.SimpleRNN(3, return_sequences=True, dtype="float64")
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


def test_padding_is_carried_over_as_the_layer_does():
    """A masked layer (Embedding with mask_zero): states and the unrolled cell carry the state over padding."""
    inputs = keras.Input((None,), dtype="int32")
    layer = keras.layers.GRU(3, return_sequences=True)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(layer(keras.layers.Embedding(7, 4, mask_zero=True)(inputs))))
    model.compile(loss="sparse_categorical_crossentropy")
    x = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 1, 2]])
    item = introspect.Subject("tiny", {}, model)
    _, error, mask = introspect.traced_states(item, layer.name, layer, layer.cell, False, x)
    assert mask.tolist() == (x > 0).tolist() and error < 1e-5
    sequence, _, mask = introspect.layer_reads(item, layer, x)
    unrolled = keras.ops.convert_to_numpy(gradients.unroll(layer.cell, sequence, np.zeros((2, 5, 3)), mask=mask))
    own = keras.ops.convert_to_numpy(keras.Model(inputs, layer.output)(x))
    np.testing.assert_allclose(unrolled[mask], own[mask], atol=1e-5)
    np.testing.assert_allclose(unrolled[0, 3:], np.repeat(unrolled[0, 2:3], 2, axis=0))  # carried over the padding
    flows = gradients.flow(model, layer, x, np.zeros((2, 5), dtype=int), loss_steps=0)
    assert np.all(flows[layer.name]["dL/dh"] > 0)


def test_a_closed_loop_is_read_through_its_wrapped_cell():
    """sine_continuation's ClosedLoopCell feeds its prediction back: spectrum and history read the
    LSTM it wraps; states cannot recompute it from the layer's input, and says so."""
    item = introspect.subject("sine_continuation", ["units=6"])
    name, _, cell, _ = introspect.choose_layer(item)
    inner = introspect.weights_of(cell)
    assert inner is not cell and list(introspect.recurrent_blocks(inner)) == ["i", "f", "c", "o"]
    with pytest.raises(introspect.UsageError, match="no recurrent layer this figure can read"):
        introspect.choose_layer(item, need=states.traceable)


@pytest.mark.parametrize("figure", ["states", "spectrum", "gradients"])
def test_figures_render_and_repeat_byte_for_byte(figure, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    extra = ["--samples", "8", "--set", "units=8"] if figure == "gradients" else []
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
        (["inspect", "seq2seq_addition", "gradients"], "also returns its states"),
        (["inspect", "memory_tsak", "states"], "Did you mean 'memory_task'"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, fragment, cli_error):
    code, err = cli_error(argv)
    assert code == 2 and len(err) == 1 and fragment in err[0], err


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    """A real two-epoch run of memory_task with its weights recorded."""
    from tools import runner

    out = tmp_path_factory.mktemp("recorded") / "run"
    sets = ["num_train=64", "num_validation=32", "num_test=32", "units=8"]
    result = runner.run("memory_task", brief=True, sets=sets, epochs=2, out=out, verbose=0, log=lambda *_: None, recorded=["weights"])
    return result.run_dir


def test_record_weights_keeps_every_epoch_from_the_start(recorded_run, tmp_path, capsys):
    from tools import history, runner

    record = runner.read_json(recorded_run / history.HISTORY_FILE)
    assert [entry["epoch"] for entry in record["epochs"]] == [0, 1, 2]
    start = record["epochs"][0]["cells"]["memory_rnn"]
    assert start["f"]["bias"] == [1.0] * 21 and start["i"]["bias"] == [0.0] * 21  # Keras' unit_forget_bias, before training
    assert record["epochs"][-1]["cells"]["memory_rnn"]["f"]["bias"] != start["f"]["bias"]
    assert runner.read_json(recorded_run / "run.json")["recorded"] == ["weights"]
    assert cli.main(["inspect", str(recorded_run), "history", "--out", str(tmp_path / "ridge.png")]) == 0
    assert cli.main(["inspect", str(recorded_run), "history", "--hinton", "--out", str(tmp_path / "hinton.png")]) == 0
    assert (tmp_path / "ridge.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "hinton.png").read_bytes()[:4] == b"\x89PNG"


def test_density_from_quantiles_keeps_its_mass_and_spikes():
    from tools import history

    quantiles = np.percentile(RNG.normal(size=5000), history.QUANTILES)
    grid = np.linspace(quantiles[0], quantiles[-1], 801)
    spread = history.density(quantiles, grid)
    assert abs(np.sum(spread) * (grid[1] - grid[0]) - 1) < 0.02
    grid = np.linspace(-3, 3, 601)
    spike = history.density([0.5] * 21, grid)
    assert abs(np.sum(spike) * (grid[1] - grid[0]) - 1) < 1e-9 and grid[np.argmax(spike)] == pytest.approx(0.5)


def test_text_features_and_correlations():
    text = 'Ham:\nTo be, or "not"\nto be.\n'
    features = introspect.text_features(text)
    assert list(features["position_in_line"][:6]) == [0, 1, 2, 3, 4, 0]
    assert features["speaker_line"][:4].tolist() == [1, 1, 1, 1] and features["speaker_line"][6] == 0
    assert features["inside_quotes"][text.index("n")] == 1 and features["inside_quotes"][text.rindex("t")] == 0
    values = np.stack([features["position_in_line"] * 2 + 1, -features["uppercase"], np.zeros(len(text))], axis=1)
    ranked = introspect.correlated_units(values, features["position_in_line"])
    assert ranked[0] == (0, pytest.approx(1.0)) and dict(ranked)[2] == 0.0


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["inspect", "memory_task", "states", "--text"], "does not read text one character at a time"),
        (["inspect", "char_rnn", "states", "--text", "--find", "rhyme"], "Unknown --find feature 'rhyme'"),
        (["inspect", "memory_task", "history"], "--record weights"),
        (["inspect", "memory_task", "history", "--hinton"], "32 units at most"),
        (["inspect", "memory_task", "spectrum", "--text"], "views of the states figure"),
        (["run", "memory_task", "--record", "gates"], "--record takes weights"),
    ],
)
def test_more_bad_input_is_one_line_exit_2(argv, fragment, cli_error):
    test_bad_input_is_one_line_exit_2(argv, fragment, cli_error)


def conv_model(seed=0):
    """A small classifier of (40, 4) inputs that reads only their first 20 steps (Cropping1D drops the rest)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((40, 4))
    features = keras.layers.Conv1D(6, 3, padding="same", activation="relu", name="conv")(keras.layers.Cropping1D((0, 20))(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling1D()(features))
    model = keras.Model(inputs, outputs)
    model.compile(loss="sparse_categorical_crossentropy")
    return model


def test_occluding_what_the_model_ignores_changes_nothing():
    model = conv_model()
    x = RNG.normal(size=(1, 40, 4)).astype("float32")
    rise, times, bands, base = introspect.occlusion_map(model, x, np.array([1]), patch=(4, 4), stride=(4, 4), fill=0.0)
    assert bands == [0] and base > 0
    ignored = [k for k, t in enumerate(times) if t >= 20]
    read = [k for k, t in enumerate(times) if t + 4 <= 20]
    assert np.all(np.abs(rise[ignored]) < 1e-6)  # float32 round-off of a batch, nothing more
    assert np.all(np.abs(rise[read]) > 1e-5)


def test_activation_maximization_raises_the_units_activation():
    model = conv_model()
    conv = model.get_layer("conv")
    synthesized, start, end = introspect.maximize(model, conv, (40, 4), [0, 3], steps=40)
    assert synthesized.shape == (2, 40, 4) and np.all(end > start + 0.5)
    assert introspect.receptive_window(model, conv, 10, 40) == (9, 11)  # kernel 3, 'same' padding, after a crop of the end


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["inspect", "memory_task", "occlusion"], "has no convolution"),
        (["inspect", "wavenet", "occlusion"], "not one real-valued signal"),
        (["inspect", "dilated_context", "maximize", "--layer", "conv_9"], "Its convolutions: front_conv_1"),
        (["inspect", "dilated_context", "maximize", "--units", "99"], "is not a unit of front_conv_1"),
        (["inspect", "memory_task", "states", "--units", "1,2,3,4"], "up to three units"),
    ],
)
def test_convolution_figures_bad_input_is_one_line_exit_2(argv, fragment, cli_error):
    test_bad_input_is_one_line_exit_2(argv, fragment, cli_error)
