"""forecasting: both LSTM strategies against the simple baselines, in ppm, on the rolling test origins.

Trains DEFAULT_CONFIG with strategy=single_shot and strategy=autoregressive for each of
--seeds seeds through the recipe runner (run directories under /tmp/forecasting_bench/,
reused when they exist: delete them to retrain) and reads their metrics.json. The
baselines are deterministic and use the same test origins, so they are read from the
first run. The LSTM rows give the mean over seeds, with the spread (min-max) of the MAE.
Takes about 6 minutes on 2 cores with 3 seeds; --write puts the table into
recipes/forecasting/README.md.

--elnino adds a second table: the same protocol and hyperparameters (DEFAULT_CONFIG, seed 0,
both strategies) on another statsmodels series never used to choose them, the monthly El
Nino sea surface temperature 1950-2010 (`statsmodels.datasets.elnino`, public domain), with
its own training stretch, scale and baselines (about 2 more minutes).

    python bench/compare_forecasting.py [--write] [--seeds 3] [--elnino]
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

RUNS = Path("/tmp/forecasting_bench")
STRATEGIES = {"single_shot": "LSTM single-shot (all 12 months at once)", "autoregressive": "LSTM autoregressive (predictions fed back)"}


def finished_run(strategy, seed):
    """The run directory of DEFAULT_CONFIG with `strategy` and `seed`, trained now unless it is complete."""
    from tools import runner

    run_dir = RUNS / f"{strategy}-seed{seed}"
    record = run_dir / "run.json"
    if not (record.exists() and json.loads(record.read_text()).get("status") == "complete"):
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists but is not a complete run: delete it and rerun.")
        runner.run("forecasting", sets=[f"strategy={strategy}"], seed=seed, out=str(run_dir), verbose=0)
    return json.loads((run_dir / "metrics.json").read_text()), json.loads(record.read_text())


def cells(metrics, prefix):
    """MAE, RMSE and the MAE of each horizon bucket (ppm) for `prefix` in one metrics dict."""
    return [
        metrics[f"{prefix}_mae"],
        metrics[f"{prefix}_rmse"],
        metrics[f"{prefix}_mae_h1_3"],
        metrics[f"{prefix}_mae_h4_6"],
        metrics[f"{prefix}_mae_h7_12"],
    ]


def elnino_data(config):
    """load_data's dict for the monthly El Nino SST series (degrees C) with the recipe's split and windows."""
    import numpy as np
    from statsmodels.datasets import elnino

    from recipes.forecasting import data

    series = elnino.load_pandas().data.iloc[:, 1:].to_numpy(dtype="float64").ravel()  # (732,) Jan 1950 - Dec 2010
    window, horizon = config["window"], config["horizon"]
    validation_start, test_start = data.split_points(len(series), config["validation_years"], config["test_years"])
    scale = data.training_scale(series, validation_start)
    test_origins = data.origins(test_start, len(series) - horizon, config["origin_step"])
    splits = {
        "train": data.origins(window, validation_start - horizon),
        "validation": data.origins(validation_start, test_start - horizon),
        "test": test_origins,
    }
    found = {name: data.windows(series, origin_list, window, horizon, scale) for name, origin_list in splits.items()}
    return {**found, "series": series, "scale": scale, "test_origins": test_origins, "test_start": test_start, "months": np.arange(len(series))}


def elnino_rows():
    """Rows of the El Nino table: the baselines and both strategies trained with DEFAULT_CONFIG (seed 0)."""
    import keras

    from recipes.forecasting import demo
    from recipes.forecasting import model as recipe_model

    rows, first = [], None
    for strategy, label in STRATEGIES.items():
        config = dict(recipe_model.DEFAULT_CONFIG, strategy=strategy)
        keras.utils.set_random_seed(config["seed"])
        data = elnino_data(config)
        model = recipe_model.build_model(config)
        history = model.fit(
            *data["train"],
            batch_size=config["batch_size"],
            epochs=config["epochs"],
            validation_data=data["validation"],
            callbacks=recipe_model.fit_callbacks(model, data, config),
            verbose=0,
        )
        metrics = demo.evaluate(model, data, config)
        if first is None:
            first = metrics
            rows += [[demo.BASELINE_LABELS[name], *(f"{value:.3f}" for value in cells(metrics, name))] for name in demo.BASELINES]
        rows.append([f"{label}, seed 0 ({len(history.history['loss'])} epochs)", *(f"{value:.3f}" for value in cells(metrics, "lstm"))])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per LSTM strategy (default 3)")
    parser.add_argument("--elnino", action="store_true", help="also score both strategies on the El Nino SST series")
    args = parser.parse_args()

    from recipes.forecasting.demo import BASELINE_LABELS, BASELINES

    runs = {strategy: [finished_run(strategy, seed) for seed in range(args.seeds)] for strategy in STRATEGIES}
    first = runs["single_shot"][0][0]
    header = ["forecaster", "MAE (ppm)", "RMSE (ppm)", "MAE 1-3 months", "MAE 4-6 months", "MAE 7-12 months", "training"]
    rows = [
        [BASELINE_LABELS[name], *(f"{value:.3f}" for value in cells(first, name)), "none" if name != "linear_ar" else "least squares"]
        for name in BASELINES
    ]
    for strategy, label in STRATEGIES.items():
        scored = [cells(metrics, "lstm") for metrics, _ in runs[strategy]]
        mean = [sum(column) / len(column) for column in zip(*scored)]
        maes = [row[0] for row in scored]
        seconds = sum(record["train_seconds"] for _, record in runs[strategy]) / len(scored)
        epochs = sorted(record["epochs_run"] for _, record in runs[strategy])
        rows.append(
            [
                f"{label}, mean of {len(scored)} seeds",
                f"{mean[0]:.3f} ({min(maes):.3f}-{max(maes):.3f})",
                *(f"{value:.3f}" for value in mean[1:]),
                f"{seconds:.0f} s, {epochs[0]}-{epochs[-1]} epochs",
            ]
        )
    table = markdown_table(header, rows)
    print(table)
    if args.write:
        write_block("forecasting", "comparison", table)
    if args.elnino:
        header = ["forecaster", "MAE (deg C)", "RMSE (deg C)", "MAE 1-3 months", "MAE 4-6 months", "MAE 7-12 months"]
        table = markdown_table(header, elnino_rows())
        print(table)
        if args.write:
            write_block("forecasting", "elnino", table)


if __name__ == "__main__":
    main()
