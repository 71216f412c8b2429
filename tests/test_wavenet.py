"""wavenet: μ-law against the closed-form bound, the receptive field measured, causality,
the window targets, fast generation against the full model, config errors."""

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.wavenet import data, demo
from recipes.wavenet.model import CONFIG_RULES, DEFAULT_CONFIG, build_model, check_config, dilations, receptive_field


def small_config(**changes):
    """A tiny architecture (3 + 3 layers, 16 channels) that builds and runs in a second."""
    return {
        **DEFAULT_CONFIG,
        "num_stacks": 2,
        "layers_per_stack": 3,
        "residual_channels": 8,
        "skip_channels": 8,
        "quantization_channels": 16,
        **changes,
    }


@pytest.mark.parametrize("channels", [16, 64, 256])
def test_mu_law_round_trip_within_half_a_step(channels):
    """decode(encode(x)) is within half a quantization step of x, measured in the companded domain."""
    mu = channels - 1
    x = np.concatenate([np.linspace(-1, 1, 20001), np.random.default_rng(0).uniform(-1, 1, 5000), [0.0, 1e-6, -1e-6]])
    codes = data.mu_law_encode(x, channels)
    assert codes.dtype == np.int32 and codes.min() == 0 and codes.max() == mu
    assert np.all(np.diff(data.mu_law_encode(np.linspace(-1, 1, 20001), channels)) >= 0)  # monotonic
    decoded = data.mu_law_decode(codes, channels).astype(np.float64)
    # Reference companding, written out independently: F(x) = sign(x) ln(1 + mu|x|) / ln(1 + mu).
    F = lambda v: np.sign(v) * np.log(1 + mu * np.abs(v)) / np.log(1 + mu)  # noqa: E731
    assert np.all(np.abs(F(decoded) - F(x)) <= 1 / mu + 1e-6)  # half of the 2/mu step
    # In the sample domain the error bound grows with |x|: |dx/dF| = ln(1+mu)(1+mu)^|F| / mu.
    bound = (1 / mu) * np.log1p(mu) * (1 + mu) ** (np.abs(F(x)) + 1 / mu) / mu
    assert np.all(np.abs(decoded - x) <= bound + 1e-6)
    if channels == 256:
        assert np.abs(decoded - x).max() < 0.022 and np.abs(decoded - x)[np.abs(x) < 0.001].max() < 1e-4


def test_mu_law_codes_of_silence_and_extremes():
    assert data.mu_law_encode(np.array([-1.0, 0.0, 1.0, 2.0]), 256).tolist() == [0, 128, 255, 255]
    np.testing.assert_allclose(data.mu_law_decode(np.array([0, 255]), 256), [-1.0, 1.0], atol=1e-6)


def test_receptive_field_formula():
    assert dilations(small_config()) == [1, 2, 4, 1, 2, 4]
    assert receptive_field(small_config()) == 16  # (2 - 1) * (1 + 14) + 1
    assert receptive_field(DEFAULT_CONFIG) == 256
    assert receptive_field(small_config(kernel_size=3)) == 31


@pytest.mark.parametrize("kernel_size", [2, 3])
def test_receptive_field_and_causality_measured(kernel_size):
    """Perturbing input i changes output j exactly when j <= i <= j + rf - 1 (output j is position j + rf - 1)."""
    config = small_config(kernel_size=kernel_size)
    field = receptive_field(config)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    length = 2 * field + 5
    base = np.random.default_rng(1).integers(0, 16, size=(1, length)).astype("int32")
    # One perturbed copy per input position, all in one batch: (length + 1, length).
    batch = np.repeat(base, length + 1, axis=0)
    batch[np.arange(1, length + 1), np.arange(length)] = (base[0] + 7) % 16
    i, j = np.meshgrid(np.arange(length), np.arange(length - field + 1), indexing="ij")
    expected = (i >= j) & (i <= j + field - 1)  # (input i, output j)
    # The summed skips before the ReLUs (which can hide a small change): exactly the window.
    skips = keras.Model(model.input, model.get_layer("full_receptive_field").output).predict_on_batch(batch)
    np.testing.assert_array_equal(np.abs(skips[1:] - skips[:1]).max(axis=-1) > 1e-7, expected)
    # The logits: causal, and nothing outside the window ever matters.
    logits = model.predict_on_batch(batch)  # (length + 1, length - field + 1, 16)
    changed = np.abs(logits[1:] - logits[:1]).max(axis=-1) > 1e-7
    assert not np.any(changed & ~expected)
    assert changed[expected].mean() > 0.9


