"""Echo state network: a fixed random leaky reservoir and a trained linear readout.

Book: Deep Learning, Goodfellow, Bengio & Courville, 2016, chapter 10, sections 10.8
(echo state networks) and 10.9 (leaky units), https://www.deeplearningbook.org/contents/rnn.html.
Papers: "The 'echo state' approach to analysing and training recurrent neural networks",
Herbert Jaeger, 2001, GMD Report 148, https://www.ai.rug.nl/minds/uploads/EchoStatesTechRep.pdf;
"Harnessing Nonlinearity: Predicting Chaotic Systems and Saving Energy in Wireless
Communication", Herbert Jaeger and Harald Haas, 2004, https://doi.org/10.1126/science.1091277;
leaky-integrator reservoirs: "Optimization and applications of echo state networks with
leaky-integrator neurons", Jaeger, Lukoševičius, Popovici & Siewert, 2007,
https://doi.org/10.1016/j.neunet.2007.04.016.

What it shows: the recurrent weights of an RNN need not be learned. A large random
reservoir, scaled so that the spectral radius of its recurrent matrix is near 1 (the
state neither dies out nor explodes: the "echo state property"), turns the input
history into a rich set of features; only a linear readout of them is trained. With
`model=lstm` the same task is trained end to end with backpropagation through time,
for comparing accuracy and training time.

How the readout is trained: the papers fit W_out by ridge regression in closed form,
W_out = Y X^T (X X^T + penalty I)^-1 over the collected reservoir states X. With
`readout=ridge` (the default) `build_model` leaves the readout frozen and `prepare`
(which the runner calls with the data before `model.fit`) does exactly that on the
training split, so `model.fit` has nothing left to update: its epochs only report the losses. With `readout=gradient`
the Dense readout is trained by `model.fit` (Adam on the mean squared error) instead:
the same least-squares problem solved iteratively, which converges slowly because
reservoir states are strongly correlated (see the README for both).

Deviations:
- The readout solve happens in `prepare` (it needs the training data), not in a
  training loop; run.json's `train_seconds` therefore leaves it out (`wall_seconds`
  counts it).
- The readout sees [s_t, reservoir state], as in Jaeger's W_out [u; x]; there is no
  output feedback into the reservoir (the papers' generators have one). Free-running
  generation in the demo feeds the prediction back as the next input instead.
- The reservoir weights are drawn with NumPy at build time (the spectral radius needs
  an eigenvalue computation) and stored as non-trainable weights; the forward pass is
  keras.ops only. The ridge solve is NumPy too (it is training, not the model).
"""

import keras
import numpy as np
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE, recurrent_layer
from recipes.common.config import COMMON_RULES, at_most, choice, config_error, fraction, integer, number, positive
from recipes.echo_state_network.data import MACKEY_GLASS_DT, SERIES_CHOICES, check_sample_step, series_size, split_points

MODEL_CHOICES = ("esn", "lstm")
READOUT_CHOICES = ("ridge", "gradient")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 1,
    "batch_size": 4,
    "learning_rate": 0.005,
    "model": "esn",
    "readout": "ridge",
    "ridge_penalty": 1e-6,
    "series": "mackey_glass",
    "series_length": 4000,
    "sample_step": 1.0,
    "validation_fraction": 0.1,
    "test_fraction": 0.1,
    "horizon": 1,
    "washout": 100,
    "window": 100,
    "units": 300,
    "spectral_radius": 0.9,
    "leak_rate": 0.3,
    "input_scaling": 1.0,
    "sparsity": 0.9,
    "lstm_units": 32,
    "free_run_steps": 400,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "model": choice(*MODEL_CHOICES),
    "readout": choice(*READOUT_CHOICES),
    "ridge_penalty": number(0, 1e6),
    "series": choice(*SERIES_CHOICES),
    "series_length": integer(100, 200_000),  # mackey_glass only; sunspots has its own length
    "sample_step": number(0.1, 100),  # a multiple of the integration step 0.1 (check_config)
    "validation_fraction": number(0, 0.5, low_open=True),
    "test_fraction": number(0, 0.5, low_open=True),
    "horizon": integer(1, 10_000),
    "washout": integer(0, 10_000),
    "window": integer(1, 100_000),
    # The reservoir's spectral radius needs the eigenvalues of a units x units matrix.
    "units": integer(1, 4096),
    "spectral_radius": positive(10.0),
    "leak_rate": number(0, 1, low_open=True),
    "input_scaling": positive(100.0),
    "sparsity": fraction(),
    "lstm_units": integer(1, 4096),
    "free_run_steps": integer(0, 100_000),  # 0: no free-running generation
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): s_t is the value predicted at step t - 1 (with horizon 1).
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("series",)

# Mackey-Glass Runge-Kutta steps (a Python loop) and ridge design values (float64) a run may need.
MAX_INTEGRATION_STEPS = 2_000_000
MAX_READOUT_VALUES = 100_000_000


