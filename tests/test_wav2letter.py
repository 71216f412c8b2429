"""wav2letter: the receptive field formula matches the built network, output frame counts, the
activations (GLU included), config errors, and the demo's helpers."""

from pathlib import Path

import numpy as np
import pytest

from recipes.common import ctc
from recipes.common.config import ConfigError, check_rules
from recipes.wav2letter import demo
from recipes.wav2letter.model import CONFIG_RULES, DEFAULT_CONFIG, LARGER_CONFIG, build_model, receptive_field

SMALL = {
    **DEFAULT_CONFIG,
    "channels": 8,
    "first_kernel": 5,
    "first_stride": 2,
    "num_middle_layers": 2,
    "middle_kernel": 3,
    "wide_kernel": 5,
    "wide_channels": 8,
    "dropout": 0.0,
    "num_mels": 6,
}


def test_receptive_field_formula():
    # The paper's sizes: 48 + 2 * (7 * 6 + 31) = 194 frames.
    paper = {"first_kernel": 48, "first_stride": 2, "num_middle_layers": 7, "middle_kernel": 7, "wide_kernel": 32}
    assert receptive_field(paper) == 194
    assert receptive_field(DEFAULT_CONFIG) == 72
    assert receptive_field({**DEFAULT_CONFIG, **LARGER_CONFIG}) == 124
    assert receptive_field(SMALL) == 5 + 2 * (2 * 2 + 4)


@pytest.mark.parametrize("activation", ["hard_tanh", "glu"])
def test_receptive_field_of_the_built_network(activation):
    """Perturbing one input frame at a time: exactly receptive_field() input frames reach a middle output frame."""
    config = {**SMALL, "activation": activation}
    model = build_model(config)
    frames = 80
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, frames, config["num_mels"])).astype("float32") * 0.3
    perturbed = np.repeat(base, frames, axis=0)
    perturbed[np.arange(frames), np.arange(frames)] += 0.5
    out_base = model.predict_on_batch(base)[0]
    out = model.predict_on_batch(perturbed)  # (frames, T_out, classes)
    middle = out.shape[1] // 2
    changed = np.abs(out[:, middle] - out_base[middle]).max(-1) > 1e-6
    assert changed.sum() == receptive_field(config)
    # ... and they are contiguous.
    hits = np.flatnonzero(changed)
    assert hits[-1] - hits[0] + 1 == receptive_field(config)


@pytest.mark.parametrize("frames", [37, 80])
def test_output_frames_and_lengths(frames):
    model = build_model(SMALL)
    logits = model.predict_on_batch(np.zeros((2, frames, SMALL["num_mels"]), "float32"))
    assert logits.shape == (2, -(-frames // 2), ctc.NUM_CLASSES)
    lengths = ctc.output_lengths([frames, frames // 2], frames, logits.shape[1])
    assert lengths[0] == logits.shape[1] and lengths[1] <= logits.shape[1]


def test_glu_doubles_channels_and_halves_them_back(tmp_path):
    import keras

    model = build_model({**SMALL, "activation": "glu"})
    x = np.random.default_rng(1).normal(size=(2, 30, 6)).astype("float32")
    model.save(tmp_path / "glu.keras")
    loaded = keras.saving.load_model(tmp_path / "glu.keras")
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
    assert model.get_layer("strided_conv").kernel.shape == (5, 6, 16)
    assert model.get_layer("conv_1").kernel.shape == (3, 8, 16)
    assert model.get_layer("char_logits").kernel.shape == (1, 8, ctc.NUM_CLASSES)
    assert demo.first_layer_filters(model, {**SMALL, "activation": "glu"}).shape == (8, 5, 6)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"activation": "tanh"}, "activation"),
        ({"channels": 0}, "channels"),
        ({"dropout": 1.0}, "dropout"),
        ({"num_middle_layers": -1}, "num_middle_layers"),
        ({"normalization": "layer"}, "normalization"),
    ],
)
def test_config_errors_name_the_key(change, key):
    with pytest.raises(ConfigError, match=f"Config key '{key}' takes "):
        check_rules({**SMALL, **change}, CONFIG_RULES)


def test_zero_middle_layers_and_batch_norm_build():
    model = build_model({**SMALL, "num_middle_layers": 0, "normalization": "batch"})
    assert model.predict_on_batch(np.zeros((1, 20, 6), "float32")).shape == (1, 10, ctc.NUM_CLASSES)
    assert receptive_field({**SMALL, "num_middle_layers": 0}) == 5 + 2 * 4


def test_filters_figure_and_transcripts(tmp_path):
    model = build_model(SMALL)
    filters = demo.first_layer_filters(model, SMALL)
    assert filters.shape == (8, 5, 6)
    path = ctc.filters_figure(filters, SMALL, tmp_path / "filters.png", "filters", count=6, columns=3)
    assert (tmp_path / "filters.png").stat().st_size > 1000 and path.endswith("filters.png")
    path = ctc.write_transcripts(["one two", "three"], ["one two", "tree"], ["one two", "three"], ["en+m7", "en+f4"], 8, tmp_path / "t.txt")
    lines = Path(path).read_text().splitlines()
    assert "[1] voice en+f4" in lines and "  * greedy:    tree   (CER 0.20)" in lines
    assert "    beam:      three   (CER 0.00)" in lines
