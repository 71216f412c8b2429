"""Wav2Letter: an all-convolutional 1-D recognizer that spells spoken digit strings, trained with CTC.

Paper: "Wav2Letter: an End-to-End ConvNet-based Speech Recognition System", Ronan Collobert,
Christian Puhrsch and Gabriel Synnaeve, 2016, https://arxiv.org/abs/1609.03193. Loss:
"Connectionist Temporal Classification: Labelling Unsegmented Sequence Data with Recurrent
Neural Networks", Alex Graves, Santiago Fernández, Faustino Gomez and Jürgen Schmidhuber,
2006, https://www.cs.toronto.edu/~graves/icml_2006.pdf.

What the recipe shows: speech recognition with no recurrence at all. A stack of 1-D
convolutions over time (the mel bands are the input channels) maps log-mel frames to one
score per character every 2 frames (20 ms), and CTC trains it from transcripts alone, on the
same data as the recurrent deepspeech2_ctc recipe. Each output frame sees a fixed window of
input frames, the receptive field, instead of a state carried through the whole utterance;
every output frame is computed at once, so training is parallel over time.

The stack, as in the paper's figure (MFCC/spectrum input, so without its raw-waveform layer),
with the paper's sizes in brackets:

    strided_conv    kernel first_kernel [48], stride first_stride [2], channels [250]
    conv_1..conv_N  num_middle_layers [7] of kernel middle_kernel [7], channels [250]
    wide_conv       kernel wide_kernel [32], wide_channels [2000]
    dense_1x1       kernel 1, wide_channels [2000]
    char_logits     kernel 1, ctc.NUM_CLASSES (28 characters + the CTC blank), no activation

Every layer but the last is followed by the activation and dropout. The receptive field of
an output frame, in input frames, is

    first_kernel + first_stride * (num_middle_layers * (middle_kernel - 1) + wide_kernel - 1)

194 frames (1.94 s at a 10 ms hop; the paper's 1955 ms with its 25 ms window) with the
paper's sizes; 72 frames (0.72 s, about two spoken digits) with this recipe's DEFAULT_CONFIG
(the brief run's model, trained longer: 8 epochs on 3,000 utterances, about 8 minutes on 2
CPU cores) and 124 frames (1.24 s) with LARGER_CONFIG, a 4.5x larger model (3.8 M weights)
that wants about 30 epochs, an hour or more on 2 cores: `recipe run wav2letter --set
channels=192 --set first_kernel=24 ...` (every key of LARGER_CONFIG). `receptive_field(config)`
computes it.

Deviations from the paper:
- CTC (keras.losses.CTC, with a blank class) replaces the paper's Auto Segmentation
  Criterion (ASG: no blank, unnormalized transition scores, a letter-repetition token), and
  decoding is CTC greedy or beam search over characters (recipes/common/ctc.py), without the
  paper's word lexicon and KenLM language model.
- Input: 40 normalized log-mel bands (the paper compares MFCC, power spectrum and raw
  waveform); sizes are scaled down for a few thousand short utterances on a CPU.
- Adam with gradient clipping instead of SGD, and no weight normalization; dropout after
  every hidden layer (the paper does not use dropout; its successors do).
  `normalization` "batch" adds batch normalization after each hidden convolution (an
  option; off by default, it generalized worse in a short trial).
- `activation` "relu" (default) or "hard_tanh" are the paper's two choices; "glu" (gated
  linear units, each layer has twice the channels and gates half of them with the other half)
  is the one of its successor, "Letter-Based Speech Recognition with Gated ConvNets",
  Vitaliy Liptchinsky, Gabriel Synnaeve and Ronan Collobert, 2017,
  https://arxiv.org/abs/1712.09444.
- Data: synthetic speech of digit strings (espeak-ng voices, augmented: recipes/common/augment.py),
  or LibriSpeech from a local folder with `corpus=librispeech`. SpecAugment masks the input
  frames while training (`spec_augment`).
"""

import keras

from recipes.common import augment, ctc
from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, choice, fraction, integer, positive

