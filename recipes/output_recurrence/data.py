"""A tick counter whose output shows all of its state, or only a coarse part of it.

Each sequence is `sequence_length` random ticks x_t in {0, 1} (1 with probability
`tick_probability`). A hidden counter adds them up modulo M = `counter_modulus`:

    s_t = (x_1 + ... + x_t) mod M          (s = 0 before the first step)

and the target is the counter seen through `output_levels` = K levels:

    y_t = s_t // (M / K)        e.g. M = 4, K = 2: counts 0, 1 -> level 0; 2, 3 -> level 1

With K = M the output IS the counter, so y_t = (y_{t-1} + x_t) mod M: the previous output
and the current tick are all a network needs, and output recurrence suffices. With K < M
the output hides the count within a level (for K = 2, the low bit). A network whose only
memory is its previous output cannot know whether the next tick moves it up a level; a
network with hidden-to-hidden recurrence can keep the whole count.

Example (M = 4, K = 2):
    ticks    1 0 1 1 0 1 1
    counter  1 1 2 3 3 0 1
    output   0 0 1 1 1 0 0
"""

import numpy as np

from recipes.common.splits import SPLIT_STREAMS
from recipes.common.teacher_forcing import shift_right


def counter_sequences(num_sequences, length, modulus, levels, tick_probability, rng):
    """Sample ticks, the hidden counter and the visible output levels.

    Args:
        num_sequences: how many sequences.
        length: steps per sequence.
        modulus: M, the counter counts modulo M.
        levels: K, the number of output levels (divides M).
        tick_probability: probability that x_t = 1.
        rng: a numpy.random.Generator.

    Returns:
        (ticks, counter, outputs): int32 arrays (num_sequences, length).
    """
    ticks = (rng.random((num_sequences, length)) < tick_probability).astype(np.int32)
    counter = np.cumsum(ticks, axis=1) % modulus
    outputs = counter // (modulus // levels)
    return ticks, counter.astype(np.int32), outputs.astype(np.int32)


def model_inputs(ticks, outputs, levels, model):
    """The input dict a model of kind `model` reads.

    Args:
        ticks: int (batch, time) ticks.
        outputs: int (batch, time) true output levels (used for teacher forcing).
        levels: K.
        model: "output_recurrence" or "hidden_recurrence".

    Returns:
        {"ticks": float32 (batch, time, 1)} plus, for output recurrence,
        "previous_output": float32 (batch, time, K), the one-hot TRUE level of step t - 1
        (teacher forcing); at step 0 the level of the counter's start value 0.
    """
    inputs = {"ticks": ticks.astype(np.float32)[..., None]}
    if model == "output_recurrence":
        one_hot = np.eye(levels, dtype=np.float32)
        inputs["previous_output"] = shift_right(one_hot[outputs], one_hot[0])
    return inputs


def load_data(config):
    """Generate the train, validation and test splits.

    Args:
        config: dict with seed, model, sequence_length, counter_modulus, output_levels,
            tick_probability, num_train, num_validation, num_test (checked by the model's
            CONFIG_RULES and check_config).

    Returns:
        dict with "train", "validation", "test": (x, y), x the dict of `model_inputs`,
        y int32 (N, T) output levels; "test_ticks" and "test_counter": int32 (num_test, T),
        for the demo.
    """
    data = {}
    for name in ("train", "validation", "test"):
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[name]])
        ticks, counter, outputs = counter_sequences(
            config[f"num_{name}"],
            config["sequence_length"],
            config["counter_modulus"],
            config["output_levels"],
            config["tick_probability"],
            rng,
        )
        data[name] = (model_inputs(ticks, outputs, config["output_levels"], config["model"]), outputs)
        if name == "test":
            data["test_ticks"], data["test_counter"] = ticks, counter
    return data
