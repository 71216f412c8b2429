"""melody_rnn: the LSTM (brief run and shipped checkpoint) against uniform, unigram and bigram models.

Every row is scored on the same windows: the test tunes of DEFAULT_CONFIG's split (the
pretrained checkpoint's config) and the unseen Chinese songs, so the brief run's model, which
trained on a smaller prefix of the collection with a different split, is evaluated on the
default split here (its own tunes may be among those test tunes: its row is an upper
estimate of how well it does on unseen tunes). The n-gram baselines are fitted on the
default split's training tunes. Trains one brief run (~1 minute on 2 cores) unless
--brief-run reuses one; --write puts the table into recipes/melody_rnn/README.md.

    python bench/compare_melody_rnn.py [--write] [--brief-run RUN_DIR]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--brief-run", type=Path, help="reuse this finished brief run directory instead of training one")
    args = parser.parse_args()

    import keras

    from recipes.melody_rnn import demo
    from recipes.melody_rnn import model as recipe_model
    from recipes.melody_rnn.data import load_data

    brief_dir = args.brief_run or Path("/tmp/melody_rnn_bench_brief")
    if not args.brief_run:
        subprocess.run([str(ROOT / ".venv" / "bin" / "recipe"), "run", "melody_rnn", "--brief", "--out", str(brief_dir)], check=True, cwd=ROOT)
    pretrained = ROOT / "recipes" / "melody_rnn" / "pretrained"
    config = json.loads((pretrained / "config.json").read_text())
    data = load_data(config)

    def scored(path_or_model):
        model = keras.saving.load_model(path_or_model) if isinstance(path_or_model, Path) else path_or_model
        return demo.evaluate(model, data, config), model.count_params()

    def wall(run_dir):
        return f"{json.loads((run_dir / 'run.json').read_text())['wall_seconds']:.0f} s"

    brief_config = json.loads((brief_dir / "config.json").read_text())
    untrained, untrained_params = scored(recipe_model.build_model(brief_config))
    brief, brief_params = scored(brief_dir / "model.keras")
    full, full_params = scored(pretrained / "model.keras")

    def nll(metrics, name):
        return f"{metrics[name]:.3f}", f"{metrics['cross_' + name]:.3f}" if "cross_" + name in metrics else "n/a"

    header = ["model", "parameters", "training", "test tunes: nats/step", "unseen Chinese songs: nats/step"]
    rows = [
        ["uniform over 39 events", 0, "none", f"{full['uniform_nll_per_step']:.3f}", f"{full['uniform_nll_per_step']:.3f}"],
        ["unigram event frequencies (add-one)", 38, "counting", *nll(full, "unigram_nll_per_step")],
        ["bigram: previous event -> next (add-one)", 39 * 38, "counting", *nll(full, "bigram_nll_per_step")],
        [f"untrained LSTM ({brief_config['units']} units x {brief_config['num_layers']})", untrained_params, "none", *nll(untrained, "nll_per_step")],
        [
            f"LSTM brief run ({brief_config['units']} units x {brief_config['num_layers']}, {brief_config['epochs']} epochs, {brief_config['max_tunes']} tunes)",
            brief_params,
            wall(brief_dir),
            *nll(brief, "nll_per_step"),
        ],
        [
            f"LSTM pretrained ({config['units']} units x {config['num_layers']}, {config['epochs']} epochs, {len(data['tunes']['train'])} tunes)",
            full_params,
            wall(pretrained),
            *nll(full, "nll_per_step"),
        ],
    ]
    table = markdown_table(header, rows)
    print(table)
    if args.write:
        write_block("melody_rnn", "comparison", table)


if __name__ == "__main__":
    main()
