"""Vector to sequence: an 8x8 digit image, as one fixed vector, is spelled out as its name ("seven").

Book: "Deep Learning", Ian Goodfellow, Yoshua Bengio and Aaron Courville, 2016, chapter 10,
section 10.2.4 and figure 10.9: an RNN that maps a fixed-length vector x to a
distribution over sequences, with x given as the initial state, as an extra input at
every time step, or both, https://www.deeplearningbook.org/contents/rnn.html.
The image-to-sentence model of this shape: "Show and Tell: A Neural Image Caption
Generator", Oriol Vinyals, Alexander Toshev, Samy Bengio and Dumitru Erhan, 2015,
https://arxiv.org/abs/1411.4555.

What the recipe shows: an image encoder (one Dense layer on the 64 pixels) turns the
image into a context vector; a recurrent decoder writes the name one letter per step,
each step fed the previous letter (output-to-hidden recurrence, the y(t-1) -> h(t)
arrows of figure 10.9) besides its own hidden state. Config `conditioning` picks how
the decoder sees the context:

- "initial_state": the context, through a Dense layer, is the decoder's initial state
  h(0) (and c(0) for an LSTM); afterwards the decoder sees only letters (Show and Tell
  gives the image once, as the first input).
- "every_step": the context is concatenated to the letter input at every step, the
  decoder starting from a zero state (figure 10.9's x -> h(t) arrows).
- "both": the two together.

Training is teacher-forced: the decoder's inputs are <start> and the true letters, the
targets the same letters shifted by one and <end> (see data.py), so one `fit` call
trains all steps. Generation is free-running greedy decoding in demo.evaluate: the
model's own argmax letter is fed back until it writes <end>.

With ten classes the spelling is easy: the names are ten fixed words, and a decoder that
knows which digit it sees only has to recite one of them. The point is the architecture
(a fixed vector conditioning a sequence generator), which is the same when the vector
comes from a photograph and the sequence is a caption. demo.evaluate therefore also
reports the accuracy of a plain classifier on the same split, as the ceiling the
decoder approaches when its spelling is perfect.

Deviations from Show and Tell:
- The encoder is one Dense layer on 8x8 pixels instead of a pretrained convolutional
  network; the output is letters of one word instead of the words of a sentence.
- The decoder cell is the `cell` choice (a GRU by default, not their LSTM); no beam
  search, no word embeddings pretrained elsewhere, no ensembling.
- In "initial_state" the image sets the state through a Dense layer instead of being fed
  as the input of a first step.
"""

import keras
from keras import ops

from recipes.common.cells import CELL_CHOICES, SERIALIZATION_PACKAGE, recurrent_layer
from recipes.common.config import COMMON_RULES, choice, integer, number, positive
from recipes.vector_to_sequence.data import MAX_STEPS, NUM_PIXELS, VOCABULARY

CONDITIONINGS = ("initial_state", "every_step", "both")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 30,
    "batch_size": 64,
    "learning_rate": 0.005,
    "global_clipnorm": 1.0,
    # How the decoder sees the image: "initial_state", "every_step" or "both" (fig. 10.9).
    "conditioning": "initial_state",
    "cell": "keras_gru",
    "units": 64,
    "context_units": 64,
    "embedding_dim": 16,
    # Training-set augmentation: shifted, noisy copies per training image.
    "num_augmented_copies": 2,
    "noise_std": 0.05,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "conditioning": choice(*CONDITIONINGS),
    "cell": choice(*CELL_CHOICES),
    "units": integer(1, 4096),
    "context_units": integer(1, 4096),
    "embedding_dim": integer(1, 1024),
    # About 1,257 training images: 1,000 copies make 1.26 M rows (320 MB of pixels).
    "num_augmented_copies": integer(0, 1000),
    "noise_std": number(0, 10),  # in units of the 0..1 pixel range
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): <start> then the true letters.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("previous_letters",)
# Cells whose state is a pair (h, c): the image sets both.
LSTM_CELLS = ("lstm", "peephole_lstm", "keras_lstm")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ContextAtEveryStep(keras.layers.Layer):
    """Concatenate one fixed vector to every step of a sequence, keeping the sequence's mask.

    [x_1 .. x_T], c  ->  [[x_1, c] .. [x_T, c]]. Keras' own Concatenate would merge masks
    with "any", and an unmasked context would then unmask every padded step.

    Call args:
        inputs: [sequence (batch, T, d), context (batch, k)].

    Returns:
        (batch, T, d + k), with the sequence's (batch, T) mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        sequence, context = inputs
        # (batch, k) -> (batch, T, k): the same context at each of the T steps.
        repeated = ops.repeat(ops.expand_dims(context, 1), ops.shape(sequence)[1], axis=1)
        return ops.concatenate([sequence, ops.cast(repeated, sequence.dtype)], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shapes):
        sequence_shape, context_shape = input_shapes
        return (*sequence_shape[:-1], sequence_shape[-1] + context_shape[-1])


def build_model(config):
    """The image-conditioned letter decoder, trained with teacher forcing.

    Args:
        config: dict with conditioning, cell, units, context_units, embedding_dim,
            learning_rate, global_clipnorm and the data keys of data.load_data.

    Returns:
        A compiled keras.Model from {"image": (batch, 64) pixels in 0..1,
        "previous_letters": (batch, MAX_STEPS) token ids, 0 = padding} to
        (batch, MAX_STEPS, vocabulary) probabilities of the next token.
    """
    conditioning, units = config["conditioning"], config["units"]

    image = keras.Input(shape=(NUM_PIXELS,), name="image")
    previous_letters = keras.Input(shape=(MAX_STEPS,), dtype="int32", name="previous_letters")
    # The fixed vector x of fig. 10.9: one learned summary of the image.
    context = keras.layers.Dense(config["context_units"], activation="tanh", name="image_encoder")(image)  # (batch, context_units)
    # mask_zero: padded steps after <end> are skipped by the decoder and left out of the loss.
    letters = keras.layers.Embedding(len(VOCABULARY), config["embedding_dim"], mask_zero=True, name="letter_embedding")(
        previous_letters
    )  # (batch, MAX_STEPS, embedding_dim)

    decoder_inputs = letters
    if conditioning in ("every_step", "both"):
        # The same context next to the letter at each step: (batch, MAX_STEPS, embedding_dim + context_units).
        decoder_inputs = ContextAtEveryStep(name="letter_and_context")([letters, context])
    initial_state = None
    if conditioning in ("initial_state", "both"):
        initial_state = [keras.layers.Dense(units, activation="tanh", name="initial_state")(context)]  # h(0)
        if config["cell"] in LSTM_CELLS:
            initial_state.append(keras.layers.Dense(units, name="initial_cell_state")(context))  # c(0)
    decoder = recurrent_layer(config["cell"], units, name="decoder_rnn", return_sequences=True)
    hidden = decoder(decoder_inputs, initial_state=initial_state)  # (batch, MAX_STEPS, units)
    probabilities = keras.layers.Dense(len(VOCABULARY), activation="softmax", name="next_letter")(hidden)

    inputs = {"image": image, "previous_letters": previous_letters}
    model = keras.Model(inputs, probabilities, name=f"vector_to_sequence_{conditioning}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        # The embedding's mask reaches the output, so padded steps carry no loss.
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="teacher_forced_accuracy")],
    )
    return model
