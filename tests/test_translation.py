"""translation: the rendered pairs, the held-out patterns, the translation-memory baseline, the scores and the decoders."""

import numpy as np
import pytest

from recipes.common.config import ConfigError
from recipes.translation.data import END, START, decode, encode, is_unseen, load_data, render
from recipes.translation.demo import attention_weights, scores, translate, translation_memory
from recipes.translation.model import DEFAULT_CONFIG, build_model, check_config, inference_models

SMALL = {
    **DEFAULT_CONFIG,
    "max_number": 199,
    "num_dates": 60,
    "num_validation": 20,
    "num_test": 30,
    "num_unseen": 50,
    "units": 8,
    "attention_units": 6,
    "embedding_dim": 4,
}


@pytest.fixture(scope="module")
def small_data():
    return load_data(SMALL)


def test_the_grammar_libraries_reorder():
    """The real rules the model has to learn: German and French numbers, German dates."""
    assert render(("number", 97), "en") == "ninety-seven"
    assert render(("number", 97), "de") == "siebenundneunzig"
    assert render(("number", 97), "fr") == "quatre-vingt-dix-sept"
    assert render(("date", 35767), "en") == "Friday, December 5, 1997"  # 1997-12-05 is day 35767 after 1900-01-01
    assert render(("date", 35767), "de") == "Freitag, 5. Dezember 1997"


def test_unseen_patterns_never_reach_training(small_data):
    train_sources = [s for s, _ in small_data["train_pairs"] + small_data["validation_pairs"] + small_data["test_pairs"]]
    assert not any("ninety-seven" in s for s in train_sources)
    assert not any("siebenundneunzig" in t for _, t in small_data["train_pairs"])
    unseen = small_data["unseen_values"]
    assert set(unseen) == {n for n in range(1, SMALL["max_number"] + 1) if is_unseen(n, SMALL)} == {97, 197}
    assert small_data["unseen_pairs"][1] == ("one hundred and ninety-seven", "einhundertsiebenundneunzig")


def test_splits_are_disjoint_deterministic_and_teacher_forced(small_data):
    sources = {split: {s for s, _ in small_data[f"{split}_pairs"]} for split in ("train", "validation", "test", "unseen")}
    assert not sources["train"] & (sources["validation"] | sources["test"] | sources["unseen"])
    assert not sources["test"] & sources["validation"]
    again = load_data(SMALL)
    np.testing.assert_array_equal(again["test"][0]["source"], small_data["test"][0]["source"])
    x, y = small_data["train"]
    assert np.all(x["decoder_input"][:, 0] == START)
    # decoder_input is the target shifted right by one step, <end> never fed.
    real = y[:, :-1] != END
    np.testing.assert_array_equal(np.where(real, x["decoder_input"][:, 1:], 0), np.where(real, y[:, :-1], 0))
    assert decode(y[0]) == small_data["train_pairs"][0][1]


def test_encode_refuses_a_character_outside_the_alphabet():
    with pytest.raises(ValueError, match="not in the translation alphabet"):
        encode("año")


def test_translation_memory_returns_the_nearest_stored_translation():
    memory = [("one hundred", "einhundert"), ("two", "zwei"), ("twenty", "zwanzig")]
    assert translation_memory(memory, ["one hundred and one", "twoo", "twenty-two"]) == ["einhundert", "zwei", "zwanzig"]


def test_scores_on_known_cases():
    perfect = scores(["Freitag, 5. Dezember 1997", "eins"], ["Freitag, 5. Dezember 1997", "eins"])
    assert perfect["exact_match"] == 1.0 and perfect["chrf"] == pytest.approx(100.0) and perfect["bleu"] == pytest.approx(100.0)
    half = scores(["eins", "drei"], ["eins", "zwei"])
    assert half["exact_match"] == 0.5 and 0.0 < half["chrf"] < 100.0


def test_same_languages_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="target_language") as error:
        check_config({**DEFAULT_CONFIG, "target_language": "en"})
    assert "\n" not in str(error.value)


def test_greedy_beam_and_attention_of_an_untrained_model(small_data):
    model = build_model(SMALL)
    models = inference_models(model)
    source = small_data["test"][0]["source"][:4]
    max_steps = small_data["test"][1].shape[1]
    greedy = translate(models, source, max_steps)
    beam = translate(models, source, max_steps, beam_width=3)
    assert len(greedy) == len(beam) == 4 and all(len(text) <= max_steps for text in greedy + beam)
    length = int(np.count_nonzero(source[0]))
    weights = attention_weights(models, source[0, :length], np.array([encode("eins")[0], END], dtype=np.int32))
    assert weights.shape == (2, length)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
