"""Benchmark: characters per second of the compiled sampler, one stream and a batch, on this backend.

The sampler (recipes/common/sampling.py) generates from char_rnn's model in one compiled
call, for one sequence and for a batch of sequences. The first call of each, which traces
and compiles the loop, is timed separately; then the best of `--repeats` calls (new seeds)
gives chars/s, the fairest number on a machine shared with other work (the load average is
recorded with it). The baseline runs first (`--predict-chars 0` skips it): `model.predict`
once per character on a one-step model that shares the trained layers and carries the LSTM
states between calls, sampled in NumPy.

A run with char_rnn's DEFAULT_CONFIG model (no --run, no --set) merges its row, keyed by
the backend, into bench/results/sampling.json; run it once per backend to fill the table:

    KERAS_BACKEND=jax python bench/sampling.py
    KERAS_BACKEND=tensorflow python bench/sampling.py
    KERAS_BACKEND=torch python bench/sampling.py --threads 1 --sampler-chars 500
    python bench/sampling.py --table            # the markdown table of the recorded rows
    python bench/sampling.py --table --write    # ... written into README.md and recipes/char_rnn/README.md
    python bench/sampling.py --run runs/char_rnn          # a trained model (printed, not recorded)
    python bench/sampling.py --set units=128 --set num_layers=1

Speed does not depend on the weights, so the untrained model measures the same thing.
"""

import argparse
import datetime
import json
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sampling.json"
BACKENDS = ("jax", "tensorflow", "torch")


def step_model(model):
    """A one-step functional model sharing the trained layers, with states as inputs and outputs.

    Each recurrent layer's trained cell is wrapped in a new `keras.layers.RNN` with
    return_state=True, so the weights are shared, not copied.

    Args:
        model: the char_rnn model (a chain: input layers, LSTMs, dropout, dense).

    Returns:
        keras.Model: [ids (batch, 1), *states (batch, units)] -> [logits (batch, 1, vocabulary), *new states].
    """
    import keras

    ids = keras.Input(shape=(1,), dtype="int32", name="character")
    x, state_inputs, state_outputs = ids, [], []
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.RNN):
            inputs = [keras.Input(shape=(size,)) for size in layer.cell.state_size]
            x, *outputs = keras.layers.RNN(layer.cell, return_sequences=True, return_state=True)(x, initial_state=inputs)
            state_inputs += inputs
            state_outputs += outputs
        else:
            x = layer(x)
    return keras.Model([ids, *state_inputs], [x, *state_outputs])


def predict_per_character(step, prime, length, rng):
    """The baseline: one `predict` call per character, the states carried between calls.

    This is the best case for predict per character: each call runs one time step,
    not a whole window of context.

    Args:
        step: the model from `step_model`.
        prime: int32 (prime_length,) prime ids.
        length: characters to generate.
        rng: NumPy generator for sampling.

    Returns:
        int list of generated ids.
    """
    import numpy as np

    states = [np.zeros((1, int(state.shape[-1])), dtype="float32") for state in step.inputs[1:]]
    ids = list(prime)
    # Prime tokens pass through one at a time too; only generated characters are counted.
    for position in range(len(prime) + length - 1):
        logits, *states = step.predict([np.array([[ids[position]]], dtype="int32"), *states], verbose=0)
        if position >= len(prime) - 1:
            # Softmax of the step's logits (vocabulary,), sampled in NumPy.
            probabilities = np.exp(logits[0, -1] - logits[0, -1].max())
            ids.append(int(rng.choice(len(probabilities), p=probabilities / probabilities.sum())))
    return ids[len(prime) :]


