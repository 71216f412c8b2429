"""sequence_classifier: template labels checked by an independent rule, lexicon neutrality of the
filler, splits, masking (padding changes nothing), and the bag of words' blindness to order."""

import keras
import numpy as np
import pytest

from recipes.sequence_classifier import data as D
from recipes.sequence_classifier.model import DEFAULT_CONFIG, build_model

SMALL = {**DEFAULT_CONFIG, "num_train": 300, "num_validation": 60, "num_test": 90, "units": 8, "embedding_dim": 4}
NEGATORS = {"not", "never", "didn't", "wasn't", "isn't", "no"}
CLAUSE_BOUNDARIES = {".", ",", "but"}


def sentiment_words():
    """{word: +1/-1} for every adjective and verb form the templates use."""
    words = {}
    for polarity in (1, -1):
        words.update({w: polarity for w in D.adjectives(polarity)})
        words.update({w: polarity for pair in D.verbs(polarity) for w in pair})
    return words


def rule_label(tokens):
    """The label read back from the tokens by a rule written independently of the generator.

    The last sentiment word decides; it is flipped when a negator precedes it in its clause
    (clauses end at '.', ',' and 'but').

    Returns:
        (label 0/1, negated, has_but).
    """
    polarity_of = sentiment_words()
    position = max(i for i, w in enumerate(tokens) if w in polarity_of)
    start = position
    while start > 0 and tokens[start - 1] not in CLAUSE_BOUNDARIES:
        start -= 1
    negated = any(w in NEGATORS for w in tokens[start:position])
    polarity = polarity_of[tokens[position]] * (-1 if negated else 1)
    return int(polarity > 0), negated, "but" in tokens


def test_labels_follow_the_template_rule():
    data = D.load_data(SMALL)
    _, y = data["train"]
    reviews = data["test_reviews"]
    _, y_test = data["test"]
    rng = np.random.default_rng(5)
    generated = [D.generate_reviews(200, 0.4, 4, 40, rng)]
    for tokens_list, labels, constructions in [*generated, (reviews, y_test, data["test_constructions"])]:
        for tokens, label, construction in zip(tokens_list, labels, constructions):
            expected, negated, has_but = rule_label(tokens)
            assert expected == int(label), " ".join(tokens)
            if construction == "plain":
                assert not negated and not has_but, " ".join(tokens)
            elif construction == "negation":
                assert negated and not has_but, " ".join(tokens)
            else:
                assert has_but, " ".join(tokens)
    assert set(np.unique(y)) == {0.0, 1.0}


def test_brief_examples_get_the_intended_labels():
    """The examples of the task statement, read by the same rule."""
    assert rule_label(["not", "bad", "."])[0] == 1
    assert rule_label(["good", "but", "overlong", "."])[0] == 0
    assert rule_label(["not", "exactly", "great", "."])[0] == 0
    assert rule_label(["i", "expected", "to", "hate", "it", "but", "loved", "it", "."])[0] == 1


def test_only_sentiment_words_and_negators_carry_a_lexicon_score():
    """Filler and template words are neutral in VADER, so sentiment comes only from the chosen words."""
    lexicon = D.vader_lexicon()
    polarity_of = sentiment_words()
    for word in D.vocabulary():
        if word in polarity_of:
            if word not in D.HAND_LABELLED:
                assert abs(lexicon[word]) >= D.MIN_LEXICON_RATING, word
                assert np.sign(lexicon[word]) == polarity_of[word], word
        else:
            assert word not in lexicon or word in NEGATORS, f"{word!r} has VADER rating {lexicon[word]}"
    assert not set(D.HAND_LABELLED) & set(lexicon), "a hand-labelled word is in VADER's lexicon: use its rating"


