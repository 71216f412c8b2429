"""image_rows_rnn: the row-reading LSTM against the column reader, a bidirectional reader and a small CNN.

Trains each variant with the brief config (`recipe run image_rows_rnn --brief --set ...`,
20 epochs, same split and seed) through the recipe runner (run directories under
/tmp/image_rows_rnn_bench/, reused when complete: delete them to retrain), reads their
metrics.json, and adds the pretrained checkpoint (DEFAULT_CONFIG, 60 epochs) and the
nearest-class-mean baseline, which needs no training. Takes about 2.5 minutes on 2 cores;
--write puts the table into recipes/image_rows_rnn/README.md.

    python bench/compare_image_rows_rnn.py [--write]
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

RUNS = Path("/tmp/image_rows_rnn_bench")
VARIANTS = {
    "lstm_rows": ("LSTM, one row per step", ["model=lstm", "read_by=rows"]),
    "lstm_columns": ("LSTM, one column per step", ["model=lstm", "read_by=columns"]),
    "bidirectional_rows": ("bidirectional LSTM, rows", ["model=bidirectional_lstm", "read_by=rows"]),
    "cnn": ("CNN (2 conv + pool blocks)", ["model=cnn"]),
}


def finished_run(name, sets):
    """metrics.json and run.json of the brief run with `sets`, trained now unless already complete."""
    from tools import runner

    run_dir = RUNS / name
    record = run_dir / "run.json"
    if not (record.exists() and json.loads(record.read_text()).get("status") == "complete"):
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists but is not a complete run: delete it and rerun.")
        runner.run("image_rows_rnn", brief=True, sets=sets, out=str(run_dir), verbose=0)
    return json.loads((run_dir / "metrics.json").read_text()), json.loads(record.read_text())


def row(label, metrics, training):
    return [
        label,
        f"{metrics['parameters']:,.0f}",
        f"{metrics['accuracy']:.3f}",
        f"{metrics['shifted_accuracy']:.3f}",
        f"{metrics['rotated_accuracy']:.3f}",
        training,
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    args = parser.parse_args()

    header = ["model", "parameters", "test accuracy", "shifted by 1 pixel", "rotated by 15 degrees", "training"]
    rows = []
    first = None
    for name, (label, sets) in VARIANTS.items():
        metrics, record = finished_run(name, sets)
        first = first or metrics
        rows.append(row(label, metrics, f"{record['epochs_run']} epochs, {record['train_seconds']:.0f} s"))
    pretrained = ROOT / "recipes" / "image_rows_rnn" / "pretrained"
    if (pretrained / "metrics.json").exists():
        metrics = json.loads((pretrained / "metrics.json").read_text())
        record = json.loads((pretrained / "run.json").read_text())
        rows.insert(1, row("LSTM, rows (pretrained checkpoint)", metrics, f"{record['epochs_run']} epochs, {record['train_seconds']:.0f} s"))
    rows.append(["nearest class-mean image (pixels)", "640", f"{first['nearest_centroid_accuracy']:.3f}", "", "", "class means"])
    markdown = markdown_table(header, rows)
    print(markdown)
    if args.write:
        print("wrote", write_block("image_rows_rnn", "comparison", markdown))


if __name__ == "__main__":
    main()
