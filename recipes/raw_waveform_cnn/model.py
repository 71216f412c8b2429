"""Raw-waveform CNN: a 1-D convolutional network that classifies spoken words straight from the samples.

Paper: "Estimating Phoneme Class Conditional Probabilities from Raw Speech Signal using
Convolutional Neural Networks", Dimitri Palaz, Ronan Collobert and Mathew Magimai-Doss,
2013, https://arxiv.org/abs/1304.1018. The layer sizes follow the "M5" network of "Very
Deep Convolutional Neural Networks for Raw Waveforms", Wei Dai, Chia Dai, Shuhui Qu,
Juncheng Li and Samarjit Das, 2017, https://arxiv.org/abs/1610.00087; the analysis of the
first layer as a learned filterbank follows "Learning the Speech Front-end With Raw
Waveform CLDNNs", Tara N. Sainath, Ron J. Weiss, Andrew Senior, Kevin W. Wilson and Oriol
Vinyals, 2015, https://doi.org/10.21437/Interspeech.2015-1. Book: "Deep Learning",
Goodfellow, Bengio and Courville, 2016, chapter 9 (convolutional networks; section 9.10 on
first-layer filters that look like Gabor functions),
https://www.deeplearningbook.org/contents/convnets.html.

What the recipe shows: no spectrogram is needed. The first convolution slides
`num_filters` short filters (10 ms, 80 samples at 8 kHz) over the waveform; followed by a
ReLU and a max over 8 ms, each filter becomes one band of a learned filterbank with its
energy envelope, i.e. a learned spectrogram. demo.py draws the frequency response of every
first-layer filter before and after training: they start as broadband noise and end as
band-pass filters packed densely at low frequencies (more densely than a mel scale).

    waveform (samples, 1) -> per-clip normalization (zero mean, unit variance)
      -> front end, config front_end:
           "raw":     waveform_filters: Conv1D(num_filters, 10 ms, stride 1 ms) -> BatchNorm
                      -> ReLU -> MaxPool over 8 ms                  (frames of 8 ms, num_filters)
           "log_mel": keras.layers.MelSpectrogram (25 ms Hann window, hop 8 ms, num_filters
                      mel bands) in dB -> per-clip, per-band normalization -> BatchNorm
                                                                     (the same frames, fixed)
      -> num_blocks x [Conv1D(kernel 3) -> BatchNorm -> ReLU -> MaxPool 2], channels doubling
      -> global average pooling over time -> dropout -> Dense softmax over the 20 words

The model reads the whole clip in parallel and gives one output after it, where an RNN
(book section 10.2, figure 10.5) would read it step by step. The "log_mel" front end is the
comparison: the same back end reading a fixed, hand-designed filterbank of the same size
and frame rate instead of a learned one.

Deviations from the sources:
- Task: one spoken word per 1 s clip, 20 classes (speech.COMMAND_WORDS), not frame-level
  phoneme posteriors on TIMIT (Palaz et al.) nor environmental sounds (Dai et al.). The
  speech is synthesized by espeak-ng (a formant synthesizer), with unseen voices as the
  test set; real speech is far more varied.
- Palaz et al. use HardTanh units, max pooling after every convolution and an MLP that
  classifies each frame from a window of raw samples around it; this recipe uses ReLU with
  batch normalization and global average pooling over the whole clip (Dai et al.'s M5),
  which trains in a few epochs.
- Each clip is normalized to zero mean and unit variance inside the model (a
  parameter-free normalization over time), so the gain of a recording does not matter.
- Smaller and cheaper than M5: 64 first-layer filters (M5: 128) with a stride of 1 ms (M5:
  0.5 ms, 4 samples at 8 kHz), a fixed 8 ms max-pool after them (M5: 4 samples), and 3
  blocks of 64-128-256 channels (the brief run halves them).
"""

import math

import keras
from keras import ops

from recipes.common import speech
from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, at_most, choice, config_error, fraction, integer, number, ordered, positive
from recipes.raw_waveform_cnn.data import WORDS, clip_length

