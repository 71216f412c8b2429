"""Teacher forcing in training, free running at test: the two ways to feed back an output.

A network with output-to-hidden recurrence (Deep Learning book, Goodfellow, Bengio &
Courville 2016, section 10.2.1, figures 10.4, 10.6 and 10.10) reads its previous output
y_{t-1} at step t. In training it is given the TRUE previous output (teacher forcing,
Williams & Zipser 1989): the previous outputs are then just one more input sequence, the
targets shifted right by one step, so `model.fit` trains on whole sequences at once. At
test time no true outputs exist: the network runs free, one step at a time, and each
output it chooses becomes its next input.

This module holds the pieces both halves share:
- `shift_right` makes the teacher-forced input sequence from the targets;
- `choose` picks outputs from probabilities, greedily or by sampling;
- `free_running` runs a recipe's one-step function over a whole batch, feeding each
  chosen output back.

Randomness: the uniform numbers that pick sampled outputs are drawn with NumPy from a
seed before the loop, and each output is chosen by inverting the cumulative distribution,
so the same seed gives the same samples on every Keras backend.
"""

import numpy as np


def shift_right(sequences, first):
    """The teacher-forced previous outputs: step t holds sequences[:, t - 1], step 0 holds `first`.

    Args:
        sequences: array (batch, time) of output ids, or (batch, time, features) of output
            vectors (e.g. one-hot).
        first: what the network reads as "previous output" at step 0 (a start id, or a
            vector of `features` values); broadcast over the batch.

    Returns:
        Array of the same shape and dtype as `sequences`.
    """
    sequences = np.asarray(sequences)
    shifted = np.empty_like(sequences)
    shifted[:, 0] = first
    shifted[:, 1:] = sequences[:, :-1]
    return shifted


def choose(probabilities, temperature=0.0, uniform=None):
    """Pick one output per row of a distribution: argmax, or a sample at a temperature.

    Sampling inverts the cumulative distribution of p^(1/temperature) (renormalised), so
    a zero-probability output is never picked and temperature 1 samples exactly from p.

    Args:
        probabilities: array (..., classes) of probabilities (rows sum to ~1).
        temperature: 0 for greedy decoding; > 0 samples (< 1 sharper, > 1 flatter).
        uniform: array of shape probabilities.shape[:-1] of numbers in [0, 1); needed
            when temperature > 0.

    Returns:
        int32 array of shape probabilities.shape[:-1].

    Raises:
        ValueError: a negative temperature, or sampling without uniform numbers.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"choose: temperature must be >= 0 (0 is greedy), got {temperature!r}.")
    if temperature == 0:
        return np.argmax(probabilities, axis=-1).astype(np.int32)
    if uniform is None:
        raise ValueError("choose: sampling (temperature > 0) needs `uniform` numbers in [0, 1).")
    # Work in log space so small temperatures do not underflow to all-zero rows.
    logits = np.log(np.maximum(probabilities, 1e-30)) / temperature
    scaled = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cdf = np.cumsum(scaled, axis=-1)
    # The sample is the number of cdf entries <= u * total (flat steps are never chosen).
    target = np.asarray(uniform)[..., None] * cdf[..., -1:]
    picked = np.sum(cdf <= target, axis=-1)
    return np.minimum(picked, probabilities.shape[-1] - 1).astype(np.int32)


def free_running(step, inputs, first_output, states=None, temperature=0.0, seed=0):
    """Run a one-step network over a batch of input sequences, feeding back its own outputs.

    The loop is in Python with one batched call of `step` per time step (the whole batch
    at once), so its cost is `time` small calls, not `time x batch`; recipes keep their
    sequences short enough (tens of steps) for that to take well under a second.

    Args:
        step: function (x_t, previous_ids, states) -> (probabilities, new_states), where
            x_t is inputs[:, t] (or a dict of them), previous_ids int32 (batch,) the
            outputs chosen at step t - 1, probabilities array-like (batch, classes).
        inputs: array (batch, time, ...) or a dict of such arrays, the per-step inputs.
        first_output: int id read as the previous output at step 0 (the start symbol).
        states: initial recurrent states passed to `step` (None for a network without
            hidden-to-hidden recurrence).
        temperature: 0 for greedy decoding, > 0 to sample (see `choose`).
        seed: seed of the uniform numbers used for sampling.

    Returns:
        (outputs, probabilities): int32 (batch, time) chosen ids and float32
        (batch, time, classes) the distributions they were chosen from.
    """
    first_input = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
    batch_size, length = first_input.shape[0], first_input.shape[1]
    uniform = np.random.default_rng(seed).random((batch_size, length)) if temperature > 0 else None
    previous = np.full((batch_size,), first_output, dtype=np.int32)
    outputs, distributions = [], []
    for t in range(length):
        x_t = {key: value[:, t] for key, value in inputs.items()} if isinstance(inputs, dict) else inputs[:, t]
        probabilities, states = step(x_t, previous, states)
        probabilities = np.asarray(probabilities, dtype=np.float32)  # (batch, classes)
        previous = choose(probabilities, temperature, None if uniform is None else uniform[:, t])
        outputs.append(previous)
        distributions.append(probabilities)
    return np.stack(outputs, axis=1), np.stack(distributions, axis=1)
