"""ConvLSTM: an LSTM whose gates are convolutions predicts the next frame of moving handwritten digits.

Paper: "Convolutional LSTM Network: A Machine Learning Approach for Precipitation
Nowcasting", Xingjian Shi, Zhourong Chen, Hao Wang, Dit-Yan Yeung, Wai-kin Wong and
Wang-chun Woo, 2015, https://arxiv.org/abs/1506.04214. Data after Moving MNIST from
"Unsupervised Learning of Video Representations using LSTMs", Nitish Srivastava, Elman
Mansimov and Ruslan Salakhutdinov, 2015, https://arxiv.org/abs/1502.04681. The cell:
"Long Short-Term Memory", Sepp Hochreiter and Jurgen Schmidhuber, 1997,
https://doi.org/10.1162/neco.1997.9.8.1735.

What the recipe shows: a fully connected LSTM flattens each frame into one vector and must
learn motion separately for every pixel position; a ConvLSTM keeps the frame's layout in
its state (a (height, width, filters) tensor) and replaces every matrix product of the
LSTM by a convolution, so one small kernel moves ink the same way everywhere:

    i = sigmoid(W_xi * x_t + W_hi * h_{t-1} + b_i)        (* = 2-D convolution)
    f = sigmoid(W_xf * x_t + W_hf * h_{t-1} + b_f)
    c_t = f o c_{t-1} + i o tanh(W_xc * x_t + W_hc * h_{t-1} + b_c)   (o = elementwise)
    o = sigmoid(W_xo * x_t + W_ho * h_{t-1} + b_o)
    h_t = o o tanh(c_t)

Config `model` picks the predictor:

    frames (batch, T, S, S, 1), the true frames 0..T-2 (teacher forcing)
      "conv_lstm": num_layers x ConvLSTM2D(filters, kernel_size, same padding, every step)
                   -> next_frame: Conv2D(1, kernel_size) + sigmoid on each step's state
      "lstm":      each frame flattened to S*S values -> LSTM(units, every step)
                   -> Dense(S*S) + sigmoid -> reshaped to a frame     (the fully connected LSTM)
    -> (batch, T, S, S, 1): frame t+1 predicted at step t; per-pixel binary cross-entropy

At test time demo.evaluate also rolls the model out: given `context_frames` true frames it
predicts the next one, appends that prediction to its input, and repeats `rollout_frames`
times. Both are compared with copying the last frame seen (the persistence baseline).

Deviations from the paper:
- Tiny: 24x24 frames of two 8x8 digits (scikit-learn's bundled digits, not MNIST), 10
  frames per sequence, one ConvLSTM layer of 8 filters with 3x3 kernels (Shi et al.: 64x64
  frames, 20 frames, 2-3 layers of 64-256 filters, 5x5 kernels), so it trains on a CPU.
- Next-frame prediction, every step teacher-forced, then closed-loop rollout; not the
  paper's encoder-forecaster that reads 10 frames and writes 10.
- No peephole terms (W_ci o c_{t-1} inside the gates): keras.layers.ConvLSTM2D has none.
- Frames enter the network at full resolution; the paper first reshapes 64x64 into 16x16
  patches of 4x4 (its "patch" trick), needless at 24x24.
"""

import keras

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import COMMON_RULES, choice, config_error, integer
from recipes.common.digits import IMAGE_SIZE

MODELS = ("conv_lstm", "lstm")
# The input frames are the targets shifted by one step.
TEACHER_FORCED_INPUTS = ("frames",)

DEFAULT_CONFIG = {
    "seed": 0,
    "epochs": 8,
    "batch_size": 16,
    "learning_rate": 0.003,
    # Model: "conv_lstm" (convolutional gates) or "lstm" (a fully connected LSTM on flattened frames).
    "model": "conv_lstm",
    "num_layers": 1,
    "filters": 8,
    "kernel_size": 3,
    # The fully connected LSTM's units: 1 gives about the ConvLSTM's parameter count at 24x24
    # (3,464 against 2,697); bench/compare_conv_lstm.py also tries 64.
    "units": 1,
    # Data: sequences per split, frames per sequence, the frame's side in pixels, digits per
    # sequence and the largest speed in pixels per frame (each velocity component).
    "num_train": 1500,
    "num_validation": 200,
    "num_test": 400,
    "num_frames": 10,
    "frame_size": 24,
    "num_digits": 2,
    "max_speed": 2,
    # Rollout test: true frames given, then frames predicted from the model's own output.
    "context_frames": 5,
    "rollout_frames": 5,
}

