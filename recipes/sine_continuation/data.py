"""Sine curves of random frequency and phase, as next-sample pairs with "given" flags.

x_t = sin(2 pi f t + phase), f uniform between 1 / max_period and 1 / min_period cycles
per sample, phase uniform in [0, 2 pi); the network is never told f. Each input step is
[sample, given]: given = 1 where the true sample is fed (teacher forcing), 0 where the
network reads its own previous prediction (the sample is then stored as 0). Train and
validation curves are given for a random prefix of at least min_teacher_forced_steps
steps; test curves for exactly prime_steps, then continuation_steps run free.
"""

import numpy as np

# One independent random stream per split and per split's given lengths, so changing
# the size of one split leaves the curves of the others unchanged.
_STREAMS = {"train": 0, "validation": 1, "test": 2, "train_given": 3, "validation_given": 4}


def sine_curves(num_curves, length, min_period, max_period, rng):
    """Unit-amplitude sines: float32 curves (num_curves, length) and their periods (num_curves,).

    min_period and max_period are in samples; rng is a numpy.random.Generator.
    """
    frequencies = rng.uniform(1.0 / max_period, 1.0 / min_period, size=num_curves)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=num_curves)
    t = np.arange(length)
    # (num_curves, 1) * (length,) -> (num_curves, length)
    curves = np.sin(2.0 * np.pi * frequencies[:, None] * t + phases[:, None])
    return curves.astype(np.float32), (1.0 / frequencies).astype(np.float32)


def next_sample_pairs(curves, given_steps):
    """Model inputs and next-sample targets for curves given for their first `given_steps` steps.

    Args:
        curves: (num_curves, length) samples.
        given_steps: int, or (num_curves,) ints: how many leading inputs are true samples.

    Returns:
        x: float32 (num_curves, length - 1, 2), [sample, given flag] per step;
        y: float32 (num_curves, length - 1, 1), the next sample at each step.
    """
    steps = np.arange(curves.shape[1] - 1)
    # (num_curves, length - 1): 1 for the leading given steps of each curve.
    given = (steps[None, :] < np.reshape(given_steps, (-1, 1))) * np.ones_like(curves[:, 1:])
    x = np.stack([curves[:, :-1] * given, given], axis=-1)
    return x.astype(np.float32), curves[:, 1:, None]


def load_data(config):
    """Generate the train, validation and test curves for a config.

    Args:
        config: dict with seed, num_train, num_validation, num_test, sequence_length,
            min_teacher_forced_steps, prime_steps, continuation_steps, min_period, max_period.

    Returns:
        dict with "train", "validation", "test": (x, y) as from next_sample_pairs;
        "test_curves": float32 (num_test, prime_steps + continuation_steps), the true test
        curves; "test_periods": float32 (num_test,), their periods in samples.
    """
    seed, length = config["seed"], config["sequence_length"]
    periods = (config["min_period"], config["max_period"])

    def split(name, num_curves, curve_length):
        return sine_curves(num_curves, curve_length, *periods, np.random.default_rng([seed, _STREAMS[name]]))

    train, _ = split("train", config["num_train"], length)
    validation, _ = split("validation", config["num_validation"], length)
    test, test_periods = split("test", config["num_test"], config["prime_steps"] + config["continuation_steps"])
    # Given lengths in [min_teacher_forced_steps, length - 1]; length - 1 is pure teacher forcing.
    shortest = min(config["min_teacher_forced_steps"], length - 1)
    given_train, given_validation = (
        np.random.default_rng([seed, _STREAMS[name]]).integers(shortest, length - 1, size=size, endpoint=True)
        for name, size in (("train_given", len(train)), ("validation_given", len(validation)))
    )
    return {
        "train": next_sample_pairs(train, given_train),
        "validation": next_sample_pairs(validation, given_validation),
        "test": next_sample_pairs(test, config["prime_steps"]),
        "test_curves": test,
        "test_periods": test_periods,
    }
