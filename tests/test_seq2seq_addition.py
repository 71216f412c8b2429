"""seq2seq_addition: the questions, the masking of padding, and the step models used for decoding."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError
from recipes.seq2seq_addition import data as addition_data
from recipes.seq2seq_addition.data import END, PAD, START, decode, load_data
from recipes.seq2seq_addition.demo import decode_answers, exact_match
from recipes.seq2seq_addition.model import DEFAULT_CONFIG, build_model, check_config, inference_models

SMALL = {**DEFAULT_CONFIG, "num_train": 300, "num_validation": 50, "num_test": 50, "units": 8, "embedding_dim": 4, "epochs": 1}


@pytest.fixture(scope="module")
def data():
    return load_data(SMALL)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_model(SMALL)


def test_questions_answers_and_teacher_forcing_agree(data):
    (x, y), text = data["train"], data["train_text"]
    for n in range(len(y)):
        a, b = map(int, text["question"][n].split("+"))
        assert text["answer"][n] == str(a + b)
        # The question is fed reversed (reverse_question is on by default).
        assert decode(x["question"][n]) == text["question"][n][::-1]
        assert decode(y[n]) == text["answer"][n]
        length = len(text["answer"][n])
        assert y[n, length] == END and np.all(y[n, length + 1 :] == PAD)
        # Teacher forcing: the decoder input is <start> then the target, shifted right by one.
        assert x["decoder_input"][n, 0] == START
        np.testing.assert_array_equal(x["decoder_input"][n, 1 : length + 1], y[n, :length])
        assert np.all(x["decoder_input"][n, length + 1 :] == PAD)


def test_every_test_question_is_fresh_and_the_data_is_seeded(data):
    def pairs(split):
        return {tuple(sorted(map(int, q.split("+")))) for q in data[f"{split}_text"]["question"]}

    train, validation, test = pairs("train"), pairs("validation"), pairs("test")
    assert len(train) == SMALL["num_train"] and len(test) == SMALL["num_test"]
    assert not (test & train) and not (test & validation) and not (train & validation)
    again = load_data(SMALL)
    np.testing.assert_array_equal(again["test"][1], data["test"][1])
    other = load_data({**SMALL, "seed": 1})
    assert other["test_text"]["question"] != data["test_text"]["question"]


def test_operands_follow_the_keras_io_distribution():
    """Each operand has 1..3 digits drawn uniformly (a leading 0 shortens it), as keras-io draws them."""
    pairs = addition_data.unique_operand_pairs(4000, 3, np.random.default_rng(0))
    assert pairs.min() >= 0 and pairs.max() <= 999
    # P(value < 10) = 1/3 (one digit) + 1/3 * 1/10 (two digits, first 0) + 1/3 * 1/100; dedup lowers it a little.
    assert 0.2 < np.mean(pairs < 10) < 0.37


def test_too_many_questions_for_the_operand_range_is_a_config_error():
    with pytest.raises(ConfigError, match=r"'num_digits' takes at least 2 digits for 400 unique questions \(operands below 10 make 55,"):
        check_config({**SMALL, "num_digits": 1})
    check_config(SMALL)


def test_encoder_state_ignores_padding(model, data):
    """Masking: padding the question further does not change the encoder's final state."""
    encoder, _, _ = inference_models(model)
    question = data["test"][0]["question"][:5]
    padded = np.concatenate([question, np.zeros((5, 6), dtype=np.int32)], axis=1)
    for a, b in zip(keras.tree.flatten(encoder.predict_on_batch(question)), keras.tree.flatten(encoder.predict_on_batch(padded))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_padded_target_steps_do_not_count_in_the_loss(model, data):
    x, y = data["test"]
    scrambled = np.where(y == PAD, np.random.default_rng(0).integers(1, 14, size=y.shape), y)
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert model.evaluate(x, scrambled, verbose=0, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-5)


def test_inference_models_reproduce_the_teacher_forced_model(model, data):
    """Running the one-step decoder along the true answer gives the full model's probabilities."""
    x, _ = data["test"]
    question, decoder_input = x["question"][:6], x["decoder_input"][:6]
    expected = model.predict_on_batch({"question": question, "decoder_input": decoder_input})
    encoder, decoder_step, _ = inference_models(model)
    states = keras.tree.flatten(encoder.predict_on_batch(question))
    for t in range(decoder_input.shape[1]):
        live = decoder_input[:, t] != PAD  # past the answer, the full model's outputs are masked anyway
        outputs = decoder_step.predict_on_batch([decoder_input[:, t : t + 1], *states])
        np.testing.assert_allclose(outputs[0][live, 0], expected[live, t], rtol=1e-4, atol=1e-6)
        states = outputs[1:]


def test_free_running_decoding_answers_every_question(model, data):
    questions = data["test"][0]["question"][:10]
    for beam_width in (1, 3):
        answers = decode_answers(inference_models(model), questions, SMALL, beam_width=beam_width)
        # Untrained, so any tokens; at most num_digits + 2 steps (the last would be <end>).
        assert len(answers) == 10 and all(len(a) <= 5 for a in answers)
    assert exact_match(["12", "7"], ["12", "8"]) == 0.5
