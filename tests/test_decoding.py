"""Greedy and beam-search decoding (recipes/common/decoding.py) on hand-made step functions.

The step functions here are lookup tables over the prefix written so far, so the best
sequence can be found by brute force and compared with what the decoders return.
"""

import itertools

import numpy as np
import pytest

from recipes.common.decoding import beam_search_decode, greedy_decode, keras_step

PAD, A, B, END, START = 0, 1, 2, 3, 4
VOCABULARY = 5  # pad, a, b, <end>, <start>; pad and <start> always get probability 0


def table_step(table):
    """A step function whose state is the prefix (as a tuple id) and whose output is table[prefix].

    The state array holds an index into a list of prefixes, so it can be reordered like
    any recurrent state. Prefixes missing from the table (e.g. after <end>) end at once.
    """
    prefixes = [()]

    def step(tokens, states, context):
        (index,) = states
        probabilities = np.zeros((len(tokens), VOCABULARY))
        new_index = np.zeros_like(index)
        for row, (token, i) in enumerate(zip(tokens, index[:, 0])):
            prefix = prefixes[int(i)] + ((int(token),) if token != START else ())
            if prefix not in prefixes:
                prefixes.append(prefix)
            new_index[row, 0] = prefixes.index(prefix)
            key = (int(context[0][row]),) + prefix if context else prefix
            probabilities[row] = table.get(key, ALWAYS_END)
        return probabilities, [new_index]

    return step


def as_distribution(**probabilities):
    out = np.zeros(VOCABULARY)
    for name, p in probabilities.items():
        out[{"a": A, "b": B, "end": END}[name]] = p
    return out


ALWAYS_END = as_distribution(end=1.0)

# Greedy picks "a" (0.6) then "a" (0.4) then <end>: p = 0.24. The best sequence is "b" <end>: 0.4 * 0.9 = 0.36.
GREEDY_TRAP = {
    (): as_distribution(a=0.6, b=0.4),
    (A,): as_distribution(a=0.4, b=0.3, end=0.3),
    (A, A): as_distribution(end=1.0),
    (A, B): as_distribution(end=1.0),
    (B,): as_distribution(a=0.05, b=0.05, end=0.9),
}


def test_greedy_takes_the_locally_best_token_and_pads_after_end():
    tokens = greedy_decode(table_step(GREEDY_TRAP), [np.zeros((1, 1))], START, END, max_length=5)
    np.testing.assert_array_equal(tokens, [[A, A, PAD, PAD, PAD]])


def test_beam_search_finds_the_sequence_greedy_misses():
    tokens, log_p = beam_search_decode(table_step(GREEDY_TRAP), [np.zeros((1, 1))], START, END, max_length=5, beam_width=2)
    np.testing.assert_array_equal(tokens, [[B, PAD, PAD, PAD, PAD]])
    assert log_p[0] == pytest.approx(np.log(0.36))


def test_length_penalty_ranks_by_log_probability_per_token():
    """b <end>: log 0.36 / 2 = -0.51 per token; a a <end>: log 0.24 / 3 = -0.48 wins once lengths count."""
    tokens, log_p = beam_search_decode(table_step(GREEDY_TRAP), [np.zeros((1, 1))], START, END, max_length=5, beam_width=3, length_penalty=1.0)
    np.testing.assert_array_equal(tokens, [[A, A, PAD, PAD, PAD]])
    assert log_p[0] == pytest.approx(np.log(0.24))


def test_beam_width_one_is_greedy():
    step = table_step(GREEDY_TRAP)
    greedy = greedy_decode(step, [np.zeros((1, 1))], START, END, max_length=5)
    beam, _ = beam_search_decode(step, [np.zeros((1, 1))], START, END, max_length=5, beam_width=1)
    np.testing.assert_array_equal(greedy, beam)


def random_table(rng, max_length):
    """Random next-token distributions over {a, b, <end>} for every prefix shorter than max_length."""
    table = {}
    for length in range(max_length):
        for prefix in itertools.product((A, B), repeat=length):
            table[prefix] = as_distribution(**dict(zip(("a", "b", "end"), rng.dirichlet(np.ones(3)))))
    return table


