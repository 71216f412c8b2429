"""Rolling-origin scores in ppm for the LSTM and the simple baselines, and a figure of the test years.

Every forecaster is scored on the same test origins (data.py) over all `horizon` months
after each origin: MAE and RMSE in ppm, and the MAE per horizon bucket (months 1-3,
4-6, 7-12 ahead; later buckets of 6 months when horizon > 12). The baselines use only
the series up to the origin, and the linear one is fitted on the training windows:

- persistence: every future month equals the last known month.
- seasonal naive: each month equals the same calendar month one year earlier (two
  years earlier beyond 12 months ahead, and so on).
- seasonal naive + drift: seasonal naive plus the rise of the last 12 known months
  for each year the forecast reaches back.
- linear AR: the same inputs as the LSTM (the window's changes from the last value)
  mapped to the `horizon` changes by one least-squares fit with an intercept on the
  training windows: a linear, direct multi-step autoregression.
"""

import numpy as np

from recipes.forecasting.data import MONTHS_PER_YEAR

BASELINES = ("persistence", "seasonal_naive", "seasonal_naive_drift", "linear_ar")
BASELINE_LABELS = {
    "persistence": "persistence (last value)",
    "seasonal_naive": "seasonal naive (same month last year)",
    "seasonal_naive_drift": "seasonal naive + last year's rise",
    "linear_ar": "linear AR (least squares, training windows)",
}


def horizon_buckets(horizon):
    """[(first, last)] months-ahead buckets, 1-based and inclusive: 1-3, 4-6, 7-12, then 6 months at a time."""
    edges = [1, 4, 7, 13] + list(range(19, horizon + 7, 6))
    return [(first, min(last - 1, horizon)) for first, last in zip(edges, edges[1:]) if first <= horizon]


def persistence(series, origin_list, horizon):
    """(origins, horizon) forecasts: x[o-1] for every month ahead."""
    return np.repeat(series[origin_list - 1][:, None], horizon, axis=1)


def seasonal_lags(horizon, period=MONTHS_PER_YEAR):
    """(horizon,) lags: h months ahead reads the value period * ceil(h / period) months before its target."""
    ahead = np.arange(1, horizon + 1)
    return period * np.ceil(ahead / period).astype(int)


def seasonal_naive(series, origin_list, horizon, period=MONTHS_PER_YEAR):
    """(origins, horizon) forecasts: x[t - period * ceil(h / period)] for the target month t = o + h - 1."""
    targets = origin_list[:, None] + np.arange(horizon)[None, :]  # (origins, horizon) target indices
    return series[targets - seasonal_lags(horizon, period)[None, :]]


def seasonal_naive_drift(series, origin_list, horizon, period=MONTHS_PER_YEAR):
    """Seasonal naive plus ceil(h / period) times the last period's rise x[o-1] - x[o-1-period]."""
    rise = series[origin_list - 1] - series[origin_list - 1 - period]  # (origins,)
    laps = seasonal_lags(horizon, period) // period  # (horizon,)
    return seasonal_naive(series, origin_list, horizon, period) + rise[:, None] * laps[None, :]


def fit_linear_ar(x, y):
    """Least-squares weights (window + 1, horizon) of y ~ [1, x] over training windows x (n, window, 1), y (n, horizon)."""
    design = np.hstack([np.ones((len(x), 1)), x.reshape(len(x), -1)]).astype("float64")
    weights, *_ = np.linalg.lstsq(design, y.astype("float64"), rcond=None)
    return weights


def linear_ar(weights, x):
    """(n, horizon) predicted scaled changes of the fitted linear AR for windows x (n, window, 1)."""
    return np.hstack([np.ones((len(x), 1)), x.reshape(len(x), -1)]) @ weights


def to_ppm(changes, series, origin_list, scale):
    """Scaled changes from the last value -> ppm levels, (origins, horizon)."""
    return series[origin_list - 1][:, None] + np.asarray(changes, dtype="float64") * scale


