"""A real or a chaotic series, cut into windows for h-step-ahead prediction.

Two series (config `series`):
- "mackey_glass": the Mackey-Glass delay differential equation with tau = 17, the
  echo-state-network benchmark (Jaeger 2001; Jaeger & Haas 2004):
      dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)
  integrated with fourth-order Runge-Kutta (step 0.1, the delayed value at half steps
  linearly interpolated), from the classic constant history x = 1.2, and sampled
  every `sample_step` time units after a 1000-unit transient. Generated here, offline.
- "sunspots": the yearly sunspot numbers 1700-2008 (309 values) bundled with statsmodels
  (public-domain data from NOAA's NGDC). Real, but short.

The series is standardised with the mean and standard deviation of its training part.
A model reads s_t and predicts s_{t+horizon} at every step. Every sequence starts
with `washout` steps whose outputs the model crops (Cropping1D), so the reservoir
(or LSTM) state forgets its zero start before the loss counts:

    train:       windows of washout + window steps, stride `window`, over the first part
    validation:  one sequence over the middle part, led by `washout` earlier inputs
    test:        one sequence over the held-out tail, led by `washout` earlier inputs

Each target is predicted exactly once per epoch; the test tail is never seen in training.
"""

import functools

import numpy as np

from recipes.common.config import config_error

SERIES_CHOICES = ("mackey_glass", "sunspots")
SUNSPOTS_LENGTH = 309  # yearly values 1700-2008
MACKEY_GLASS_DT = 0.1  # the Runge-Kutta step; sample_step is a multiple of it


def check_sample_step(sample_step, dt=MACKEY_GLASS_DT):
    """Raise ConfigError unless sample_step is a positive multiple of dt."""
    every = int(round(sample_step / dt))
    if every < 1 or abs(every * dt - sample_step) > 1e-9:
        raise config_error("sample_step", sample_step, f"a positive multiple of {dt:g}", 1.0)


def series_size(config):
    """Samples in the configured series, known without loading it."""
    return SUNSPOTS_LENGTH if config["series"] == "sunspots" else config["series_length"]


@functools.lru_cache(maxsize=4)
def mackey_glass(length, sample_step=1.0, tau=17.0, dt=MACKEY_GLASS_DT, transient=1000.0):
    """The Mackey-Glass series with beta = 0.2, gamma = 0.1, n = 10.

    Args:
        length: number of samples to return.
        sample_step: time units between samples (a multiple of dt).
        tau: the delay.
        dt: the Runge-Kutta step.
        transient: time units integrated and dropped before the first sample.

    Returns:
        float64 array of shape (length,) (read-only: it is cached).
    """
    delay = int(round(tau / dt))
    check_sample_step(sample_step, dt)
    every = int(round(sample_step / dt))
    steps = int(round(transient / dt)) + length * every

    def derivative(x, x_delayed):
        return 0.2 * x_delayed / (1.0 + x_delayed**10) - 0.1 * x

    # history[k] is x at time (k - delay) * dt; the first `delay + 1` entries are the constant start.
    history = np.empty(delay + 1 + steps)
    history[: delay + 1] = 1.2
    for k in range(delay, delay + steps):
        x = history[k]
        lag_now, lag_next = history[k - delay], history[k - delay + 1]
        lag_half = 0.5 * (lag_now + lag_next)
        k1 = derivative(x, lag_now)
        k2 = derivative(x + 0.5 * dt * k1, lag_half)
        k3 = derivative(x + 0.5 * dt * k2, lag_half)
        k4 = derivative(x + dt * k3, lag_next)
        history[k + 1] = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    series = history[delay + 1 + int(round(transient / dt)) :: every][:length]
    series.flags.writeable = False
    return series


def sunspots():
    """Yearly sunspot numbers 1700-2008 from statsmodels: (years, values) float64 arrays of length 309."""
    try:
        from statsmodels.datasets import sunspots as dataset
    except ModuleNotFoundError:
        raise ModuleNotFoundError("series=sunspots needs the 'statsmodels' package. Run 'pip install -r requirements.txt'.") from None
    frame = dataset.load_pandas().data
    return frame["YEAR"].to_numpy(dtype="float64"), frame["SUNACTIVITY"].to_numpy(dtype="float64")


def load_series(config):
    """(time axis, raw series, time unit label) for config["series"]."""
    if config["series"] == "sunspots":
        years, values = sunspots()
        return years, values, "year"
    series = mackey_glass(config["series_length"], float(config["sample_step"]))
    return np.arange(len(series)) * config["sample_step"], np.array(series), "time (Mackey-Glass units)"


def split_points(length, validation_fraction, test_fraction):
    """Indices (validation_start, test_start) splitting a series of `length` samples in time order."""
    test_start = length - int(round(length * test_fraction))
    validation_start = test_start - int(round(length * validation_fraction))
    return validation_start, test_start


def context_sequence(series, start, stop, washout, horizon):
    """One (x, y) sequence whose cropped outputs predict series[start:stop].

    The input runs over series[start - horizon - washout : stop - horizon]: `washout`
    leading steps warm the state up, then step i of the rest predicts series[start + i].

    Returns:
        x (1, washout + stop - start, 1) and y (1, stop - start, 1), float32.
    """
    x = series[start - horizon - washout : stop - horizon]
    y = series[start:stop]
    return x[None, :, None].astype("float32"), y[None, :, None].astype("float32")


def training_windows(series, stop, washout, window, horizon):
    """Windows over series[:stop]; each predicts `window` targets after `washout` warm-up inputs.

    Returns:
        x (num_windows, washout + window, 1) and y (num_windows, window, 1), float32.
    """
    starts = np.arange(0, stop - horizon - washout - window + 1, window)
    x = np.stack([series[s : s + washout + window] for s in starts])
    y = np.stack([series[s + washout + horizon : s + washout + window + horizon] for s in starts])
    return x[..., None].astype("float32"), y[..., None].astype("float32")


def load_data(config):
    """The standardised series and its train / validation / test sequences.

    Args:
        config: dict with series, series_length, sample_step, validation_fraction,
            test_fraction, washout, window, horizon.

    Returns:
        dict with "train", "validation", "test": (x, y) as described in the module
        docstring; "series": the standardised series (float32); "time": its time axis;
        "time_unit": axis label; "mean", "std": the standardisation (training part);
        "validation_start", "test_start": split indices into the series.

    The windows must fit the training part (the model's check_config).
    """
    time, raw, time_unit = load_series(config)
    washout, window, horizon = config["washout"], config["window"], config["horizon"]
    validation_start, test_start = split_points(len(raw), config["validation_fraction"], config["test_fraction"])
    mean, std = raw[:validation_start].mean(), raw[:validation_start].std()
    series = (raw - mean) / std
    return {
        "train": training_windows(series, validation_start, washout, window, horizon),
        "validation": context_sequence(series, validation_start, test_start, washout, horizon),
        "test": context_sequence(series, test_start, len(series), washout, horizon),
        "series": series.astype("float32"),
        "time": time,
        "time_unit": time_unit,
        "mean": float(mean),
        "std": float(std),
        "validation_start": validation_start,
        "test_start": test_start,
    }
