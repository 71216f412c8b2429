"""handwriting_synthesis: the mixture density NLL, the soft window, the sampler, the baseline and the data."""

import math

import keras
import numpy as np
import pytest

from recipes.common.config import ConfigError, check_rules
from recipes.handwriting_synthesis import data, demo
from recipes.handwriting_synthesis.model import CONFIG_RULES, DEFAULT_CONFIG, MixtureDensityLoss, SoftWindowLSTM, build_model, point_nll


def small_config(**changes):
    return {
        **DEFAULT_CONFIG,
        "units": 8,
        "num_components": 3,
        "num_window_components": 2,
        "num_train": 12,
        "num_validation": 4,
        "num_test": 4,
        **changes,
    }


def numpy_nll(target, outputs, m):
    """-log of sum_j pi_j N((dx, dy) | mu_j, Sigma_j) * Bernoulli(e), from the covariance matrix itself."""
    e_hat, pi_hat, mu_x, mu_y, ls_x, ls_y, rho_hat = outputs[0], *np.split(outputs[1:], 6)
    pi = np.exp(pi_hat) / np.exp(pi_hat).sum()
    density = 0.0
    for j in range(m):
        sx, sy, r = math.exp(ls_x[j]), math.exp(ls_y[j]), math.tanh(rho_hat[j])
        cov = np.array([[sx * sx, r * sx * sy], [r * sx * sy, sy * sy]])
        d = target[:2] - [mu_x[j], mu_y[j]]
        density += pi[j] * math.exp(-0.5 * d @ np.linalg.inv(cov) @ d) / (2 * math.pi * math.sqrt(np.linalg.det(cov)))
    p_eos = 1 / (1 + math.exp(-e_hat))
    return -math.log(density) - math.log(p_eos if target[2] else 1 - p_eos)


def test_mixture_nll_equals_a_direct_bivariate_gaussian_computation():
    rng = np.random.default_rng(0)
    m = 3
    outputs = rng.normal(0, 0.7, size=(2, 5, 1 + 6 * m)).astype(np.float32)
    targets = np.concatenate([rng.normal(0, 1, size=(2, 5, 2)), rng.integers(0, 2, size=(2, 5, 1)), np.ones((2, 5, 1))], axis=-1).astype(np.float32)
    ours = np.asarray(point_nll(targets, outputs, m))
    expected = np.array([[numpy_nll(targets[b, t], outputs[b, t].astype(np.float64), m) for t in range(5)] for b in range(2)])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4)
    # The loss is the mean over real points only: padding (mask 0) changes nothing.
    targets[1, 3:, 3] = 0.0
    loss = float(MixtureDensityLoss(m)(targets, outputs))
    np.testing.assert_allclose(loss, expected[targets[..., 3] > 0].mean(), rtol=1e-4)


def test_nll_stays_finite_far_from_the_prediction():
    outputs = np.zeros((1, 1, 7), dtype=np.float32)
    outputs[..., 4:6] = -50.0  # log sigma far below its clip
    outputs[..., 6] = 30.0  # rho_hat: tanh rounds to 1 without the clip
    targets = np.array([[[1e3, -1e3, 1.0, 1.0]]], dtype=np.float32)
    assert np.isfinite(np.asarray(point_nll(targets, outputs, 1))).all()


def test_window_kappa_never_decreases_and_phi_ignores_padding():
    keras.utils.set_random_seed(0)
    layer = SoftWindowLSTM(8, 3)
    strokes = np.random.default_rng(0).normal(size=(2, 40, 3)).astype(np.float32)
    text = np.array([[3, 1, 20, 0, 0], [11, 9, 14, 7, 0]], dtype=np.int32)
    h, w, phi, kappa, *final = (np.asarray(value) for value in layer(strokes, text))
    assert h.shape == (2, 40, 8) and w.shape == (2, 40, 26) and phi.shape == (2, 40, 5) and kappa.shape == (2, 40, 3)
    assert np.all(np.diff(kappa, axis=1) > 0) and np.all(kappa[:, 0] > 0)
    assert np.all(phi[0, :, 3:] == 0) and np.all(phi[1, :, 4] == 0) and np.all(phi[:, :, :3] > 0)
    # w_t = sum_u phi(t, u) c_u: the weight of each letter lands on its one-hot column.
    np.testing.assert_allclose(w[0, :, 2] + w[0, :, 19], phi[0, :, 0] + phi[0, :, 2], rtol=1e-5)
    np.testing.assert_allclose(w[0, :, 0], phi[0, :, 1], rtol=1e-5)
    np.testing.assert_allclose(final[2], kappa[:, -1], rtol=1e-6)
    # Stepping from the final states continues the sequence exactly as one longer call would.
    more = np.random.default_rng(1).normal(size=(2, 5, 3)).astype(np.float32)
    joined = np.asarray(layer(np.concatenate([strokes, more], axis=1), text)[3])
    continued = np.asarray(layer(more, text, initial_state=final)[3])
    np.testing.assert_allclose(continued, joined[:, 40:], rtol=1e-5, atol=1e-6)