def check_config(config):
    """Raise ConfigError unless sample_step is a multiple of 0.1, the windows fit the training
    part of the series, and the series and reservoir are small enough to integrate and solve."""
    if config["series"] == "mackey_glass":
        check_sample_step(config["sample_step"])
        every = round(config["sample_step"] / MACKEY_GLASS_DT)
        why = f"samples at sample_step={config['sample_step']:g} ({MAX_INTEGRATION_STEPS:,} integration steps)"
        at_most(config, "series_length", MAX_INTEGRATION_STEPS // every, why)
        if config["model"] == "esn":
            why = f"samples for a reservoir of {config['units']:,} units ({MAX_READOUT_VALUES:,} readout features)"
            at_most(config, "series_length", MAX_READOUT_VALUES // (config["units"] + 2), why)
    # A training window holds washout + window inputs and reaches `horizon` further for its targets.
    training, _ = split_points(series_size(config), config["validation_fraction"], config["test_fraction"])
    washout, horizon = config["washout"], config["horizon"]
    about = f"for the {training:,} training samples of series={config['series']}"
    at_most(config, "horizon", training - 1, about)
    at_most(config, "washout", training - horizon - 1, f"{about} with horizon={horizon}")
    at_most(config, "window", training - horizon - washout, f"{about} with washout={washout} and horizon={horizon}")


def reservoir_matrices(units, input_dim, spectral_radius, input_scaling, sparsity, seed):
    """Draw the fixed reservoir weights with NumPy.

    W has entries uniform in [-1, 1], a fraction `sparsity` of them set to zero, then is
    rescaled so that its largest eigenvalue magnitude is exactly `spectral_radius`.
    W_in and the bias are uniform in [-input_scaling, input_scaling].

    Args:
        units: reservoir size N.
        input_dim: input features.
        spectral_radius: target max |eigenvalue| of W.
        input_scaling: scale of W_in and the bias.
        sparsity: fraction of zero entries of W, in [0, 1).
        seed: int seed of the draw.

    Returns:
        (input_kernel (input_dim, N), recurrent_kernel (N, N), bias (N,)), float32 arrays.
    """
    rng = np.random.default_rng(seed)
    recurrent = rng.uniform(-1.0, 1.0, size=(units, units))
    recurrent[rng.random((units, units)) < sparsity] = 0.0
    radius = np.max(np.abs(np.linalg.eigvals(recurrent)))
    if radius == 0.0:
        raise config_error(
            "sparsity", sparsity, f"a value that leaves the {units}x{units} reservoir some cycles (this draw has spectral radius 0)", 0.9
        )
    recurrent *= spectral_radius / radius
    input_kernel = rng.uniform(-input_scaling, input_scaling, size=(input_dim, units))
    bias = rng.uniform(-input_scaling, input_scaling, size=(units,))
    return input_kernel.astype("float32"), recurrent.astype("float32"), bias.astype("float32")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ReservoirCell(keras.layers.Layer):
    """A leaky-integrator echo-state reservoir with fixed random weights.

    Update (a = leak_rate):
        h~_t = tanh(x_t W_in + h_{t-1} W + b)
        h_t  = (1 - a) h_{t-1} + a h~_t          (the output is h_t)
    W_in, W and b are drawn once from `seed` (see `reservoir_matrices`) and are not
    trainable. With a < 1 each unit is a leaky integrator (DL book 10.9): it keeps a
    running average of its drive with time constant about 1/a steps. The linearised
    update has Jacobian (1 - a) I + a W, whose spectral radius is about
    (1 - a) + a * spectral_radius.

    Args:
        units: reservoir size.
        spectral_radius: max |eigenvalue| of W (below ~1 gives the echo state property).
        leak_rate: a in (0, 1]; 1 is the plain (non-leaky) reservoir.
        input_scaling: scale of W_in and b.
        sparsity: fraction of zero entries of W.
        seed: seed of the random draw; the same seed gives the same reservoir.
    """

    def __init__(self, units, spectral_radius=0.9, leak_rate=1.0, input_scaling=1.0, sparsity=0.9, seed=0, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"ReservoirCell: units must be a positive int, got {units!r}.")
        if not (0.0 < leak_rate <= 1.0 and 0.0 <= sparsity < 1.0 and spectral_radius > 0 and input_scaling > 0):
            raise ValueError(
                f"ReservoirCell: needs 0 < leak_rate <= 1, 0 <= sparsity < 1, spectral_radius > 0 and input_scaling > 0, "
                f"got {leak_rate!r}, {sparsity!r}, {spectral_radius!r}, {input_scaling!r}."
            )
        self.units = units
        self.spectral_radius = float(spectral_radius)
        self.leak_rate = float(leak_rate)
        self.input_scaling = float(input_scaling)
        self.sparsity = float(sparsity)
        self.seed = int(seed)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        matrices = reservoir_matrices(self.units, input_dim, self.spectral_radius, self.input_scaling, self.sparsity, self.seed)
        names = ("input_kernel", "recurrent_kernel", "bias")
        for name, value in zip(names, matrices):
            # Constant initial values, never updated: the reservoir is not trained.
            weight = self.add_weight(shape=value.shape, initializer=keras.initializers.Constant(value), name=name, trainable=False)
            setattr(self, name, weight)

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        # (batch, input_dim) @ (input_dim, N) + (batch, N) @ (N, N) -> (batch, N)
        candidate = ops.tanh(ops.matmul(inputs, self.input_kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias)
        h = (1.0 - self.leak_rate) * h_prev + self.leak_rate * candidate
        return h, [h]

    def diagram_spec(self):
        """For `recipe diagram`: a leaky tanh cell whose weights are fixed (never trained)."""
        return {"cell": "leaky", "units": self.units, "activation": "tanh", "use_bias": True, "leak_rate": self.leak_rate, "trainable": False}

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "spectral_radius": self.spectral_radius,
            "leak_rate": self.leak_rate,
            "input_scaling": self.input_scaling,
            "sparsity": self.sparsity,
            "seed": self.seed,
        }


def ridge_readout(features, targets, penalty):
    """Closed-form ridge regression of `targets` on `features` plus a constant.

    Solves (A^T A + penalty I) w = A^T y with A = [1, features], in float64.

    Args:
        features: (samples, F) array (reservoir states and input).
        targets: (samples,) or (samples, 1) array.
        penalty: the ridge penalty (>= 0).

    Returns:
        (kernel (F, 1), bias (1,)) float32 arrays for a Dense(1) readout.
    """
    design = np.hstack([np.ones((len(features), 1)), np.asarray(features, dtype="float64")])
    gram = design.T @ design + penalty * np.eye(design.shape[1])
    weights = np.linalg.solve(gram, design.T @ np.asarray(targets, dtype="float64").reshape(len(design), -1))
    return weights[1:].astype("float32"), weights[0].astype("float32")


def fit_ridge_readout(model, train, config):
    """Set `model`'s readout to the ridge solution on the training windows `train` = (x, y).

    Runs the fixed reservoir over the training windows (the same windows model.fit sees),
    collects [s_t, h_t] after the washout, and solves for W_out.
    """
    x, y = train
    collect = keras.Model(model.inputs, model.get_layer("washout").output)
    features = collect.predict(x, batch_size=config["batch_size"], verbose=0)  # (windows, window, 1 + N)
    readout = model.get_layer("readout")
    readout.set_weights(list(ridge_readout(features.reshape(-1, features.shape[-1]), y.reshape(-1), config["ridge_penalty"])))


def prepare(model, data, config):
    """Before `model.fit`: with model=esn and readout=ridge, solve the readout on data["train"].

    The readout is frozen by build_model, so fit leaves the solution as it is. Other
    configs need nothing here.
    """
    if config["model"] == "esn" and config["readout"] == "ridge":
        fit_ridge_readout(model, data["train"], config)


def build_model(config):
    """The ESN (fixed reservoir + linear readout) or the LSTM baseline, compiled.

    Input: (batch, washout + steps, 1) standardised series. Output: (batch, steps, 1), the
    prediction of s_{t+horizon} at every step after the `washout` first ones. With
    model=esn and readout=ridge the readout is frozen and still untrained: `prepare`
    solves it from the data.
    """
    inputs = keras.Input(shape=(None, 1), name="series")
    if config["model"] == "esn":
        cell = ReservoirCell(
            config["units"],
            spectral_radius=config["spectral_radius"],
            leak_rate=config["leak_rate"],
            input_scaling=config["input_scaling"],
            sparsity=config["sparsity"],
            seed=config["seed"],
            name="reservoir_cell",
        )
        states = keras.layers.RNN(cell, return_sequences=True, name="reservoir")(inputs)  # (batch, time, N)
    else:
        states = recurrent_layer("keras_lstm", config["lstm_units"], name="lstm")(inputs)  # (batch, time, lstm_units)
    # Jaeger's readout sees the input and the state: y_t = W_out [s_t; h_t] + b.
    features = keras.layers.Concatenate(name="input_and_state")([inputs, states])
    # The first `washout` steps only warm the state up: their outputs are dropped before the loss.
    features = keras.layers.Cropping1D((config["washout"], 0), name="washout")(features)
    outputs = keras.layers.Dense(1, name="readout")(features)
    model = keras.Model(inputs, outputs, name=f"echo_state_network_{config['model']}")
    if config["model"] == "esn" and config["readout"] == "ridge":
        # Solved in closed form by `prepare`; nothing is left for model.fit to train.
        model.get_layer("readout").trainable = False
    model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="mse")
    return model
