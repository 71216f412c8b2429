"""Which augmentations make the CTC recognizers transfer: an ablation on brief runs.

Each row is a brief run (`recipe run ID --brief --set ...`: 2,000 training utterances, 3
epochs) with some of recipes/common/augment.py's switches changed, scored on the in-family
test (wavegen voices no config trains on) and on the out-of-family test (espeak-ng's Klatt
voices, which no config trains on, rendered without augmentation). "everything" is the
DEFAULT_CONFIG's switches; each "without X" row turns one switch back to its plain setting;
"nothing" turns them all off (19 classic voices, plain prosody, white noise only,
per-utterance normalization kept). wav2letter gets every row; deepspeech2_ctc, three times
slower to train, gets "nothing" and "everything".

Results are kept in bench/results/speech_ablation/<recipe>-<row>.json (metrics, wall time,
load) and reused; --rows NAME ... reruns rows (deleting their results first). One brief run
takes 2-4 minutes on 2 cores, so the whole table takes about 45 minutes. --write puts the table
into recipes/wav2letter/README.md and recipes/deepspeech2_ctc/README.md.

    python bench/speech_ablation.py [--rows NAME ...] [--write]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "speech_ablation"
PLAIN = {
    "voices": "classic",
    "prosody": "plain",
    "speed_perturb": False,
    "reverb": False,
    "channel": False,
    "noise": "white",
    "vtlp": False,
    "spec_augment": False,
}
LABELS = {
    "voices": "73 wavegen voices (else the 19 classic ones)",
    "prosody": "varied prosody (wider ranges, per-word rate/pitch/volume, pauses)",
    "speed_perturb": "speed perturbation 0.9/1.0/1.1",
    "reverb": "synthetic room reverberation",
    "channel": "telephone band / random equalizer",
    "noise": "coloured noise and babble (else white)",
    "vtlp": "VTLP (mel warp 0.9-1.1)",
    "spec_augment": "SpecAugment masks",
    "feature_norm": "per-utterance mean/variance normalization",
}
# name -> (label, --set overrides); "everything" is the recipe's DEFAULT_CONFIG switches.
ROWS = {
    "nothing": ("nothing (plain synthesis, white noise)", PLAIN),
    "everything": ("everything", {}),
    "everything_seed1": ("everything, seed 1 (run-to-run spread)", {"seed": 1}),
    **{f"without_{key}": (f"without {LABELS[key]}", {key: value}) for key, value in PLAIN.items()},
    "without_feature_norm": (f"without {LABELS['feature_norm']}", {"feature_norm": "none"}),
}
RECIPES = {"wav2letter": list(ROWS), "deepspeech2_ctc": ["nothing", "everything"]}


def result_path(recipe_id, row):
    return RESULTS / f"{recipe_id}-{row}.json"


def measure(recipe_id, row):
    """Run the brief run of `row` in a fresh process and keep its metrics, wall time and load."""
    _, overrides = ROWS[row]
    sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}")]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"ablation-{recipe_id}-") as scratch:
        run_dir = Path(scratch) / "run"
        command = [sys.executable, "-m", "tools.cli", "run", recipe_id, "--brief", *sets, "--out", str(run_dir)]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        record = json.loads((run_dir / "run.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text())
    result = {
        "recipe": recipe_id,
        "row": row,
        "overrides": overrides,
        "metrics": metrics,
        "wall_seconds": record["wall_seconds"],
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_path(recipe_id, row).write_text(json.dumps(result, indent=2) + "\n")
    return result


def table():
    """The markdown table of every kept result, rows in ROWS order, wav2letter first."""
    header = ["recognizer", "training data", "in-family CER", "in-family WER", "out-of-family CER", "out-of-family WER", "ratio", "brief run"]
    rows = []
    for recipe_id, names in RECIPES.items():
        for row in names:
            path = result_path(recipe_id, row)
            if not path.exists():
                continue
            result = json.loads(path.read_text())
            m = result["metrics"]
            rows.append(
                [
                    f"`{recipe_id}`",
                    ROWS[row][0],
                    f"{m['cer']:.3f}",
                    f"{m['wer']:.3f}",
                    f"{m['cer_out_of_family']:.3f}",
                    f"{m['wer_out_of_family']:.3f}",
                    f"{m['cer_out_of_family'] / max(m['cer'], 1e-9):.1f}x",
                    f"{result['wall_seconds']:.0f} s",
                ]
            )
    return markdown_table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=(), help="rows to run again (their kept results are replaced)")
    parser.add_argument("--write", action="store_true", help="write the table into the two recipe READMEs")
    args = parser.parse_args()
    unknown = set(args.rows) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}: choose from {', '.join(ROWS)}")
    for recipe_id, names in RECIPES.items():
        for row in names:
            if row in args.rows or not result_path(recipe_id, row).exists():
                print(f"{recipe_id} {row} ...", flush=True)
                result = measure(recipe_id, row)
                m = result["metrics"]
                print(f"  CER {m['cer']:.3f}, out-of-family {m['cer_out_of_family']:.3f}, {result['wall_seconds']:.0f} s", flush=True)
    markdown = table()
    print(markdown)
    if args.write:
        for recipe_id in RECIPES:
            write_block(recipe_id, "speech_ablation", markdown)


if __name__ == "__main__":
    main()
