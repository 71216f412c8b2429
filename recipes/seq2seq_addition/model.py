"""Sequence-to-sequence addition: an encoder RNN reads "535+61", a decoder RNN writes "596".

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, section
10.4 and figure 10.12 (encoder-decoder), https://www.deeplearningbook.org/contents/rnn.html.
Papers: "Sequence to Sequence Learning with Neural Networks", Ilya Sutskever, Oriol Vinyals
and Quoc V. Le, 2014, https://arxiv.org/abs/1409.3215; "Learning Phrase Representations
using RNN Encoder-Decoder for Statistical Machine Translation", Kyunghyun Cho et al., 2014,
https://arxiv.org/abs/1406.1078; the task: "Learning to Execute", Wojciech Zaremba and
Ilya Sutskever, 2014, https://arxiv.org/abs/1410.4615.

What it shows: input and output sequences of different, variable lengths. The encoder
reads the (masked, right-padded) question; its final state is the only thing the decoder
gets from the question: it initialises the decoder, which is trained with teacher
forcing (its input at step t is the true answer character t-1, starting from <start>)
and at test time runs free, feeding back its own previous output, greedy or with beam
search (recipes/common/decoding.py), until it writes <end>. The metric is whole-answer
accuracy on questions never seen in training.

Deviations from the papers:
- Characters, not words; one small layer each side (Sutskever et al. used 4 layers of
  1000 LSTM units; Cho et al. a 1000-unit GRU whose summary also feeds every decoder step
  and the output layer, ours only sets the initial state, as in Sutskever et al.).
- The question is reversed, as Sutskever et al. reverse the source sentence (and as the
  keras-io addition example does); `--set reverse_question=false` turns it off.
- Adam with a cosine-decayed learning rate and a larger batch than keras-io's peer, so
  it reaches the peer's accuracy in fewer seconds on a CPU; Zaremba & Sutskever trained
  with SGD and a curriculum on program traces.
"""

import keras

from recipes.common.cells import CELL_CHOICES, recurrent_layer
from recipes.common.config import COMMON_RULES, boolean, choice, config_error, integer, positive
from recipes.common.decoding import state_sizes
from recipes.seq2seq_addition.data import VOCABULARY_SIZE, possible_questions

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 128,
    "learning_rate": 0.01,
    "global_clipnorm": 1.0,
    "cell": "keras_lstm",
    "units": 128,
    "embedding_dim": 16,
    "num_digits": 3,
    "reverse_question": True,
    "num_train": 45000,
    "num_validation": 5000,
    "num_test": 5000,
    "beam_width": 3,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "embedding_dim": integer(1, 1024),
    "num_digits": integer(1, 6),
    "reverse_question": boolean(),
    "num_train": integer(1, 1_000_000),
    "num_validation": integer(1, 1_000_000),
    "num_test": integer(1, 1_000_000),
    "beam_width": integer(1, 32),
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): <start> then the true answer characters.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("decoder_input",)


def check_config(config):
    """Raise ConfigError unless the operand range has enough unique questions for the splits.

    Asking for more than half of the possible questions would make the stream of fresh
    questions crawl (the small operands repeat).
    """
    total = config["num_train"] + config["num_validation"] + config["num_test"]
    digits = config["num_digits"]
    if total > possible_questions(digits) // 2:
        enough = next((d for d in range(digits + 1, 7) if total <= possible_questions(d) // 2), 6)
        allowed = (
            f"at least {enough} digits for {total:,} unique questions "
            f"(operands below {10**digits:,} make {possible_questions(digits):,}, half of which may be asked)"
        )
        raise config_error("num_digits", digits, allowed, enough)


def build_model(config):
    """The encoder-decoder, wired for teacher-forced training.

    Args:
        config: dict with cell, units, embedding_dim, learning_rate, global_clipnorm,
            epochs, batch_size, num_train.

    Returns:
        A compiled keras.Model from {"question": (batch, Tq), "decoder_input": (batch, Ta)}
        int ids to (batch, Ta, vocabulary) next-character probabilities, masked where the
        decoder input is padding (so padding never counts in the loss or accuracy).
    """
    units = config["units"]

    question = keras.Input(shape=(None,), dtype="int32", name="question")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    # mask_zero: padding steps leave the state unchanged, so the final state is the one after the last character.
    embedded_question = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="question_embedding")(question)
    encoder_outputs = recurrent_layer(config["cell"], units, name="encoder_rnn", return_sequences=False, return_state=True)(embedded_question)
    encoder_states = encoder_outputs[1:]  # [h] for GRU/basic RNN, [h, c] for LSTMs: the whole summary of the question

    embedded_answer = keras.layers.Embedding(VOCABULARY_SIZE, config["embedding_dim"], mask_zero=True, name="answer_embedding")(decoder_input)
    # The decoder returns its states too: decoding reuses this layer one step at a time.
    decoder_rnn = recurrent_layer(config["cell"], units, name="decoder_rnn", return_sequences=True, return_state=True)
    decoder_hidden = decoder_rnn(embedded_answer, initial_state=encoder_states)[0]  # (batch, Ta, units)
    probabilities = keras.layers.Dense(VOCABULARY_SIZE, activation="softmax", name="next_char_probabilities")(decoder_hidden)
    model = keras.Model({"question": question, "decoder_input": decoder_input}, probabilities, name="seq2seq_addition")

    steps = config["epochs"] * -(-config["num_train"] // config["batch_size"])
    # Cosine decay to zero over the run: a high rate early, small steps to polish at the end.
    schedule = keras.optimizers.schedules.CosineDecay(config["learning_rate"], decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, global_clipnorm=config["global_clipnorm"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="char_accuracy")],
    )
    return model


def inference_models(model):
    """Encoder and one-step decoder models sharing `model`'s trained layers, for free-running decoding.

    Args:
        model: a model from build_model (or loaded from .keras).

    Returns:
        (encoder, decoder_step, num_states): encoder maps question ids (batch, Tq) to the
        list of initial decoder states; decoder_step maps [previous token (batch, 1),
        *states] to [probabilities (batch, 1, vocabulary), *new states].
    """
    encoder = keras.Model(model.get_layer("question_embedding").input, list(model.get_layer("encoder_rnn").output[1:]), name="encoder")
    decoder_rnn = model.get_layer("decoder_rnn")
    states = [keras.Input(shape=(size,), name=f"decoder_state_{n}") for n, size in enumerate(state_sizes(decoder_rnn.cell))]
    token = keras.Input(shape=(1,), dtype="int32", name="previous_token")
    outputs = decoder_rnn(model.get_layer("answer_embedding")(token), initial_state=states)
    probabilities = model.get_layer("next_char_probabilities")(outputs[0])
    decoder_step = keras.Model([token, *states], [probabilities, *outputs[1:]], name="decoder_step")
    return encoder, decoder_step, len(states)
