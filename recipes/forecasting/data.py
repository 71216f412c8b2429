"""Monthly Mauna Loa CO2 (1958-2001) as rolling-origin forecasting windows.

The series: statsmodels' weekly CO2 record (March 1958 - December 2001, 2,284 weeks of
which 59 are missing), gaps filled by linear interpolation in time, averaged to 526
monthly values in ppm.

A forecast "origin" o is a month at which the past x[:o] is known and the next
`horizon` months x[o], ..., x[o + horizon - 1] are to be forecast. Each window is

    x: (window, 1)   z_t = (x_t - x[o-1]) / scale for the `window` months before o
    y: (horizon,)    (x[o+h-1] - x[o-1]) / scale for h = 1 .. horizon

i.e. the inputs and targets are the change from the last known value, divided by
`scale`, the standard deviation of the month-to-month change over the training
stretch. Forecasting changes rather than levels matters here: CO2 rises every year,
so the test years lie above every level the training stretch has seen.

The split is by time, with the origins of each split stepping one month at a time:

    training stretch     x[:validation_start]        origins whose targets end by validation_start
    validation origins   validation_start .. test_start - horizon   (targets end by test_start)
    test origins         test_start .. len - horizon (every `origin_step` months)

so nothing after the first test origin is trained on or used for monitoring, and the
scale comes from the training stretch only. Test inputs read the true series up to
their origin (that is what a forecaster at that origin knows).
"""

import functools

import numpy as np

MONTHS_PER_YEAR = 12


@functools.lru_cache(maxsize=1)
def co2_monthly():
    """(months, ppm): monthly mean Mauna Loa CO2 from statsmodels, gaps interpolated.

    Returns:
        months: (526,) numpy datetime64[M] array, March 1958 to December 2001;
        ppm: (526,) float64 array (read-only: it is cached).
    """
    try:
        from statsmodels.datasets import co2
    except ModuleNotFoundError:
        raise ModuleNotFoundError("The forecasting recipe needs the 'statsmodels' package. Run 'pip install -r requirements.txt'.") from None
    weekly = co2.load_pandas().data["co2"]
    # 59 missing weeks: linear in time between their neighbours; then the calendar-month mean.
    monthly = weekly.interpolate(method="time").resample("MS").mean()
    ppm = monthly.to_numpy(dtype="float64")
    ppm.flags.writeable = False
    return monthly.index.to_numpy().astype("datetime64[M]"), ppm


def split_points(length, validation_years, test_years):
    """(validation_start, test_start): month indices where the validation and test stretches begin."""
    test_start = length - test_years * MONTHS_PER_YEAR
    return test_start - validation_years * MONTHS_PER_YEAR, test_start


def origins(first, last, step=1):
    """Forecast origins first, first + step, ... up to and including `last` (an int array)."""
    return np.arange(first, last + 1, step)


def windows(series, origin_list, window, horizon, scale):
    """Inputs and targets of the forecasts made at `origin_list`, as changes from the last known value.

    Args:
        series: (length,) raw series.
        origin_list: int array of origins o (window <= o <= length - horizon).
        window: months of history the model reads.
        horizon: months forecast.
        scale: divisor of every change (from the training stretch).

    Returns:
        x (origins, window, 1) and y (origins, horizon), float32.
    """
    series = np.asarray(series, dtype="float64")
    last = series[origin_list - 1][:, None]  # (origins, 1): x[o-1], the last known value
    past = np.stack([series[o - window : o] for o in origin_list])  # (origins, window)
    future = np.stack([series[o : o + horizon] for o in origin_list])  # (origins, horizon)
    return ((past - last) / scale)[..., None].astype("float32"), ((future - last) / scale).astype("float32")


def training_scale(series, validation_start):
    """Standard deviation of the month-to-month change over the training stretch series[:validation_start]."""
    return float(np.std(np.diff(series[:validation_start])))


def load_data(config):
    """The CO2 windows of every split and what evaluation needs to go back to ppm.

    Args:
        config: dict with window, horizon, validation_years, test_years, origin_step.

    Returns:
        dict with "train", "validation", "test": (x, y) as from `windows`;
        "series": the raw monthly ppm (float64); "months": their datetime64[M] dates;
        "scale": ppm per unit of x and y; "validation_start", "test_start": split indices;
        "test_origins", "train_origins": the origins of those splits.
    """
    months, series = co2_monthly()
    series = np.array(series)
    window, horizon = config["window"], config["horizon"]
    validation_start, test_start = split_points(len(series), config["validation_years"], config["test_years"])
    scale = training_scale(series, validation_start)
    train_origins = origins(window, validation_start - horizon)
    validation_origins = origins(max(window, validation_start), test_start - horizon)
    test_origins = origins(test_start, len(series) - horizon, config["origin_step"])
    return {
        "train": windows(series, train_origins, window, horizon, scale),
        "validation": windows(series, validation_origins, window, horizon, scale),
        "test": windows(series, test_origins, window, horizon, scale),
        "series": series,
        "months": months,
        "scale": scale,
        "validation_start": validation_start,
        "test_start": test_start,
        "train_origins": train_origins,
        "test_origins": test_origins,
    }
