"""Which augmentations make the CTC recognizers transfer: an ablation on brief runs.

Each row is a brief run (`recipe run ID --brief --set ...`) with one of recipes/common/augment.py's
switches flipped, scored on the in-family test (wavegen voices no config trains on) and on the
out-of-family test (every voice of espeak-ng's Klatt synthesizer, which no config trains on,
rendered like the in-family test, without augmentation). "the defaults" is the recipe's
DEFAULT_CONFIG switches; "nothing" turns them all off (19 classic voices, plain prosody, white noise only) but
keeps the per-utterance normalization. wav2letter gets every row; deepspeech2_ctc, slower to
train, gets "the defaults" (with the 72 voices: its DEFAULT_CONFIG sets voices=all), "nothing"
and the 19 classic voices. Where Debian's `flite` is installed, each run is also
scored on bench/speech_transfer.py's Flite set (another synthesizer, four voices, three of
them made from real speakers' recordings; column "Flite CER").

Results are kept in bench/results/speech_ablation/<recipe>-<row>.json (metrics, wall time,
load) and reused; --rows NAME ... reruns rows. One brief run takes 3-4 minutes on 2 cores, so
the whole table takes about 50 minutes. --write puts the table into recipes/wav2letter/README.md
and recipes/deepspeech2_ctc/README.md.

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
# Each switch of recipes/common/augment.py at its plain setting and at its rich one.
PLAIN = {
    "voices": "classic",
    "prosody": "plain",
    "speed_perturb": False,
    "reverb": False,
    "channel": False,
    "noise": "white",
    "vtlp": False,
    "spec_augment": False,
    "feature_norm": "none",
}
RICH = {
    "voices": "all",
    "prosody": "varied",
    "speed_perturb": True,
    "reverb": True,
    "channel": True,
    "noise": "mixed",
    "vtlp": True,
    "spec_augment": True,
    "feature_norm": "utterance",
}
LABELS = {
    "voices": "the 72 wavegen voices (the 19 classic ones otherwise)",
    "prosody": "varied prosody (wider ranges, per-word rate/pitch/volume, pauses)",
    "speed_perturb": "speed perturbation 0.9/1.0/1.1",
    "reverb": "synthetic room reverberation",
    "channel": "telephone band / random equalizer",
    "noise": "coloured noise and babble (white noise only)",
    "vtlp": "VTLP (mel warp 0.9-1.1)",
    "spec_augment": "SpecAugment masks",
    "feature_norm": "per-utterance mean/variance normalization",
}


def rows(recipe_id):
    """name -> (label, --set overrides) for one recognizer: "defaults" is its DEFAULT_CONFIG's switches;
    each other row flips one switch (without X when the default has it, with X when it does not);
    "nothing" has every switch plain but the per-utterance normalization."""
    from tools import runner

    defaults = runner.import_recipe(recipe_id)[0].DEFAULT_CONFIG
    table = {
        "defaults": ("the defaults", {}),
        "nothing": ("nothing (19 classic voices, plain prosody, white noise only)", {**PLAIN, "feature_norm": "utterance"}),
    }
    for key in PLAIN:
        on = defaults[key] == RICH[key]
        flipped = PLAIN[key] if on else RICH[key]
        table[f"{'without' if on else 'with'}_{key}"] = (f"defaults {'without' if on else 'with'} {LABELS[key]}", {key: flipped})
    return table


ROWS = {recipe_id: rows(recipe_id) for recipe_id in ("wav2letter", "deepspeech2_ctc")}
# Run order: each recipe's defaults and nothing first (they answer whether the brief bound holds).
ORDER = [("wav2letter", "defaults"), ("deepspeech2_ctc", "defaults"), ("wav2letter", "nothing"), ("deepspeech2_ctc", "nothing")]
ORDER += [("deepspeech2_ctc", "without_voices"), ("wav2letter", "with_voices")]
ORDER += [("wav2letter", row) for row in ROWS["wav2letter"] if row not in ("defaults", "nothing", "with_voices")]


def result_path(recipe_id, row):
    return RESULTS / f"{recipe_id}-{row}.json"


_FLITE = {}


def flite_scores(run_dir):
    """{"cer", "wer"} of the run's model on bench/speech_transfer.py's Flite set, or None without flite."""
    import shutil

    from bench import speech_transfer
    from tools import runner

    if shutil.which("flite") is None:
        return None
    if "spoken" not in _FLITE:
        _FLITE["folder"] = tempfile.TemporaryDirectory(prefix="ablation-flite-")
        _FLITE["spoken"] = speech_transfer.flite_set(_FLITE["folder"].name)
    _, config, model = runner.load_run(run_dir)
    cer, wer = speech_transfer.scores(model, config, _FLITE["spoken"])["all"]
    return {"cer": cer, "wer": wer}


def measure(recipe_id, row):
    """Run the brief run of `row` in a fresh process and keep its metrics, wall time and load."""
    _, overrides = ROWS[recipe_id][row]
    sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}")]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"ablation-{recipe_id}-") as scratch:
        run_dir = Path(scratch) / "run"
        command = [sys.executable, "-m", "tools.cli", "run", recipe_id, "--brief", *sets, "--out", str(run_dir)]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        record = json.loads((run_dir / "run.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text())
        history = (run_dir / "history.csv").read_text().splitlines()
        flite = flite_scores(run_dir)
    result = {
        "recipe": recipe_id,
        "row": row,
        "overrides": overrides,
        "metrics": metrics,
        "wall_seconds": record["wall_seconds"],
        "history": history,
        "flite": flite,
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_path(recipe_id, row).write_text(json.dumps(result, indent=2) + "\n")
    return result


def table():
    """The markdown table of every kept result, rows in ROWS order, wav2letter first."""
    header = [
        "recognizer",
        "training data",
        "in-family CER",
        "in-family WER",
        "out-of-family CER",
        "out-of-family WER",
        "ratio",
        "Flite CER",
        "brief run",
    ]
    rows = []
    for recipe_id in ("wav2letter", "deepspeech2_ctc"):
        for row in ROWS[recipe_id]:
            path = result_path(recipe_id, row)
            if not path.exists():
                continue
            result = json.loads(path.read_text())
            m = result["metrics"]
            rows.append(
                [
                    f"`{recipe_id}`",
                    ROWS[recipe_id][row][0],
                    f"{m['cer']:.3f}",
                    f"{m['wer']:.3f}",
                    f"{m['cer_out_of_family']:.3f}",
                    f"{m['wer_out_of_family']:.3f}",
                    f"{m['cer_out_of_family'] / max(m['cer'], 1e-9):.1f}x",
                    f"{result['flite']['cer']:.3f}" if result.get("flite") else "not measured",
                    f"{result['wall_seconds']:.0f} s",
                ]
            )
    return markdown_table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=(), help="rows to run again (their kept results are replaced)")
    parser.add_argument("--write", action="store_true", help="write the table into the two recipe READMEs")
    args = parser.parse_args()
    known = {row for table in ROWS.values() for row in table}
    unknown = set(args.rows) - known
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}: choose from {', '.join(sorted(known))}")
    for recipe_id, row in ORDER:
        if row in args.rows or not result_path(recipe_id, row).exists():
            print(f"{recipe_id} {row} ...", flush=True)
            result = measure(recipe_id, row)
            m = result["metrics"]
            print(f"  CER {m['cer']:.3f}, out-of-family {m['cer_out_of_family']:.3f}, {result['wall_seconds']:.0f} s", flush=True)
    markdown = table()
    print(markdown)
    if args.write:
        for recipe_id in ("wav2letter", "deepspeech2_ctc"):
            write_block(recipe_id, "speech_ablation", markdown)


if __name__ == "__main__":
    main()
