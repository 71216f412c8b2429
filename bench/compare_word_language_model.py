"""word_language_model: the LSTM (brief run, the paper's small preset at the same budget, the shipped
checkpoint) against unigram and interpolated Kneser-Ney n-gram models, in perplexity.

Every row is scored on the same plays: the validation and test plays of DEFAULT_CONFIG's data
(vocabulary 1,000), laid out in rows of the model's own batch size (64, or 32 for the brief
and small runs), state carried from the start of each row. The n-gram models
are fitted on the full training plays. The brief run and the small-preset run train on the first
30 % of the training words for one epoch in batches of 32 rows; the small preset's model is the
paper's 2 x 200 LSTM with SGD at learning rate 1 (and no dropout). Trains both runs (~3
minutes on 2 cores) unless --brief-run / --small-run reuse finished run directories; --write puts
the table into recipes/word_language_model/README.md.

    python bench/compare_word_language_model.py [--write] [--brief-run DIR] [--small-run DIR]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

RECIPE = "word_language_model"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--brief-run", type=Path, help="reuse this finished brief run directory")
    parser.add_argument("--small-run", type=Path, help="reuse this finished run of --brief --set size=small")
    parser.add_argument("--skip-small", action="store_true", help="leave out the small-preset row")
    args = parser.parse_args()

    import keras
    import numpy as np

    from recipes.word_language_model import demo
    from recipes.word_language_model.data import load_data
    from recipes.word_language_model.ngram import KneserNey

    recipe = str(ROOT / ".venv" / "bin" / "recipe")
    runs = {}
    wanted = [("brief", args.brief_run, [])] + ([] if args.skip_small else [("small", args.small_run, ["--set", "size=small"])])
    for name, given, extra in wanted:
        runs[name] = given or Path(f"/tmp/{RECIPE}_bench_{name}")
        if not given:
            subprocess.run([recipe, "run", RECIPE, "--brief", *extra, "--out", str(runs[name])], check=True, cwd=ROOT)
    pretrained = ROOT / "recipes" / RECIPE / "pretrained"
    config = json.loads((pretrained / "config.json").read_text())
    data = load_data(config)
    train, size = data["streams"]["train"], len(data["vocabulary"])

    def ngram_row(label, order):
        model = KneserNey(train, size, order=order)
        scores = [model.perplexity(data["streams"][split], data[split].target_positions()) for split in ("validation", "test")]
        return [label, "counting", *(f"{score:.1f}" for score in scores)]

    counts = np.bincount(train, minlength=size) + 1.0
    unigram = [
        float(np.exp(-np.log(counts[data["streams"][split][data[split].target_positions().reshape(-1)]] / counts.sum()).mean()))
        for split in ("validation", "test")
    ]

    def lstm_rows(label, run_dir):
        record = json.loads((run_dir / "run.json").read_text())
        model = keras.saving.load_model(run_dir / "model.keras")
        # The batch size is part of a stateful model: its rows of the same test plays (batch 32 drops
        # a few more words at the row ends than batch 64: under 0.1 % of them).
        batch_size = json.loads((run_dir / "config.json").read_text())["batch_size"]
        own = data if batch_size == config["batch_size"] else load_data({**config, "batch_size": batch_size})
        metrics = demo.evaluate(model, own, config)
        trained = f"{record['train_seconds']:.0f} s"
        return [
            [label, trained, f"{metrics['validation_perplexity']:.1f}", f"{metrics['test_perplexity']:.1f}"],
            [label + ", state reset at every window", trained, "", f"{metrics['test_perplexity_reset_each_window']:.1f}"],
        ]

    def describe(run_dir):
        c = json.loads((run_dir / "config.json").read_text())
        from recipes.word_language_model.model import resolved

        c = resolved(c)
        share = "" if c["train_fraction"] == 1 else f" on {c['train_fraction']:.0%} of the training words"
        return f"{c['num_layers']} x {c['units']} LSTM, {c['optimizer']} lr {c['learning_rate']:g}, dropout {c['dropout']:g}, {c['epochs']} epoch(s){share}"

    header = ["model", "training (2 CPU cores)", "validation perplexity", "test perplexity"]
    rows = [
        ["unigram (add-one)", "counting", *(f"{score:.1f}" for score in unigram)],
        ngram_row("interpolated Kneser-Ney bigram (D = 0.75)", 2),
        ngram_row("interpolated Kneser-Ney trigram (D = 0.75)", 3),
        *(lstm_rows(f"paper's small preset: {describe(runs['small'])}", runs["small"]) if "small" in runs else []),
        *lstm_rows(f"brief run: {describe(runs['brief'])}", runs["brief"]),
        *lstm_rows(f"pretrained (DEFAULT_CONFIG): {describe(pretrained)}", pretrained),
    ]
    table = markdown_table(header, rows)
    print(table)
    if args.write:
        write_block(RECIPE, "comparison", table)


if __name__ == "__main__":
    main()
