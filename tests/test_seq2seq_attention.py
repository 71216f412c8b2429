"""seq2seq_attention: the additive attention layer against NumPy, the reversal data, and the decoder's stepping."""

import keras
import numpy as np
import pytest

from recipes.common.attention import AdditiveAttention
from recipes.common.config import ConfigError
from recipes.seq2seq_attention.data import END, PAD, START, decode, load_data
from recipes.seq2seq_attention.demo import attention_weights, bucket_names, decode_outputs
from recipes.seq2seq_attention.model import DEFAULT_CONFIG, build_model, check_config, inference_models

SMALL = {
    **DEFAULT_CONFIG,
    "num_train": 64,
    "num_validation": 16,
    "num_test": 24,
    "units": 8,
    "attention_units": 6,
    "embedding_dim": 4,
    "min_length": 2,
    "max_length": 12,
    "epochs": 1,
}


def numpy_additive_attention(query, values, mask, w, u, v):
    """Bahdanau's alignment model, one query row at a time: e_j = v . tanh(W s + U h_j), a = softmax(e), c = a @ h."""
    contexts, weights = [], []
    for s, h, m in zip(query, values, mask):
        scores = np.array([v @ np.tanh(s @ w + h_j @ u) for h_j in h])
        scores = np.where(m, scores, -np.inf)
        a = np.exp(scores - scores.max())
        a /= a.sum()
        contexts.append(a @ h)
        weights.append(a)
    return np.array(contexts), np.array(weights)


@pytest.fixture(scope="module")
def attention_case():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(3, 5)).astype(np.float32)
    values = rng.normal(size=(3, 7, 4)).astype(np.float32)
    mask = np.ones((3, 7), dtype=bool)
    mask[1, 4:] = False  # the second example has 4 real positions, then padding
    layer = AdditiveAttention(6)
    layer(query, values, values_mask=mask)
    return layer, query, values, mask


def test_additive_attention_matches_numpy(attention_case):
    layer, query, values, mask = attention_case
    w, u, v = (x.numpy() for x in (layer.query_kernel, layer.value_kernel, layer.score_vector))
    context, weights = layer(query, values, values_mask=mask)
    expected_context, expected_weights = numpy_additive_attention(query, values, mask, w, u, v)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights), expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(context), expected_context, rtol=1e-5, atol=1e-6)
    assert np.all(keras.ops.convert_to_numpy(weights)[1, 4:] == 0.0)


def test_additive_attention_over_many_queries_and_with_precomputed_keys(attention_case):
    """A (batch, Tq, dim) query equals Tq single queries; passing project_values(values) as keys changes nothing."""
    layer, query, values, mask = attention_case
    queries = np.stack([query, -query], axis=1)  # (3, 2, 5)
    context, weights = layer(queries, values, values_mask=mask)
    assert tuple(context.shape) == (3, 2, 4) and tuple(weights.shape) == (3, 2, 7)
    for t, q in enumerate((query, -query)):
        single_context, single_weights = layer(q, values, values_mask=mask, keys=layer.project_values(values))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(weights[:, t]), keras.ops.convert_to_numpy(single_weights), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(context[:, t]), keras.ops.convert_to_numpy(single_context), rtol=1e-5, atol=1e-6)


def test_additive_attention_takes_the_mask_values_carry_and_serializes():
    tokens = keras.Input(shape=(None,), dtype="int32")
    query = keras.Input(shape=(5,))
    values = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)  # carries mask tokens != 0
    context, weights = AdditiveAttention(3, name="attend")(query, values)
    model = keras.Model([query, tokens], [context, weights])
    ids = np.array([[3, 4, 0, 0], [1, 2, 3, 5]], dtype=np.int32)
    q = np.random.default_rng(1).normal(size=(2, 5)).astype(np.float32)
    _, w = model.predict_on_batch([q, ids])
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[0, 2:] == 0.0) and np.all(w[1] > 0.0)
    clone = AdditiveAttention.from_config(model.get_layer("attend").get_config())
    assert clone.units == 3
    with pytest.raises(ValueError, match="units must be a positive int"):
        AdditiveAttention(0)


def test_reversal_data():
    data = load_data(SMALL)
    (x, y), lengths = data["train"], data["train_lengths"]
    assert lengths.min() >= SMALL["min_length"] and lengths.max() <= SMALL["max_length"]
    for n in range(len(y)):
        source = decode(x["source"][n])
        assert len(source) == lengths[n] and decode(y[n]) == source[::-1]
        assert y[n, lengths[n]] == END and np.all(y[n, lengths[n] + 1 :] == PAD)
        assert x["decoder_input"][n, 0] == START
        np.testing.assert_array_equal(x["decoder_input"][n, 1 : lengths[n] + 1], y[n, : lengths[n]])
    # Test lengths are spread evenly, so the length buckets are about equal in size.
    counts = np.bincount(data["test_lengths"])[SMALL["min_length"] :]
    assert counts.max() - counts.min() <= 1
    with pytest.raises(ConfigError, match="'min_length' takes a value at most max_length=12, got 20"):
        check_config({**SMALL, "min_length": 20})


def test_bucket_names():
    assert bucket_names(SMALL) == [(10, "exact_match_len_10"), (20, "exact_match_len_20")]
    assert [name for _, name in bucket_names({"min_length": 3, "max_length": 30})] == [
        "exact_match_len_10",
        "exact_match_len_20",
        "exact_match_len_30",
    ]


@pytest.mark.parametrize("attention", [True, False])
def test_one_step_decoding_reproduces_teacher_forcing(attention):
    """The decoder stepped one token at a time (as in free-running decoding) gives the full model's outputs."""
    config = {**SMALL, "attention": attention}
    data = load_data(config)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    x, _ = data["test"]
    source, decoder_input = x["source"][:4], x["decoder_input"][:4]
    expected = model.predict_on_batch({"source": source, "decoder_input": decoder_input})
    encoder, decoder_step, num_states = inference_models(model)
    annotations, summary, *states = encoder.predict_on_batch(source)
    for t in range(decoder_input.shape[1]):
        outputs = decoder_step.predict_on_batch([decoder_input[:, t : t + 1], *states, annotations, source != 0, summary])
        live = decoder_input[:, t] != PAD
        np.testing.assert_allclose(outputs[0][live, 0], expected[live, t], rtol=1e-4, atol=1e-6)
        states, weights = outputs[1 : 1 + num_states], outputs[-1][:, 0]
        if attention:
            np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
            assert np.all(weights[source == PAD] == 0.0)  # never looks at padding
        else:
            assert np.all(weights == 0.0)
    assert ("additive_attention" in [w.path.split("/")[-2] for w in model.weights]) == attention


def test_decoding_and_attention_figure_inputs():
    data = load_data(SMALL)
    keras.utils.set_random_seed(0)
    model = build_model(SMALL)
    source = data["test"][0]["source"][:3]
    models = inference_models(model)
    outputs = decode_outputs(models, source, SMALL)
    beams = decode_outputs(models, source, SMALL, beam_width=2)
    assert len(outputs) == len(beams) == 3 and all(len(o) <= SMALL["max_length"] + 1 for o in outputs)
    length = int((source[0] != 0).sum())
    weights = attention_weights(models, source[0, :length], np.array([3, 4, END], dtype=np.int32))
    assert weights.shape == (3, length)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
