"""LSTM forecasting of monthly Mauna Loa CO2: single-shot multi-step vs autoregressive.

Papers: "Long Short-Term Memory", Sepp Hochreiter and Jürgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735 (the cell). The two multi-step strategies
are those of TensorFlow's tutorial "Time series forecasting",
https://www.tensorflow.org/tutorials/structured_data/time_series ("single-shot" and
"autoregressive" models); the rolling-origin evaluation and the baselines follow
"Forecasting: Principles and Practice" (3rd ed.), Rob J. Hyndman and George
Athanasopoulos, 2021, https://otexts.com/fpp3/ (sections 5.2 and 5.10).

What the recipe shows. From the last `window` months of CO2 an LSTM forecasts the next
`horizon` months, at every origin of a held-out final stretch (data.py), and is scored
in ppm next to the forecasts a statistician would try first (demo.py): persistence,
seasonal naive, seasonal naive plus last year's rise, and a linear autoregression
fitted by least squares on the same training windows. Two ways to produce `horizon`
outputs (`strategy`):

- single_shot (default): the LSTM reads the window and a Dense layer maps its last
  hidden state to all `horizon` changes at once (an encoder and a linear head).
- autoregressive: the LSTM cell reads the window, predicts one month ahead, and its
  prediction is fed back as the next input for `horizon - 1` more steps (the
  tutorial's "FeedBack" model). It is trained on its own fed-back predictions, with
  the loss over all `horizon` outputs, so training and use see the same inputs.

Deviations and choices:
- Inputs and targets are the change from the last known value (data.py), not levels:
  the test years' levels lie above anything in training, which a level model would
  have to extrapolate. The autoregressive step also predicts a change (its readout
  is added to its input, the tutorial's residual wrapper).
- The seasonal cycle is not given as a feature (no month-of-year input): the window
  holds three full cycles and the model must read the phase from it.
- Adam with the mean squared error; the weights of the epoch with the lowest
  validation loss are kept (`fit_callbacks`), since the training set is only a few
  hundred overlapping windows.
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, at_most, choice, integer
from recipes.forecasting.data import MONTHS_PER_YEAR

STRATEGY_CHOICES = ("single_shot", "autoregressive")
SERIES_MONTHS = 526  # monthly CO2, March 1958 - December 2001 (data.co2_monthly)

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 200,
    "batch_size": 32,
    "learning_rate": 0.003,
    "strategy": "single_shot",
    "units": 32,
    # Months read before each origin, and months forecast after it.
    "window": 36,
    "horizon": 12,
    # The final test_years are held out (the origins step through them every origin_step
    # months); the validation_years before them monitor training.
    "test_years": 5,
    "validation_years": 3,
    "origin_step": 1,
    # Epochs without a better validation loss before training stops (the best epoch's weights are kept).
    "patience": 30,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "strategy": choice(*STRATEGY_CHOICES),
    "units": integer(1, 1024),
    "window": integer(1, 240),
    "horizon": integer(1, 60),
    "test_years": integer(1, 20),
    "validation_years": integer(1, 20),
    "origin_step": integer(1, 60),
    "patience": integer(1, 10_000),
}

# No input carries the targets: both strategies read only the true past (the autoregressive
# one feeds back its own predictions, never the targets).
TEACHER_FORCED_INPUTS = ()


def check_config(config):
    """Raise ConfigError unless the held-out years leave a training stretch with windows in it
    and the test stretch is at least one horizon long."""
    about = f"with test_years={config['test_years']}"
    at_most(config, "horizon", config["test_years"] * MONTHS_PER_YEAR, f"(the {config['test_years'] * MONTHS_PER_YEAR} test months {about})")
    at_most(
        config, "horizon", config["validation_years"] * MONTHS_PER_YEAR, f"(the validation months with validation_years={config['validation_years']})"
    )
    training = SERIES_MONTHS - (config["test_years"] + config["validation_years"]) * MONTHS_PER_YEAR
    at_most(
        config,
        "window",
        training - config["horizon"] - 10,
        f"(leaving 10 training windows in the {max(training, 0)} training months {about}, validation_years={config['validation_years']})",
    )


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class FeedbackInputs(keras.layers.Layer):
    """The window followed by `horizon - 1` empty steps, with a "given" flag per step.

    (batch, window, 1) -> (batch, window + horizon - 1, 2): [value, 1] for the window's
    months, [0, 0] for the steps where the recurrent layer reads its own prediction.

    Args:
        horizon: months forecast.
    """

    def __init__(self, horizon, **kwargs):
        super().__init__(**kwargs)
        self.horizon = int(horizon)

    def call(self, inputs):
        empty = ops.repeat(ops.zeros_like(inputs[:, :1, :]), self.horizon - 1, axis=1)  # (batch, horizon - 1, 1)
        values = ops.concatenate([inputs, empty], axis=1)
        given = ops.concatenate([ops.ones_like(inputs), empty], axis=1)
        return ops.concatenate([values, given], axis=-1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + self.horizon - 1
        return (input_shape[0], steps, 2)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class FeedbackCell(keras.layers.Layer):
    """An LSTM cell whose one-step prediction becomes its next input where no true value is given.

    Step, with input (v_t, g_t) = (value, given flag) and state (h, c, zhat_t):
        z_t = g_t * v_t + (1 - g_t) * zhat_t        the true value, or the last prediction
        h_t, c_t = LSTM(z_t, h_{t-1}, c_{t-1})
        zhat_{t+1} = z_t + w h_t + b                 a predicted change added to the input
    The output is zhat_{t+1}. Over the window every g_t = 1 (the cell reads the true past);
    after it, each prediction is fed back (the tutorial's "FeedBack" model, with its
    residual wrapper).

    Args:
        units: LSTM units.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.cell = keras.layers.LSTMCell(self.units, name="lstm_cell")
        self.readout = keras.layers.Dense(1, name="readout")
        # The LSTM's (h, c), then the previous prediction zhat_t, (batch, 1).
        self.state_size = [self.units, self.units, 1]
        self.output_size = 1

    def build(self, input_shape):
        # Build the wrapped layers here so their weights exist before a .keras load.
        if not self.cell.built:
            self.cell.build((input_shape[0], 1))
        if not self.readout.built:
            self.readout.build((input_shape[0], self.units))

    def call(self, inputs, states, training=None):
        h_prev, c_prev, prediction = states
        value, given = inputs[:, :1], inputs[:, 1:]  # each (batch, 1)
        z = given * value + (1.0 - given) * prediction
        h, (h, c) = self.cell(z, [h_prev, c_prev], training=training)
        prediction = z + self.readout(h)  # (batch, 1)
        return prediction, [h, c, prediction]

    def diagram_spec(self):
        """For `recipe diagram`: the LSTM cell, plus a readout whose output is fed back as the next input."""
        return {"wraps": self.cell, "readout": self.readout, "output_feedback": True}

    @property
    def cells(self):
        """The wrapped cell, listed as stacked cells are, so `recipe weights` splits its gates."""
        return [self.cell]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def build_model(config):
    """The configured forecaster, compiled with Adam and the mean squared error.

    Args:
        config: DEFAULT_CONFIG with any overrides.

    Returns:
        A compiled keras.Model from (batch, window, 1) scaled changes from the last value
        to (batch, horizon) scaled changes of the months after the origin.
    """
    inputs = keras.Input(shape=(config["window"], 1), name="past_changes")
    if config["strategy"] == "single_shot":
        summary = keras.layers.LSTM(config["units"], name="encoder_lstm")(inputs)  # (batch, units): the last hidden state
        outputs = keras.layers.Dense(config["horizon"], name="horizon_head")(summary)  # (batch, horizon)
    else:
        steps = FeedbackInputs(config["horizon"], name="window_then_feedback")(inputs)  # (batch, window + horizon - 1, 2)
        predictions = keras.layers.RNN(FeedbackCell(config["units"], name="feedback_cell"), return_sequences=True, name="feedback_lstm")(steps)
        # Step t predicts month t + 1: the last `horizon` steps are the forecast (the first one reads the last true month).
        predictions = keras.layers.Cropping1D((config["window"] - 1, 0), name="forecast_steps")(predictions)
        outputs = keras.layers.Reshape((config["horizon"],), name="forecast")(predictions)  # (batch, horizon)
    model = keras.Model(inputs, outputs, name=f"forecasting_{config['strategy']}")
    model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="mse")
    return model


def fit_callbacks(model, data, config):
    """Keep the weights of the epoch with the lowest validation loss; stop after `patience` epochs without one."""
    return [keras.callbacks.EarlyStopping(monitor="val_loss", patience=config["patience"], restore_best_weights=True)]
