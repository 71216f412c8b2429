"""forecasting: both LSTM strategies against the simple baselines, in ppm, on the rolling test origins.

Trains DEFAULT_CONFIG with strategy=single_shot and strategy=autoregressive for each of
--seeds seeds through the recipe runner (run directories under /tmp/forecasting_bench/,
reused when they exist: delete them to retrain) and reads their metrics.json. The
baselines are deterministic and use the same test origins, so they are read from the
first run. The LSTM rows give the mean over seeds, with the spread (min-max) of the MAE.
Takes about 6 minutes on 2 cores with 3 seeds; --write puts the table into
recipes/forecasting/README.md.

    python bench/compare_forecasting.py [--write] [--seeds 3]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per LSTM strategy (default 3)")
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


if __name__ == "__main__":
    main()
