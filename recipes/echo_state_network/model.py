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
`readout=ridge` (the default) `build_model` does exactly that on the training split
(through `load_data(config)`, deterministic) and freezes the readout, so `model.fit`
has nothing left to update: its epochs only report the losses. With `readout=gradient`
the Dense readout is trained by `model.fit` (Adam on the mean squared error) instead:
the same least-squares problem solved iteratively, which converges slowly because
reservoir states are strongly correlated (see the README for both).

Deviations:
- The readout solve happens in `build_model` (it needs the training data), not in a
  training loop; run.json's `train_seconds` therefore leaves it out (`wall_seconds`
  counts it).
- The readout sees [s_t, reservoir state], as in Jaeger's W_out [u; x]; there is no
  output feedback into the reservoir (the papers' generators have one). Free-running
  generation in the demo feeds the prediction back as the next input instead.
- The reservoir weights are drawn with NumPy at build time (the spectral radius needs
  an eigenvalue computation) and stored as non-trainable weights; the forward pass is
  keras.ops only. The ridge solve is NumPy too (it is training, not the model).
"""

import warnings

import keras
import numpy as np
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE, recurrent_layer
from recipes.common.config import ConfigError, check_choice, check_positive

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

# With readout=ridge nothing is left for model.fit to train, which Keras warns about; that is the point here.
warnings.filterwarnings("ignore", message="The model does not have any trainable weights", category=UserWarning)

MODEL_CHOICES = ("esn", "lstm")
READOUT_CHOICES = ("ridge", "gradient")


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
        raise ConfigError(f"Config sparsity={sparsity!r} left the {units}x{units} reservoir without cycles (spectral radius 0). Use e.g. --set sparsity=0.9.")
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
            raise ConfigError(f"Config units={units!r} must be a positive int (the reservoir size). Use e.g. --set units=300.")
        if not 0.0 < leak_rate <= 1.0:
            raise ConfigError(f"Config leak_rate={leak_rate!r} must be in (0, 1]. Use e.g. --set leak_rate=0.3.")
        if not 0.0 <= sparsity < 1.0:
            raise ConfigError(f"Config sparsity={sparsity!r} must be in [0, 1). Use e.g. --set sparsity=0.9.")
        if spectral_radius <= 0 or input_scaling <= 0:
            raise ConfigError(
                f"Config spectral_radius={spectral_radius!r} and input_scaling={input_scaling!r} must be > 0. Use e.g. --set spectral_radius=0.9."
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


def fit_ridge_readout(model, config):
    """Set `model`'s readout to the ridge solution on the training split, and freeze it.

    Runs the fixed reservoir over the training windows of `load_data(config)` (the same
    windows model.fit sees), collects [s_t, h_t] after the washout, and solves for W_out.
    """
    from recipes.echo_state_network.data import load_data

    x, y = load_data(config)["train"]
    collect = keras.Model(model.inputs, model.get_layer("washout").output)
    features = collect.predict(x, batch_size=config["batch_size"], verbose=0)  # (windows, window, 1 + N)
    readout = model.get_layer("readout")
    readout.set_weights(list(ridge_readout(features.reshape(-1, features.shape[-1]), y.reshape(-1), config["ridge_penalty"])))
    readout.trainable = False


def build_model(config):
    """The ESN (fixed reservoir + linear readout) or the LSTM baseline, compiled.

    Input: (batch, washout + steps, 1) standardised series. Output: (batch, steps, 1), the
    prediction of s_{t+horizon} at every step after the `washout` first ones. With
    model=esn and readout=ridge the readout is already solved (and frozen) on return.
    """
    check_choice("model", config["model"], MODEL_CHOICES)
    check_choice("readout", config["readout"], READOUT_CHOICES)
    check_positive(config, "learning_rate", "units", "lstm_units")
    if config["washout"] < 0 or config["ridge_penalty"] < 0:
        raise ConfigError(
            f"Config washout={config['washout']!r} and ridge_penalty={config['ridge_penalty']!r} must be >= 0. Use e.g. --set washout=100."
        )
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
        fit_ridge_readout(model, config)
    model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="mse")
    return model
