"""Sine curves of random frequency and phase, as next-sample pairs with "given" flags.

Each curve is x_t = sin(2 pi f t + phase), t = 0, 1, ..., with the frequency f drawn
uniformly between 1 / max_period and 1 / min_period (cycles per sample) and the phase
uniformly in [0, 2 pi). The network is never told f: it has to infer it from the samples.

Inputs have two features per step: the sample x_t and a flag, 1 where x_t is given
(teacher forcing) and 0 where the network must read its own previous prediction instead
(the sample is then stored as 0 and never read). Targets are the next samples x_{t+1}.
- train / validation: each curve is given for a random number of leading steps in
  [min_teacher_forced_steps, sequence_length - 1], then runs free.
- test: longer curves, given for `prime_steps` steps, then free for the remaining
  `continuation_steps` predictions: exactly the continuation task.
"""

import numpy as np

# One independent random stream per split and per split's given lengths, so changing
# the size of one split leaves the curves of the others unchanged.
_STREAMS = {"train": 0, "validation": 1, "test": 2, "train_given": 3, "validation_given": 4}


def sine_curves(num_curves, length, min_period, max_period, rng):
    """Sample sine curves of unit amplitude with random frequency and phase.

    Args:
        num_curves: how many curves.
        length: samples per curve.
        min_period, max_period: range of the period, in samples (the frequency is
            uniform between their reciprocals).
        rng: a numpy.random.Generator.

    Returns:
        (curves, periods): float32 (num_curves, length) and float32 (num_curves,).
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