def brute_force_best(table, max_length):
    """Most probable output: a prefix then <end> (at most max_length tokens in all), or an unfinished max_length prefix."""
    best, best_log_p = None, -np.inf
    for length in range(max_length + 1):
        for prefix in itertools.product((A, B), repeat=length):
            log_p = sum(np.log(table[prefix[:t]][token]) for t, token in enumerate(prefix))
            if length < max_length:
                log_p += np.log(table[prefix][END])
            if log_p > best_log_p:
                best, best_log_p = prefix, log_p
    return best, best_log_p


@pytest.mark.parametrize("seed", range(5))
def test_wide_beam_is_exhaustive_search(seed):
    """With a beam as wide as the number of live prefixes, beam search returns the exact optimum."""
    max_length = 4
    table = random_table(np.random.default_rng(seed), max_length)
    tokens, log_p = beam_search_decode(table_step(table), [np.zeros((1, 1))], START, END, max_length, beam_width=2**max_length)
    best, best_log_p = brute_force_best(table, max_length)
    assert log_p[0] == pytest.approx(best_log_p)
    np.testing.assert_array_equal(tokens[0, : len(best)], best)
    assert np.all(tokens[0, len(best) :] == PAD)


def test_context_is_tiled_per_input_and_beams_stay_with_their_input():
    """Two inputs in one batch, each with its own table (chosen by its context row): each gets its own answer."""
    table = {}
    for which, (first, then) in enumerate(((A, B), (B, A))):
        table[(which,)] = as_distribution(a=0.9 if first == A else 0.1, b=0.1 if first == A else 0.9)
        table[(which, first)] = as_distribution(a=0.8 if then == A else 0.1, b=0.8 if then == B else 0.1, end=0.1)
        table[(which, first, then)] = ALWAYS_END
    context = [np.array([0, 1])]
    states = [np.zeros((2, 1))]
    tokens, _ = beam_search_decode(table_step(table), states, START, END, max_length=3, beam_width=3, context=context)
    np.testing.assert_array_equal(tokens, [[A, B, PAD], [B, A, PAD]])
    greedy = greedy_decode(table_step(table), states, START, END, max_length=3, context=context)
    np.testing.assert_array_equal(greedy, tokens)


def test_unfinished_sequences_stop_at_max_length():
    loop = {(): as_distribution(a=1.0)}
    for length in range(1, 4):
        loop[(A,) * length] = as_distribution(a=0.9, end=0.1)
    tokens, _ = beam_search_decode(table_step(loop), [np.zeros((1, 1))], START, END, max_length=3, beam_width=2)
    greedy = greedy_decode(table_step(loop), [np.zeros((1, 1))], START, END, max_length=3)
    np.testing.assert_array_equal(tokens, [[A, A, A]])
    np.testing.assert_array_equal(greedy, [[A, A, A]])


def test_bad_beam_width_is_a_clear_error():
    with pytest.raises(ValueError, match="beam_width must be a positive int"):
        beam_search_decode(table_step(GREEDY_TRAP), [np.zeros((1, 1))], START, END, max_length=3, beam_width=0)


def test_keras_step_wraps_a_one_step_model():
    """keras_step calls a Keras model once per step and splits probabilities from states."""
    import keras

    token = keras.Input(shape=(1,), dtype="int32")
    state = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(3, activation="tanh")(
        keras.layers.Concatenate()([keras.layers.Flatten()(keras.layers.Embedding(VOCABULARY, 3)(token)), state])
    )
    probabilities = keras.layers.Dense(VOCABULARY, activation="softmax")(hidden)
    model = keras.Model([token, state], [probabilities, hidden])
    step = keras_step(model, num_states=1)
    tokens, states = np.array([START, A]), [np.zeros((2, 3), dtype=np.float32)]
    probabilities, new_states = step(tokens, states, [])
    expected = model.predict_on_batch([tokens[:, None].astype(np.int32), states[0]])
    np.testing.assert_allclose(probabilities, expected[0], rtol=1e-6)
    np.testing.assert_allclose(new_states[0], expected[1], rtol=1e-6)
    assert probabilities.shape == (2, VOCABULARY)