FRONT_ENDS = ("raw", "log_mel")
MEL_WINDOW_MS = 25.0  # analysis window of the log-mel front end

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 20,
    "batch_size": 32,
    "learning_rate": 0.003,
    # Front end: "raw" (learned Conv1D filterbank on the samples) or "log_mel" (fixed).
    "front_end": "raw",
    # First layer: number of filters (or mel bands), filter length and stride in ms, and the
    # max-pooling window that turns filter outputs into frames (the log-mel hop).
    "num_filters": 64,
    "filter_ms": 10.0,
    "stride_ms": 1.0,
    "frame_ms": 8.0,
    # Back end: conv blocks (kernel 3, max-pool 2), channels of the first one (doubling).
    "num_blocks": 3,
    "channels": 64,
    "dropout": 0.2,
    # Data: utterances per split (multiples of 20), clip length in seconds.
    "num_train": 2000,
    "num_validation": 400,
    "num_test": 1000,
    "clip_seconds": 1.0,
    # Synthesis (recipes/common/speech.py SYNTHESIS_DEFAULTS: espeak-ng rate in words per
    # minute, pitch 0..100, white noise SNR in dB, leading silence in seconds), at 8 kHz:
    # enough for a raw-waveform model.
    **speech.SYNTHESIS_DEFAULTS,
    "sample_rate": 8000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "front_end": choice(*FRONT_ENDS),
    "num_filters": integer(1, 1024),
    "filter_ms": positive(1000.0),
    "stride_ms": positive(1000.0),
    "frame_ms": positive(1000.0),  # at least stride_ms (check_config)
    # Each block halves the frames and doubles the channels (check_config bounds both).
    "num_blocks": integer(1, 10),
    "channels": integer(1, 1024),
    "dropout": fraction(),
    # Multiples of the 20 words (check_config).
    "num_train": integer(len(WORDS), 20_000),
    "num_validation": integer(len(WORDS), 5_000),
    "num_test": integer(len(WORDS), 5_000),
    "clip_seconds": number(0.1, 10),
    **speech.SYNTHESIS_RULES,
}

WIDEST_BLOCK = 8192  # channels of the last conv block
MAX_SAMPLES = 250_000_000  # clip samples over all splits: 1 GB of float32


def samples(config, key):
    """The duration config[key] (in ms) in samples at config sample_rate, at least 1."""
    return max(1, int(round(config[key] * config["sample_rate"] / 1000)))


def check_config(config):
    """Raise ConfigError unless the split sizes, the clip and the front end fit together."""
    for key in ("num_train", "num_validation", "num_test"):
        count = config[key]
        if count % len(WORDS):
            # Each word is spoken equally often.
            raise config_error(
                key, count, f"a multiple of {len(WORDS)} (the number of words)", max(len(WORDS), round(count / len(WORDS)) * len(WORDS))
            )
    speech.check_synthesis(config)
    speech.check_amount(config, 1)
    total = config["num_train"] + config["num_validation"] + config["num_test"]
    seconds = math.floor(100 * MAX_SAMPLES / total / config["sample_rate"]) / 100
    at_most(config, "clip_seconds", seconds, f"for {total:,} clips at {config['sample_rate']:,} Hz ({MAX_SAMPLES:,} samples)")
    # A frame pools several filter outputs.
    ordered(config, "stride_ms", "frame_ms")
    frames = clip_length(config) // samples(config, "frame_ms")
    if frames < 2:
        raise config_error(
            "frame_ms",
            config["frame_ms"],
            f"at most {500 * config['clip_seconds']:g} (two frames of a clip of clip_seconds={config['clip_seconds']:g})",
            8.0,
        )
    at_most(config, "num_blocks", frames.bit_length() - 1, f"for the {frames} frames of a clip (each block halves them)")
    at_most(
        config,
        "channels",
        WIDEST_BLOCK // 2 ** (config["num_blocks"] - 1),
        f"for {config['num_blocks']} blocks that double it (at most {WIDEST_BLOCK:,} in the last)",
    )


