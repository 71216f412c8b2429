"""Handwriting synthesis: an LSTM stack with a mixture density output writes words pen stroke by pen stroke.

Paper: "Generating Sequences With Recurrent Neural Networks", Alex Graves, 2013,
https://arxiv.org/abs/1308.0850 (sections 4 and 5: handwriting prediction and synthesis).
The output layer: "Mixture Density Networks", Christopher M. Bishop, 1994,
https://publications.aston.ac.uk/id/eprint/373/.

What the recipe shows. A pen trajectory is a sequence of triples (dx, dy, e): the pen's
offset from its previous position and whether it lifts after this point (data.py). At
every step a stack of LSTMs reads the previous triple and outputs the parameters of a
distribution over the next one (Graves' eqs. 15-22):

    e_t = sigmoid(e_hat)                              end-of-stroke probability (Bernoulli)
    pi_t = softmax(pi_hat)                            M mixture weights
    mu_t = mu_hat, sigma_t = exp(sigma_hat)           per component, x and y
    rho_t = tanh(rho_hat)                             per component, the x-y correlation
    p(dx, dy, e) = sum_j pi_j N(dx, dy | mu_j, sigma_j, rho_j) * Bernoulli(e | e_t)

and is trained to minimise the negative log-likelihood of the true next triple (teacher
forcing). With `conditional` (the synthesis network of section 5), the first LSTM layer
also reads a soft window over the one-hot letters c_1..c_U of the word to write:

    (alpha_hat, beta_hat, kappa_hat) = W h1_t + b        K window components
    alpha = exp(alpha_hat), beta = exp(beta_hat), kappa_t = kappa_{t-1} + exp(kappa_hat)
    phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)   weight of letter u at step t
    w_t = sum_u phi(t, u) c_u                              the window vector

kappa only grows, so the window slides along the word as the pen moves. w_t is read by
the second and later LSTM layers at step t and by the first at step t + 1; every LSTM
layer also reads the pen input (skip connections), and the output layer reads every
layer's h_t. Without `conditional` the same stack (no window) writes unconditioned
strokes (section 4). Sampling (demo.py) draws each triple from the mixture and feeds it
back, with Graves' bias b sharpening the distribution: sigma = exp(sigma_hat - b),
pi = softmax(pi_hat (1 + b)).

Deviations from the paper:
- Data: cursive Hershey-font words with random handwriting styles (data.py), not the
  IAM online handwriting database; short words (at most `max_word_length` letters, about
  20-130 pen points at pen_step 3) instead of lines of text.
- Size: `num_layers` LSTM layers of `units` (paper: 3 layers of 400 cells), `num_components`
  mixture components (paper: 20) and `num_window_components` window Gaussians (paper: 10).
- Adam with gradient clipping by global norm and a cosine-decayed learning rate, not
  RMSProp with the paper's output and LSTM-derivative clipping; no adaptive weight noise.
- Letter positions u count from 0 and kappa starts at 0, so the window starts on the first
  letter; kappa's increment exp(kappa_hat) starts at about 1/14 (a letter takes about 14
  pen points), and the window's pre-activations are clipped to [-10, 5] so exp stays finite.
- sigma_hat is clipped to [-6, 5] and rho to [-0.999, 0.999] in the loss, for a finite NLL.
"""

import math

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, at_most, boolean, integer, number, positive
from recipes.handwriting_synthesis.data import VOCABULARY_SIZE

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 12,
    "batch_size": 128,
    "learning_rate": 0.003,
    "global_clipnorm": 5.0,
    # The synthesis network (letters through the soft window) or unconditional strokes.
    "conditional": True,
    "units": 128,
    "num_layers": 2,
    # Gaussians of the pen-offset mixture (M) and of the soft window (K).
    "num_components": 10,
    "num_window_components": 5,
    # Data (data.py): the most frequent Shakespeare words of 2..max_word_length letters.
    "num_words": 200,
    "max_word_length": 5,
    # Arc length between pen points, in font units (a letter is about 15 units wide).
    "pen_step": 3.0,
    "num_train": 3500,
    "num_validation": 200,
    "num_test": 200,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "conditional": boolean(),
    "units": integer(1, 4096),
    "num_layers": integer(1, 8),
    "num_components": integer(1, 100),
    "num_window_components": integer(1, 100),
    "num_words": integer(1, 5000),
    "max_word_length": integer(2, 12),
    # Smaller steps give longer sequences; 0.5 already gives ~500 points for a 5-letter word.
    "pen_step": number(0.5, 20.0),
    "num_train": integer(1, 200_000),
    "num_validation": integer(1, 100_000),
    "num_test": integer(1, 100_000),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): the previous pen triple.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("strokes",)

