"""Benchmark: CTC beam search, `keras.ops.ctc_decode(strategy="beam_search")`, on each Keras backend.

Usage (from the repository root):

    python bench/ctc_decode.py                  # measure on every installed backend, record, print the table
    python bench/ctc_decode.py --table [--write]  # the README table from the saved results

The input is what `recipe transcribe` and the recognizers' evaluation decode: the pretrained
wav2letter's logits for 64 digit strings spoken by held-out voices (synthesized here, the
same every time). Each backend runs in its own process: Keras' own beam search (TensorFlow's C++
decoder on tensorflow, Keras' port on jax and torch) and, on jax and torch, tools/ctc_beam.py's
NumPy prefix beam search, which the runner installs there. Each is timed once on all 64
utterances after an untimed call on 4; best transcript agreement is against TensorFlow's decoder,
and the character error rate is against the spoken text.

Results: bench/results/ctc_decode.json.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402
from tools.catalog import BACKENDS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "ctc_decode.json"
UTTERANCES, BEAM = 64, 8


def make_inputs(path):
    """The pretrained wav2letter's logits for UTTERANCES held-out digit strings, saved to `path` (.npz)."""
    import numpy as np

    from recipes.common import ctc, speech
    from tools import pretrained, runner

    _, config = runner.read_run(pretrained.folder("wav2letter"))
    model = runner.load_model(pretrained.folder("wav2letter") / "model.keras")
    texts = speech.digit_strings(np.random.default_rng(0), UTTERANCES, config["min_digits"], config["max_digits"])
    held_out = speech.speakers("test", config["voices"])
    waves = [
        speech.resample(speech.synthesize(text, held_out[7 * i % len(held_out)])[0], speech.ESPEAK_RATE, config["sample_rate"])
        for i, text in enumerate(texts)
    ]
    features, lengths = speech.log_mel(waves, config)
    logits = ctc.predict_logits(model, features)
    valid = ctc.output_lengths(lengths, features.shape[1], logits.shape[1])
    np.savez(path, logits=logits, lengths=valid, texts=np.array(texts))


def measure(path):
    """Rows for this process' backend: [{"implementation", "seconds", "transcripts"}]."""
    import keras
    import numpy as np

    from recipes.common import ctc
    from tools import ctc_beam

    stored = np.load(path)
    logits, lengths = stored["logits"], stored["lengths"]

    def timed():
        ctc.decode(logits[:4], lengths[:4], BEAM)  # untimed: compilation and first-call costs
        started = time.perf_counter()
        transcripts = ctc.decode(logits, lengths, BEAM)
        return time.perf_counter() - started, transcripts

    seconds, transcripts = timed()
    rows = [{"implementation": "Keras' own", "seconds": seconds, "transcripts": transcripts}]
    if ctc_beam.install():
        seconds, transcripts = timed()
        rows.append({"implementation": "tools/ctc_beam.py", "seconds": seconds, "transcripts": transcripts})
    return [dict(row, backend=keras.backend.backend(), keras=keras.__version__) for row in rows]


def run_all():
    import numpy as np

    from recipes.common import ctc

    results = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logits.npz"
        make_inputs(path)
        for backend in BACKENDS:
            if importlib.util.find_spec(backend) is None:
                print(f"{backend}: not installed, skipped")
                continue
            env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
            done = subprocess.run([sys.executable, __file__, "--measure", str(path)], env=env, capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                raise SystemExit(f"{backend} failed:\n{done.stderr[-2000:]}")
            results += json.loads(done.stdout.strip().splitlines()[-1])
        texts = [str(t) for t in np.load(path)["texts"]]
    reference = next(row["transcripts"] for row in results if row["backend"] == "tensorflow")
    for row in results:
        row["same_as_tensorflow"] = sum(a == b for a, b in zip(row["transcripts"], reference)) / len(reference)
        row["cer"] = ctc.error_rates(texts, row["transcripts"])[0]
    load = os.getloadavg()[0]
    RESULTS.write_text(
        json.dumps(
            {
                "utterances": UTTERANCES,
                "beam_width": BEAM,
                "load_average": round(load, 2),
                "date": time.strftime("%Y-%m-%d"),
                "rows": [{k: v for k, v in row.items() if k != "transcripts"} for row in results],
            },
            indent=1,
        )
        + "\n"
    )


def table():
    """The README table from bench/results/ctc_decode.json."""
    saved = json.loads(RESULTS.read_text())
    tensorflow = next(row["seconds"] for row in saved["rows"] if row["backend"] == "tensorflow")
    rows = [
        [
            row["backend"],
            row["implementation"],
            f"{row['seconds']:.3g}",
            f"{1000 * row['seconds'] / saved['utterances']:.3g}",
            f"{row['seconds'] / tensorflow:.3g}x",
            f"{row['same_as_tensorflow']:.0%}",
            f"{row['cer']:.4f}",
        ]
        for row in saved["rows"]
    ]
    header = [
        "backend",
        "beam search",
        f"s for {saved['utterances']} utterances",
        "ms each",
        "vs TensorFlow",
        "best transcript as TensorFlow's",
        "CER",
    ]
    note = (
        f"\n\nBeam width {saved['beam_width']}, the pretrained wav2letter's logits for {saved['utterances']} digit strings by held-out voices; "
        f"1-minute load {saved['load_average']}, {saved['date']}."
    )
    return markdown_table(header, rows) + note


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", metavar="NPZ", help=argparse.SUPPRESS)  # one backend's process
    parser.add_argument("--table", action="store_true", help="print the README table from the saved results; measure nothing")
    parser.add_argument("--write", action="store_true", help="with --table: write it into README.md")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.write and not args.table:
        parser.error("--write goes with --table: python bench/ctc_decode.py --table --write")
    if not args.table:
        run_all()
    text = table()
    print(text)
    if args.write:
        print(f"wrote {write_block(None, 'ctc_decode', text, 'python bench/ctc_decode.py --table --write')}")


if __name__ == "__main__":
    main()
