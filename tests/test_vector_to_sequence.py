"""vector_to_sequence: spelling and teacher-forcing alignment, the split and augmentation, masked
padding in the loss, causality of the decoder, and greedy decoding with the output fed back."""

import keras
import numpy as np
import pytest

from recipes.vector_to_sequence import data as D
from recipes.vector_to_sequence.demo import greedy_decode, spelling_metrics
from recipes.vector_to_sequence.model import DEFAULT_CONFIG, ContextAtEveryStep, build_model

SMALL = {**DEFAULT_CONFIG, "units": 8, "context_units": 8, "embedding_dim": 4, "num_augmented_copies": 1}


@pytest.mark.parametrize("digit", range(10))
def test_spelling_and_teacher_forcing_alignment(digit):
    decoder_input, target = D.spell(digit)
    name = D.DIGIT_NAMES[digit]
    assert decoder_input.shape == target.shape == (D.MAX_STEPS,)
    assert decoder_input[0] == D.START
    assert D.tokens_to_name(target) == name and D.tokens_to_name(decoder_input) == name
    assert target[len(name)] == D.END
    # The input at step t + 1 is the target of step t (teacher forcing), for every letter.
    np.testing.assert_array_equal(decoder_input[1 : len(name) + 1], target[: len(name)])
    # Padding sits at the same steps in both, so the input mask hides exactly the padded targets.
    np.testing.assert_array_equal(decoder_input == D.PAD, target == D.PAD)


def test_split_is_stratified_disjoint_and_only_train_is_augmented():
    data = D.load_data(SMALL)
    originals = data["num_train_originals"]
    x_train, _ = data["train"]
    assert len(x_train["image"]) == originals * (1 + SMALL["num_augmented_copies"])
    sizes = {name: len(data[name][1]) for name in ("train", "validation", "test")}
    assert originals + sizes["validation"] + sizes["test"] == 1797
    assert sizes["test"] == pytest.approx(0.2 * 1797, abs=10)
    assert np.all(np.bincount(data["test_digits"], minlength=10) >= 33)
    # No test image appears among the (unaugmented) training or validation images.
    seen = {row.tobytes() for row in np.concatenate([x_train["image"][:originals], data["validation"][0]["image"]])}
    duplicates = sum(row.tobytes() in seen for row in data["test"][0]["image"])
    assert duplicates <= 2  # load_digits holds one or two exact duplicate images
    np.testing.assert_array_equal(data["test_images"].reshape(-1, 64), data["test"][0]["image"])


def test_augmented_copies_are_one_pixel_shifts():
    rng = np.random.default_rng(0)
    images = rng.random((50, 8, 8)).astype(np.float32)
    augmented, source = D.augment(images, 2, 0.0, rng)
    np.testing.assert_array_equal(augmented[:50], images)
    for copy, original in zip(augmented[50:], images[source[50:]]):
        matches = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                shifted = np.zeros_like(original)
                shifted[max(0, dy) : 8 + min(0, dy), max(0, dx) : 8 + min(0, dx)] = original[
                    max(0, -dy) : 8 - max(0, dy), max(0, -dx) : 8 - max(0, dx)
                ]
                matches.append(np.array_equal(copy, shifted))
        assert sum(matches) == 1


@pytest.mark.parametrize("conditioning", ["initial_state", "every_step", "both"])
def test_padded_targets_carry_no_loss(conditioning):
    keras.utils.set_random_seed(0)
    model = build_model({**SMALL, "conditioning": conditioning, "cell": "lstm"})
    x, y = D.load_data(SMALL)["validation"]
    x = {k: v[:32] for k, v in x.items()}
    y = y[:32]
    assert np.any(y == D.PAD)
    scrambled = np.where(y == D.PAD, 5, y)  # any letter where the target is padding
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert model.evaluate(x, scrambled, verbose=0, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-6)
    # The loss is the mean cross-entropy over the real target steps only.
    p = model.predict_on_batch(x)
    cross_entropy = -np.log(np.take_along_axis(p, y[..., None], axis=-1)[..., 0])
    assert loss == pytest.approx(float(np.mean(cross_entropy[y != D.PAD])), rel=1e-4)


