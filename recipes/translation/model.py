"""Character-level neural machine translation with Bahdanau attention: number words and dates, English to German.

Paper: "Neural Machine Translation by Jointly Learning to Align and Translate", Dzmitry
Bahdanau, Kyunghyun Cho and Yoshua Bengio, 2014, https://arxiv.org/abs/1409.0473. The
fixed-context variant (`--set attention=false`): "Learning Phrase Representations using
RNN Encoder-Decoder for Statistical Machine Translation", Kyunghyun Cho et al., 2014,
https://arxiv.org/abs/1406.1078. Metrics: BLEU (Papineni et al., 2002) and chrF (Popović,
2015), computed by sacrebleu.

What it shows: the encoder-decoder of seq2seq_attention (the same AttentionDecoder layer,
from recipes/common/attention.py) on a real language pair. A bidirectional GRU reads the English characters
and writes one annotation h_j per character; at every output character i the decoder
attends over them with the additive alignment model, e_ij = v . tanh(W s_{i-1} + U h_j),
and reads c_i = sum_j a_ij h_j. German writes ninety-seven as "siebenundneunzig" (seven-
and-ninety) and puts the day before the month, so the attention weights of a trained model
cross: the heatmap of demo.py shows the reordering. Generalisation is tested on numbers of
patterns training never shows (data.py).

Decoder step, with E y the embedded previous character (teacher forcing in training, the
decoder's own output when translating, greedily or by beam search):
    s_i = GRU([E y_{i-1}, c_i], s_{i-1})
    p(y_i) = softmax(V [s_i, c_i] + b)
    s_0 = tanh(W_init [forward h_T; backward h_1])

Deviations from the paper:
- Characters instead of words on both sides (German and French numbers are single words);
  small sizes (the paper: 1000-unit GRUs, 620-dim embeddings, 30,000-word vocabularies).
- A softmax readout on [s_i, c_i] instead of the maxout deep output; the decoder's initial
  state from both directions' final states (the paper uses the backward one).
- Adam with a cosine-decayed learning rate instead of Adadelta; no ensembles. Beam search
  (recipes/common/decoding.py) ranks by plain log-probability, as the paper's beam does.
"""

import keras

from recipes.common.attention import AttentionDecoder, decoder_inference_models
from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, at_most, boolean, choice, config_error, integer, positive
from recipes.common.decoding import state_sizes
from recipes.translation.data import LANGUAGES, NUM_DAYS, VOCABULARY_SIZE

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 25,
    "batch_size": 32,
    "learning_rate": 0.01,
    "global_clipnorm": 1.0,
    "source_language": "en",
    "target_language": "de",
    "max_number": 999,
    "num_dates": 2000,
    "held_out_ending": 97,
    "held_out_hundreds": 7,
    "num_validation": 200,
    "num_test": 400,
    "num_unseen": 300,
    "attention": True,
    "cell": "keras_gru",
    "units": 64,
    "attention_units": 48,
    "embedding_dim": 24,
    "beam_width": 4,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "source_language": choice(*LANGUAGES),
    "target_language": choice(*LANGUAGES),
    # num2words spells any int; past a million the strings outgrow a small model.
    "max_number": integer(10, 999_999),
    "num_dates": integer(0, NUM_DAYS),
    # -1 switches a held-out pattern off.
    "held_out_ending": integer(-1, 99),
    "held_out_hundreds": integer(-1, 9),
    "num_validation": integer(1, 100_000),
    "num_test": integer(1, 100_000),
    "num_unseen": integer(1, 100_000),
    "attention": boolean(),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "attention_units": integer(1, 4096),
    "embedding_dim": integer(1, 1024),
    "beam_width": integer(1, 32),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): <start> then the true characters.
TEACHER_FORCED_INPUTS = ("decoder_input",)


def check_config(config):
    """Raise ConfigError unless the languages differ and the pool leaves at least one training example."""
    if config["source_language"] == config["target_language"]:
        others = [language for language in LANGUAGES if language != config["source_language"]]
        raise config_error(
            "target_language", config["target_language"], f"a language other than source_language={config['source_language']}", others[0]
        )
    pool = config["max_number"] + config["num_dates"]  # an upper bound: held-out numbers leave the pool
    at_most(
        config,
        "num_test",
        pool - config["num_validation"] - 1,
        "expressions (max_number + num_dates - num_validation - 1: some must be left to train on)",
    )


def build_model(config):
    """The bidirectional character encoder and the attention (or fixed-context) decoder, for teacher-forced training.

    Args:
        config: dict with attention, cell, units, attention_units, embedding_dim,
            learning_rate, global_clipnorm, epochs, batch_size, and the sizes of the splits.

    Returns:
        A compiled keras.Model from {"source": (batch, Te), "decoder_input": (batch, Td)}
        int character ids to (batch, Td, vocabulary) next-character probabilities, masked at padding.
    """
    units = config["units"]
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    embedded_source = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="source_embedding")(source)
    encoder = keras.layers.Bidirectional(
        recurrent_layer(config["cell"], units, name="encoder_rnn", return_sequences=True, return_state=True), name="encoder_birnn"
    )
    encoded = encoder(embedded_source)
    annotations = encoded[0]  # (batch, Te, 2 * units), carries the source mask
    num_states = (len(encoded) - 1) // 2
    forward_last, backward_first = encoded[1], encoded[1 + num_states]
    summary = keras.layers.Concatenate(name="input_summary")([forward_last, backward_first])  # (batch, 2 * units)

    decoder = AttentionDecoder(config["cell"], units, config["attention_units"], use_attention=config["attention"], name="decoder")
    initial_state = [
        keras.layers.Dense(size, activation="tanh", name=f"decoder_initial_state_{n}")(summary) for n, size in enumerate(state_sizes(decoder.cell))
    ]
    embedded_output = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="output_embedding")(decoder_input)
    decoded = decoder(embedded_output, annotations, summary, initial_state)
    probabilities = keras.layers.Dense(VOCABULARY_SIZE, activation="softmax", name="next_character_probabilities")(decoded[0])
    model = keras.Model(
        {"source": source, "decoder_input": decoder_input},
        probabilities,
        name=f"translation_{'attention' if config['attention'] else 'fixed_context'}",
    )
    # About how many batches the run takes (the pool minus test and validation; held-out numbers make it a little less).
    train_size = max(1, config["max_number"] + config["num_dates"] - config["num_test"] - config["num_validation"])
    steps = config["epochs"] * -(-train_size // config["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(config["learning_rate"], decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config["global_clipnorm"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="character_accuracy")],
    )
    return model


def inference_models(model):
    """Encoder and one-step decoder models sharing `model`'s trained layers (recipes/common/attention.py)."""
    return decoder_inference_models(model, "next_character_probabilities")