def forecasts(model, data, config):
    """{name: (test origins, horizon) ppm forecasts} of the model ("lstm") and every baseline, and the true values."""
    series, origin_list, scale, horizon = data["series"], data["test_origins"], data["scale"], config["horizon"]
    x, y = data["test"]
    weights = fit_linear_ar(*data["train"])
    found = {
        "lstm": to_ppm(model.predict(x, batch_size=len(x), verbose=0), series, origin_list, scale),
        "persistence": persistence(series, origin_list, horizon),
        "seasonal_naive": seasonal_naive(series, origin_list, horizon),
        "seasonal_naive_drift": seasonal_naive_drift(series, origin_list, horizon),
        "linear_ar": to_ppm(linear_ar(weights, x), series, origin_list, scale),
    }
    return found, to_ppm(y, series, origin_list, scale)


def scores(predicted, truth, prefix):
    """{prefix_mae, prefix_rmse, prefix_mae_h<a>_<b> per bucket} in ppm over every origin and month ahead."""
    error = np.asarray(predicted, dtype="float64") - truth  # (origins, horizon)
    found = {f"{prefix}_mae": float(np.mean(np.abs(error))), f"{prefix}_rmse": float(np.sqrt(np.mean(error**2)))}
    for first, last in horizon_buckets(truth.shape[1]):
        found[f"{prefix}_mae_h{first}_{last}"] = float(np.mean(np.abs(error[:, first - 1 : last])))
    return found


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "lstm_mae*",
    "lstm_rmse",
    "persistence_mae*",
    "persistence_rmse",
    "seasonal_naive_mae*",
    "seasonal_naive_rmse",
    "seasonal_naive_drift_mae*",
    "seasonal_naive_drift_rmse",
    "linear_ar_mae*",
    "linear_ar_rmse",
    "best_baseline_mae",
)


def evaluate(model, data, config):
    """lstm_mae and lstm_rmse (ppm) of the model over the rolling test origins (and per horizon bucket), the same for each
    baseline, and best_baseline_mae, the lowest baseline MAE."""
    found, truth = forecasts(model, data, config)
    metrics = {}
    for name, predicted in found.items():
        metrics.update(scores(predicted, truth, name))
    metrics["best_baseline_mae"] = min(metrics[f"{name}_mae"] for name in BASELINES)
    return metrics


def demo(model, data, config, out_dir, num_origins=4):
    """forecasts.png: the test years with the LSTM's and the best baseline's forecasts from `num_origins` origins."""
    from recipes.common import style

    found, truth = forecasts(model, data, config)
    series, months, origin_list = data["series"], data["months"], data["test_origins"]
    baseline_mae = {name: float(np.mean(np.abs(found[name] - truth))) for name in BASELINES}
    best = min(baseline_mae, key=baseline_mae.get)
    lstm_mae = float(np.mean(np.abs(found["lstm"] - truth)))
    # Origins spread evenly over the test stretch, so their forecasts do not overlap much.
    picks = np.linspace(0, len(origin_list) - 1, num_origins).round().astype(int)
    start = data["test_start"] - 2 * MONTHS_PER_YEAR
    time = months.astype("datetime64[D]")
    fig, ax = style.subplots(1, 1, figsize=(10, 4.8), layout="constrained")
    ax.axvspan(time[data["test_start"]], time[-1], color="0.93", lw=0)
    ax.plot(time[start:], series[start:], color="0.35", lw=1.4, label="monthly CO2 (true)")
    for number, pick in enumerate(picks):
        origin = origin_list[pick]
        span = time[origin - 1 : origin + config["horizon"]]
        last = series[origin - 1]
        ax.plot(span, np.r_[last, found[best][pick]], color=style.SERIES[1], lw=1.6, ls="--", label=BASELINE_LABELS[best] if number == 0 else None)
        ax.plot(
            span,
            np.r_[last, found["lstm"][pick]],
            color=style.SERIES[0],
            lw=1.8,
            label=f"LSTM, {config['strategy'].replace('_', '-')}" if number == 0 else None,
        )
        ax.plot(time[origin - 1], last, "o", color="black", ms=4, label="forecast origin (last known month)" if number == 0 else None)
    ax.set_ylabel("CO2 (ppm)")
    ax.set_xlabel("month")
    ax.set_title(
        f"Mauna Loa CO2, held-out years (grey): {config['horizon']}-month forecasts from {num_origins} of {len(origin_list)} origins\n"
        f"MAE over all origins: LSTM {lstm_mae:.2f} ppm, {BASELINE_LABELS[best].split(' (')[0]} {baseline_mae[best]:.2f} ppm",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=9)
    return [style.save(fig, f"{out_dir}/forecasts.png")]
