"""Benchmark: characters per second of the compiled sampler vs `model.predict` per character.

Both generate from the same char_rnn model in the same process. The baseline calls
`model.predict` once per character on a one-step model that shares the trained layers
and carries the LSTM states between calls (the cheapest way to use predict: one time
step per call), and samples in NumPy. The sampler (recipes/common/sampling.py) runs the
whole loop in one compiled call, for one sequence and for a batch of sequences. Its
first call, which traces and compiles the loop, is timed separately.

Usage (from the repository root):

    python bench/sampling.py                      # char_rnn's DEFAULT_CONFIG model, untrained
    python bench/sampling.py --run runs/char_rnn  # a trained model from a run directory
    python bench/sampling.py --set units=128 --set num_layers=1

Speed does not depend on the weights, so an untrained model measures the same thing.
"""

import argparse
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from recipes.common.sampling import Sampler  # noqa: E402
from recipes.common.text import encode, shakespeare_alphabet  # noqa: E402
from tools import runner  # noqa: E402


def step_model(model):
    """A one-step functional model sharing the trained layers, with states as inputs and outputs.

    Each recurrent layer's trained cell is wrapped in a new `keras.layers.RNN` with
    return_state=True, so the weights are shared, not copied.

    Args:
        model: the char_rnn model (a chain: input layers, LSTMs, dropout, dense).

    Returns:
        keras.Model: [ids (batch, 1), *states (batch, units)] -> [logits (batch, 1, vocabulary), *new states].
    """
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=pathlib.Path, help="run directory holding a trained model.keras")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="DEFAULT_CONFIG override")
    parser.add_argument("--predict-chars", type=int, default=200, help="characters for predict-per-character (slow)")
    parser.add_argument("--sampler-chars", type=int, default=2000, help="characters per sequence for the sampler")
    parser.add_argument("--batch", type=int, default=64, help="sequences sampled at once in the batched run")
    args = parser.parse_args()

    # The runner's paths: the same config checks, safe loading and one-line errors as the CLI.
    _, config, model = runner.load_run(args.run) if args.run else ("char_rnn", *runner.build_untrained("char_rnn", sets=args.set))
    prime = encode(config["prime_text"], shakespeare_alphabet(), key="prime_text")
    print(f"model: {model.name}, {model.count_params():,} parameters, backend {keras.backend.backend()}")

    rows = []
    step = step_model(model)
    # A short warm-up so predict's own tracing is not counted against it.
    predict_per_character(step, prime, 2, np.random.default_rng(0))
    seconds, _ = timed(lambda: predict_per_character(step, prime, args.predict_chars, np.random.default_rng(0)))
    rows.append(("model.predict per character (states carried)", 1, args.predict_chars, seconds))

    sampler = Sampler(model)
    for batch in (1, args.batch):
        temperatures = [config["temperature"]] * batch
        compile_seconds, _ = timed(lambda t=temperatures: sampler.sample(prime, t, args.sampler_chars, seed=0))
        seconds, _ = timed(lambda t=temperatures: sampler.sample(prime, t, args.sampler_chars, seed=1))
        rows.append((f"Sampler, compiled loop (first call {compile_seconds:.1f} s)", batch, args.sampler_chars, seconds))

    print(f"{'method':<52} {'sequences':>9} {'chars each':>10} {'seconds':>8} {'chars/s':>10}")
    for name, batch, length, seconds in rows:
        print(f"{name:<52} {batch:>9} {length:>10} {seconds:>8.2f} {batch * length / seconds:>10,.0f}")
    baseline = rows[0][2] / rows[0][3]
    print(
        f"speed-up of the sampler over predict per character: {rows[1][2] / rows[1][3] / baseline:,.0f}x "
        f"(one sequence), {rows[2][1] * rows[2][2] / rows[2][3] / baseline:,.0f}x (batch of {args.batch})"
    )


if __name__ == "__main__":
    main()
