"""translation: attention against a fixed context and a translation memory, greedy against beam search.

Trains the fixed-context encoder-decoder (`--set attention=false`, otherwise DEFAULT_CONFIG)
through the shared runner and reads the attention model's numbers from the pretrained
checkpoint (the same DEFAULT_CONFIG, so the same splits and the same translation memory).
Every row is scored on the same random held-out test split and the same unseen-pattern
numbers. About 5 minutes on 2 cores (one training); --write puts the table into
recipes/translation/README.md.

    python bench/compare_translation.py [--write] [--fixed-run RUN_DIR]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402


def run_variant(out, sets):
    """Train and evaluate DEFAULT_CONFIG with `sets` through `recipe run`; returns the run's metrics."""
    command = [str(ROOT / ".venv" / "bin" / "recipe"), "run", "translation", "--out", str(out)]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads((Path(out) / "metrics.json").read_text())


def rows_of(label, metrics, beam_width):
    """Table rows of one trained model: greedy, then beam search."""
    rows = []
    for decoding, suffix in (("greedy", ""), (f"beam {beam_width}", "_beam")):
        rows.append(
            [
                label,
                decoding,
                f"{metrics[f'exact_match{suffix}']:.3f}",
                f"{metrics[f'bleu{suffix}']:.1f}",
                f"{metrics[f'chrf{suffix}']:.1f}",
                f"{metrics[f'unseen_exact_match{suffix}']:.3f}",
                f"{metrics[f'unseen_chrf{suffix}']:.1f}",
                # The two held-out patterns apart are scored for greedy decoding only.
                f"{metrics['unseen_exact_match_ending']:.3f}" if not suffix else "",
                f"{metrics['unseen_exact_match_hundreds']:.3f}" if not suffix else "",
            ]
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--fixed-run", type=Path, help="reuse this finished attention=false run directory instead of training one")
    args = parser.parse_args()

    pretrained = ROOT / "recipes" / "translation" / "pretrained"
    attention = json.loads((pretrained / "metrics.json").read_text())
    config = json.loads((pretrained / "config.json").read_text())
    if args.fixed_run:
        fixed = json.loads((args.fixed_run / "metrics.json").read_text())
    else:
        fixed = run_variant(Path("/tmp/translation_bench_fixed"), ["attention=false"])

    header = [
        "model",
        "decoding",
        "test exact match",
        "test BLEU",
        "test chrF",
        "unseen exact match",
        "unseen chrF",
        "unseen x97 exact",
        "unseen 7xx exact",
    ]
    rows = [
        [
            "translation memory (most similar training source, its stored translation)",
            "lookup",
            f"{attention['baseline_exact_match']:.3f}",
            f"{attention['baseline_bleu']:.1f}",
            f"{attention['baseline_chrf']:.1f}",
            f"{attention['baseline_unseen_exact_match']:.3f}",
            f"{attention['baseline_unseen_chrf']:.1f}",
            "0 (never stored)",
            "0 (never stored)",
        ],
        *rows_of("encoder-decoder, fixed context (Cho et al. 2014)", fixed, config["beam_width"]),
        *rows_of("encoder-decoder, Bahdanau attention (pretrained)", attention, config["beam_width"]),
    ]
    table = markdown_table(header, rows)
    print(table)
    if args.write:
        # Reusing a finished --fixed-run gives the same table, so the README names the full command.
        print("wrote", write_block("translation", "comparison", table, command="python bench/compare_translation.py --write"))


if __name__ == "__main__":
    main()
