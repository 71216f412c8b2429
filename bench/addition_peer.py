"""Benchmark: seq2seq_addition against its peer, keras-io's addition_rnn, on the same questions and machine.

The peer is reimplemented from its published description ("Sequence to sequence learning
for performing number addition", Smerity and others, https://keras.io/examples/nlp/addition_rnn/):
questions and answers as one-hot characters padded with spaces to fixed lengths, the
question reversed, LSTM(128) -> RepeatVector(4) -> LSTM(128, return_sequences) -> Dense
softmax per answer character, Adam, batch 32. It trains until its per-character
validation accuracy reaches 0.99 (the point keras-io's text calls solved) or
`--max-epochs`, in one `fit` call.

Both models get the same 45,000 training and 5,000 validation questions (the 50,000 of
keras-io) from recipes/seq2seq_addition/data.py, and are scored on the same 5,000 fresh
test questions by whole-answer accuracy (every character right). Ours is the recipe's
brief run through the project's runner (greedy and beam-search decoding).

Usage: python bench/addition_peer.py [--max-epochs 30] [--seed 0] [--skip-peer]
Timings are wall seconds on whatever else the machine is doing (the load average is
printed before and after; run it on a quiet machine), plus the process's CPU seconds,
which other jobs inflate much less: the peer's for its training, ours for the whole
brief run (data, training, evaluation, demo).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from tools import runner  # noqa: E402
from tools.catalog import get_entry, load_catalog  # noqa: E402
from tools.config import resolve_config  # noqa: E402

# keras-io's character table: digits, "+" and the space used as padding.
PEER_CHARS = "0123456789+ "
PEER_TARGET_ACCURACY = 0.99


def one_hot(texts, length):
    """Texts padded with spaces to `length` -> (n, length, 12) one-hot floats, as keras-io's CharacterTable."""
    index = {c: i for i, c in enumerate(PEER_CHARS)}
    out = np.zeros((len(texts), length, len(PEER_CHARS)), dtype=np.float32)
    for n, text in enumerate(texts):
        for t, c in enumerate(text.ljust(length)):
            out[n, t, index[c]] = 1.0
    return out


def peer_split(text, num_digits):
    """keras-io's encoding of a split: the padded question reversed, the answer padded to num_digits + 1."""
    max_question = 2 * num_digits + 1
    questions = [q.ljust(max_question)[::-1] for q in text["question"]]
    return one_hot(questions, max_question), one_hot(text["answer"], num_digits + 1)


def build_peer(num_digits):
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(2 * num_digits + 1, len(PEER_CHARS))),
            keras.layers.LSTM(128),
            keras.layers.RepeatVector(num_digits + 1),
            keras.layers.LSTM(128, return_sequences=True),
            keras.layers.Dense(len(PEER_CHARS), activation="softmax"),
        ],
        name="keras_io_addition_rnn",
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def run_peer(data, num_digits, max_epochs, seed):
    """Train the peer until val per-char accuracy >= 0.99; returns its row of the table."""
    import keras

    class StopAtTarget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs["val_accuracy"] >= PEER_TARGET_ACCURACY:
                self.model.stop_training = True

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_val, y_val), (x_test, _) = (peer_split(data[f"{s}_text"], num_digits) for s in ("train", "validation", "test"))
    model = build_peer(num_digits)
    started, cpu_started = time.perf_counter(), time.process_time()
    history = model.fit(x_train, y_train, batch_size=32, epochs=max_epochs, validation_data=(x_val, y_val), callbacks=[StopAtTarget()], verbose=0)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    predicted = np.argmax(model.predict(x_test, batch_size=256, verbose=0), axis=-1)
    answers = ["".join(PEER_CHARS[i] for i in row).strip() for row in predicted]
    exact = float(np.mean([a == e for a, e in zip(answers, data["test_text"]["answer"])]))
    return {
        "model": "keras-io addition_rnn (peer)",
        "epochs": len(history.history["loss"]),
        "train_s": seconds,
        "train_cpu_s": cpu_seconds,
        "val_char_accuracy": history.history["val_accuracy"][-1],
        "exact_match": exact,
        "exact_match_beam": None,
        "parameters": model.count_params(),
    }


def run_ours(seed):
    """The recipe's brief run through the shared runner; returns its row of the table."""
    import csv
    import json

    cpu_started = time.process_time()
    with tempfile.TemporaryDirectory() as out:
        result = runner.run("seq2seq_addition", brief=True, seed=seed, out=Path(out) / "run", verbose=0, log=lambda *_: None)
        record = json.loads((result.run_dir / runner.RUN_FILE).read_text(encoding="utf-8"))
        with open(result.run_dir / "history.csv", newline="", encoding="utf-8") as handle:
            last_epoch = list(csv.DictReader(handle))[-1]

        parameters = runner.load_model(result.run_dir / runner.MODEL_FILE).count_params()
    return {
        "model": "seq2seq_addition (ours, brief run)",
        "epochs": record["epochs_run"],
        "train_s": record["train_seconds"],
        # CPU seconds of the whole run (data, training, decoding the test set twice, demo), an upper bound for training.
        "train_cpu_s": time.process_time() - cpu_started,
        "wall_s": result.seconds,
        "val_char_accuracy": float(last_epoch["val_char_accuracy"]),
        "exact_match": result.metrics["exact_match"],
        "exact_match_beam": result.metrics["exact_match_beam"],
        "parameters": parameters,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=30, help="the peer's epoch limit (keras-io trains 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-peer", action="store_true", help="time only our recipe")
    args = parser.parse_args()

    from recipes.seq2seq_addition.data import load_data

    config, _ = resolve_config("seq2seq_addition", get_entry(load_catalog(), "seq2seq_addition"), brief=True, seed=args.seed)
    data = load_data(config)
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores", flush=True)
    rows = [run_ours(args.seed)]
    print(f"ours done: {rows[0]['train_s']:.1f} s training; load average {os.getloadavg()[0]:.1f}", flush=True)
    if not args.skip_peer:
        rows.append(run_peer(data, config["num_digits"], args.max_epochs, args.seed))
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        f"\nSame {config['num_train']:,} training / {config['num_validation']:,} validation questions, "
        f"{config['num_test']:,} fresh test questions, seed {args.seed}.\n"
    )
    print(
        "| model | parameters | epochs | training s (wall) | CPU s | val per-char accuracy | whole-answer accuracy (greedy) | whole-answer (beam) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    fmt = lambda v, spec: "–" if v is None else format(v, spec)  # noqa: E731
    for row in rows:
        print(
            f"| {row['model']} | {row['parameters']:,} | {row['epochs']} | {row['train_s']:.1f} | {row['train_cpu_s']:.0f} | "
            f"{fmt(row['val_char_accuracy'], '.4f')} | {fmt(row['exact_match'], '.4f')} | {fmt(row['exact_match_beam'], '.4f')} |"
        )


if __name__ == "__main__":
    main()
