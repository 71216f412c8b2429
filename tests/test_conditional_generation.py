"""conditional_generation and recipes/common/teacher_forcing.py: coding, sampling, free running."""

import keras
import numpy as np
import pytest

from recipes.common.teacher_forcing import choose, free_running, shift_right
from recipes.conditional_generation import data, demo
from recipes.conditional_generation.model import DEFAULT_CONFIG, build_model


def test_words_are_coded_with_classes_look_ahead_and_shifted_letters():
    classes, previous, targets = data.encode_words(["better", "hours"], 8)
    b, e, t, r = (ord(c) - ord("a") for c in "betr")
    np.testing.assert_array_equal(targets[0], [b, e, t, t, e, r, data.PAD_TARGET, data.PAD_TARGET])
    # 1 + 3 * class(letter) + class(next letter, 2 = end): b->e is c->v, e->t is v->c, r is c->end.
    np.testing.assert_array_equal(classes[0], [2, 4, 1, 2, 4, 3, 0, 0])
    np.testing.assert_array_equal(previous[0], [data.START, b + 2, e + 2, t + 2, t + 2, e + 2, 0, 0])
    assert previous[1, 5] == data.PAD and classes[1, 5] == data.PAD
    assert data.decode_letters(targets, [6, 5]) == ["better", "hours"]
    assert data.pattern("better") == "cvccvc"


def test_shift_right_puts_first_at_step_zero():
    np.testing.assert_array_equal(shift_right(np.array([[3, 4, 5]]), 9), [[9, 3, 4]])
    one_hot = np.eye(3)[[[2, 1]]]
    np.testing.assert_array_equal(shift_right(one_hot, np.eye(3)[0]), np.eye(3)[[[0, 2]]])


def test_choose_greedy_and_sampling_frequencies():
    probabilities = np.array([0.1, 0.0, 0.6, 0.3])
    assert choose(probabilities[None], 0.0)[0] == 2
    uniform = np.random.default_rng(0).random(40000)
    picks = choose(np.tile(probabilities, (40000, 1)), 1.0, uniform)
    frequencies = np.bincount(picks, minlength=4) / len(picks)
    np.testing.assert_allclose(frequencies, probabilities, atol=0.01)
    assert frequencies[1] == 0.0  # a zero-probability output is never sampled
    sharper = np.bincount(choose(np.tile(probabilities, (40000, 1)), 0.3, uniform), minlength=4) / 40000
    assert sharper[2] > 0.8
    with pytest.raises(ValueError, match="uniform"):
        choose(probabilities[None], 1.0)


def test_free_running_feeds_each_choice_back():
    # A step that puts all its mass on (previous + x_t) mod 5, and counts its calls in the state.
    def step(x_t, previous, calls):
        return np.eye(5)[(previous + x_t) % 5], calls + 1

    inputs = np.array([[1, 1, 2, 0], [0, 3, 3, 3]])
    outputs, probabilities = free_running(step, inputs, first_output=2, states=0, temperature=1.0, seed=0)
    np.testing.assert_array_equal(outputs, [[3, 4, 1, 1], [2, 0, 3, 1]])
    assert probabilities.shape == (2, 4, 5)


def small_model(feed):
    keras.utils.set_random_seed(0)
    return build_model({**DEFAULT_CONFIG, "feed_previous_output": feed, "units": 8})


def test_free_running_step_matches_the_teacher_forced_model():
    model = small_model(True)
    classes, _, _ = data.encode_words(["better", "hours", "strings"], 8)
    letters, probabilities = demo.generate(model, classes, True, temperature=1.0, seed=3)
    # Fed the letters it sampled as its previous letters, the training model must give the
    # distributions the step-by-step loop sampled from (same weights, same order of inputs).
    previous = np.where(classes > 0, shift_right(letters + data.LETTER_OFFSET, data.START), data.PAD)
    replayed = model.predict_on_batch({"letter_classes": classes, "previous_letters": previous})
    mask = classes > 0
    np.testing.assert_allclose(replayed[mask], probabilities[mask], rtol=1e-4, atol=1e-6)


def test_padding_is_left_out_of_the_loss():
    model = small_model(False)
    classes, _, targets = data.encode_words(["hours", "strings"], 8)
    probabilities = model.predict_on_batch({"letter_classes": classes})
    mask = classes > 0
    picked = np.take_along_axis(probabilities, np.maximum(targets, 0)[..., None], axis=-1)[..., 0]
    loss = model.evaluate({"letter_classes": classes}, targets, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(-np.log(picked[mask]).mean(), rel=1e-4)
    assert "previous_letters" not in model.input
    # Padding follows the word and the network is causal: what stands there changes nothing before it.
    scrambled = np.where(mask, classes, 5)
    np.testing.assert_allclose(model.predict_on_batch({"letter_classes": scrambled})[mask], probabilities[mask], rtol=1e-5)