def test_data_styles_differ_by_seed_and_repeat_for_one_seed():
    config = small_config()
    first, again, other = data.load_data(config), data.load_data(config), data.load_data({**config, "seed": 1})
    (x, y), (x_again, _), (x_other, _) = first["train"], again["train"], other["train"]
    np.testing.assert_array_equal(x["strokes"], x_again["strokes"])
    # One word written twice in two styles (same seed stream, another draw) is not the same sample.
    a, b = data.write_word("the", np.random.default_rng(0), 2.5), data.write_word("the", np.random.default_rng(1), 2.5)
    assert a.shape != b.shape or not np.allclose(a, b)
    assert not np.array_equal(x["strokes"][:, :10], x_other["strokes"][:, :10])
    # Teacher forcing: the input at t is the target at t - 1; the pen starts lifted at the origin.
    np.testing.assert_array_equal(x["strokes"][:, 0], np.broadcast_to(data.START, (12, 3)))
    np.testing.assert_array_equal(x["strokes"][:, 1:], y[:, :-1, :3])
    # Every word ends with a pen lift on its last real point; padding is all zero.
    lengths = y[..., 3].sum(axis=1).astype(int)
    assert np.all(y[np.arange(12), lengths - 1, 2] == 1)
    assert all(np.all(y[row, length:] == 0) for row, length in enumerate(lengths))
    words = [data.decode_word(ids) for ids in x["text"]]
    assert all(word in first["words"] for word in words)


def test_pen_down_steps_have_about_unit_length_and_letters_join():
    sample = data.write_word("minimum", np.random.default_rng(3), 2.5)
    lifted_before = np.concatenate([[1.0], sample[:-1, 2]])
    down = np.linalg.norm(sample[lifted_before == 0, :2], axis=1)
    # Resampled every pen_step of arc length, then scaled by the style (0.8 to 1.2, aspect 0.9 to 1.1).
    assert 0.6 < np.median(down) < 1.4
    # m, i, n, u connect: the whole word is one pen-down stroke, then the two delayed dots of the i's.
    assert int(sample[:, 2].sum()) == 3


def test_single_gaussian_baseline_recovers_a_known_entropy():
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    offsets = rng.multivariate_normal([0.3, -0.2], cov, size=(400, 50))
    eos = (rng.random((400, 50)) < 0.1).astype(float)
    targets = np.concatenate([offsets, eos[..., None], np.ones((400, 50, 1))], axis=-1)
    fit = demo.single_gaussian(targets[:200])
    entropy = 1 + math.log(2 * math.pi) + 0.5 * math.log(np.linalg.det(cov)) - (0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert abs(demo.single_gaussian_nll(fit, targets[200:]) - entropy) < 0.02


def test_sampled_offsets_follow_the_component_covariance():
    # One component: mu = (1, -2), sigma = (e^0.5, e^-0.5), rho = tanh(0.8); bias 0.
    outputs = np.array([[-3.0, 0.0, 1.0, -2.0, 0.5, -0.5, 0.8]], dtype=np.float32).repeat(20000, axis=0)
    rng = np.random.default_rng(0)
    triples = np.asarray(
        demo.sample_triple(
            outputs, 1, np.zeros(20000, "float32"), rng.random((20000, 2), dtype="float32"), rng.standard_normal((20000, 2), dtype="float32")
        )
    )
    sx, sy, r = math.exp(0.5), math.exp(-0.5), math.tanh(0.8)
    np.testing.assert_allclose(triples[:, :2].mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(np.cov(triples[:, :2], rowvar=False), [[sx * sx, r * sx * sy], [r * sx * sy, sy * sy]], rtol=0.05, atol=0.02)
    assert abs(triples[:, 2].mean() - 1 / (1 + math.exp(3.0))) < 0.01


def test_generation_writes_finite_strokes_for_both_models():
    for conditional in (True, False):
        keras.utils.set_random_seed(0)
        config = small_config(conditional=conditional)
        samples = demo.generate(build_model(config), ["the", "king"], [0.0, 2.0], config)
        for sample in samples:
            assert len(sample["triples"]) > 0 and np.isfinite(sample["triples"]).all()
            assert set(np.unique(sample["triples"][:, 2])) <= {0.0, 1.0}
            if conditional:
                assert np.all(np.diff(sample["kappa"], axis=0) > 0)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="'pen_step' takes a number in"):
        check_rules({**DEFAULT_CONFIG, "pen_step": 0.1}, CONFIG_RULES)
    with pytest.raises(ConfigError, match="'conditional' takes one of true, false"):
        check_rules({**DEFAULT_CONFIG, "conditional": 1}, CONFIG_RULES)
