"""Focused tests of the memory_task recipe: sequence layout, the recall metric, seeding, sizing."""

import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.memory_task.data import BLANK, DELIMITER, load_data, recall_sequences
from recipes.memory_task.demo import recall_accuracy
from recipes.memory_task.model import CONFIG_RULES, DEFAULT_CONFIG, check_config

SMALL = {**DEFAULT_CONFIG, "num_digits": 4, "blank_separation": 7, "num_train": 32, "num_validation": 8, "num_test": 8}


def test_targets_are_blank_except_the_recalled_digits():
    inputs, targets = recall_sequences(50, num_digits=4, blank_separation=7, rng=np.random.default_rng(0))
    # T = K digits + gap + delimiter + K recall steps.
    assert inputs.shape == targets.shape == (50, 4 + 7 + 1 + 4)
    assert np.all(inputs[:, :4] < 9)  # digits 0..8 only
    assert np.all(inputs[:, 4:11] == BLANK)
    assert np.all(inputs[:, 11] == DELIMITER)
    assert np.all(inputs[:, 12:] == BLANK)
    assert np.all(targets[:, :-4] == BLANK)
    np.testing.assert_array_equal(targets[:, -4:], inputs[:, :4])
    # All nine digits occur, and the delimiter is never a target.
    assert set(np.unique(inputs[:, :4])) == set(range(9))
    assert DELIMITER not in targets


def test_zero_separation_puts_the_delimiter_right_after_the_digits():
    inputs, targets = recall_sequences(3, num_digits=2, blank_separation=0, rng=np.random.default_rng(1))
    assert inputs.shape == (3, 5)
    assert np.all(inputs[:, 2] == DELIMITER)
    np.testing.assert_array_equal(targets[:, 3:], inputs[:, :2])


def test_load_data_one_hot_inputs_match_the_symbols():
    data = load_data(SMALL)
    x, y = data["test"]
    assert x.shape == (8, 16, 11) and x.dtype == np.float32
    assert y.shape == (8, 16)
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(np.argmax(x, axis=-1), data["test_symbols"])
    assert data["train"][0].shape[0] == 32 and data["validation"][0].shape[0] == 8


def test_seed_fixes_the_data_and_splits_differ():
    first, again, other = load_data(SMALL), load_data(SMALL), load_data({**SMALL, "seed": 1})
    np.testing.assert_array_equal(first["train"][1], again["train"][1])
    assert not np.array_equal(first["train"][1], other["train"][1])
    assert not np.array_equal(first["validation"][1], first["test"][1])
    # Growing one split leaves the others unchanged (one random stream per split).
    bigger = load_data({**SMALL, "num_train": 64})
    np.testing.assert_array_equal(bigger["test"][1], first["test"][1])


def test_recall_accuracy_counts_only_the_last_k_steps():
    _, targets = recall_sequences(20, num_digits=3, blank_separation=5, rng=np.random.default_rng(2))
    right_recall = np.eye(10)[targets]  # (20, T, 10): the true class everywhere
    # Wrong on every blank step, right on the recall steps: a perfect recall.
    wrong_blanks = right_recall.copy()
    wrong_blanks[:, :-3] = np.eye(10)[0]
    assert recall_accuracy(wrong_blanks, targets, 3) == 1.0
    # Right on every blank step, "blank" on the recall steps: none recalled.
    blanks_only = np.eye(10)[np.full_like(targets, BLANK)]
    assert recall_accuracy(blanks_only, targets, 3) == 0.0
    # One recall step wrong in every sequence: 2 of 3.
    one_wrong = right_recall.copy()
    one_wrong[:, -1] = np.eye(10)[(targets[:, -1] + 1) % 9]
    assert recall_accuracy(one_wrong, targets, 3) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "key, value",
    [("num_digits", 0), ("blank_separation", -1), ("num_train", 0), ("cell", "foo")],
)
def test_impossible_task_sizes_raise_config_error(key, value):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        check_rules({**SMALL, key: value}, CONFIG_RULES)


def test_a_split_too_big_to_generate_is_refused():
    check_config(SMALL)
    with pytest.raises(ConfigError, match=r"'num_train' takes at most 20,000 sequences of 1,000 steps"):
        check_config({**SMALL, "num_digits": 4, "blank_separation": 991, "num_train": 20_001})


@pytest.mark.parametrize("cell", ["basic_rnn", "keras_gru", "keras_simple_rnn"])
def test_match_params_sizes_the_cell_like_our_lstm(cell, caplog):
    from recipes.memory_task.model import build_model

    caplog.set_level("INFO", logger="recipes.memory_task")
    reference = build_model({**SMALL, "cell": "lstm"}).count_params()
    matched = build_model({**SMALL, "cell": cell, "match_params": True})
    # Within 1% of the LSTM's count, and build_model logs both counts.
    assert abs(matched.count_params() - reference) <= 0.01 * reference
    assert f"{reference:,}" in caplog.text
    unmatched = build_model({**SMALL, "cell": cell, "match_params": False})
    assert unmatched.get_layer("memory_rnn").cell.units == SMALL["units"]
