"""conv_lstm: the ConvLSTM against a fully connected LSTM on flattened frames and against copying the last frame.

Trains each variant with the brief config (`recipe run conv_lstm --brief --set ...`: 800
training videos, 3 epochs, the same 200 test videos of unseen digits) through the recipe
runner (run directories under /tmp/conv_lstm_bench/, reused when complete: delete them to
retrain), reads their metrics.json, and adds the pretrained checkpoint (DEFAULT_CONFIG) and
the baselines that need no training: copying the last frame, a blank frame, and the mean
training frame (per-pixel average), which ignore the motion. The fully connected LSTM is tried at
about the ConvLSTM's parameter count (1 unit) and far above it (64 units). Takes about 3
minutes on 2 cores; --write puts the table into recipes/conv_lstm/README.md.

    python bench/compare_conv_lstm.py [--write]
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

RUNS = Path("/tmp/conv_lstm_bench")
VARIANTS = {
    "conv_lstm": ("ConvLSTM, 8 filters 3x3", ["model=conv_lstm"]),
    "lstm_1": ("LSTM on flattened frames, 1 unit", ["model=lstm", "units=1"]),
    "lstm_64": ("LSTM on flattened frames, 64 units", ["model=lstm", "units=64"]),
}


def finished_run(name, sets):
    """metrics.json and run.json of the brief run with `sets`, trained now unless already complete."""
    from tools import runner

    run_dir = RUNS / name
    record = run_dir / "run.json"
    if not (record.exists() and json.loads(record.read_text()).get("status") == "complete"):
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists but is not a complete run: delete it and rerun.")
        runner.run("conv_lstm", brief=True, sets=sets, out=str(run_dir), verbose=0)
    return json.loads((run_dir / "metrics.json").read_text()), json.loads(record.read_text())


def still_baselines(config):
    """Next-frame and rollout MSE of two predictors that ignore the video: a blank frame, and the mean
    training frame (the per-pixel average of every training target frame), on the test split of `config`."""
    import numpy as np

    from recipes.conv_lstm.data import load_data
    from recipes.conv_lstm.demo import rollout_targets

    data = load_data(config)
    x, y = data["test"]
    truth, _ = rollout_targets(x, y, config["context_frames"], config["rollout_frames"])
    mean_frame = data["train"][1].mean(axis=(0, 1))  # (S, S, 1)
    return {
        "blank frame (no ink)": (np.mean(y**2), np.mean(truth**2)),
        "mean training frame": (np.mean((y - mean_frame) ** 2), np.mean((truth - mean_frame) ** 2)),
    }


def row(label, metrics, training):
    return [label, f"{metrics['parameters']:,.0f}", f"{metrics['next_frame_mse']:.4f}", f"{metrics['rollout_mse']:.4f}", training]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    args = parser.parse_args()

    from tools import runner

    header = ["predictor (brief config unless noted)", "parameters", "next-frame MSE", "rollout MSE (5 frames)", "training"]
    rows, first = [], None
    for name, (label, sets) in VARIANTS.items():
        metrics, record = finished_run(name, sets)
        first = first or metrics
        rows.append(row(label, metrics, f"{record['epochs_run']} epochs, {record['train_seconds']:.0f} s"))
    rows.append(["copy the last frame", "0", f"{first['copy_last_mse']:.4f}", f"{first['copy_last_rollout_mse']:.4f}", "none"])
    brief = runner.resolve("conv_lstm", brief=True).config
    for label, (next_mse, rollout_mse) in still_baselines(brief).items():
        rows.append([label, "0", f"{next_mse:.4f}", f"{rollout_mse:.4f}", "none" if "blank" in label else "a mean"])
    pretrained = ROOT / "recipes" / "conv_lstm" / "pretrained"
    if (pretrained / "metrics.json").exists():
        metrics = json.loads((pretrained / "metrics.json").read_text())
        record = json.loads((pretrained / "run.json").read_text())
        training = f"{record['epochs_run']} epochs, {record['train_seconds']:.0f} s"
        rows.append(row("ConvLSTM, pretrained checkpoint (DEFAULT_CONFIG, 400 test videos)", metrics, training))
        rows.append(
            ["copy the last frame, on those 400 videos", "0", f"{metrics['copy_last_mse']:.4f}", f"{metrics['copy_last_rollout_mse']:.4f}", "none"]
        )
        config = json.loads((pretrained / "config.json").read_text())
        next_mse, rollout_mse = still_baselines(config)["mean training frame"]
        rows.append(["mean training frame, on those 400 videos", "0", f"{next_mse:.4f}", f"{rollout_mse:.4f}", "a mean"])
    markdown = markdown_table(header, rows)
    print(markdown)
    if args.write:
        print("wrote", write_block("conv_lstm", "comparison", markdown))


if __name__ == "__main__":
    main()