# A larger stack, closer to the paper's depth, for a GPU or a long CPU run (see the docstring).
LARGER_CONFIG = {
    "epochs": 30,
    "batch_size": 32,
    "learning_rate": 0.001,
    "channels": 192,
    "first_kernel": 24,
    "num_middle_layers": 5,
    "wide_kernel": 21,
    "wide_channels": 512,
}
ACTIVATIONS = ("relu", "hard_tanh", "glu")
NORMALIZATIONS = ("batch", "none")

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 16,
    "learning_rate": 0.002,
    "global_clipnorm": 5.0,
    # Model: the Wav2Letter stack (see the docstring).
    "activation": "relu",
    "channels": 128,
    "first_kernel": 16,
    "first_stride": 2,
    "num_middle_layers": 3,
    "middle_kernel": 7,
    "wide_kernel": 11,
    "wide_channels": 256,
    "dropout": 0.1,
    # "batch" puts batch normalization after every convolution but the last, "none" does not.
    "normalization": "none",
    # Decoding: beams of the CTC beam search in demo.evaluate (1 would be greedy).
    "beam_width": 8,
    # Data: recipes.common.ctc.DATA_DEFAULTS, shared with deepspeech2_ctc.
    **ctc.DATA_DEFAULTS,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "activation": choice(*ACTIVATIONS),
    "channels": integer(1, 4096),
    "first_kernel": integer(1, 256),
    "first_stride": integer(1, 8),
    "num_middle_layers": integer(0, 32),
    "middle_kernel": integer(1, 256),
    "wide_kernel": integer(1, 256),
    "wide_channels": integer(1, 4096),
    "dropout": fraction(),
    "normalization": choice(*NORMALIZATIONS),
    "beam_width": integer(1, 64),
    **ctc.DATA_RULES,
}


def check_config(config):
    """Raise ConfigError unless the data keys fit together (ctc.check_data)."""
    ctc.check_data(config)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class GatedLinearUnit(keras.layers.Layer):
    """GLU over the channel axis: the first half of the channels times the sigmoid of the second half.

    (keras.activations.glu computes the same, but as an Activation layer its output shape is
    reported with the input's channel count, which breaks the next layer's build.)
    """

    def call(self, inputs):
        values, gates = keras.ops.split(inputs, 2, axis=-1)
        return values * keras.ops.sigmoid(gates)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // 2)

    def get_config(self):
        return super().get_config()


def receptive_field(config):
    """Input frames that one output frame depends on (every convolution 'same'-padded)."""
    return config["first_kernel"] + config["first_stride"] * (config["num_middle_layers"] * (config["middle_kernel"] - 1) + config["wide_kernel"] - 1)


def _conv_block(x, filters, kernel, config, name, strides=1):
    """Conv1D -> [batch norm] -> activation -> dropout. GLU doubles the channels and gates half by the other half."""
    glu = config["activation"] == "glu"
    normalized = config["normalization"] == "batch"
    separate = glu or normalized  # else the activation goes inside the convolution (fewer graph nodes)
    x = keras.layers.Conv1D(
        2 * filters if glu else filters,
        kernel,
        strides=strides,
        padding="same",
        activation=None if separate else config["activation"],
        use_bias=not normalized,
        name=name,
    )(x)
    if normalized:
        x = keras.layers.BatchNormalization(name=f"{name}_batch_norm")(x)
    if glu:
        x = GatedLinearUnit(name=f"{name}_glu")(x)
    elif separate:
        x = keras.layers.Activation(config["activation"], name=f"{name}_{config['activation']}")(x)
    if config["dropout"] > 0:
        x = keras.layers.Dropout(config["dropout"], name=f"{name}_dropout")(x)
    return x


def build_model(config):
    """The Wav2Letter convolution stack with a CTC loss.

    Args:
        config: dict with activation, channels, first_kernel, first_stride,
            num_middle_layers, middle_kernel, wide_kernel, wide_channels, dropout,
            learning_rate, global_clipnorm and num_mels.

    Returns:
        A compiled keras.Model from (batch, T, num_mels) log-mel frames to (batch,
        ceil(T / first_stride), ctc.NUM_CLASSES) logits (no softmax; class 0 is the blank).
    """

    # Time is left unknown: the same weights read utterances of any length.
    frames = keras.Input(shape=(None, config["num_mels"]), name="log_mel_frames")
    # The strided first layer halves the frame rate: one output every 20 ms.
    x = augment.SpecAugment(seed=config["seed"], name="spec_augment")(frames) if config["spec_augment"] else frames  # masks while training only
    x = _conv_block(x, config["channels"], config["first_kernel"], config, "strided_conv", strides=config["first_stride"])
    for i in range(1, config["num_middle_layers"] + 1):
        x = _conv_block(x, config["channels"], config["middle_kernel"], config, f"conv_{i}")
    x = _conv_block(x, config["wide_channels"], config["wide_kernel"], config, "wide_conv")
    x = _conv_block(x, config["wide_channels"], 1, config, "dense_1x1")
    logits = keras.layers.Conv1D(ctc.NUM_CLASSES, 1, name="char_logits")(x)  # (batch, T/stride, classes)
    model = keras.Model(frames, logits, name="wav2letter")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss=keras.losses.CTC(),
    )
    return model
