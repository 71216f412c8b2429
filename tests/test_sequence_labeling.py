"""sequence_labeling: silver tags, vocabulary and unknown words, padding masks, the lookup baselines."""

import re

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.common.tagging import token_accuracy
from recipes.sequence_labeling import data as sl_data
from recipes.sequence_labeling import demo as sl_demo
from recipes.sequence_labeling.model import CONFIG_RULES, DEFAULT_CONFIG, build_model


def small_config(**changes):
    return {
        **DEFAULT_CONFIG,
        "num_train_lines": 200,
        "num_validation_lines": 40,
        "num_test_lines": 60,
        "vocabulary_size": 500,
        "embedding_dim": 8,
        "units": 8,
        **changes,
    }


@pytest.mark.parametrize(
    "word, signature",
    [
        ("Hippolyta", "<unk-title>"),
        ("O", "<unk-title>"),
        ("1599", "<unk-number>"),
        ("step-dame", "<unk-hyphen>"),
        ("assaying", "<unk-ing>"),
        ("banish'd", "<unk-ed>"),
        ("wanted", "<unk-ed>"),
        ("partly", "<unk-ly>"),
        ("wanes", "<unk-s>"),
        ("apace", "<unk>"),
    ],
)
def test_unknown_signature(word, signature):
    assert sl_data.unknown_signature(word) == signature


def test_lexicon_only_is_textblob_pattern_tagger_as_shipped():
    from textblob.en.taggers import PatternTagger

    lines = sl_data.corpus_lines()[:300]
    tagger = PatternTagger()
    assert all(sl_data.tag_line(line, "lexicon_only") == tuple(tagger.tag(line)) for line in lines)


def test_context_rules_make_tags_depend_on_neighbours():
    # As shipped, a word has one tag whatever its neighbours; the contextual rules retag
    # "know" after a pronoun (VB -> VBP) and "love" after "will" (NN -> VB).
    assert dict(sl_data.tag_line("I know that man", "lexicon_only"))["know"] == "VB"
    assert dict(sl_data.tag_line("I know that man", "context_rules"))["know"] == "VBP"
    assert dict(sl_data.tag_line("I will love thee", "lexicon_only"))["love"] == "NN"
    assert dict(sl_data.tag_line("I will love thee", "context_rules"))["love"] == "VB"
    # Same tokens either way, every tag in the fixed tag set.
    for line in sl_data.corpus_lines()[:200]:
        context, lexicon = sl_data.tag_line(line, "context_rules"), sl_data.tag_line(line, "lexicon_only")
        assert [w for w, _ in context] == [w for w, _ in lexicon]
        assert all(tag in sl_data.TAG_INDEX for _, tag in context)


def test_tag_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(sl_data, "CACHE_DIR", tmp_path)
    first = sl_data.tag_lines([5, 3, 5], "lexicon_only")
    assert first[0] == first[2] == sl_data.tag_line(sl_data.corpus_lines()[5], "lexicon_only")
    (path,) = tmp_path.iterdir()
    assert sl_data._read_cache(path).keys() == {3, 5}
    # A later call reads the cache (a corrupted entry would show) and adds only new lines.
    monkeypatch.setattr(sl_data, "tag_line", lambda line, tagger: (("stub", "NN"),))
    assert sl_data.tag_lines([3, 7], "lexicon_only") == [first[1], (("stub", "NN"),)]
    assert sl_data._read_cache(path).keys() == {3, 5, 7}


def test_vocabulary_and_encoding():
    lines = [(("the", "DT"), ("cat", "NN"), (".", ".")), (("the", "DT"), ("Cat", "NNP")), (("the", "DT"), ("cat", "NN"))]
    vocabulary = sl_data.build_vocabulary(lines, vocabulary_size=100, min_word_count=2)
    # Words seen twice or more, most frequent first; ids after padding and the 8 unknown ids.
    assert vocabulary == {"the": sl_data.FIRST_WORD_ID, "cat": sl_data.FIRST_WORD_ID + 1}
    assert sl_data.build_vocabulary(lines, vocabulary_size=sl_data.FIRST_WORD_ID + 1, min_word_count=1) == {"the": sl_data.FIRST_WORD_ID}
    x, y = sl_data.encode_lines(lines, vocabulary)
    title_id = 1 + sl_data.UNKNOWN_SIGNATURES.index("<unk-title>")
    plain_id = 1 + sl_data.UNKNOWN_SIGNATURES.index("<unk>")
    np.testing.assert_array_equal(x, [[9, 10, plain_id], [9, title_id, 0], [9, 10, 0]])
    assert y[0].tolist() == [sl_data.TAG_INDEX[t] for t in ("DT", "NN", ".")]
    assert y[1, 2] == 0 and x.dtype == y.dtype == np.int32


