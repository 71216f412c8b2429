"""forecasting: the rolling-origin split does not leak the future, the baselines are right on toy
series with known answers, the autoregressive model feeds back its predictions, and bad configs fail in one line."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError
from recipes.forecasting import data, demo, model
from tools import cli, runner

CONFIG = dict(model.DEFAULT_CONFIG)


def perturbed_after(index, monkeypatch):
    """Make load_data see the CO2 series with every month from `index` on replaced by noise."""
    months, series = data.co2_monthly()
    changed = np.array(series)
    changed[index:] = np.random.default_rng(0).normal(1000.0, 50.0, size=len(series) - index)
    monkeypatch.setattr(data, "co2_monthly", lambda: (months, changed))


def test_split_never_reads_past_its_stretch():
    found = data.load_data(CONFIG)
    validation_start, test_start, horizon = found["validation_start"], found["test_start"], CONFIG["horizon"]
    # The last month any training target reads is before the validation stretch; test origins start at test_start.
    assert found["train_origins"].max() + horizon <= validation_start
    assert found["test_origins"].min() == test_start
    assert found["test_origins"].max() + horizon == len(found["series"])
    assert len(found["test_origins"]) == CONFIG["test_years"] * 12 - horizon + 1


def test_training_data_and_scale_ignore_everything_after_the_training_stretch(monkeypatch):
    clean = data.load_data(CONFIG)
    perturbed_after(clean["validation_start"], monkeypatch)
    dirty = data.load_data(CONFIG)
    assert dirty["scale"] == clean["scale"]
    for a, b in zip(clean["train"], dirty["train"]):
        np.testing.assert_array_equal(a, b)
    # The noise does reach the validation targets: the check above can fail.
    assert not np.array_equal(clean["validation"][1], dirty["validation"][1])


def test_a_test_window_reads_only_the_past_of_its_origin(monkeypatch):
    clean = data.load_data(CONFIG)
    origin = clean["test_origins"][5]
    perturbed_after(origin, monkeypatch)
    dirty = data.load_data(CONFIG)
    np.testing.assert_array_equal(clean["test"][0][: 5 + 1], dirty["test"][0][: 5 + 1])
    assert not np.array_equal(clean["test"][1][5], dirty["test"][1][5])
    assert not np.array_equal(clean["test"][0][6], dirty["test"][0][6])


def toy_series(length=120, slope=0.0):
    """A period-12 pattern (not a sine: every month differs) plus a linear trend."""
    season = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0])
    return np.tile(season, length // 12) + slope * np.arange(length)


@pytest.mark.parametrize("horizon", [1, 12, 24])
def test_seasonal_naive_is_exact_on_a_pure_seasonal_series(horizon):
    series = toy_series()
    origin_list = np.arange(48, len(series) - horizon + 1)
    targets = np.stack([series[o : o + horizon] for o in origin_list])
    np.testing.assert_array_equal(demo.seasonal_naive(series, origin_list, horizon), targets)
    np.testing.assert_array_equal(demo.persistence(series, origin_list, horizon), np.repeat(series[origin_list - 1][:, None], horizon, axis=1))
    # Persistence is not exact here, so the comparison above can tell the two apart.
    assert np.abs(demo.persistence(series, origin_list, horizon) - targets).mean() > 1.0


@pytest.mark.parametrize("horizon", [12, 24])
def test_drift_and_linear_ar_are_exact_on_season_plus_trend(horizon):
    series = toy_series(slope=0.25)
    origin_list = np.arange(36, len(series) - horizon + 1)
    targets = np.stack([series[o : o + horizon] for o in origin_list])
    # Seasonal naive misses the trend by 12 * 0.25 ppm per year reached back; the drift term adds it.
    assert np.allclose(targets - demo.seasonal_naive(series, origin_list, horizon), 3.0 * demo.seasonal_lags(horizon)[None, :] / 12)
    np.testing.assert_allclose(demo.seasonal_naive_drift(series, origin_list, horizon), targets, atol=1e-9)
    x, y = data.windows(series, origin_list, 24, horizon, scale=2.0)
    weights = demo.fit_linear_ar(x[:40], y[:40])
    np.testing.assert_allclose(demo.to_ppm(demo.linear_ar(weights, x[40:]), series, origin_list[40:], 2.0), targets[40:], atol=1e-6)


def test_scores_and_horizon_buckets():
    assert demo.horizon_buckets(12) == [(1, 3), (4, 6), (7, 12)]
    assert demo.horizon_buckets(24) == [(1, 3), (4, 6), (7, 12), (13, 18), (19, 24)]
    assert demo.horizon_buckets(2) == [(1, 2)]
    truth = np.zeros((2, 12))
    error = np.tile(np.arange(1.0, 13.0), (2, 1))
    found = demo.scores(error, truth, "m")
    assert found["m_mae"] == pytest.approx(6.5) and found["m_mae_h1_3"] == pytest.approx(2.0) and found["m_mae_h7_12"] == pytest.approx(9.5)
    assert found["m_rmse"] == pytest.approx(np.sqrt(np.mean(np.arange(1.0, 13.0) ** 2)))


def test_autoregressive_model_feeds_back_its_predictions():
    """Forecast k of the autoregressive model equals one more step of the model on the window extended by
    its own forecasts 1 .. k-1 (what feeding back means), and depends on nothing after the window."""
    config = dict(CONFIG, strategy="autoregressive", window=8, horizon=4, units=5)
    net = model.build_model(config)
    x = np.random.default_rng(1).normal(size=(3, 8, 1)).astype("float32")
    forecast = np.asarray(net.predict_on_batch(x))  # (3, 4)
    assert forecast.shape == (3, 4)
    rnn = net.get_layer("feedback_lstm")

    steps = keras.Input(shape=(None, 2))
    one_step = keras.Model(steps, rnn(steps))
    for k in range(1, 4):
        # The true window then the first k forecasts, all given: the last output must be forecast k + 1.
        given = np.concatenate([x, forecast[:, :k, None]], axis=1)
        flags = np.ones_like(given)
        predicted = np.asarray(one_step.predict_on_batch(np.concatenate([given, flags], axis=-1)))[:, -1, 0]
        np.testing.assert_allclose(predicted, forecast[:, k], rtol=1e-4, atol=1e-5)


def test_bad_strategy_is_one_line(capfd):
    assert cli.main(["run", "forecasting", "--set", "strategy=sideways"]) == 2
    err = capfd.readouterr().err.strip()
    assert "\n" not in err and "'strategy'" in err and "single_shot" in err


def test_windows_too_long_for_the_training_stretch_are_refused():
    with pytest.raises(ConfigError, match="'window'"):
        runner.resolve("forecasting", sets=["window=240", "test_years=20", "validation_years=20"])
