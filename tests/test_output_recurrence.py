"""output_recurrence: the counter data, per-step (parallel) training model, free running, and the bound."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.common.teacher_forcing import shift_right
from recipes.output_recurrence import data, demo
from recipes.output_recurrence.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config


def small_config(**changes):
    return {**DEFAULT_CONFIG, "units": 8, "sequence_length": 12, "num_train": 64, "num_validation": 16, "num_test": 32, **changes}


def test_counter_matches_a_step_by_step_count():
    ticks, counter, outputs = data.counter_sequences(50, 30, 4, 2, 0.5, np.random.default_rng(0))
    for row in range(50):
        count = 0
        for t in range(30):
            count = (count + ticks[row, t]) % 4
            assert counter[row, t] == count
            assert outputs[row, t] == count // 2


def test_teacher_forced_input_is_the_true_previous_output():
    config = small_config(output_levels=2)
    x, y = data.load_data(config)["train"]
    previous = x["previous_output"]
    assert previous.shape == (64, 12, 2)
    # Step 0 reads the level of the start count 0; step t reads the true level of step t - 1.
    np.testing.assert_array_equal(previous[:, 0], np.tile([1.0, 0.0], (64, 1)))
    np.testing.assert_array_equal(np.argmax(previous[:, 1:], axis=-1), y[:, :-1])


def test_hidden_recurrence_reads_no_outputs():
    x, _ = data.load_data(small_config(model="hidden_recurrence"))["train"]
    assert set(x) == {"ticks"}
    model = build_model(small_config(model="hidden_recurrence"))
    assert any(isinstance(layer, keras.layers.RNN) for layer in model.layers)


def test_levels_must_divide_the_modulus():
    with pytest.raises(ConfigError, match="'output_levels' takes a divisor of counter_modulus=4, got 3. Use e.g. --set output_levels=4."):
        check_config(small_config(output_levels=3))
    with pytest.raises(ConfigError, match=r"'tick_probability' takes a number in \(0, 1\), got 1"):
        check_rules(small_config(tick_probability=1.0), CONFIG_RULES)


def test_training_model_is_per_step_so_time_steps_decouple():
    keras.utils.set_random_seed(0)
    model = build_model(small_config(output_levels=2))
    assert not any(isinstance(layer, keras.layers.RNN) for layer in model.layers)
    x, _ = data.load_data(small_config(output_levels=2))["test"]
    x = {key: value[:4] for key, value in x.items()}
    before = model.predict_on_batch(x)
    # Change every input except step 5: the output at step 5 must not move.
    changed = {key: value.copy() for key, value in x.items()}
    changed["ticks"][:, np.arange(12) != 5] = 1.0 - changed["ticks"][:, np.arange(12) != 5]
    changed["previous_output"][:, np.arange(12) != 5] = changed["previous_output"][:, np.arange(12) != 5, ::-1]
    after = model.predict_on_batch(changed)
    np.testing.assert_allclose(after[:, 5], before[:, 5], rtol=1e-6)
    assert not np.allclose(after[:, 4], before[:, 4])


def test_free_running_feeds_back_its_own_choices():
    keras.utils.set_random_seed(1)
    config = small_config(output_levels=4)
    model = build_model(config)
    x, _ = data.load_data(config)["test"]
    chosen, probabilities = demo.run_free(model, x["ticks"], 4)
    # Fed its own choices as "previous output" in one teacher-forced pass, the model must
    # reproduce exactly the distributions and choices of the free-running loop.
    replay = {"ticks": x["ticks"], "previous_output": shift_right(np.eye(4, dtype=np.float32)[chosen], np.eye(4)[0])}
    replayed = model.predict_on_batch(replay)
    np.testing.assert_allclose(replayed, probabilities, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.argmax(replayed, axis=-1), chosen)


def test_bound_is_one_when_the_output_shows_the_count_and_three_quarters_when_it_hides_a_bit():
    rng = np.random.default_rng(0)
    ticks, _, outputs = data.counter_sequences(2000, 40, 4, 4, 0.5, rng)
    assert demo.teacher_forced_bound(ticks, outputs) == 1.0
    ticks, _, outputs = data.counter_sequences(2000, 40, 4, 2, 0.5, rng)
    assert demo.teacher_forced_bound(ticks, outputs) == pytest.approx(0.75, abs=0.015)
