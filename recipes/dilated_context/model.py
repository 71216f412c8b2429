"""Dilated context module: per-frame labels of spoken digits, with and without exponentially growing dilations.

Paper: "Multi-Scale Context Aggregation by Dilated Convolutions", Fisher Yu and Vladlen
Koltun, 2015 (ICLR 2016), https://arxiv.org/abs/1511.07122. A stack of 3-wide
convolutions with dilations 1, 1, 2, 4, 8, 16, 1 sees 67 positions while keeping full
resolution and adding only 3 x C x C weights per layer: the receptive field grows
exponentially with depth, the parameter count linearly. Yu & Koltun append this "context
module" to a dense-prediction front end (semantic segmentation) and initialise it to the
identity, so that at the start of training it passes the front end's output through.

What the recipe shows: a dense per-frame task over spectrograms. Every 10 ms log-mel frame
of a noisy spoken digit string gets the digit being spoken at that frame or "silence"
(11 classes; data.py). A frame in the middle of "seven" is hard to name from a few frames
of context; with the module the classifier sees the whole word and its neighbours.
Config `context_module`:

- true: front end (3 convolutions, 3 wide: receptive field 7 frames) -> context module
  (7 convolutions, 3 wide, dilations 1, 1, 2, 4, 8, 16, 1: receptive field 7 + 66 = 73
  frames, 0.73 s of hops, 0.745 s of audio: 72 hops plus one 25 ms window) -> per-frame softmax.
- false: the same layers with dilation 1 everywhere: the same number of parameters
  (exactly), receptive field 7 + 14 = 21 frames (0.21 s; 0.225 s of audio). The comparison is
  of context, not of size.

Deviations from the paper:
- 1-D convolutions over time, with the mel bands as channels, instead of 2-D convolutions
  over the image: the context this task needs is in time (which word, where in it), the
  40 mel bands are covered in full by every layer anyway, and a 2-D module over
  (time, mel) would cost about 40 times the compute of the CPU brief run.
- The module works on `channels` feature maps of the front end (the paper's module maps C
  class-score maps to C class-score maps) and a 1x1 softmax layer reads its output; its
  width is constant, so every layer is square and the identity initialisation is exact (the
  paper's "large" module widens its layers and uses a scaled variant of the identity).
- Front end and module are trained together from the start, not the module on a frozen,
  pre-trained front end; the front end is three small convolutions, not VGG-16.
- The final 1x1 layer of the paper's module is folded into the 1x1 softmax classifier.
"""

import keras

from recipes.common import speech
from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, boolean, integer, number, ordered
from recipes.dilated_context.data import CLASSES

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 15,
    "batch_size": 32,
    "learning_rate": 0.002,
    # Model: the context module (dilations 1,1,2,4,8,16,1) or the same layers with dilation 1.
    "context_module": True,
    "identity_init": True,  # the paper's identity initialisation of the module (else Glorot)
    "channels": 32,  # feature maps of the front end and of every module layer
    "front_layers": 3,  # 3-wide convolutions of the front end
    # Data: digit strings per split and their length, synthesis (speech.SYNTHESIS_DEFAULTS),
    # features (speech.FEATURE_DEFAULTS).
    "num_train": 2000,
    "num_validation": 200,
    "num_test": 400,
    "min_digits": 3,
    "max_digits": 5,
    **speech.SYNTHESIS_DEFAULTS,
    **speech.FEATURE_DEFAULTS,
    "silence_db": -40.0,  # a clean frame this far below the utterance's loudest frame is quiet
}

CONFIG_RULES = {
    **COMMON_RULES,
    "context_module": boolean(),
    "identity_init": boolean(),
    "channels": integer(1, 1024),
    "front_layers": integer(1, 16),
    "num_train": integer(1, 20_000),
    "num_validation": integer(1, 5_000),
    "num_test": integer(1, 5_000),
    "min_digits": integer(1, 10),
    "max_digits": integer(1, 10),
    **speech.SYNTHESIS_RULES,
    **speech.FEATURE_RULES,
    "silence_db": number(-200, 0, high_open=True),  # dB below the loudest frame: negative
}


def check_config(config):
    """Raise ConfigError unless the digit and synthesis ranges are ordered and the data fits in memory."""
    ordered(config, "min_digits", "max_digits")
    speech.check_synthesis(config)
    speech.check_amount(config, config["max_digits"])


# The basic context module of Yu & Koltun (Table 1), without its final 1x1 layer.
MODULE_DILATIONS = (1, 1, 2, 4, 8, 16, 1)
KERNEL_SIZE = 3


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ConvIdentity(keras.initializers.Initializer):
    """Identity initialisation of a 1-D convolution kernel (Yu & Koltun, section 3).

    Kernel of shape (width, channels_in, channels_out) with channels_in == channels_out:
    the centre tap is the identity matrix and every other tap is zero, so the layer copies
    its input (through a ReLU, non-negative input passes unchanged), whatever its dilation.
    """

    def __call__(self, shape, dtype=None):
        width, channels_in, channels_out = shape
        if channels_in != channels_out:
            raise ValueError(f"ConvIdentity needs a square kernel, got {channels_in} -> {channels_out} channels")
        taps = [keras.ops.zeros((channels_in, channels_out), dtype=dtype)] * width
        taps[width // 2] = keras.ops.eye(channels_in, dtype=dtype)
        return keras.ops.stack(taps, axis=0)

    def get_config(self):
        return {}


def receptive_field(config):
    """The model's receptive field in frames: 1 + (kernel - 1) x the sum of all dilations."""
    dilations = [1] * config["front_layers"] + list(MODULE_DILATIONS if config["context_module"] else [1] * len(MODULE_DILATIONS))
    return 1 + (KERNEL_SIZE - 1) * sum(dilations)


def build_model(config):
    """Front end, context module (or its undilated twin), per-frame softmax.

    Args:
        config: dict with context_module, identity_init, channels, front_layers,
            num_mels, learning_rate and the data keys of data.load_data.

    Returns:
        A compiled keras.Model from (batch, T, num_mels) log-mel frames to (batch, T, 11)
        class probabilities per frame (0 = silence, 1 + d = digit d). T may be any length.
    """
    channels = config["channels"]

    frames = keras.Input(shape=(None, config["num_mels"]), name="log_mel_frames")  # (batch, T, mels)
    x = frames
    for i in range(config["front_layers"]):
        x = keras.layers.Conv1D(channels, KERNEL_SIZE, padding="same", activation="relu", name=f"front_conv_{i + 1}")(x)
    # The context module: every layer keeps all T frames ("same" padding), ReLU after each
    # (the paper's pointwise truncation). Dilation d skips d - 1 frames between taps.
    dilations = MODULE_DILATIONS if config["context_module"] else (1,) * len(MODULE_DILATIONS)
    prefix = "context" if config["context_module"] else "undilated"
    for i, dilation in enumerate(dilations):
        x = keras.layers.Conv1D(
            channels,
            KERNEL_SIZE,
            dilation_rate=dilation,
            padding="same",
            activation="relu",
            kernel_initializer=ConvIdentity() if config["identity_init"] else "glorot_uniform",
            bias_initializer="zeros",
            name=f"{prefix}_{i + 1}_dilation_{dilation}",
        )(x)  # (batch, T, channels)
    probabilities = keras.layers.Dense(len(CLASSES), activation="softmax", name="frame_classes")(x)  # (batch, T, 11)
    name = "dilated_context" if config["context_module"] else "dilated_context_undilated"
    model = keras.Model(frames, probabilities, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
