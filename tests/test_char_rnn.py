"""Focused tests for char_rnn: the Shakespeare corpus, the data split, and the compiled sampler.

The generic smoke and brief-run tests (tests/test_recipes.py) cover building, training
and the catalog expectation; these cover what those cannot see: that the corpus is
what the README says, and that the sampler's compiled loop computes the same thing
as running the trained model step by step.
"""

import socket

import keras
import numpy as np
import pytest

from recipes.char_rnn.data import load_data
from recipes.char_rnn.model import CONFIG_RULES, DEFAULT_CONFIG, build_model
from recipes.common.config import ConfigError, check_rules
from recipes.common.sampling import Sampler
from recipes.common.text import decode, encode, shakespeare_alphabet, shakespeare_text

# A tiny model keeps the tests fast; dropout > 0 puts Dropout layers in the chain the
# sampler steps through.
TINY = {**DEFAULT_CONFIG, "units": 16, "embedding_dim": 8, "num_layers": 2, "dropout": 0.1}


def tiny_model(seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    model = build_model({**TINY, **overrides})
    # Scale every kernel and the embedding up: at initialisation greedy decoding repeats
    # one character; larger weights give state-dependent, varied continuations.
    for weight in model.weights:
        if not weight.path.endswith("bias"):
            weight.assign(weight * 4.0)
    return model


@pytest.fixture(scope="module")
def tiny():
    """(model, Sampler) shared by the tests below: each new input shape compiles the loop once."""
    model = tiny_model()
    return model, Sampler(model)


def assert_greedy(model, primes, tokens):
    """Each row of `tokens` is the greedy continuation of its prime under `model`.

    The model is causal, so one teacher-forced pass over prime + continuation gives,
    at every position, the logits the model would have after that prefix: greedy
    decoding is right exactly when each generated token is the argmax at the position
    before it. One call checks the whole continuation.
    """
    primes = np.asarray(primes, dtype="int32")
    logits = keras.ops.convert_to_numpy(model(np.concatenate([primes, tokens], axis=1), training=False))
    # Logits at positions prime_length - 1 ... end - 1 predict the generated tokens.
    predicted = logits[:, primes.shape[1] - 1 : -1].argmax(axis=-1)
    np.testing.assert_array_equal(tokens, predicted)


def test_corpus_loads_offline_with_the_documented_shape(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the corpus must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    shakespeare_text.cache_clear()
    shakespeare_alphabet.cache_clear()
    text, alphabet = shakespeare_text(), shakespeare_alphabet()

    assert 4_700_000 < len(text) < 4_800_000
    assert len(alphabet) == 75 and alphabet == "".join(sorted(set(text)))
    assert set("\n !',.:;?-") <= set(alphabet)
    # Markdown markup and escapes are gone.
    assert not set("*_[]\\#") & set(alphabet)
    assert text.startswith("Theseus:\nNow, fair Hippolyta, our nuptial hour\n")
    # Every speech is "Name:" on its own line, then verse, then a blank line.
    speeches = text.rstrip("\n").split("\n\n")
    assert len(speeches) > 30_000
    assert all(speech.split("\n", 1)[0].endswith(":") and "\n" in speech for speech in speeches)


def test_encode_decode_round_trip_and_unknown_characters():
    alphabet = shakespeare_alphabet()
    ids = encode("Romeo:\nO, she doth teach!", alphabet)
    assert ids.dtype == np.int32 and decode(ids, alphabet) == "Romeo:\nO, she doth teach!"
    with pytest.raises(ConfigError, match=r"'prime_text' takes text in the corpus alphabet \('é' is not in it; it has 75 characters: .*got 'Roméo'"):
        encode("Roméo", alphabet, key="prime_text")


def test_unknown_prime_characters_fail_before_training():
    with pytest.raises(ConfigError, match=r"'prime_text' takes text in the corpus alphabet \('\{\}' is not in it"):
        load_data({**DEFAULT_CONFIG, "prime_text": "Juliet: {O}"})
    with pytest.raises(ConfigError, match="'prime_text' takes text of 1 to 1,000 characters, got "):
        check_rules({**DEFAULT_CONFIG, "prime_text": ""}, CONFIG_RULES)


def test_too_few_validation_characters_for_two_windows():
    with pytest.raises(ConfigError, match=r"'sequence_length' takes at most 2,378 for two windows in the 4,757 validation"):
        load_data({**DEFAULT_CONFIG, "corpus_fraction": 0.1, "validation_fraction": 0.01, "sequence_length": 5000})


def test_windows_are_shifted_by_one_and_validation_is_the_contiguous_tail():
    config = {**DEFAULT_CONFIG, "corpus_fraction": 0.02, "sequence_length": 50}
    data = load_data(config)
    alphabet = data["vocabulary"]
    (x, y), (x_val, y_val) = data["train"], data["validation"]
    assert x.shape[1] == y.shape[1] == 50 and x.dtype == np.int32
    # Teacher forcing: the target is the input moved one character on.
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    text = shakespeare_text()[: int(len(shakespeare_text()) * 0.02)]
    split = data["train_text_length"]
    assert decode(x_val[0], alphabet) + decode(y_val[0][-1:], alphabet) == text[split : split + 51]
    assert decode(x[0], alphabet) in text[:split]
    # The seed moves window boundaries and order in training, never validation.
    other = load_data({**config, "seed": config["seed"] + 1})
    np.testing.assert_array_equal(other["validation"][0], x_val)
    assert not np.array_equal(other["train"][0][:10], x[:10])


@pytest.mark.parametrize("input_encoding", ["embedding", "one_hot"])
def test_greedy_sampling_matches_step_by_step_argmax(input_encoding):
    model = tiny_model(input_encoding=input_encoding)
    prime = encode("Romeo:\n", shakespeare_alphabet())
    # Temperature 0 is greedy; two rows check the batch dimension too.
    tokens = Sampler(model).sample(prime, [0.0, 0.0], length=40, seed=3)
    assert_greedy(model, [prime, prime], tokens)
    # The check itself can fail: a continuation shifted by one is not greedy.
    with pytest.raises(AssertionError):
        assert_greedy(model, [prime], np.roll(tokens[:1], 1, axis=1))


def test_priming_text_sets_the_state(tiny):
    model, sampler = tiny
    alphabet = shakespeare_alphabet()
    # One call, one prime per row (equal lengths); each row's state comes from its own prime.
    primes = np.stack([encode(text, alphabet) for text in ("Juliet:\n", "Romeo:\nO", "Sampson:")])
    tokens = sampler.sample(primes, [0.0, 0.0, 0.0], length=20)
    assert_greedy(model, primes, tokens)
    assert len({tuple(row) for row in tokens}) == 3
    # A one-character prime primes nothing: generation starts from zero states.
    tokens = sampler.sample(encode("K", alphabet), [0.0], length=20)
    assert_greedy(model, [encode("K", alphabet)], tokens)


def test_sampled_characters_follow_the_tempered_softmax():
    model = tiny_model(seed=2)
    # Sharpen the output further so temperatures 1 and 0.5 give clearly different distributions.
    dense = model.get_layer("next_character_logits")
    dense.kernel.assign(dense.kernel * 4.0)
    prime = encode("Romeo:\n", shakespeare_alphabet())
    logits = keras.ops.convert_to_numpy(model(prime[None], training=False))[0, -1]
    temperatures = (1.0, 0.5)
    tokens = Sampler(model).sample(prime, np.repeat(temperatures, 4000), length=1, seed=0)[:, 0]
    expected = {}
    for rows, temperature in zip(np.split(tokens, 2), temperatures):
        expected[temperature] = np.exp((logits - logits.max()) / temperature)
        expected[temperature] /= expected[temperature].sum()
        observed = np.bincount(rows, minlength=len(logits)) / len(rows)
        # Total-variation distance of 4,000 exact draws: ~0.04 at temperature 1, ~0.02 at 0.5.
        assert 0.5 * np.abs(observed - expected[temperature]).sum() < 0.06, temperature
    # The bound above is tight enough to tell the two temperatures apart.
    assert 0.5 * np.abs(expected[1.0] - expected[0.5]).sum() > 0.2


def test_same_seed_same_text(tiny):
    _, sampler = tiny
    prime = encode("Romeo:\n", shakespeare_alphabet())
    first = sampler.sample(prime, [0.8, 1.2], length=30, seed=7)
    assert first.shape == (2, 30) and first.dtype == np.int32
    np.testing.assert_array_equal(first, sampler.sample(prime, [0.8, 1.2], length=30, seed=7))
    assert not np.array_equal(first, sampler.sample(prime, [0.8, 1.2], length=30, seed=8))


def test_one_row_samples_as_that_row_of_a_batch(tiny):
    _, sampler = tiny
    prime = encode("Romeo:\n", shakespeare_alphabet())
    # One row steps the LSTM and Dense weights with kernel^T x, a batch calls the layers:
    # the same sums, and the seed's uniforms fill a batch row by row, so row 0 must match.
    single = sampler.sample(prime, [0.9], length=200, seed=5)
    np.testing.assert_array_equal(single[0], sampler.sample(prime, [0.9, 1.5], length=200, seed=5)[0])
