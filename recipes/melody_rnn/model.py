"""Melody RNN: an LSTM that learns folk melodies one 16th-note event at a time.

Sources: Magenta's Melody RNN, "basic_rnn" configuration (Google Magenta team, 2016,
https://github.com/magenta/magenta/tree/main/magenta/models/melody_rnn): one-hot melody
events (note-on of one of 36 pitches, note-off, no event) at 16th-note steps, a two-layer
LSTM, a softmax over the next event. The idea of an LSTM that improvises by predicting its
own next note: "Finding temporal structure in music: blues improvisation with LSTM recurrent
networks", Douglas Eck and Juergen Schmidhuber, 2002, https://doi.org/10.1109/NNSP.2002.1030094.

Shows: a language model over a musical vocabulary, trained with teacher forcing (input the
event at step t, target the event at t+1) and run one step at a time to compose, each sampled
event fed back (recipes/common/sampling.py); its negative log-likelihood per step against
unigram and bigram baselines, on held-out tunes of the training collection and on a second
collection it never saw (Chinese folk songs). The demo writes a sampled melody as MIDI and as
a WAV from a tiny additive synthesizer (demo.py), and a piano roll.

Deviations:
- Data: the Essen folk songs in music21's corpus, transposed to C major / A minor (Magenta:
  MIDI files of the user's choice, transposed to C by default too).
- A tune-boundary event before every tune (39 classes, Magenta 38), and training on
  fixed-length windows of the concatenated tunes of a split, each from a zero state
  (Magenta: whole melodies padded in a batch).
- Layer sizes (basic_rnn: 2 x 128) and dropout on each LSTM's output (basic_rnn: keep 0.5,
  on every layer) are configurable; Adam with gradient-norm clipping as in Magenta.
- Eck and Schmidhuber's network read chords and notes as separate unit groups with a
  different time grid (8th notes) and was trained on 12-bar blues; none of that here.
"""

import keras
from keras import ops

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, fraction, integer, number, positive
from recipes.melody_rnn.data import NUM_EVENTS

DEFAULT_CONFIG = {
    "seed": 1,
    "epochs": 5,
    "batch_size": 64,
    "learning_rate": 0.005,
    "clipnorm": 3.0,
    "num_layers": 2,
    "units": 128,
    "dropout": 0.2,
    # Data: tunes of the training collection (a prefix, in file order), held-out shares of
    # them, tunes of the unseen collection, window length in 16th-note steps.
    "max_tunes": 8000,
    "validation_fraction": 0.05,
    "test_fraction": 0.1,
    "num_cross_tunes": 2000,
    "sequence_length": 128,
    # Demo: sampled melodies (steps of a 16th note), temperature, tempo of the MIDI/WAV.
    "sample_steps": 64,
    "num_samples": 4,
    "temperature": 1.0,
    "tempo_bpm": 120,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "clipnorm": positive(1000.0),
    "num_layers": integer(1, 8),
    "units": integer(1, 4096),
    "dropout": fraction(),
    "max_tunes": integer(20, 100_000),
    "validation_fraction": number(0.01, 0.4),
    "test_fraction": number(0.01, 0.4),
    "num_cross_tunes": integer(5, 100_000),
    "sequence_length": integer(2, 10_000),
    "sample_steps": integer(1, 4096),
    "num_samples": integer(1, 64),
    "temperature": number(0, 100),  # 0 is greedy
    "tempo_bpm": integer(20, 400),
}

# The events up to step t - 1 are the inputs: the event to predict at step t - 1 is the input
# at step t. `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them.
TEACHER_FORCED_INPUTS = ("events",)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class EventOneHot(keras.layers.Layer):
    """One-hot melody events, as Magenta feeds them: (...,) int ids -> (..., num_events)."""

    def __init__(self, num_events, **kwargs):
        super().__init__(**kwargs)
        self.num_events = num_events

    def call(self, inputs):
        return ops.one_hot(ops.cast(inputs, "int32"), self.num_events, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.num_events)

    def get_config(self):
        return {**super().get_config(), "num_events": self.num_events}


def build_model(config):
    """Build and compile the melody LSTM.

    Args:
        config: DEFAULT_CONFIG with overrides.

    Returns:
        Compiled keras.Model: event ids (batch, time) -> next-event logits (batch, time,
        NUM_EVENTS); loss in nats per 16th-note step.
    """
    # Time left open (None): the model scores melodies of any length.
    events = keras.Input(shape=(None,), dtype="int32", name="events")
    x = EventOneHot(NUM_EVENTS, name="one_hot_events")(events)  # (batch, time, NUM_EVENTS)
    for layer in range(1, config["num_layers"] + 1):
        # return_sequences: a prediction at every step.
        x = keras.layers.LSTM(config["units"], return_sequences=True, name=f"lstm_{layer}")(x)
        if config["dropout"] > 0:
            x = keras.layers.Dropout(config["dropout"], name=f"dropout_{layer}")(x)
    # (batch, time, units) -> (batch, time, NUM_EVENTS); softmax is in the loss.
    logits = keras.layers.Dense(NUM_EVENTS, name="next_event_logits")(x)

    model = keras.Model(events, logits, name="melody_rnn")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
        # Mean over all (batch, time) positions: nats per 16th-note step.
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
