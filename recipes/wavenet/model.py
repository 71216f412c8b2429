"""WaveNet: a causal dilated convolution stack that predicts the next μ-law sample of speech.

Paper: "WaveNet: A Generative Model for Raw Audio", Aäron van den Oord, Sander Dieleman,
Heiga Zen, Karen Simonyan, Oriol Vinyals, Alex Graves, Nal Kalchbrenner, Andrew Senior and
Koray Kavukcuoglu, 2016, https://arxiv.org/abs/1609.03499. Fast generation with per-layer
queues (used by demo.py): "Fast Wavenet Generation Algorithm", Tom Le Paine et al., 2016,
https://arxiv.org/abs/1611.09482.

What the recipe shows: an autoregressive model of raw audio with no recurrence at all.
Each output sees a fixed window of past samples, the receptive field, which grows
exponentially with depth because the dilation doubles from layer to layer (1, 2, 4, ...,
then again from 1 in the next stack). `receptive_field(config)` computes it from the
config and build_model logs it. Training is parallel over time (teacher forcing: every
target sample is in the input window), generation is sequential, one sample at a time.

    codes (batch, T) int, μ-law 0..Q-1
      -> sample_embedding (= one-hot times a matrix)        (batch, T, R)
      -> causal_input_conv (width K, causal)                 (batch, T, R)
      -> residual blocks, dilations 1, 2, ..., 2^(L-1), S stacks:
             z = tanh(W_f * x) ⊙ sigmoid(W_g * x)            dilated causal convs, width K
             x <- x + 1x1 residual conv(z);  skip_i = 1x1 skip conv(z)
      -> skip_sum = Σ skip_i -> full_receptive_field (drop the first rf - 1 positions)
      -> ReLU -> output_1x1 -> ReLU -> next_sample_logits    (batch, T - rf + 1, Q)

Output j predicts the sample after input j + rf - 1, from inputs j .. j + rf - 1 only.
Cropping the positions whose window would reach before the start of the input (where
causal padding fills in zeros) means training never sees made-up context, and a window
of exactly rf samples gives exactly one prediction, the next sample.

Deviations from the paper:
- No conditioning (global speaker or local linguistic features): out of scope, so the
  model babbles speech-like sounds in the voices it heard, not words.
- Much smaller: by default 2 stacks of 7 layers (receptive field 256 samples = 32 ms at
  8 kHz, a few pitch periods) with 32 residual and 64 skip channels; the paper's
  text-to-speech WaveNets had a receptive field of 240 ms at 16 kHz. 8 kHz audio.
- The loss is averaged over the positions with a full receptive field only (the crop
  above); the paper's training on long chunks with zero history is not reproduced.
- The input is an Embedding, which is the one-hot input times a weight matrix, without
  materializing the one-hot vectors. The 1x1 convolutions are Dense layers (the same
  map at every position, faster on CPU), and W_f, W_g are one convolution with 2R outputs.
"""

import logging

import keras
from keras import ops

from recipes.common import speech
from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, at_most, boolean, integer, number, ordered

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 6,
    "batch_size": 32,
    "learning_rate": 0.002,
    # μ-law quantization: Q classes (the paper: 256, i.e. 8-bit μ-law with μ = 255).
    "quantization_channels": 256,
    # Architecture: num_stacks stacks of layers_per_stack residual blocks, dilations 1, 2, 4, ...
    "num_stacks": 2,
    "layers_per_stack": 7,
    "kernel_size": 2,
    "residual_channels": 32,
    "skip_channels": 64,
    # Data: utterances per split, windows cut from each, predicted samples per window.
    "num_train": 300,
    "num_validation": 40,
    "num_test": 80,
    "windows_per_utterance": 8,
    "target_length": 256,
    "min_digits": 1,
    "max_digits": 3,
    # Train on the noisy waveforms (True) or on clean speech (False, the default).
    "noisy": False,
    # Demo: seconds of audio generated and the sampling temperature.
    "generate_seconds": 1.0,
    "temperature": 1.0,
    # Speech synthesis (recipes/common/speech.py SYNTHESIS_DEFAULTS), at 8 kHz.
    **speech.SYNTHESIS_DEFAULTS,
    "sample_rate": 8000,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "quantization_channels": integer(2, 65536),
    "num_stacks": integer(1, 8),
    "layers_per_stack": integer(1, 14),
    "kernel_size": integer(2, 16),  # width 1 would see no past
    "residual_channels": integer(1, 1024),
    "skip_channels": integer(1, 1024),
    "num_train": integer(1, 20_000),
    "num_validation": integer(1, 5_000),
    "num_test": integer(1, 5_000),
    "windows_per_utterance": integer(1, 1000),
    "target_length": integer(1, 10_000),
    "min_digits": integer(1, 10),
    "max_digits": integer(1, 10),
    "noisy": boolean(),
    # Generated one sample at a time.
    "generate_seconds": number(0.01, 30),
    "temperature": number(0, 100),  # 0 is greedy
    **speech.SYNTHESIS_RULES,
}

