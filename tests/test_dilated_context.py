"""dilated_context: identity initialisation, receptive fields, frame labels and the frame metrics."""

import keras
import numpy as np
import pytest

from recipes.common import speech
from recipes.common.config import ConfigError, check_rules
from recipes.dilated_context import data, demo, model

CONFIG = dict(model.DEFAULT_CONFIG)


def small_config(**changes):
    return {**CONFIG, "channels": 8, **changes}


def test_identity_initialised_module_passes_the_front_end_through():
    config = small_config()
    keras.utils.set_random_seed(0)
    net = model.build_model(config)
    front = keras.Model(net.input, net.get_layer(f"front_conv_{config['front_layers']}").output)
    module_end = keras.Model(net.input, net.get_layer("context_7_dilation_1").output)
    x = np.random.default_rng(0).standard_normal((2, 50, config["num_mels"])).astype("float32")
    np.testing.assert_allclose(module_end.predict_on_batch(x), front.predict_on_batch(x), atol=1e-6)


def test_conv_identity_kernel():
    kernel = keras.ops.convert_to_numpy(model.ConvIdentity()((3, 4, 4)))
    assert kernel.shape == (3, 4, 4)
    np.testing.assert_array_equal(kernel[1], np.eye(4))
    assert not kernel[0].any() and not kernel[2].any()
    with pytest.raises(ValueError, match="square"):
        model.ConvIdentity()((3, 4, 5))


@pytest.mark.parametrize("context_module, expected", [(True, 73), (False, 21)])
def test_receptive_field_matches_a_perturbation(context_module, expected):
    """Changing one input frame changes exactly the outputs within the receptive field."""
    config = small_config(context_module=context_module, identity_init=False, channels=16)
    assert model.receptive_field(config) == expected
    keras.utils.set_random_seed(1)
    net = model.build_model(config)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 200, config["num_mels"])).astype("float32")
    nudged = x.copy()
    nudged[0, 100] += 3.0 * rng.standard_normal(config["num_mels"])
    changed = np.abs(net.predict_on_batch(nudged) - net.predict_on_batch(x)).max(axis=-1)[0] > 1e-7
    half = (expected - 1) // 2
    assert not changed[: 100 - half].any() and not changed[100 + half + 1 :].any()
    assert changed[100 - half] and changed[100 + half]


def test_both_variants_have_the_same_parameters():
    with_module = model.build_model(small_config(context_module=True))
    without = model.build_model(small_config(context_module=False))
    assert with_module.count_params() == without.count_params()


def test_config_errors():
    with pytest.raises(ConfigError, match="'min_digits' takes a value at most max_digits=3, got 4"):
        model.check_config(small_config(min_digits=4, max_digits=3))
    with pytest.raises(ConfigError, match=r"'silence_db' takes a number in \[-200, 0\), got 5"):
        check_rules(small_config(silence_db=5.0), model.CONFIG_RULES)
    with pytest.raises(ConfigError, match="'channels' takes an integer from 1 to 1,024, got 0"):
        check_rules(small_config(channels=0), model.CONFIG_RULES)


def test_frame_energy_is_centred_on_the_frame():
    hop = speech.hop_length(CONFIG)
    clean = np.zeros(40 * hop, np.float32)
    clean[17 * hop] = 1.0  # a click at the centre of frame 17
    db = data.frame_energy_db(clean, 40, CONFIG)
    # A 25 ms window centred on each frame spans 200 samples either side of its centre: it
    # sees the click from frames 16, 17 and 18 (centres 160 samples apart), not from 15 or 19.
    np.testing.assert_array_equal(db[16:19], 0.0)
    assert db[15] <= -150 and db[19] <= -150


def test_frame_labels_from_word_starts_and_clean_energy():
    hop = speech.hop_length(CONFIG)
    num_frames = 100
    clean = np.zeros(num_frames * hop, np.float32)
    tone = lambda a, b: np.sin(np.arange((b - a) * hop) * 0.3).astype(np.float32)
    clean[10 * hop : 30 * hop] = tone(10, 30)  # "seven", with a quiet gap at frames 20..24
    clean[20 * hop : 25 * hop] = 0
    clean[40 * hop : 60 * hop] = tone(40, 60)  # "two"
    labels = data.frame_labels(clean, [5 * hop, 35 * hop], "seven two", num_frames, CONFIG)
    seven, two = 1 + speech.DIGIT_WORDS.index("seven"), 1 + speech.DIGIT_WORDS.index("two")
    # The 25 ms window (200 samples either side of the centre) makes a frame loud one frame
    # before a sound starts and up to its first frame after the sound's last sample.
    assert set(labels[:9]) == {data.SILENCE}
    assert set(labels[9:32]) == {seven}  # the quiet gap inside the word keeps its digit
    assert set(labels[32:39]) == {data.SILENCE}
    assert set(labels[39:62]) == {two}
    assert set(labels[62:]) == {data.SILENCE}
    with pytest.raises(ValueError, match="word start"):
        data.frame_labels(clean, [0], "seven two", num_frames, CONFIG)


def test_frame_metrics():
    true = np.array([[0, 0, 3, 3, 3, 3, 5, 5, 5, 0, 0, 0]])
    perfect = demo.frame_metrics(true, true, tolerance=0)
    assert perfect == {"speech_frame_accuracy": 1.0, "silence_frame_accuracy": 1.0, "word_accuracy": 1.0, "boundary_f1": 1.0}
    late = np.array([[0, 0, 0, 3, 3, 3, 3, 5, 5, 5, 0, 0]])  # every boundary one frame late
    assert demo.frame_metrics(late, true, tolerance=1)["boundary_f1"] == 1.0
    assert demo.frame_metrics(late, true, tolerance=0)["boundary_f1"] == 0.0
    metrics = demo.frame_metrics(late, true, tolerance=0)
    assert metrics["word_accuracy"] == 1.0  # majorities are still right
    assert metrics["speech_frame_accuracy"] == pytest.approx(5 / 7)
    assert demo.segments([1, 1, 0, 2]) == [(0, 2, 1), (2, 3, 0), (3, 4, 2)]
    assert demo.match_count([3, 4], [4], tolerance=1) == 1  # one to one


def test_load_data_labels_follow_the_transcripts():
    config = dict(CONFIG, num_train=12, num_validation=4, num_test=8, seed=5)
    loaded = data.load_data(config)
    frames = {split: loaded[split][0].shape[1] for split in ("train", "validation", "test")}
    assert len(set(frames.values())) == 1  # one clip length for every split
    for split in ("train", "test"):
        features, labels = loaded[split]
        assert features.shape == (config[f"num_{split}"], frames["train"], config["num_mels"])
        assert labels.dtype == np.int32 and labels.min() >= 0 and labels.max() < len(data.CLASSES)
        for row, text in zip(labels, loaded["texts"][split]):
            # The digit segments, in order, spell the transcript (repeated digits said without a
            # pause merge into one segment, in the labels and in this comparison).
            spoken = [label for _, _, label in demo.segments(row) if label != data.SILENCE]
            said = [1 + speech.DIGIT_WORDS.index(w) for w in text.split()]
            collapse = lambda seq: [v for i, v in enumerate(seq) if i == 0 or v != seq[i - 1]]
            assert collapse(spoken) == collapse(said), text
    test_variants = {voice.split("+")[1] for voice in loaded["voices"]["test"]}
    assert test_variants <= set(speech.TEST_VARIANTS)