def test_load_data_splits_are_fixed_and_disjoint():
    first, second = sl_data.load_data(small_config(seed=0)), sl_data.load_data(small_config(seed=3))
    assert first["test_lines"] == second["test_lines"]
    np.testing.assert_array_equal(first["test"][0], second["test"][0])
    # The same training lines for every seed, in another order.
    assert sorted(map(tuple, first["train"][0].tolist())) == sorted(map(tuple, second["train"][0].tolist()))
    assert not np.array_equal(first["train"][0], second["train"][0])
    x, y = first["test"]
    assert x.shape == y.shape == (60, max(len(line) for line in first["test_lines"]))
    assert (x[:, 0] > 0).all()  # no empty line
    assert max(first["vocabulary"].values()) < 500


def test_baselines_on_a_hand_example():
    counts = sl_data.word_tag_counts([(("that", "IN"), ("man", "NN")), (("that", "IN"),), (("that", "DT"), ("man", "NN"))])
    lines = [(("that", "DT"), ("man", "NN"), ("Romeo", "NNP"))]
    predicted = sl_demo.baseline_tags(lines, counts, "NN")
    assert [sl_data.TAGS[i] for i in predicted[0]] == ["IN", "NN", "NN"]
    ambiguous, unknown = sl_demo.word_kinds(lines, counts)
    assert ambiguous.tolist() == [[True, False, False]] and unknown.tolist() == [[False, False, True]]
    # A tie goes to the alphabetically first tag, whatever order training saw them in.
    for order in ((("so", "RB"), ("so", "IN")), (("so", "IN"), ("so", "RB"))):
        assert sl_demo.baseline_tags([(("so", "RB"),)], sl_data.word_tag_counts([order]), "NN")[0, 0] == sl_data.TAG_INDEX["IN"]


@pytest.mark.parametrize("model_kind", ["rnn", "per_word"])
def test_padding_is_masked(model_kind):
    keras.utils.set_random_seed(0)
    model = build_model(small_config(model=model_kind))
    x = np.array([[12, 15, 11, 0, 0]], dtype=np.int32)
    longer = np.concatenate([x, np.zeros((1, 6), dtype=np.int32)], axis=1)
    # Extra padding changes neither the predictions on the real steps nor the loss.
    np.testing.assert_allclose(model.predict_on_batch(x)[:, :3], model.predict_on_batch(longer)[:, :3], atol=1e-6)
    y, y_longer = np.array([[1, 2, 3, 7, 7]]), np.zeros_like(longer)
    y_longer[:, :3] = [1, 2, 3]
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, model.evaluate(longer, y_longer, verbose=0, return_dict=True)["loss"], rtol=1e-5)
    # The loss is the mean cross-entropy over the 3 real steps only.
    p = model.predict_on_batch(x)[0]
    np.testing.assert_allclose(loss, -np.mean(np.log(p[np.arange(3), [1, 2, 3]])), rtol=1e-4)


def test_per_word_model_ignores_context_and_rnn_does_not():
    keras.utils.set_random_seed(0)
    a, b = np.array([[12, 15, 11]], dtype=np.int32), np.array([[20, 15, 11]], dtype=np.int32)
    per_word = build_model(small_config(model="per_word"))
    np.testing.assert_allclose(per_word.predict_on_batch(a)[0, 1:], per_word.predict_on_batch(b)[0, 1:], atol=1e-6)
    rnn = build_model(small_config(model="rnn"))
    assert not np.allclose(rnn.predict_on_batch(a)[0, 1:], rnn.predict_on_batch(b)[0, 1:], atol=1e-6)
    # And neither looks ahead: the first step does not depend on later words.
    np.testing.assert_allclose(rnn.predict_on_batch(a)[0, 0], rnn.predict_on_batch(np.array([[12, 30, 31]]))[0, 0], atol=1e-6)


def test_token_accuracy_leaves_out_padding():
    targets = np.array([[1, 2, 0, 0]])
    predicted = np.array([[1, 3, 0, 0]])
    assert token_accuracy(predicted, targets, targets > 0) == 0.5
    assert token_accuracy(predicted, targets) == 0.75
    assert token_accuracy(np.eye(4)[predicted], targets, targets > 0) == 0.5  # scores: argmax taken


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"silver_tagger": "gold"}, "'silver_tagger' takes one of context_rules, lexicon_only, got gold."),
        ({"vocabulary_size": 5}, "'vocabulary_size' takes an integer from 10 to 200,000, got 5."),
        ({"num_train_lines": 10**6}, "'num_train_lines' takes an integer from 1 to 200,000, got 1000000."),
        ({"model": "cnn"}, "'model' takes one of rnn, per_word, got cnn."),
    ],
)
def test_config_errors_name_the_key(changes, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        check_rules(small_config(**changes), CONFIG_RULES)


def test_more_lines_than_the_corpus_has_is_refused():
    fragment = "'num_train_lines' takes at most 99,482 lines: the corpus has 103,482 and num_validation_lines + num_test_lines take 4,000"
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        sl_data.check_corpus_size(small_config(num_train_lines=100_000, num_validation_lines=1000, num_test_lines=3000))