def timed(function):
    """(seconds, result) of one call of `function()`."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def measure(sampler, prime, temperature, batch, length, repeats):
    """Time `sampler.sample` for `batch` sequences of `length` characters.

    Args:
        sampler: a recipes.common.sampling.Sampler.
        prime: int32 (prime_length,) prime ids, shared by the sequences.
        temperature: sampling temperature of every sequence.
        batch: sequences per call.
        length: characters generated per sequence.
        repeats: timed calls after the first (seeds 1..repeats).

    Returns:
        dict: first_call_seconds (trace, compile and run), chars_per_second (best call),
        median_chars_per_second.
    """
    temperatures = [temperature] * batch
    first, _ = timed(lambda: sampler.sample(prime, temperatures, length, seed=0))
    seconds = [timed(lambda seed=seed: sampler.sample(prime, temperatures, length, seed=seed))[0] for seed in range(1, repeats + 1)]
    return {
        "first_call_seconds": round(first, 2),
        "chars_per_second": round(batch * length / min(seconds)),
        "median_chars_per_second": round(batch * length / statistics.median(seconds)),
    }


def markdown(results):
    """The recorded rows of bench/results/sampling.json as a markdown table, one row per backend.

    Args:
        results: {backend: row} as written by `main`; rows come out as jax, tensorflow, torch.

    Returns:
        str: a table with backend, chars/s for 1 and for `batch` streams (best call), the first
        calls' seconds (trace + compile + run) and the 1-minute load average after measuring.
    """
    rows = []
    for backend in sorted(results, key=lambda name: BACKENDS.index(name) if name in BACKENDS else len(BACKENDS)):
        row = results[backend]
        single, batched = row["single"], row["batched"]
        rows.append(
            (
                f"{backend} {row['versions'].get(backend, '')}".strip()
                + (f" ({row['threads']} thread{'s' * (row['threads'] > 1)})" if row.get("threads") else ""),
                f"{single['chars_per_second']:,}",
                f"{batched['chars_per_second']:,}",
                f"{single['first_call_seconds']:.1f} / {batched['first_call_seconds']:.1f}",
                f"{row['load_average'][0]:.1f}",
                row["date"][:10],
            )
        )
    batch = {row["batch"] for row in results.values()} or {64}
    streams = f"{batch.pop()} streams" if len(batch) == 1 else "batch"
    header = ("backend", "1 stream chars/s", f"{streams} chars/s", f"first call s (1 / {streams.split()[0]})", "load average", "date")
    return markdown_table(header, rows)


def table():
    """The README table (README.md and recipes/char_rnn/README.md): `markdown` of the recorded rows."""
    return markdown(read_results())


def set_threads(backend, threads):
    """Run torch's or TensorFlow's ops on `threads` threads (on 2 busy cores, torch's default of
    2 spins: ~6x slower batches than 1 thread). JAX has no switch after start; use XLA_FLAGS."""
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    else:
        raise SystemExit(f"--threads applies to torch and tensorflow, not {backend}; for jax set XLA_FLAGS before starting.")


def read_results():
    """{backend: row} from bench/results/sampling.json ({} before the first recorded run)."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=pathlib.Path, help="run directory holding a trained model.keras (printed, not recorded)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="DEFAULT_CONFIG override (printed, not recorded)")
    parser.add_argument("--predict-chars", type=int, default=200, help="characters for the predict-per-character baseline (slow; 0 skips it)")
    parser.add_argument("--sampler-chars", type=int, default=2000, help="characters per sequence for the sampler")
    parser.add_argument("--batch", type=int, default=64, help="sequences sampled at once in the batched run")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement after the first; the best counts")
    parser.add_argument("--threads", type=int, help="intra-op threads on torch and tensorflow (default: the library's)")
    parser.add_argument("--no-record", action="store_true", help="do not merge this backend's row into bench/results/sampling.json")
    parser.add_argument("--table", action="store_true", help="print the recorded rows as a markdown table and exit")
    parser.add_argument("--write", action="store_true", help="with --table: write it into README.md and recipes/char_rnn/README.md")
    args = parser.parse_args()
    if args.write and not args.table:
        parser.error("--write goes with --table: python bench/sampling.py --table --write")
    if args.table:
        table_text = table()
        print(table_text)
        if args.write:
            for recipe_id in (None, "char_rnn"):
                print(f"wrote {write_block(recipe_id, 'sampling', table_text, 'python bench/sampling.py --table --write')}")
        return

    import keras
    import numpy as np

    if args.threads:
        set_threads(keras.backend.backend(), args.threads)

    from recipes.common.sampling import Sampler
    from recipes.common.text import encode, shakespeare_alphabet
    from tools import runner

    # The runner's paths: the same config checks, safe loading and one-line errors as the CLI.
    _, config, model = runner.load_run(args.run) if args.run else ("char_rnn", *runner.build_untrained("char_rnn", sets=args.set))
    prime = encode(config["prime_text"], shakespeare_alphabet(), key="prime_text")
    backend = keras.backend.backend()
    print(f"model: {model.name}, {model.count_params():,} parameters, backend {backend}, load average {os.getloadavg()[0]:.2f}")

    rows = []
    predict_speed = None
    if args.predict_chars:
        step = step_model(model)
        # A short warm-up so predict's own tracing is not counted against it.
        predict_per_character(step, prime, 2, np.random.default_rng(0))
        seconds, _ = timed(lambda: predict_per_character(step, prime, args.predict_chars, np.random.default_rng(0)))
        predict_speed = args.predict_chars / seconds
        rows.append(("model.predict per character (states carried)", 1, args.predict_chars, "", predict_speed))

    sampler = Sampler(model)
    results = {}
    for name, batch in (("single", 1), ("batched", args.batch)):
        results[name] = measure(sampler, prime, config["temperature"], batch, args.sampler_chars, args.repeats)
        rows.append(
            (
                f"Sampler, one call (best of {args.repeats})",
                batch,
                args.sampler_chars,
                results[name]["first_call_seconds"],
                results[name]["chars_per_second"],
            )
        )
    load = [round(value, 2) for value in os.getloadavg()]

    print(f"{'method':<46} {'sequences':>9} {'chars each':>10} {'first call s':>12} {'chars/s':>10}")
    for name, batch, length, first, speed in rows:
        print(f"{name:<46} {batch:>9} {length:>10} {first!s:>12} {speed:>10,.0f}")
    print(f"load average after measuring: {load[0]} (1 min), {load[1]} (5 min) on {os.cpu_count()} CPUs")
    if predict_speed:
        print(
            f"speed-up of the sampler over predict per character: {results['single']['chars_per_second'] / predict_speed:,.0f}x "
            f"(one sequence), {results['batched']['chars_per_second'] / predict_speed:,.0f}x (batch of {args.batch})"
        )

    if args.run or args.set or args.no_record:
        return
    provenance = runner.provenance()
    row = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": f"char_rnn DEFAULT_CONFIG, {model.count_params():,} parameters",
        "chars_per_sequence": args.sampler_chars,
        "batch": args.batch,
        "repeats": args.repeats,
        "threads": args.threads,
        **results,
        "predict_chars_per_second": predict_speed and round(predict_speed, 1),
        "load_average": load,
        "versions": provenance["versions"],
        "machine": provenance["machine"],
    }
    recorded = {**read_results(), backend: row}
    RESULTS.write_text(json.dumps(recorded, indent=2) + "\n")
    print(f"recorded the {backend} row in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
