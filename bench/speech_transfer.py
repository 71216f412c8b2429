"""Do the recognizers transfer to another synthesizer? The shipped checkpoints on Flite's voices.

Flite (CMU's small synthesizer, Debian package `flite`: `apt-get install flite`; not needed
by any recipe) speaks 40 digit strings (3-5 digits, seeded) with each of its English voices:
kal16 (a diphone voice) and awb, rms, slt (statistical parametric voices made from
recordings of three real speakers). Nothing of Flite's is in any training set, so this is
an out-of-family test built differently from everything the recognizers were trained on. Each
file goes through `recipe transcribe`'s path (recipes/common/ctc.py: cleaning, log-mel,
greedy decoding) and CER/WER come from jiwer.

Rows: each recognizer's shipped checkpoint, and with --before COMMIT the checkpoints shipped
at that git commit (trained before the augmentation of issue 13), read from git. Takes about
a minute on 2 cores. --write puts the table into recipes/wav2letter/README.md and
recipes/deepspeech2_ctc/README.md.

    python bench/speech_transfer.py [--before COMMIT] [--write]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

VOICES = ("kal16", "awb", "rms", "slt")
UTTERANCES = 40
RECOGNIZERS = ("deepspeech2_ctc", "wav2letter")


def flite_set(folder):
    """[(path, text, voice)]: UTTERANCES digit strings spoken by each Flite voice, as 16 kHz WAV files."""
    import numpy as np

    from recipes.common import speech

    texts = speech.digit_strings(np.random.default_rng(13), UTTERANCES, 3, 5)
    spoken = []
    for voice in VOICES:
        for i, text in enumerate(texts):
            path = Path(folder) / f"{voice}-{i:02d}.wav"
            subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True)
            spoken.append((path, text, voice))
    return spoken


def checkpoint(recipe_id, commit, folder):
    """(model, config) of the recipe's shipped checkpoint, now or at `commit` (read from git)."""
    from tools import runner

    source = ROOT / "recipes" / recipe_id / "pretrained"
    if commit:
        source = Path(folder) / f"{recipe_id}-{commit}"
        source.mkdir()
        for name in ("model.keras", "config.json"):
            blob = subprocess.run(
                ["git", "show", f"{commit}:recipes/{recipe_id}/pretrained/{name}"], cwd=ROOT, capture_output=True, check=True
            ).stdout
            (source / name).write_bytes(blob)
    return runner.load_model(source / "model.keras"), json.loads((source / "config.json").read_text())


def scores(model, config, spoken):
    """{voice or "all": (CER, WER)} of a recognizer on the Flite set (greedy decoding)."""
    from recipes.common import ctc

    config = {**ctc.DATA_DEFAULTS, **config}
    heard = [text or "" for _, text in ctc.transcribe(model, config, [path for path, _, _ in spoken], beam_width=1)]
    out = {}
    for voice in (*VOICES, "all"):
        pairs = [(text, h) for (_, text, v), h in zip(spoken, heard) if voice in ("all", v)]
        out[voice] = ctc.error_rates([t for t, _ in pairs], [h for _, h in pairs])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="COMMIT", help="also score the checkpoints shipped at this commit")
    parser.add_argument("--write", action="store_true", help="write the table into the two recognizers' READMEs")
    args = parser.parse_args()
    if shutil.which("flite") is None:
        raise SystemExit("flite is not installed: `apt-get install flite` (Debian/Ubuntu), then run this again.")
    rows = []
    with tempfile.TemporaryDirectory(prefix="speech-transfer-") as folder:
        spoken = flite_set(folder)
        checkpoints = ([(args.before, f"shipped at {args.before[:7]}, before augmentation")] if args.before else []) + [(None, "shipped now")]
        for recipe_id in RECOGNIZERS:
            for commit, label in checkpoints:
                result = scores(*checkpoint(recipe_id, commit, folder), spoken)
                rows.append([f"`{recipe_id}`", label, *(f"{result[v][0]:.3f}" for v in VOICES), f"{result['all'][0]:.3f}", f"{result['all'][1]:.3f}"])
                print(rows[-1], flush=True)
    header = ["recognizer", "checkpoint", *(f"CER {v}" for v in VOICES), "CER all", "WER all"]
    markdown = markdown_table(header, rows)
    print(markdown)
    if args.write:
        for recipe_id in RECOGNIZERS:
            write_block(recipe_id, "speech_transfer", markdown)


if __name__ == "__main__":
    main()
