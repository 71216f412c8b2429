"""deepspeech2_ctc: config, shapes and time reduction, data splits, demo files (CTC itself: test_ctc.py)."""

from pathlib import Path

import keras
import numpy as np
import pytest

from recipes.common import ctc, speech
from recipes.common.config import ConfigError, check_rules
from recipes.deepspeech2_ctc import demo as ds2_demo
from recipes.deepspeech2_ctc.data import load_data
from recipes.deepspeech2_ctc.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config, conv_output_mels

SMALL = {**DEFAULT_CONFIG, "conv_channels": 4, "rnn_layers": 2, "rnn_units": 8, "beam_width": 4}


@pytest.mark.parametrize("conv_layers", [1, 2])
def test_output_frames_and_classes_for_any_length(conv_layers):
    model = build_model({**SMALL, "conv_layers": conv_layers})
    for frames in (37, 64):
        logits = model.predict_on_batch(np.random.default_rng(0).normal(size=(2, frames, 40)).astype("float32"))
        assert logits.shape == (2, -(-frames // 2), ctc.NUM_CLASSES)  # stride 2 in time, 'same' padding
    # The reshape to frames uses the mel bands the convolutions leave.
    assert model.get_layer("frames").output.shape[-1] == conv_output_mels(40, conv_layers) * SMALL["conv_channels"]
    assert conv_output_mels(40, 1) == 20 and conv_output_mels(40, 2) == 10


def test_bad_config_raises_config_error():
    with pytest.raises(ConfigError, match="'conv_layers' takes an integer from 1 to 2, got 3"):
        check_rules({**SMALL, "conv_layers": 3}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'rnn_units' takes an integer from 1 to 4,096, got 0"):
        check_rules({**SMALL, "rnn_units": 0}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'min_digits' takes a value at most max_digits=5, got 6"):
        check_config({**SMALL, "min_digits": 6})
    with pytest.raises(ConfigError, match="'pitch_min' takes a value at most pitch_max=75, got 80"):
        check_config({**SMALL, "pitch_min": 80})
    with pytest.raises(ConfigError, match="'num_train' takes at most 11,100 utterances of up to 5 words"):
        check_config({**SMALL, "num_train": 20_000, "num_validation": 300, "num_test": 600})


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    import os

    old = os.environ.get("RNN_RECIPES_CACHE")
    os.environ["RNN_RECIPES_CACHE"] = str(tmp_path_factory.mktemp("speech_cache"))
    try:
        config = {**SMALL, "num_train": 12, "num_validation": 4, "num_test": 6}
        yield config, load_data(config)
    finally:
        if old is None:
            os.environ.pop("RNN_RECIPES_CACHE")
        else:
            os.environ["RNN_RECIPES_CACHE"] = old


def test_data_targets_spell_the_texts_and_test_voices_are_unseen(tiny_data):
    config, data = tiny_data
    seen = {v.split("+")[1] for v in data["voices"]["train"] + data["voices"]["validation"]}
    unseen = {v.split("+")[1] for v in data["voices"]["test"]}
    other = {v.split("+")[1] for v in data["voices"]["out_of_family"]}
    assert unseen <= set(speech.IN_FAMILY_TEST_VARIANTS) and not seen & unseen
    assert other <= set(speech.KLATT_VARIANTS) and not seen & other
    assert seen <= set(speech.RECOGNIZER_TRAIN_VARIANTS[config["voices"]])
    lengths = {data[split][0].shape[1] for split in ("train", "validation", "test", "out_of_family")}
    assert len(lengths) == 1  # one padded length for every split
    for split in ("train", "validation", "test", "out_of_family"):
        features, ids = data[split]
        assert features.shape[2] == config["num_mels"]
        assert [ctc.ids_to_text(row) for row in ids] == data["texts"][split]
        for text in data["texts"][split]:
            assert set(text.split()) <= set(speech.DIGIT_WORDS)


def test_demo_writes_its_files(tiny_data, tmp_path):
    config, data = tiny_data
    keras.utils.set_random_seed(0)
    model = build_model(config)
    metrics = ds2_demo.evaluate(model, data, config)
    assert (
        set(metrics)
        == set(ds2_demo.METRICS)
        == {"cer", "wer", "cer_greedy", "wer_greedy", "cer_beam", "wer_beam", "cer_out_of_family", "wer_out_of_family"}
    )
    paths = ds2_demo.demo(model, data, config, tmp_path)
    assert [Path(p).name for p in paths] == ["posteriorgram.png", "transcripts.txt", "test_utterance.wav", "conv_filters.png"]
    for path in paths:
        assert Path(path).stat().st_size > 0
    text = Path(paths[1]).read_text(encoding="utf-8")
    assert data["texts"]["test"][0] in text and data["voices"]["test"][0] in text
    waveform, rate = speech.read_wav(paths[2])
    assert rate == config["sample_rate"] and len(waveform) > rate // 2