# Most pen points one split may hold (samples x about 30 points per letter): ~100 MB of float32.
MAX_SPLIT_POINTS = 8_000_000

# Bounds of the pre-activations that go through exp (window) and of log sigma and rho (loss).
_WINDOW_CLIP = (-10.0, 5.0)
_LOG_SIGMA_CLIP = (-6.0, 5.0)
_RHO_LIMIT = 0.999
# A letter takes about this many pen points at pen_step 3: the window's starting speed.
_POINTS_PER_LETTER = 14.0


def check_config(config):
    """Raise ConfigError unless every split fits in memory."""
    points = int(30 * config["max_word_length"] * 2.5 / config["pen_step"])
    for key in ("num_train", "num_validation", "num_test"):
        at_most(config, key, MAX_SPLIT_POINTS // points, f"words of up to {points:,} pen points ({MAX_SPLIT_POINTS:,} points per split)")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SoftWindowLSTM(keras.layers.Layer):
    """The first LSTM layer of Graves' synthesis network, with its soft window over the letters.

    Step t, with the pen input x_t and the states (h1, c1, kappa, w) of step t - 1:
        h1_t, c1_t = LSTM([x_t, w_{t-1}], (h1_{t-1}, c1_{t-1}))
        (alpha_hat, beta_hat, kappa_hat) = W h1_t + b         (batch, K) each
        alpha = exp(alpha_hat), beta = exp(beta_hat), kappa_t = kappa_{t-1} + exp(kappa_hat)
        phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)  for letters u = 0..U-1 (0 at padding)
        w_t = sum_u phi(t, u) c_u                               (batch, 26): the window vector
    It runs over the whole stroke sequence with keras.ops.scan, so one call is teacher-forced
    training, and `step` is one step of the same update for sampling.

    Call arguments:
        strokes: (batch, T, 3) pen inputs x_t.
        text: (batch, U) int letter ids, 1..26, 0 at padding.
        initial_state: optional [h1, c1, kappa, w]; zeros when omitted.

    Returns:
        [h1 (batch, T, units), w (batch, T, 26), phi (batch, T, U), kappa (batch, T, K),
        *final states h1, c1, kappa, w].

    Args:
        units: LSTM units.
        num_window_components: K, the window's Gaussians.
    """

    def __init__(self, units, num_window_components, **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_window_components = units, num_window_components
        self.num_letters = VOCABULARY_SIZE - 1
        self.cell = keras.layers.LSTMCell(units, name="window_lstm_cell")
        # kappa_hat's bias starts at log(1 / points per letter): the window moves about one
        # letter per letter's worth of pen points from the first update on.
        speed = -math.log(_POINTS_PER_LETTER)
        bias = [0.0] * (2 * num_window_components) + [speed] * num_window_components
        self.window_parameters = keras.layers.Dense(
            3 * num_window_components, bias_initializer=keras.initializers.Constant(bias), name="window_parameters"
        )

    def build(self, strokes_shape, text_shape, initial_state_shape=None):
        self.cell.build((strokes_shape[0], int(strokes_shape[-1]) + self.num_letters))
        self.window_parameters.build((strokes_shape[0], self.units))

    @property
    def state_sizes(self):
        """Sizes of the states h1, c1, kappa, w."""
        return [self.units, self.units, self.num_window_components, self.num_letters]

    def letters(self, text):
        """(one-hot letters c_u (batch, U, 26), letter positions u (U,) float) of text ids; padding is all zero."""
        letters = ops.one_hot(ops.cast(text, "int32"), VOCABULARY_SIZE)[..., 1:]
        return letters, ops.cast(ops.arange(ops.shape(text)[1]), letters.dtype)

    def step(self, x_t, states, letters, positions, training=None):
        """One step: x_t (batch, 3), states [h1, c1, kappa, w] -> (new states, phi (batch, U))."""
        h, c, kappa, w = states
        _, (h, c) = self.cell(ops.concatenate([x_t, w], axis=-1), [h, c], training=training)
        alpha_hat, beta_hat, kappa_hat = ops.split(ops.clip(self.window_parameters(h), *_WINDOW_CLIP), 3, axis=-1)
        alpha, beta = ops.exp(alpha_hat), ops.exp(beta_hat)
        kappa = kappa + ops.exp(kappa_hat)
        # (batch, K, 1) against positions (1, 1, U) -> (batch, K, U), summed over K -> (batch, U)
        distance = ops.expand_dims(kappa, -1) - positions[None, None, :]
        phi = ops.sum(ops.expand_dims(alpha, -1) * ops.exp(-ops.expand_dims(beta, -1) * ops.square(distance)), axis=1)
        # Padding letters are all-zero rows of c, so they add nothing to w; zero their phi too.
        phi = phi * ops.max(letters, axis=-1)
        w = ops.einsum("bu,bul->bl", phi, letters)
        return [h, c, kappa, w], phi

    def call(self, strokes, text, initial_state=None, training=None):
        letters, positions = self.letters(text)
        batch = ops.shape(strokes)[0]
        if initial_state is None:
            initial_state = [ops.zeros((batch, size), dtype=strokes.dtype) for size in self.state_sizes]

        def scan_step(carry, x_t):
            states, phi = self.step(x_t, list(carry[:4]), letters, positions, training=training)
            # keras.ops.scan on TensorFlow stacks outputs shaped like the carry: report the carry.
            new_carry = (*states, phi)
            return new_carry, new_carry

        initial = (*initial_state, ops.zeros((batch, ops.shape(text)[1]), dtype=strokes.dtype))
        final, per_step = ops.scan(scan_step, initial, ops.transpose(strokes, (1, 0, 2)))
        h, _, kappa, w, phi = (ops.transpose(sequence, (1, 0, 2)) for sequence in per_step)
        return [h, w, phi, kappa, *final[:4]]

    def diagram_spec(self):
        """For `recipe diagram`: a recurrent layer whose steps read the pen input and attend to the letters."""
        return {
            "kind": "recurrent",
            "cell": self.cell,
            "arguments": {"strokes": "step", "text": "attention", "initial_state": "initial_state"},
            "outputs": ("sequence", "sequence_with_context", "attention_weights", "attention_weights", "final_states"),
        }

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_window_components": self.num_window_components}


def mixture_parameters(outputs, num_components, bias=0.0):
    """Split the output layer's (..., 1 + 6M) values into the distribution's parameters.

    Args:
        outputs: (..., 1 + 6M) raw outputs: e_hat, pi_hat, mu_x, mu_y, sigma_hat_x, sigma_hat_y, rho_hat.
        num_components: M.
        bias: Graves' sampling bias b (0 in training and evaluation).

    Returns:
        (eos_logit, log_pi, mu_x, mu_y, log_sigma_x, log_sigma_y, rho): eos_logit (...,), the rest
        (..., M); log_sigma clipped to [-6, 5] after subtracting b, rho to +-0.999.
    """
    eos_logit = outputs[..., 0]
    pi_hat, mu_x, mu_y, log_sigma_x, log_sigma_y, rho_hat = ops.split(outputs[..., 1:], 6, axis=-1)
    log_pi = ops.log_softmax(pi_hat * (1.0 + bias), axis=-1)
    log_sigma_x = ops.clip(log_sigma_x - bias, *_LOG_SIGMA_CLIP)
    log_sigma_y = ops.clip(log_sigma_y - bias, *_LOG_SIGMA_CLIP)
    rho = ops.clip(ops.tanh(rho_hat), -_RHO_LIMIT, _RHO_LIMIT)
    return eos_logit, log_pi, mu_x, mu_y, log_sigma_x, log_sigma_y, rho


def point_nll(targets, outputs, num_components):
    """Negative log-likelihood (nats) of each target triple under the predicted mixture.

    -log [ sum_j pi_j N(dx, dy | mu_j, sigma_j, rho_j) ] - log Bernoulli(e | sigmoid(e_hat)), with the
    bivariate normal's log density
        -log(2 pi sigma_x sigma_y sqrt(1 - rho^2)) - Z / (2 (1 - rho^2)),
        Z = z_x^2 + z_y^2 - 2 rho z_x z_y,  z = (d - mu) / sigma,
    and the sum over components done as a log-sum-exp.

    Args:
        targets: (..., >= 3) true (dx, dy, e, ...).
        outputs: (..., 1 + 6M) raw outputs of the model.
        num_components: M.

    Returns:
        (...) NLL per point.
    """
    eos_logit, log_pi, mu_x, mu_y, log_sigma_x, log_sigma_y, rho = mixture_parameters(outputs, num_components)
    dx, dy, eos = targets[..., 0:1], targets[..., 1:2], targets[..., 2]
    z_x = (dx - mu_x) * ops.exp(-log_sigma_x)
    z_y = (dy - mu_y) * ops.exp(-log_sigma_y)
    one_minus_rho2 = 1.0 - ops.square(rho)
    z = ops.square(z_x) + ops.square(z_y) - 2.0 * rho * z_x * z_y
    log_normal = -ops.log(2.0 * 3.141592653589793) - log_sigma_x - log_sigma_y - 0.5 * ops.log(one_minus_rho2) - z / (2.0 * one_minus_rho2)
    log_offsets = ops.logsumexp(log_pi + log_normal, axis=-1)
    # Bernoulli log-likelihood from the logit, stable for any sign: -softplus(-l) for e = 1, -softplus(l) for e = 0.
    log_eos = -(eos * ops.softplus(-eos_logit) + (1.0 - eos) * ops.softplus(eos_logit))
    return -(log_offsets + log_eos)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class MixtureDensityLoss(keras.losses.Loss):
    """Mean NLL per real pen point of a batch (padding, where the target's mask channel is 0, is left out).

    y_true: (batch, T, 4) targets (dx, dy, e, mask); y_pred: (batch, T, 1 + 6M) raw outputs.
    Keras averages the returned (batch, T) values, so each is scaled by (batch * T) / (real points).

    Args:
        num_components: M.
    """

    def __init__(self, num_components, name="mixture_density_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_components = num_components

    def call(self, y_true, y_pred):
        mask = y_true[..., 3]
        nll = point_nll(y_true, y_pred, self.num_components) * mask
        scale = ops.cast(ops.size(mask), mask.dtype) / ops.maximum(ops.sum(mask), 1.0)
        return nll * scale

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components}


def build_model(config):
    """The handwriting prediction (unconditional) or synthesis (conditional) network.

    Args:
        config: DEFAULT_CONFIG with any overrides.

    Returns:
        A compiled keras.Model from {"strokes": (batch, T, 3)[, "text": (batch, U) int32]} to
        (batch, T, 1 + 6M) raw mixture outputs (mixture_parameters splits them), trained with
        MixtureDensityLoss.
    """
    units, num_components = config["units"], config["num_components"]
    strokes = keras.Input(shape=(None, 3), name="strokes")
    inputs = {"strokes": strokes}
    hidden, window = [], None
    if config["conditional"]:
        text = keras.Input(shape=(config["max_word_length"],), dtype="int32", name="text")
        inputs["text"] = text
        first = SoftWindowLSTM(units, config["num_window_components"], name="window_lstm")(strokes, text)
        hidden.append(first[0])
        window = first[1]  # (batch, T, 26): w_t, read by the layers above at the same step
    for index in range(len(hidden), config["num_layers"]):
        # Skip connections: every layer reads the pen input, the layer below and the window.
        parts = [strokes] + hidden[-1:] + ([window] if window is not None else [])
        layer_input = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"lstm_{index + 1}_input")(parts)
        hidden.append(keras.layers.LSTM(units, return_sequences=True, name=f"lstm_{index + 1}")(layer_input))
    top = hidden[0] if len(hidden) == 1 else keras.layers.Concatenate(name="all_layers")(hidden)
    outputs = keras.layers.Dense(1 + 6 * num_components, name="mixture_parameters")(top)
    model = keras.Model(inputs, outputs, name="handwriting_synthesis" if config["conditional"] else "handwriting_prediction")
    # Cosine decay to a tenth of the rate over the run: large steps early, small ones at the end.
    steps = config["epochs"] * math.ceil(config["num_train"] / config["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(config["learning_rate"], steps, alpha=0.1)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config["global_clipnorm"]),
        loss=MixtureDensityLoss(num_components),
    )
    return model
