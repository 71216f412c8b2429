"""Deep Speech 2: 2-D convolutions over the log-mel spectrogram, bidirectional GRUs, CTC over characters.

Paper: "Deep Speech 2: End-to-End Speech Recognition in English and Mandarin", Dario Amodei,
Rishita Anubhai, Eric Battenberg, Carl Case, Jared Casper, Bryan Catanzaro et al. (Baidu
Research), 2015, https://arxiv.org/abs/1512.02595. Loss: "Connectionist Temporal
Classification: Labelling Unsegmented Sequence Data with Recurrent Neural Networks", Alex
Graves, Santiago Fernández, Faustino Gomez and Jürgen Schmidhuber, 2006,
https://www.cs.toronto.edu/~graves/icml_2006.pdf. Book: "Deep Learning", Goodfellow, Bengio
and Courville, 2016, section 10.3 (bidirectional RNNs, figure 10.11) and 10.5 (deep RNNs),
https://www.deeplearningbook.org/contents/rnn.html.

What the recipe shows: an end-to-end recognizer that maps a spectrogram straight to
characters, with no phonemes, no pronunciation dictionary and no frame-level alignment:

    log-mel (time, mel) -> SpecAugment masks (training only) -> reshape to an image (time, mel, 1)
      -> conv_1: Conv2D stride 2 (config time_stride) in time and 2 in mel -> BatchNorm -> clipped ReLU (min(max(x, 0), 20))
      -> conv_2 (optional): Conv2D stride 1 in time, 2 in mel -> BatchNorm -> clipped ReLU
      -> reshape to (time / 2, mel' * channels)
      -> rnn_layers x Bidirectional GRU (each frame sees the whole utterance)
      -> Dense(NUM_CLASSES): per-frame logits over blank + 28 characters

trained with the CTC loss (keras.losses.CTC), which sums over every alignment of the
transcript to the output frames, and decoded greedily or by beam search
(keras.ops.ctc_decode) in demo.evaluate. The time stride of 2 halves the number of
recurrent steps (20 ms per output frame), which is what made DS2's GRUs affordable.

Deviations from the paper:
- Data: spoken digit strings synthesized with espeak-ng (72 voice variants x 8 accents of
  its own synthesizer for training, with speed, reverberation, channel, noise and babble
  augmentation, VTLP and SpecAugment: recipes/common/augment.py; tested on 9 unseen
  variants and on every variant of its Klatt synthesizer), not thousands of hours of real
  English; the vocabulary is the ten digit words, so the recognizer learns ten spellings,
  not English. `corpus=librispeech` reads LibriSpeech from a local folder instead.
- Size: one or two conv layers with 16 channels and 2-3 GRU layers of 96 units per
  direction, 0.42-0.52 M parameters (DS2: up to 3 conv layers and 7 recurrent layers of up
  to 2,560 units, about 100 M parameters); 40
  log-mel bands instead of a 161-bin linear spectrogram, so the conv kernels are 11 x 11
  (time x mel) instead of 11 x 41.
- No sequence-wise batch normalization inside the recurrent layers (DS2 section 3.2),
  no SortaGrad curriculum, no lookahead convolution, no fully connected layer before the
  output; the forward and backward GRU outputs are concatenated.
- No language model: beam search runs over the network's own character probabilities
  only (DS2 adds an n-gram language model and a word-count bonus to the beam score).
- Padded frames are not masked: every utterance is padded to one length, the CTC loss
  runs over every output frame (so the model learns to emit blanks over the padding), and
  decoding uses each utterance's valid frames (ctc.output_lengths).
"""

import math

import keras

from recipes.common import augment, ctc
from recipes.common.cells import recurrent_layer
from recipes.common.config import COMMON_RULES, integer, positive

