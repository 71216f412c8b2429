"""Sine curves of random frequency and phase, for next-sample prediction.

Each curve is x_t = sin(2 pi f t + phase), t = 0, 1, ..., with the frequency f drawn
uniformly between 1 / max_period and 1 / min_period (cycles per sample) and the phase
uniformly in [0, 2 pi). The network is never told f: it has to infer it from the samples.

Training pairs are shifted copies (input x_0..x_{T-2}, target x_1..x_{T-1}), so the
loss is the next-sample error at every step (teacher forcing). The test curves are
longer: their first `prime_steps` samples set the state, the next `continuation_steps`
are what the free-running model has to generate.
"""

import numpy as np

# One independent random stream per split, so changing the size of one split
# leaves the curves of the others unchanged.
_SPLIT_STREAMS = {"train": 0, "validation": 1, "test": 2}


def sine_curves(num_curves, length, min_period, max_period, rng):
    """Sample sine curves of unit amplitude with random frequency and phase.

    Args:
        num_curves: how many curves.
        length: samples per curve.
        min_period, max_period: range of the period, in samples (frequency is uniform
            between their reciprocals).
        rng: a numpy.random.Generator.

    Returns:
        (curves, periods): float32 array (num_curves, length) and float array (num_curves,).
    """
    frequencies = rng.uniform(1.0 / max_period, 1.0 / min_period, size=num_curves)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=num_curves)
    t = np.arange(length)
    # (num_curves, 1) * (length,) -> (num_curves, length)
    curves = np.sin(2.0 * np.pi * frequencies[:, None] * t + phases[:, None])
    return curves.astype(np.float32), 1.0 / frequencies


def next_sample_pairs(curves):
    """Inputs and next-sample targets of shape (num_curves, length - 1, 1)."""
    return curves[:, :-1, None], curves[:, 1:, None]


def load_data(config):
    """Generate the train, validation and test curves for a config.

    Args:
        config: dict with seed, num_train, num_validation, num_test, sequence_length,
            prime_steps, continuation_steps, min_period, max_period.

    Returns:
        dict with "train", "validation": (x, y) next-sample pairs of length
        sequence_length - 1; "test": (x, y) pairs over the full test curves;
        "test_curves": (num_test, prime_steps + continuation_steps) float32;
        "test_periods": (num_test,) float32 periods in samples.
    """
    seed = config["seed"]
    periods = (config["min_period"], config["max_period"])

    def split(name, num_curves, length):
        rng = np.random.default_rng([seed, _SPLIT_STREAMS[name]])
        return sine_curves(num_curves, length, *periods, rng)

    train, _ = split("train", config["num_train"], config["sequence_length"])
    validation, _ = split("validation", config["num_validation"], config["sequence_length"])
    test, test_periods = split("test", config["num_test"], config["prime_steps"] + config["continuation_steps"])
    return {
        "train": next_sample_pairs(train),
        "validation": next_sample_pairs(validation),
        "test": next_sample_pairs(test),
        "test_curves": test,
        "test_periods": test_periods.astype(np.float32),
    }
