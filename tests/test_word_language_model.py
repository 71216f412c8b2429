"""Focused tests for word_language_model: the word stream, the stream batches, the carried state,
the tied softmax, the size presets and the Kneser-Ney baseline.

The generic tests (tests/test_recipes.py) build, train a step, round-trip and run the brief run;
these check what they cannot see: that batch i + 1 continues batch i, that the state carried
across two windows equals one long window, that evaluate starts from a zero state, and that the
baseline is a proper distribution.
"""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.common.words import EOS, UNK, encode_words, play_tokens, split_plays, tokenize_line, vocabulary
from recipes.word_language_model.data import StreamBatches
from recipes.word_language_model.model import CONFIG_RULES, DEFAULT_CONFIG, PRESETS, TiedLogits, build_model, resolved
from recipes.word_language_model.ngram import KneserNey

TINY = {**DEFAULT_CONFIG, "units": 8, "vocabulary_size": 50, "batch_size": 3, "dropout": 0.0}


def test_words_are_lowercased_without_punctuation_and_splits_are_whole_disjoint_plays():
    assert tokenize_line("O Romeo, Romeo! wherefore art thou Romeo? 'Tis o'er.") == [
        "o",
        "romeo",
        "romeo",
        "wherefore",
        "art",
        "thou",
        "romeo",
        "tis",
        "o'er",
    ]
    plays = split_plays()
    assert sum(len(names) for names in plays.values()) == len(play_tokens()) == 38
    assert not set(plays["train"]) & (set(plays["validation"]) | set(plays["test"]))
    words = vocabulary(1000)
    assert words[:2] == (EOS, UNK) and len(set(words)) == 1000
    assert list(encode_words(["the", "zzzz", EOS], words)) == [words.index("the"), 1, 0]


def test_batch_rows_continue_the_previous_batch():
    ids = np.arange(3 * 23, dtype="int32")
    batches = StreamBatches(ids, batch_size=3, sequence_length=5)
    assert len(batches) == 4  # rows of 23 words: 4 windows of 5 plus the last target
    rows = np.concatenate([batches[i][0] for i in range(len(batches))], axis=1)
    np.testing.assert_array_equal(rows, ids.reshape(3, 23)[:, :20])  # row k reads stretch k in order
    for i in range(len(batches)):
        x, y = batches[i]
        np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
        np.testing.assert_array_equal(ids[batches.target_positions()[:, i * 5 : (i + 1) * 5]], y)


def test_state_carried_over_two_windows_equals_one_long_window_and_evaluate_starts_from_zero():
    keras.utils.set_random_seed(0)
    model = build_model(TINY)
    x = np.random.default_rng(0).integers(0, 50, size=(3, 10)).astype("int32")
    long = keras.ops.convert_to_numpy(model.predict_on_batch(x))
    model.reset_carried_states()
    first, second = (keras.ops.convert_to_numpy(model.predict_on_batch(part)) for part in (x[:, :5], x[:, 5:]))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), long, rtol=1e-5, atol=1e-6)
    # The carried state matters: the second window from a zero state predicts differently.
    model.reset_carried_states()
    assert not np.allclose(keras.ops.convert_to_numpy(model.predict_on_batch(x[:, 5:])), second, atol=1e-4)
    # evaluate zeroes the state first, whatever ran before.
    batches = StreamBatches(np.random.default_rng(1).integers(0, 50, 3 * 31).astype("int32"), 3, 5)
    scores = [model.evaluate(batches, verbose=0, return_dict=True)["loss"] for _ in range(2)]
    model.predict_on_batch(x)
    scores.append(model.evaluate(batches, verbose=0, return_dict=True)["loss"])
    assert scores[0] == pytest.approx(scores[1], rel=1e-6) == pytest.approx(scores[2], rel=1e-6)


def test_tied_softmax_uses_the_embedding_matrix_after_a_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(TINY)
    logits_layer = model.get_layer("next_word_logits")
    assert isinstance(logits_layer, TiedLogits) and [w.name for w in logits_layer.weights] == ["bias"]
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    loaded.reset_carried_states()
    hidden = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    embedding = keras.ops.convert_to_numpy(loaded.get_layer("word_embedding").embeddings)
    expected = hidden @ embedding.T + keras.ops.convert_to_numpy(loaded.get_layer("next_word_logits").bias)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.get_layer("next_word_logits")(hidden)), expected, rtol=1e-5, atol=1e-6)
    untied = build_model({**TINY, "tie_embeddings": False, "embedding_dim": 4})
    assert untied.get_layer("word_embedding").output.shape[-1] == 4


def test_size_presets_replace_their_keys_and_keep_the_others():
    config = resolved({**DEFAULT_CONFIG, "size": "medium", "units": 7, "vocabulary_size": 123})
    assert config["units"] == 650 and config["dropout"] == 0.5 and config["optimizer"] == "sgd"
    assert config["vocabulary_size"] == 123 and config["epochs"] == DEFAULT_CONFIG["epochs"]
    assert resolved(DEFAULT_CONFIG) == DEFAULT_CONFIG
    for preset in PRESETS.values():
        check_rules({**DEFAULT_CONFIG, **preset}, CONFIG_RULES)  # every preset value is itself a valid setting
    with pytest.raises(ConfigError, match="'size' takes one of custom, small, medium, large, got huge"):
        check_rules({**DEFAULT_CONFIG, "size": "huge"}, CONFIG_RULES)


def test_kneser_ney_is_a_distribution_and_prefers_seen_continuations():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 12, size=400)
    train[::7] = 3  # make 3 frequent
    model = KneserNey(train, 12, order=3)
    for history in ([3, 5], [11, 11], [0, 3]):
        probabilities = [np.exp(model.log_probabilities(np.array([*history, w]), [2])[0]) for w in range(12)]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
        assert min(probabilities) > 0
    # A bigram model on "a b a b ...": after a, b is far likelier than the unseen a.
    bigram = KneserNey(np.tile([0, 1], 50), 3, order=2, discount=0.5)
    assert bigram.log_probabilities(np.array([0, 1]), [1])[0] > bigram.log_probabilities(np.array([0, 0]), [1])[0] + 3
    # Order 1 on "0 1" (raw counts c): P(w) = (max(c(w) - D, 0) + D * types / V) / total.
    assert np.exp(KneserNey(np.array([0, 1]), 3, order=1, discount=0.5).log_probabilities(np.array([2, 1]), [1])[0]) == pytest.approx(
        (1 - 0.5 + 0.5 * 2 / 3) / 2
    )