@pytest.mark.parametrize("conditioning", ["initial_state", "every_step"])
def test_decoder_is_causal_and_uses_the_image(conditioning):
    """The output at step t depends on letters up to t only (so greedy decoding may run the whole
    buffer), and on the image."""
    keras.utils.set_random_seed(0)
    model = build_model({**SMALL, "conditioning": conditioning})
    rng = np.random.default_rng(0)
    images = rng.random((4, 64)).astype(np.float32)
    letters = np.stack([D.spell(7)[0]] * 4)
    changed = letters.copy()
    changed[:, 3:] = [4, 5, 6]
    a = model.predict_on_batch({"image": images, "previous_letters": letters})
    b = model.predict_on_batch({"image": images, "previous_letters": changed})
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert np.max(np.abs(a[:, 3:] - b[:, 3:])) > 1e-6
    other = model.predict_on_batch({"image": images[::-1], "previous_letters": letters})
    assert np.max(np.abs(other - a)) > 1e-6  # other images, other outputs


class SpellingStub:
    """Stands in for a trained model: always predicts the next letter of `name` after the letters
    it is given, and records the buffers it was called with."""

    def __init__(self, name):
        self.decoder_input, self.target = D.spell(D.DIGIT_NAMES.index(name))
        self.buffers = []

    def predict_on_batch(self, inputs):
        buffer = inputs["previous_letters"].copy()
        self.buffers.append(buffer)
        probabilities = np.zeros((*buffer.shape, len(D.VOCABULARY)), dtype=np.float32)
        for row in range(len(buffer)):
            for step in range(D.MAX_STEPS):
                written = buffer[row, : step + 1]
                if np.array_equal(written, self.decoder_input[: step + 1]):
                    probabilities[row, step, self.target[step]] = 1.0
                else:
                    probabilities[row, step, D.LETTER_IDS["x"]] = 1.0  # wrong history -> junk
        return probabilities


def test_greedy_decoding_feeds_its_own_output_back():
    stub = SpellingStub("seven")
    generated = greedy_decode(stub, np.zeros((3, 64), dtype=np.float32))
    assert [D.tokens_to_name(g) for g in generated] == ["seven"] * 3
    np.testing.assert_array_equal(generated[0], D.spell(7)[1])
    # Step t saw <start> and the t letters written before it, then padding.
    for step, buffer in enumerate(stub.buffers):
        np.testing.assert_array_equal(buffer[0, : step + 1], D.spell(7)[0][: step + 1])
        assert np.all(buffer[0, step + 1 :] == D.PAD)
    assert len(stub.buffers) == len("seven") + 1  # stops once every sequence wrote <end>


def test_spelling_metrics():
    targets = np.stack([D.spell(1)[1], D.spell(7)[1]])  # one<end>, seven<end>
    generated = targets.copy()
    generated[1, 5] = D.LETTER_IDS["s"]  # "sevens": no <end> in place
    metrics = spelling_metrics(generated, targets)
    assert metrics["name_accuracy"] == 0.5
    assert metrics["character_accuracy"] == pytest.approx(9 / 10)


def test_context_at_every_step_keeps_the_sequence_mask():
    layer = ContextAtEveryStep()
    sequence = np.arange(8, dtype=np.float32).reshape(1, 4, 2)
    vector = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    out = keras.ops.convert_to_numpy(layer([sequence, vector]))
    assert out.shape == (1, 4, 5)
    np.testing.assert_allclose(out[0, :, :2], sequence[0])
    np.testing.assert_allclose(out[0, :, 2:], np.repeat(vector, 4, axis=0))
    # Keras' Concatenate would return "any" of the masks (all True); this keeps the letters' mask.
    mask = np.array([[True, True, False, False]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.compute_mask([sequence, vector], [mask, None])), mask)
