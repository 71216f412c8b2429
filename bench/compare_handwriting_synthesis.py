"""handwriting_synthesis: NLL per pen point of the mixture network against single-Gaussian outputs, with and without the text.

Trains four variants of the brief configuration (same data, same seed, same training
budget) through the recipe runner: conditional (soft window) or unconditional, with the
default mixture of num_components Gaussians or with one Gaussian (num_components=1, the
same network with a single bivariate Gaussian output); and the unconditional network
with the full DEFAULT_CONFIG budget, to set against the pretrained conditional checkpoint. Run directories go under
/tmp/handwriting_synthesis_bench/ and are reused when complete (delete them to retrain).
The closed-form baseline (one bivariate Gaussian + one Bernoulli fitted to the training
points) is read from the first run; the pretrained checkpoint's row is read from
recipes/handwriting_synthesis/pretrained/metrics.json when it exists. Takes about 10
minutes on 2 busy cores (the brief variants 20-30 s of training each, the default one about 7 minutes); --write puts the table into recipes/handwriting_synthesis/README.md.

    python bench/compare_handwriting_synthesis.py [--write]
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

RECIPE = "handwriting_synthesis"
RUNS = Path("/tmp/handwriting_synthesis_bench")
# name: (label, --set values, brief budget or DEFAULT_CONFIG)
VARIANTS = {
    "conditional-mixture": ("conditional, mixture of 10 Gaussians (the brief run)", ["conditional=true"], True),
    "conditional-single": ("conditional, one Gaussian (num_components=1)", ["conditional=true", "num_components=1"], True),
    "unconditional-mixture": ("unconditional, mixture of 10 Gaussians", ["conditional=false"], True),
    "unconditional-single": ("unconditional, one Gaussian (num_components=1)", ["conditional=false", "num_components=1"], True),
    "unconditional-default": ("unconditional, mixture of 10 Gaussians, DEFAULT_CONFIG budget", ["conditional=false"], False),
}


def finished_run(name, sets, brief):
    """(metrics, run record) of the brief (or default) configuration with `sets`, trained now unless a complete run exists."""
    from tools import runner

    run_dir = RUNS / name
    record = run_dir / "run.json"
    if not (record.exists() and json.loads(record.read_text()).get("status") == "complete"):
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists but is not a complete run: delete it and rerun.")
        runner.run(RECIPE, brief=brief, sets=sets, out=str(run_dir), verbose=0)
    return json.loads((run_dir / "metrics.json").read_text()), json.loads(record.read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    args = parser.parse_args()

    runs = {name: finished_run(name, sets, brief) for name, (_, sets, brief) in VARIANTS.items()}
    first = runs["conditional-mixture"][0]
    header = ["model (brief training budget unless said)", "test NLL per point (nats)", "training"]
    rows = [["one bivariate Gaussian + one Bernoulli, closed form on the training points", f"{first['single_gaussian_nll']:.3f}", "none"]]
    for name, (label, _, _) in VARIANTS.items():
        metrics, record = runs[name]
        rows.append([label, f"{metrics['nll_per_point']:.3f}", f"{record['train_seconds']:.0f} s, {record['epochs_run']} epochs"])
    pretrained = ROOT / "recipes" / RECIPE / "pretrained"
    if (pretrained / "metrics.json").exists():
        metrics = json.loads((pretrained / "metrics.json").read_text())
        record = json.loads((pretrained / "run.json").read_text())
        rows.append(
            [
                "conditional, mixture of 10 Gaussians, pretrained checkpoint (DEFAULT_CONFIG)",
                f"{metrics['nll_per_point']:.3f}",
                f"{record['train_seconds']:.0f} s, {record['epochs_run']} epochs",
            ]
        )
    table = markdown_table(header, rows)
    print(table)
    if args.write:
        write_block(RECIPE, "comparison", table)


if __name__ == "__main__":
    main()