def raw_front_end(waveform, config):
    """Learned filterbank: (batch, samples, 1) -> (batch, frames, num_filters)."""
    stride = samples(config, "stride_ms")
    # The seeded initializer makes the untrained filters reproducible: demo.py rebuilds
    # the model to draw them next to the trained ones.
    filtered = keras.layers.Conv1D(
        config["num_filters"],
        samples(config, "filter_ms"),
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer=keras.initializers.GlorotUniform(seed=config["seed"]),
        name="waveform_filters",
    )(waveform)  # (batch, samples / stride, num_filters)
    filtered = keras.layers.BatchNormalization(name="waveform_filters_norm")(filtered)
    rectified = keras.layers.ReLU(name="waveform_filters_relu")(filtered)
    # Max over frame_ms: each filter's envelope, one value per frame, like a spectrogram bin.
    pool = max(1, samples(config, "frame_ms") // stride)
    return keras.layers.MaxPooling1D(pool, name="filter_envelope_pool")(rectified)


def log_mel_front_end(waveform, config):
    """Fixed filterbank: (batch, samples, 1) -> (batch, frames, num_filters) log-mel energies in dB."""
    window = samples({**config, "mel_window_ms": MEL_WINDOW_MS}, "mel_window_ms")
    flat = keras.layers.Reshape((clip_length(config),), name="to_mono")(waveform)
    mel = keras.layers.MelSpectrogram(
        fft_length=1 << (window - 1).bit_length(),
        sequence_length=window,
        sequence_stride=samples(config, "frame_ms"),
        sampling_rate=config["sample_rate"],
        num_mel_bins=config["num_filters"],
        min_freq=20.0,
        max_freq=config["sample_rate"] / 2,
        power_to_db=True,
        # Keras clips at top_db below the max over the whole batch, which would make a clip's
        # features depend on its batch; a per-value floor (min_power) is used instead, at
        # -20 dB, about the noise floor of a unit-variance clip, so that the zero padding
        # after the word is not a -100 dB outlier that swamps the normalization below.
        top_db=1000.0,
        min_power=1e-2,
        name="log_mel_spectrogram",
    )(flat)  # (batch, mels, frames)
    frames = keras.layers.Permute((2, 1), name="frames_first")(mel)  # (batch, frames, mels)
    # Per clip and band, zero mean and unit variance over time (cepstral mean and variance
    # normalization, as speech.log_mel does), then BatchNorm like the raw front end's.
    frames = TimeNormalization(name="log_mel_cmvn")(frames)
    return keras.layers.BatchNormalization(name="log_mel_norm")(frames)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class TimeNormalization(keras.layers.Layer):
    """Zero mean and unit variance over time (axis 1), per example and channel; no weights.

    The computation of LayerNormalization(axis=1, center=False, scale=False), written with
    keras.ops: Keras' torch backend hands a single axis to torch's layer_norm, which
    normalizes the last axes instead and fails on (batch, time, channels) (Keras 3.15).
    """

    def __init__(self, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x):
        mean, variance = ops.moments(x, axes=[1], keepdims=True)
        return (x - mean) * ops.rsqrt(variance + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def build_model(config):
    """The word classifier: per-clip normalization, a raw or log-mel front end, conv blocks, softmax.

    Args:
        config: dict with front_end, num_filters, filter_ms, stride_ms, frame_ms,
            num_blocks, channels, dropout, learning_rate, sample_rate, clip_seconds.

    Returns:
        A compiled keras.Model from (batch, samples, 1) waveforms to (batch, 20) word
        probabilities.
    """
    waveform = keras.Input(shape=(clip_length(config), 1), name="waveform")
    # Parameter-free: zero mean, unit variance over each clip's samples. The small epsilon
    # (Keras' default 1e-3 is comparable to a quiet clip's variance) keeps it gain-invariant.
    normalized = TimeNormalization(epsilon=1e-7, name="clip_normalization")(waveform)
    if config["front_end"] == "raw":
        x = raw_front_end(normalized, config)
    else:
        x = log_mel_front_end(normalized, config)
    for block in range(config["num_blocks"]):
        width = config["channels"] * 2**block
        x = keras.layers.Conv1D(width, 3, padding="same", use_bias=False, name=f"conv_{block + 1}")(x)
        x = keras.layers.BatchNormalization(name=f"conv_{block + 1}_norm")(x)
        x = keras.layers.ReLU(name=f"conv_{block + 1}_relu")(x)
        x = keras.layers.MaxPooling1D(2, name=f"conv_{block + 1}_pool")(x)  # halves the frames
    summary = keras.layers.GlobalAveragePooling1D(name="average_over_time")(x)  # (batch, channels)
    summary = keras.layers.Dropout(config["dropout"], name="dropout")(summary)
    probabilities = keras.layers.Dense(len(WORDS), activation="softmax", name="word_probabilities")(summary)
    model = keras.Model(waveform, probabilities, name=f"raw_waveform_cnn_{config['front_end']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