def test_windows_targets_are_the_next_samples(tmp_path, monkeypatch):
    codes = [np.arange(100, dtype=np.int32), np.arange(1000, 1060, dtype=np.int32)]
    waves = [np.ones(100, np.float32), np.ones(60, np.float32)]
    windows, owners = data.cut_windows(codes, waves, 41, 3, np.random.default_rng(0))
    assert windows.shape == (6, 41) and owners.tolist() == [0, 0, 0, 1, 1, 1]
    assert np.all(np.diff(windows, axis=1) == 1)  # contiguous pieces of the utterance
    field = 16
    x, y = windows[:, :-1], windows[:, field:]
    # Output j sees x[j : j + field] and must predict the sample right after it.
    assert x.shape == (6, 40) and y.shape == (6, 40 - field + 1)
    np.testing.assert_array_equal(y, x[:, field - 1 :] + 1)


def test_speech_span_skips_leading_silence():
    wave = np.concatenate([np.zeros(50), 0.5 * np.ones(30), np.zeros(20)]).astype(np.float32)
    assert data.speech_span(wave) == (50, 80)


def test_fast_generation_matches_the_full_model():
    """The queue-based step path gives the full model's logits; sampling is seeded and in range."""
    config = small_config()
    field = receptive_field(config)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    codes = np.random.default_rng(2).integers(0, 16, size=(2, 40)).astype("int32")
    full = model.predict_on_batch(codes)  # (2, 40 - rf + 1, 16): output j predicts code j + rf
    generator = demo.Generator(model, config)
    stepped = generator.step_logits(codes)  # (2, 40, 16): output t predicts code t + 1
    np.testing.assert_allclose(stepped[:, field - 1 :], full, rtol=1e-4, atol=1e-4)
    first = generator.sample(codes[:, :field], 50, temperature=1.0, seed=3)
    again = generator.sample(codes[:, :field], 50, temperature=1.0, seed=3)
    assert first.shape == (2, 50) and first.min() >= 0 and first.max() < 16
    np.testing.assert_array_equal(first, again)
    # Temperature 0 (greedy) and a near-zero one pick the argmax of the full model on the primed window.
    for temperature in (0.0, 1e-4):
        greedy = generator.sample(codes[:, :field], 1, temperature=temperature, seed=0)
        np.testing.assert_array_equal(greedy[:, 0], full[:, 0].argmax(-1))


def test_baselines():
    """Unigram log-probabilities normalise; "repeat the previous sample" peaks at the previous code."""
    unigram = demo.unigram_log_probabilities(np.array([[1, 1, 2]]), 4)
    np.testing.assert_allclose(np.exp(unigram).sum(), 1.0)
    assert unigram.argmax() == 1
    x = np.array([[0, 5, 6, 7]]), np.array([[7, 8]])
    repeat = demo.previous_sample_log_probabilities(np.array([[3, 9]]), x[0], x[1], 3, 12)
    np.testing.assert_allclose(np.exp(repeat).sum(-1), 1.0, rtol=1e-6)
    assert repeat.argmax(-1).tolist() == [[3, 9]]


@pytest.mark.parametrize(
    "changes, key",
    [({"kernel_size": 1}, "kernel_size"), ({"residual_channels": 0}, "residual_channels"), ({"quantization_channels": 1}, "quantization_channels")],
)
def test_config_errors_name_the_key(changes, key):
    with pytest.raises(ConfigError, match=f"Config key '{key}' takes an integer from "):
        check_rules(small_config(**changes), CONFIG_RULES)


def test_data_config_error():
    check_config(small_config())
    with pytest.raises(ConfigError, match="'min_digits' takes a value at most max_digits=2, got 3"):
        check_config(small_config(min_digits=3, max_digits=2))
    with pytest.raises(ConfigError, match="'layers_per_stack' takes at most 13 for 3 stacks of kernel 2"):
        check_config(small_config(num_stacks=3, layers_per_stack=14, kernel_size=2))
    with pytest.raises(ConfigError, match="'windows_per_utterance' takes at most 1 for 5,000 utterances and windows of 10,016 codes"):
        check_config(small_config(num_train=5_000, target_length=10_000, windows_per_utterance=1000))
    with pytest.raises(ConfigError, match="'num_train' takes at most 9,984 utterances with one of windows of 10,016 codes"):
        check_config(small_config(num_train=20_000, max_digits=1, target_length=10_000))


def test_dilation_figure(tmp_path):
    path = demo.plot_dilation_pattern(DEFAULT_CONFIG, tmp_path / "dilation.png")
    assert (tmp_path / "dilation.png").stat().st_size > 10_000 and path.endswith("dilation.png")