# Mel strides of the conv layers, as in DS2's 2-layer front end; only the first strides in
# time (config time_stride, 2 in DS2 for characters).
MEL_STRIDES = (2, 2)

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 5,
    "batch_size": 32,
    "learning_rate": 0.003,
    "global_clipnorm": 5.0,
    # Convolutional front end: 1 or 2 Conv2D layers over (time, mel), channels per layer,
    # kernel size in frames (10 ms each) and in mel bands, and the clipped ReLU's ceiling.
    "conv_layers": 2,
    "time_stride": 2,
    "conv_channels": 16,
    "conv_kernel_time": 11,
    "conv_kernel_mel": 11,
    "relu_clip": 20.0,
    # Recurrent part: stacked bidirectional GRUs, units per direction.
    "rnn_layers": 3,
    "rnn_units": 96,
    # Beam search width for demo.evaluate (greedy decoding is reported too).
    "beam_width": 8,
    # Data (recipes/common/ctc.py DATA_DEFAULTS, shared with wav2letter): utterances per
    # split, digits per utterance, speech synthesis (espeak-ng rate in words per minute,
    # pitch 0..100, white noise SNR in dB, leading silence in seconds), log-mel window and
    # hop in ms, mel bands, and the longest WAV `recipe transcribe` reads.
    **ctc.DATA_DEFAULTS,
    # The 72 wavegen voices rather than the 19 classic ones: slower in a 3-epoch brief run, but at
    # this size they halve the error rates and transfer better to another synthesizer (README).
    "voices": "all",
}

CONFIG_RULES = {
    **COMMON_RULES,
    "global_clipnorm": positive(1000.0),
    "conv_layers": integer(1, len(MEL_STRIDES)),
    "time_stride": integer(1, 8),
    "conv_channels": integer(1, 1024),
    "conv_kernel_time": integer(1, 101),
    "conv_kernel_mel": integer(1, 101),
    "relu_clip": positive(1000.0),
    "rnn_layers": integer(1, 16),
    "rnn_units": integer(1, 4096),
    "beam_width": integer(1, 64),
    **ctc.DATA_RULES,
}


def check_config(config):
    """Raise ConfigError unless the data keys fit together (ctc.check_data)."""
    ctc.check_data(config)


def conv_output_mels(num_mels, conv_layers):
    """Mel bands left after `conv_layers` convolutions ('same' padding: ceil(mels / stride))."""
    for mel_stride in MEL_STRIDES[:conv_layers]:
        num_mels = math.ceil(num_mels / mel_stride)
    return num_mels


def build_model(config):
    """The Deep Speech 2 recognizer: conv front end, bidirectional GRUs, per-frame character logits.

    Args:
        config: dict with conv_layers, conv_channels, conv_kernel_time, conv_kernel_mel,
            relu_clip, rnn_layers, rnn_units, num_mels, learning_rate, global_clipnorm.

    Returns:
        A compiled keras.Model from (batch, time, num_mels) log-mel features, any number of
        frames, to (batch, ceil(time / time_stride), ctc.NUM_CLASSES) logits (class 0 = CTC blank),
        with the CTC loss.
    """

    features = keras.Input(shape=(None, config["num_mels"]), name="log_mel")  # (batch, T, mels)
    # The spectrogram as a one-channel image: time x mel.
    x = augment.SpecAugment(seed=config["seed"], name="spec_augment")(features) if config["spec_augment"] else features  # masks while training only
    x = keras.layers.Reshape((-1, config["num_mels"], 1), name="spectrogram_image")(x)
    for i, mel_stride in enumerate(MEL_STRIDES[: config["conv_layers"]], 1):
        strides = (config["time_stride"] if i == 1 else 1, mel_stride)
        x = keras.layers.Conv2D(
            config["conv_channels"],
            (config["conv_kernel_time"], config["conv_kernel_mel"]),
            strides=strides,
            padding="same",
            use_bias=False,  # the batch norm's shift is the bias
            name=f"conv_{i}",
        )(x)
        x = keras.layers.BatchNormalization(name=f"conv_{i}_batch_norm")(x)
        # DS2's clipped ReLU, min(max(x, 0), 20): keeps activations bounded.
        x = keras.layers.ReLU(max_value=config["relu_clip"], name=f"conv_{i}_clipped_relu")(x)
    mels = conv_output_mels(config["num_mels"], config["conv_layers"])
    # (batch, T/2, mels', channels) -> one feature vector per output frame.
    x = keras.layers.Reshape((-1, mels * config["conv_channels"]), name="frames")(x)
    for i in range(1, config["rnn_layers"] + 1):
        x = keras.layers.Bidirectional(recurrent_layer("keras_gru", config["rnn_units"], name=f"gru_{i}"), name=f"bidirectional_gru_{i}")(x)
    logits = keras.layers.Dense(ctc.NUM_CLASSES, name="character_logits")(x)  # (batch, T/stride, classes), no softmax
    model = keras.Model(features, logits, name="deepspeech2_ctc")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"], global_clipnorm=config["global_clipnorm"]),
        loss=keras.losses.CTC(),
    )
    return model