CONFIG_RULES = {
    **COMMON_RULES,
    "model": choice(*MODELS),
    "num_layers": integer(1, 8),
    "filters": integer(1, 256),
    "kernel_size": integer(1, 9),
    "units": integer(1, 4096),
    # Every frame of every split is held in memory: the bounds keep it under ~1 GB.
    "num_train": integer(1, 20_000),
    "num_validation": integer(1, 5_000),
    "num_test": integer(1, 5_000),
    "num_frames": integer(3, 40),
    "frame_size": integer(IMAGE_SIZE + 1, 64),
    "num_digits": integer(1, 3),
    "max_speed": integer(1, 8),
    "context_frames": integer(1, 39),
    "rollout_frames": integer(1, 39),
}


def check_config(config):
    """Raise ConfigError unless the rollout fits in a sequence and a digit can move as fast as max_speed."""
    room = config["frame_size"] - IMAGE_SIZE
    if config["max_speed"] > room:
        raise config_error("max_speed", config["max_speed"], f"at most {room} (frame_size - 8: a digit must fit its own step)", 1)
    most = config["num_frames"] - config["context_frames"]
    if config["context_frames"] >= config["num_frames"]:
        raise config_error(
            "context_frames", config["context_frames"], f"at most {config['num_frames'] - 1} (num_frames - 1)", config["num_frames"] // 2
        )
    if config["rollout_frames"] > most:
        raise config_error("rollout_frames", config["rollout_frames"], f"at most {most} (num_frames - context_frames)", most)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class LabelledConvLSTM2D(keras.layers.ConvLSTM2D):
    """keras.layers.ConvLSTM2D whose cell tells `recipe diagram` that it is an LSTM (gates as convolutions).

    The equations are those of the module docstring; Keras' ConvLSTMCell is used unchanged.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell.diagram_spec = self.cell_diagram_spec

    def cell_diagram_spec(self):
        """The LSTM gate template, with `filters` in place of units (no peepholes, forget bias 1)."""
        return {
            "cell": "lstm",
            "units": self.filters,
            "activation": "tanh",
            "recurrent_activation": "sigmoid",
            "use_bias": True,
            "forget_bias": 1.0,
            "peephole": False,
        }


def build_model(config):
    """The next-frame predictor chosen by config model: stacked ConvLSTM2D layers, or an LSTM on flattened frames.

    Args:
        config: dict with model, num_layers, filters, kernel_size, units, frame_size and learning_rate.

    Returns:
        A compiled keras.Model from (batch, T, S, S, 1) frames (any T) to (batch, T, S, S, 1)
        probabilities of ink in the next frame.
    """
    size = config["frame_size"]
    frames = keras.Input(shape=(None, size, size, 1), name="frames")  # (batch, T, S, S, 1)
    if config["model"] == "conv_lstm":
        states = frames
        for layer in range(1, config["num_layers"] + 1):
            # "same" padding keeps the frame's size; the state is (batch, T, S, S, filters).
            states = LabelledConvLSTM2D(config["filters"], config["kernel_size"], padding="same", return_sequences=True, name=f"conv_lstm_{layer}")(
                states
            )
        # A k x k convolution of each step's state alone (a Conv3D one frame deep), for any number of frames.
        kernel = (1, config["kernel_size"], config["kernel_size"])
        next_frame = keras.layers.Conv3D(1, kernel, padding="same", activation="sigmoid", name="next_frame")(states)
    else:
        flat = keras.layers.Reshape((-1, size * size), name="flatten_frames")(frames)  # (batch, T, S*S)
        states = keras.layers.LSTM(config["units"], return_sequences=True, name="frame_lstm")(flat)
        pixels = keras.layers.Dense(size * size, activation="sigmoid", name="next_frame_pixels")(states)
        next_frame = keras.layers.Reshape((-1, size, size, 1), name="next_frame")(pixels)
    model = keras.Model(frames, next_frame, name=f"next_frame_{config['model']}")
    model.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss="binary_crossentropy",
        metrics=[keras.metrics.MeanSquaredError(name="mse")],
    )
    return model