# Inputs that carry the targets shifted by one step in training (teacher forcing): the sample to predict at step t - 1 is the input at step t.
# `recipe diagram` draws them as y(t-1) -> h(t); the smoke test checks them against the data.
TEACHER_FORCED_INPUTS = ("mu_law_codes",)

MAX_RECEPTIVE_FIELD = 32_768  # samples: 4 s at 8 kHz
MAX_WINDOW_CODES = 100_000_000  # int32 codes in the windows of one split: 400 MB


def check_config(config):
    """Raise ConfigError unless the ranges are ordered, the receptive field is sane and the windows fit in memory."""
    ordered(config, "min_digits", "max_digits")
    speech.check_synthesis(config)
    speech.check_amount(config, config["max_digits"])
    field = receptive_field(config)
    if field > MAX_RECEPTIVE_FIELD:
        # The largest layers_per_stack that keeps the receptive field in bounds.
        fits = max(
            (n for n in range(1, config["layers_per_stack"]) if receptive_field({**config, "layers_per_stack": n}) <= MAX_RECEPTIVE_FIELD), default=1
        )
        at_most(
            config,
            "layers_per_stack",
            fits,
            f"for {config['num_stacks']} stacks of kernel {config['kernel_size']} (a receptive field of at most {MAX_RECEPTIVE_FIELD:,} samples)",
        )
    window = field + config["target_length"]
    largest = max(("num_train", "num_validation", "num_test"), key=config.get)
    why = f"windows of {window:,} codes ({MAX_WINDOW_CODES:,} codes per split)"
    if config[largest] * window > MAX_WINDOW_CODES:
        at_most(config, largest, MAX_WINDOW_CODES // window, f"utterances with one of {why}")
    at_most(config, "windows_per_utterance", MAX_WINDOW_CODES // (window * config[largest]), f"for {config[largest]:,} utterances and {why}")


def dilations(config):
    """The dilation rate of every residual block: [1, 2, ..., 2^(L-1)] repeated num_stacks times."""
    return [2**i for _ in range(config["num_stacks"]) for i in range(config["layers_per_stack"])]


def receptive_field(config):
    """How many input samples one output sees: (K - 1) * (1 + Σ dilations) + 1.

    The causal input conv (width K, dilation 1) adds K - 1 samples of history and each
    dilated conv of width K and dilation d adds (K - 1) * d; the 1x1 convs add none.

    Args:
        config: holds num_stacks, layers_per_stack, kernel_size.

    Returns:
        The receptive field in samples (int), the current sample included.
    """
    return (config["kernel_size"] - 1) * (1 + sum(dilations(config))) + 1


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class GatedResidualBlock(keras.layers.Layer):
    """One WaveNet layer: a gated dilated causal convolution with residual and skip outputs.

    Equations, per time step t, with * a causal convolution of width K and dilation d:

        z_t    = tanh(W_f * x)_t ⊙ sigmoid(W_g * x)_t
        out_t  = x_t + W_r z_t          (1x1 residual conv, back to the input width; none in the last block)
        skip_t = W_s z_t                (1x1 skip conv, summed over all blocks)

    Args:
        residual_channels: width R of the input, of z and of the residual output.
        skip_channels: width of the skip output.
        dilation_rate: d, the spacing between the K taps of the dilated convolutions.
        kernel_size: K, taps of the dilated convolutions (2 in the paper).
        residual: False for the last block, whose residual output feeds nothing: it then
            returns its input unchanged and has no residual conv.

    Call: x (batch, T, R) -> (out (batch, T, R), skip (batch, T, skip_channels)).
    """

    def __init__(self, residual_channels, skip_channels, dilation_rate, kernel_size=2, residual=True, **kwargs):
        super().__init__(**kwargs)
        self.residual = residual
        self.residual_channels = residual_channels
        self.skip_channels = skip_channels
        self.dilation_rate = dilation_rate
        self.kernel_size = kernel_size
        # W_f and W_g as one convolution with 2R outputs, filter half first: one conv op
        # instead of two (this small model's speed is bound by the number of ops).
        self.dilated_conv = keras.layers.Conv1D(
            2 * residual_channels, kernel_size, dilation_rate=dilation_rate, padding="causal", name="filter_and_gate_conv"
        )
        # A 1x1 convolution is a Dense layer applied at every position (faster on CPU).
        self.residual_conv = keras.layers.Dense(residual_channels, name="residual_conv") if residual else None
        self.skip_conv = keras.layers.Dense(skip_channels, name="skip_conv")

    def build(self, input_shape):
        if input_shape[-1] != self.residual_channels:
            raise ValueError(
                f"GatedResidualBlock '{self.name}' expects {self.residual_channels} input channels "
                f"(its residual_channels), got input shape {tuple(input_shape)}."
            )
        self.dilated_conv.build(input_shape)
        z_shape = (*input_shape[:-1], self.residual_channels)
        if self.residual:
            self.residual_conv.build(z_shape)
        self.skip_conv.build(z_shape)

    def diagram_spec(self):
        """For `recipe diagram`: a causal dilated convolution (the 1x1 convolutions add no context)."""
        return {"kind": "convolution", "kernel_size": self.kernel_size, "dilation_rate": self.dilation_rate, "strides": 1, "padding": "causal"}

    def gated_unit(self, filter_and_gate):
        """tanh(filter half) ⊙ sigmoid(gate half): (..., 2R) -> (..., R)."""
        filter_half, gate_half = ops.split(filter_and_gate, 2, axis=-1)
        return ops.tanh(filter_half) * ops.sigmoid(gate_half)

    def call(self, x):
        z = self.gated_unit(self.dilated_conv(x))  # (batch, T, R)
        out = x + self.residual_conv(z) if self.residual else x
        return out, self.skip_conv(z)

    def step(self, taps):
        """The block at one time step, for fast generation (demo.Generator).

        A causal conv computes y_t = b + Σ_k kernel[k] x_{t - (K-1-k) d}, so with the inputs
        at t - (K-1) d, ..., t - d, t the whole block is K matmuls per conv.

        Args:
            taps: K tensors (batch, R): the block's input at t - (K-1) d, ..., t - d, t.

        Returns:
            (out (batch, R), skip (batch, skip_channels)) at time t.
        """

        conv = self.dilated_conv
        z = self.gated_unit(sum(ops.matmul(tap, conv.kernel[k]) for k, tap in enumerate(taps)) + conv.bias)  # (batch, R)
        skip = ops.matmul(z, self.skip_conv.kernel) + self.skip_conv.bias
        if not self.residual:
            return taps[-1], skip
        return taps[-1] + ops.matmul(z, self.residual_conv.kernel) + self.residual_conv.bias, skip

    def compute_output_shape(self, input_shape):
        return tuple(input_shape), (*input_shape[:-1], self.skip_channels)

    def get_config(self):
        return {
            **super().get_config(),
            "residual_channels": self.residual_channels,
            "skip_channels": self.skip_channels,
            "dilation_rate": self.dilation_rate,
            "kernel_size": self.kernel_size,
            "residual": self.residual,
        }


def build_model(config):
    """The WaveNet next-sample classifier; logs its receptive field.

    Args:
        config: dict with quantization_channels, num_stacks, layers_per_stack, kernel_size,
            residual_channels, skip_channels, sample_rate, learning_rate.

    Returns:
        A compiled keras.Model from μ-law codes (batch, T) int32, T >= receptive field,
        to next-sample logits (batch, T - receptive_field + 1, quantization_channels):
        output j predicts the code of sample j + receptive_field.
    """
    field = receptive_field(config)
    logging.getLogger(__name__).info(
        f"wavenet: receptive field {field} samples = {1000 * field / config['sample_rate']:.1f} ms at "
        f"{config['sample_rate']} Hz ({config['num_stacks']} stacks x dilations 1..{2 ** (config['layers_per_stack'] - 1)}, "
        f"kernel {config['kernel_size']})"
    )
    classes, width = config["quantization_channels"], config["residual_channels"]

    codes = keras.Input(shape=(None,), dtype="int32", name="mu_law_codes")
    x = keras.layers.Embedding(classes, width, name="sample_embedding")(codes)  # (batch, T, R)
    x = keras.layers.Conv1D(width, config["kernel_size"], padding="causal", name="causal_input_conv")(x)
    skips = []
    rates = dilations(config)
    for i, rate in enumerate(rates):
        stack, layer = divmod(i, config["layers_per_stack"])
        x, skip = GatedResidualBlock(
            width,
            config["skip_channels"],
            rate,
            config["kernel_size"],
            residual=i < len(rates) - 1,
            name=f"block_{stack + 1}_{layer + 1}_dilation_{rate}",
        )(x)
        skips.append(skip)  # each (batch, T, skip_channels)
    h = keras.layers.Add(name="skip_sum")(skips)
    # Keep the positions whose receptive field lies inside the input: (batch, T - rf + 1, skip).
    h = keras.layers.Cropping1D((field - 1, 0), name="full_receptive_field")(h)
    h = keras.layers.Activation("relu", name="skip_relu")(h)
    h = keras.layers.Dense(config["skip_channels"], activation="relu", name="output_1x1")(h)  # 1x1 conv
    logits = keras.layers.Dense(classes, name="next_sample_logits")(h)  # 1x1 conv; softmax is in the loss
    model = keras.Model(codes, logits, name="wavenet")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=False,  # XLA made training 2x slower on a 2-core CPU
    )
    return model
