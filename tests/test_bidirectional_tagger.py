"""bidirectional_tagger: next-marker labels, the no-future bound, equal model sizes, and who sees the future."""

import keras
import numpy as np
import pytest

from recipes.bidirectional_tagger import data as bt_data
from recipes.bidirectional_tagger.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config, direction_units, model_parameter_count
from recipes.common.config import ConfigError, check_rules


def config(**changes):
    return {**DEFAULT_CONFIG, "num_train": 64, "num_validation": 16, "num_test": 16, **changes}


def encode(text, names):
    return np.array([[names.index(c) for c in text]], dtype=np.int32)


def test_labels_on_the_docstring_example():
    names = bt_data.symbol_names(config())
    symbols = encode("baCddfAeB", names)
    labels = bt_data.next_marker_labels(symbols, num_markers=4)
    assert "".join(names[k] for k in labels[0]) == "CCCAAAABB"
    assert bt_data.steps_to_next_marker(symbols, num_markers=4)[0].tolist() == [2, 1, 0, 3, 2, 1, 0, 1, 0]


def test_sampled_sequences_match_a_brute_force_labelling():
    cfg = config(sequence_length=15, marker_rate=0.3)
    symbols, labels = bt_data.sample_sequences(500, cfg, np.random.default_rng(0))
    assert (symbols[:, -1] < cfg["num_markers"]).all()  # every sequence ends with a marker
    for row, label_row in zip(symbols, labels):
        for t in range(len(row)):
            first = next(s for s in row[t:] if s < cfg["num_markers"])
            assert label_row[t] == first
    is_marker = symbols[:, :-1] < cfg["num_markers"]
    assert abs(is_marker.mean() - 0.3) < 0.02
    # Marker kinds and fillers are used uniformly.
    assert len(np.unique(symbols)) == cfg["num_markers"] + cfg["num_fillers"]


def test_splits_are_seeded_and_independent():
    a, b, c = bt_data.load_data(config(seed=0)), bt_data.load_data(config(seed=0)), bt_data.load_data(config(seed=1))
    np.testing.assert_array_equal(a["train"][0], b["train"][0])
    assert not np.array_equal(a["train"][0], c["train"][0])
    assert not np.array_equal(a["train"][0][:16], a["test"][0])
    # Resizing the training split leaves the test split unchanged.
    np.testing.assert_array_equal(a["test"][0], bt_data.load_data(config(seed=0, num_train=10))["test"][0])


@pytest.mark.parametrize("rate, kinds", [(0.2, 4), (0.05, 3), (0.5, 6)])
def test_best_without_future_matches_a_simulated_causal_predictor(rate, kinds):
    """The Bayes predictor that sees only the past: a marker's own kind, else any fixed guess."""
    cfg = config(marker_rate=rate, num_markers=kinds)
    symbols, labels = bt_data.sample_sequences(20000, cfg, np.random.default_rng(1))
    guess = np.where(symbols < kinds, symbols, 0)
    assert abs((guess == labels).mean() - bt_data.best_without_future_accuracy(cfg)) < 0.005


def test_equal_size_for_both_directions():
    for cell in ("keras_gru", "lstm", "basic_rnn"):
        uni, bi = config(cell=cell, bidirectional=False), config(cell=cell, bidirectional=True)
        units = direction_units(bi)
        counts = [model_parameter_count(cell, u, 16, 4, d) for u, d in ((32, 1), (units, 2))]
        assert abs(counts[1] - counts[0]) / counts[0] < 0.05, (cell, counts)
        for cfg, expected in ((uni, counts[0]), (bi, counts[1])):
            model = build_model(cfg)
            embedding = model.get_layer("symbol_embedding").count_params()
            assert model.count_params() - embedding == expected


@pytest.mark.parametrize("bidirectional", [False, True])
def test_only_the_bidirectional_model_sees_the_future(bidirectional):
    keras.utils.set_random_seed(0)
    model = build_model(config(bidirectional=bidirectional))
    names = bt_data.symbol_names(config())
    a, b = encode("abcdefgA", names), encode("abcdefgB", names)  # differ only in the last step
    pa, pb = model.predict_on_batch(a)[0], model.predict_on_batch(b)[0]
    changed = ~np.isclose(pa, pb, atol=1e-7).all(axis=-1)
    assert changed[-1]
    # Steps before the change: affected only through the backward direction.
    assert changed[:-1].all() if bidirectional else not changed[:-1].any()


def test_bidirectional_model_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(config(cell="lstm"))  # our own cell inside keras.layers.Bidirectional
    x = bt_data.load_data(config())["test"][0][:4]
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(model.predict_on_batch(x), loaded.predict_on_batch(x), atol=1e-6)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"marker_rate": 1.0}, r"'marker_rate' takes a number in \[0, 1\), got 1"),
        ({"num_markers": 27}, "'num_markers' takes an integer from 1 to 26, got 27"),
        ({"sequence_length": 0}, "'sequence_length' takes an integer from 1 to 10,000, got 0"),
        ({"cell": "transformer"}, "'cell' takes one of .*, got transformer"),
        ({"sequence_length": 10_000, "num_train": 5001}, "'num_train' takes at most 5,000 sequences of 10,000 steps"),
    ],
)
def test_config_errors_name_the_key(changes, fragment):
    with pytest.raises(ConfigError, match=fragment):
        check_rules(config(**changes), CONFIG_RULES)
        check_config(config(**changes))