def test_splits_lengths_and_balance():
    data = D.load_data(SMALL)
    for name in ("train", "validation", "test"):
        x, y = data[name]
        lengths = np.sum(x != D.PAD, axis=1)
        assert x.shape == (SMALL[f"num_{name}"], SMALL["max_words"])
        assert lengths.min() >= SMALL["min_words"] and lengths.max() <= SMALL["max_words"]
        # Padding only at the end.
        assert np.all((x != D.PAD) == (np.arange(x.shape[1])[None, :] < lengths[:, None]))
    constructions = np.asarray(data["test_constructions"])
    _, y = data["test"]
    counts = D.construction_counts(SMALL["num_test"], SMALL["plain_fraction"])
    for name, count in counts.items():
        assert np.sum(constructions == name) == count
        assert abs(np.mean(y[constructions == name]) - 0.5) <= 1 / count
    train_texts = {" ".join(map(str, row[row != D.PAD])) for row in data["train"][0]}
    test_texts = {" ".join(map(str, row[row != D.PAD])) for row in data["test"][0]}
    assert not train_texts & test_texts


def test_lengths_vary_widely():
    data = D.load_data({**SMALL, "num_train": 2000})
    lengths = np.sum(data["train"][0] != D.PAD, axis=1)
    assert np.percentile(lengths, 10) <= 10 and np.percentile(lengths, 90) >= 30


@pytest.mark.parametrize("model_name,cell", [("rnn", "keras_gru"), ("rnn", "lstm"), ("bag_of_words", "keras_gru")])
def test_padding_does_not_change_the_prediction(model_name, cell):
    """Masking: extra zeros after a review, or none at all, give the same output."""
    keras.utils.set_random_seed(0)
    model = build_model({**SMALL, "model": model_name, "cell": cell})
    x, _ = D.load_data(SMALL)["test"]
    x = x[:16]
    longest = int(np.max(np.sum(x != D.PAD, axis=1)))
    base = model.predict_on_batch(x)
    padded = model.predict_on_batch(np.pad(x, ((0, 0), (0, 25))))
    trimmed = model.predict_on_batch(x[:, :longest])
    np.testing.assert_allclose(padded, base, atol=1e-6)
    np.testing.assert_allclose(trimmed, base, atol=1e-6)
    # One review on its own, with no padding at all, matches its row in the batch.
    length = int(np.sum(x[0] != D.PAD))
    np.testing.assert_allclose(model.predict_on_batch(x[:1, :length]), base[:1], atol=1e-6)
    # A real word in place of the padding does change it: the check can fail.
    extended = x.copy()
    extended[np.arange(len(x)), np.minimum(np.sum(x != D.PAD, axis=1), x.shape[1] - 1)] = 1
    assert np.max(np.abs(model.predict_on_batch(extended) - base)) > 1e-6


def test_bag_of_words_ignores_order_and_the_rnn_does_not():
    """Why the baseline fails on negation and contrast: a reversed review looks the same to it."""
    word_index = {w: i + 1 for i, w in enumerate(D.vocabulary())}
    reviews = [["good", "but", "overlong", "."], ["the", "plot", "was", "not", "great", "."]]
    forward = D.encode(reviews, 8, word_index)
    backward = D.encode([r[::-1] for r in reviews], 8, word_index)
    for model_name, same in (("bag_of_words", True), ("rnn", False)):
        keras.utils.set_random_seed(0)
        model = build_model({**SMALL, "model": model_name})
        difference = np.max(np.abs(model.predict_on_batch(forward) - model.predict_on_batch(backward)))
        assert (difference < 1e-6) == same, (model_name, difference)


def test_config_errors_name_the_key():
    from recipes.common.config import ConfigError, check_rules
    from recipes.sequence_classifier.model import CONFIG_RULES

    with pytest.raises(ConfigError, match="'model' takes one of rnn, bag_of_words, got cnn"):
        check_rules({**SMALL, "model": "cnn"}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'max_words' takes an integer from 20 to 1,000, got 10"):
        check_rules({**SMALL, "max_words": 10}, CONFIG_RULES)
    with pytest.raises(ConfigError, match=r"'plain_fraction' takes a number in \[0, 1\], got 1.5"):
        check_rules({**SMALL, "plain_fraction": 1.5}, CONFIG_RULES)
