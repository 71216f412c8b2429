"""Bits per sample against two baselines, fast autoregressive generation, and the figures.

Generation follows "Fast Wavenet Generation Algorithm" (Paine et al. 2016): calling the
model on the last receptive field for every new sample recomputes rf positions per layer
to use one. Instead `Generator` steps the trained layers one sample at a time and keeps, per
layer, a queue of its last (K - 1) * d inputs, exactly what a dilated causal convolution
of width K and dilation d reads. The whole priming + sampling loop is one
`keras.ops.fori_loop` inside a small keras.Model, compiled once (XLA on TensorFlow and
JAX). A test checks that its logits equal the full model's.
"""

import math
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from recipes.common import speech
from recipes.common.probability import log_softmax
from recipes.common.sampling import prime_and_sample
from recipes.wavenet.data import mu_law_decode, mu_law_encode, speech_span
from recipes.wavenet.model import GatedResidualBlock, dilations, receptive_field

LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------
# Metrics


def bits_and_accuracy(log_probabilities, targets):
    """(mean -log2 p(target), share of targets that are the argmax) over every target."""
    picked = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean() / LN2), float(np.mean(log_probabilities.argmax(-1) == targets))


def unigram_log_probabilities(train_targets, channels):
    """log p(code) from the training targets' histogram (add-one smoothing): (channels,)."""
    counts = np.bincount(train_targets.ravel(), minlength=channels) + 1.0
    return np.log(counts / counts.sum())


def previous_sample_log_probabilities(previous, train_x, train_y, field, channels):
    """ "Repeat the previous sample", as a distribution: p(c) ∝ exp(-|c - previous| / b).

    b is the mean absolute code change on the training targets (the maximum-likelihood scale
    of a Laplace distribution), so the most likely code is the previous one.

    Args:
        previous: int (..., ) the code before each target.
        train_x, train_y: the training windows and targets (to fit b).
        field: the receptive field (train_x[:, field - 1 + j] precedes train_y[:, j]).
        channels: Q.

    Returns:
        float (..., channels) log-probabilities.
    """
    scale = max(float(np.mean(np.abs(train_y - train_x[:, field - 1 :]))), 1e-3)
    distance = np.abs(np.arange(channels) - previous[..., None]) / scale
    return -distance - np.log(np.exp(-distance).sum(axis=-1, keepdims=True))


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "bits_per_sample",
    "next_sample_accuracy",
    "unigram_bits_per_sample",
    "unigram_accuracy",
    "previous_sample_bits_per_sample",
    "previous_sample_accuracy",
)


def evaluate(model, data, config):
    """bits_per_sample and next_sample_accuracy, with the unigram_* and previous_sample_* baselines', on the test
    windows (unseen speakers; every target has a full receptive field)."""
    x, y = data["test"]
    field, channels = data["receptive_field"], config["quantization_channels"]
    logits = model.predict(x, batch_size=config["batch_size"], verbose=0)  # (N, T, Q)
    bits, accuracy = bits_and_accuracy(log_softmax(logits.astype(np.float64)), y)
    unigram = unigram_log_probabilities(data["train"][1], channels)
    unigram_bits = float(-unigram[y].mean() / LN2)
    previous = x[:, field - 1 :]  # (N, T): the code just before each target
    repeat = previous_sample_log_probabilities(previous, *data["train"], field, channels)
    repeat_bits, _ = bits_and_accuracy(repeat, y)
    return {
        "bits_per_sample": bits,
        "next_sample_accuracy": accuracy,
        "unigram_bits_per_sample": unigram_bits,
        "unigram_accuracy": float(np.mean(y == unigram.argmax())),
        "previous_sample_bits_per_sample": repeat_bits,
        "previous_sample_accuracy": float(np.mean(y == previous)),
    }


# ---------------------------------------------------------------------------------------------
# Fast generation


class _GenerationLoop(keras.Model):
    """Priming and sampling as one Keras model over the trained layers (compiled as one)."""

    def __init__(self, model, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.embedding = model.get_layer("sample_embedding")
        self.input_conv = model.get_layer("causal_input_conv")
        self.blocks = [layer for layer in model.layers if isinstance(layer, GatedResidualBlock)]
        self.output_1x1 = model.get_layer("output_1x1")
        self.logits_layer = model.get_layer("next_sample_logits")

    def initial_queues(self, batch_size):
        """Zeros, as causal padding: the input conv's K - 1 past embeddings and each block's (K - 1) d past inputs."""
        width = self.input_conv.kernel.shape[1]
        taps = self.kernel_size - 1
        return [ops.zeros((batch_size, taps, width))] + [ops.zeros((batch_size, taps * block.dilation_rate, width)) for block in self.blocks]

    def step(self, codes, queues):
        """One sample: codes (batch,) int32 and the queues -> next-sample logits (batch, Q), new queues."""
        k = self.kernel_size
        embedded = self.embedding(codes)  # (batch, R)
        # Taps of the width-K input conv: embeddings at t - (K - 1), ..., t - 1 (the queue), t.
        taps = [queues[0][:, i] for i in range(k - 1)] + [embedded]
        x = sum(ops.matmul(tap, self.input_conv.kernel[i]) for i, tap in enumerate(taps)) + self.input_conv.bias
        new_queues = [ops.concatenate([queues[0][:, 1:], embedded[:, None]], axis=1)]
        skip_sum = 0.0
        for block, queue in zip(self.blocks, queues[1:]):
            d = block.dilation_rate
            # The queue holds the block's inputs at t - (K - 1) d, ..., t - 1; tap i is at t - (K - 1 - i) d.
            taps = [queue[:, i * d] for i in range(k - 1)] + [x]
            new_queues.append(ops.concatenate([queue[:, 1:], x[:, None]], axis=1))
            x, skip = block.step(taps)
            skip_sum = skip_sum + skip
        h = self.output_1x1(ops.relu(skip_sum))
        return ops.cast(self.logits_layer(h), "float32"), new_queues

    def call(self, inputs):
        """{"prime": (batch, P) codes, "temperature": (batch,), "uniform": (batch, N)} -> (batch, N) codes."""
        prime = ops.cast(inputs["prime"], "int32")
        queues = self.initial_queues(ops.shape(prime)[0])
        return prime_and_sample(self.step, prime, queues, ops.cast(inputs["uniform"], "float32"), ops.cast(inputs["temperature"], "float32"))


class Generator:
    """Samples μ-law codes from a trained WaveNet one at a time, with per-layer queues.

    Args:
        model: the trained keras.Model of build_model (its layers are used, not copied).
        config: its config (for kernel_size).
        jit_compile: "auto": XLA on TensorFlow and JAX, not on torch.
    """

    def __init__(self, model, config, jit_compile="auto"):
        if jit_compile == "auto":
            jit_compile = keras.backend.backend() in ("tensorflow", "jax")
        self.loop = _GenerationLoop(model, config["kernel_size"], name="wavenet_generator")
        self.loop.compile(jit_compile=jit_compile)

    def sample(self, prime, length, temperature=1.0, seed=0):
        """Continue each prime by `length` sampled codes.

        Args:
            prime: int codes (batch, P), P >= 1 (P >= receptive field - 1 for a full context).
            length: codes to generate.
            temperature: below 1 sharpens the distribution; 0 takes the most likely code (greedy).
            seed: the NumPy seed of the uniforms the samples are drawn with.

        Returns:
            int32 (batch, length) generated codes, the prime excluded.
        """
        prime = np.asarray(prime, dtype="int32")
        uniform = np.random.default_rng(seed).random((prime.shape[0], int(length)), dtype="float32")
        temperatures = np.full(prime.shape[0], temperature, dtype="float32")
        inputs = {"prime": prime, "temperature": temperatures, "uniform": uniform}
        return np.asarray(self.loop.predict_on_batch(inputs)).astype("int32")

    def step_logits(self, codes):
        """Teacher-forced logits of the step-by-step path, eagerly: codes (batch, T) -> (batch, T, Q).

        Output t predicts code t + 1, like the full model's output t - rf + 1 (for the tests).
        """
        queues = self.loop.initial_queues(codes.shape[0])
        outputs = []
        for t in range(codes.shape[1]):
            logits, queues = self.loop.step(ops.convert_to_tensor(codes[:, t].astype("int32")), queues)
            outputs.append(ops.convert_to_numpy(logits))
        return np.stack(outputs, axis=1)


# ---------------------------------------------------------------------------------------------
# Figures


def plot_dilation_pattern(config, path, max_layers=4):
    """The classic WaveNet diagram: which past samples each unit of each layer sees.

    Draws the input samples, the causal input conv and the first `max_layers` dilated
    layers of the first stack for config's kernel size, every connection in grey and the
    connections that reach the last output in colour, its receptive field shaded.

    Args:
        config: holds kernel_size, layers_per_stack, num_stacks, sample_rate.
        path: PNG file to write.
        max_layers: dilated layers drawn (a full stack of 7 layers would need 256 columns).

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    k = config["kernel_size"]
    rates = [1] + dilations(config)[: min(max_layers, config["layers_per_stack"])]  # input conv first
    drawn_field = (k - 1) * sum(rates) + 1
    columns = drawn_field + 8  # a few outputs before the highlighted one
    rows = len(rates) + 1
    fig, ax = style.subplots(figsize=(11, 1.0 * rows + 1.3))
    ax.grid(False)
    last = columns - 1
    # Which units feed the last output, found backwards row by row.
    reach = [set() for _ in range(rows)]
    reach[-1] = {last}
    for row in range(rows - 1, 0, -1):
        d = rates[row - 1]
        reach[row - 1] = {t - i * d for t in reach[row] for i in range(k) if t - i * d >= 0}
    highlight = style.SERIES[0]
    for row in range(1, rows):
        d = rates[row - 1]
        for t in range(columns):
            for i in range(k):
                if t - i * d < 0:
                    continue
                hot = t in reach[row] and (t - i * d) in reach[row - 1]
                ax.plot([t - i * d, t], [row - 1, row], color=highlight if hot else "#d0d0d0", lw=1.6 if hot else 0.6, zorder=2 if hot else 1)
    for row in range(rows):
        xs = np.arange(columns)
        hot = np.array([t in reach[row] for t in xs])
        ax.scatter(xs[~hot], np.full((~hot).sum(), row), s=18, color="white", edgecolor="#9a9a9a", lw=0.8, zorder=3)
        ax.scatter(xs[hot], np.full(hot.sum(), row), s=26, color=highlight, zorder=4)
    ax.axvspan(last - drawn_field + 0.5, last + 0.5, ymax=0.5 / rows, color=style.SERIES[4], alpha=0.25, lw=0)
    ax.annotate(
        f"receptive field of this output: {drawn_field} samples",
        xy=(last, rows - 1),
        xytext=(last - 2, rows - 0.45),
        ha="right",
        va="center",
        fontsize=9,
        color=highlight,
        arrowprops=dict(arrowstyle="->", color=highlight, lw=1),
    )
    labels = ["input samples", "causal input conv, dilation 1"] + [f"dilated conv, dilation {d}" for d in rates[1:]]
    ax.set_yticks(range(rows), labels)
    ax.set_xticks([])
    ax.set_xlim(-1, columns)
    ax.set_ylim(-0.5, rows - 0.3)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("time →  (one dot per sample and layer; each layer's skip output also goes to the output layers)")
    full = receptive_field(config)
    ax.set_title(
        f"wavenet: dilations double from layer to layer, so the receptive field grows exponentially with depth\n"
        f"(first {len(rates) - 1} layers of a stack drawn, kernel {k}; the configured {config['num_stacks']} stacks x dilations "
        f"1..{2 ** (config['layers_per_stack'] - 1)} see {full} samples = {1000 * full / config['sample_rate']:.0f} ms "
        f"at {config['sample_rate'] // 1000} kHz)",
        loc="left",
        fontsize=10,
    )
    return style.save(fig, path)


def plot_generated(generated, real, prime_length, rate, path, title):
    """Waveform and spectrogram of the generated audio next to a real test clip.

    Args:
        generated: float samples, the prime first.
        real: float samples of a real test utterance.
        prime_length: samples of `generated` that are the prime (shaded).
        rate: sample rate in Hz.
        path: PNG file to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from scipy.signal import spectrogram

    from recipes.common import style

    fig, axes = style.subplots(2, 2, figsize=(11, 6.0), sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    for column, (wave, name) in enumerate(((real, "real test clip (unseen speaker)"), (generated, "generated by the model"))):
        seconds = np.arange(len(wave)) / rate
        top, bottom = axes[0, column], axes[1, column]
        top.plot(seconds, wave, lw=0.5, color=style.SERIES[column])
        top.set_ylim(-1, 1)
        top.set_title(name)
        top.set_ylabel("amplitude")
        frequencies, times, power = spectrogram(wave, fs=rate, nperseg=256, noverlap=192)
        bottom.pcolormesh(times, frequencies / 1000, 10 * np.log10(power + 1e-10), shading="auto", cmap="magma", vmin=-100, vmax=-30)
        bottom.grid(False)
        bottom.set_xlabel("time (s)")
        bottom.set_ylabel("frequency (kHz)")
        if column == 1 and prime_length:
            for ax in (top, bottom):
                ax.axvspan(0, prime_length / rate, color="#9a9a9a", alpha=0.35, lw=0)
            top.annotate("prime", xy=(prime_length / rate / 2, 0.85), ha="center", fontsize=8, color="#555555")
    axes[0, 1].set_ylabel("")
    axes[1, 1].set_ylabel("")
    fig.suptitle(title, x=0.02, y=1.0, ha="left", fontsize=11)
    return style.save(fig, path)


def demo(model, data, config, out_dir, log=print):
    """generated.wav (~generate_seconds primed with a test clip), generated.png and dilation_pattern.png."""
    out_dir = Path(out_dir)
    rate, channels, field = config["sample_rate"], config["quantization_channels"], data["receptive_field"]
    length = int(round(config["generate_seconds"] * rate))
    # The real clip shown: the test clip (an unseen speaker) with the longest speech. Prime:
    # its loudest receptive field (mid-vowel), so generation starts inside voiced speech.
    spans = [speech_span(w) for w in data["waveforms"]["test"]]
    index = int(np.argmax([end - start for start, end in spans]))
    waveform, (start, _) = data["waveforms"]["test"][index], spans[index]
    loudest = int(np.argmax(np.convolve(waveform**2, np.ones(field), mode="valid")))
    prime = mu_law_encode(waveform[loudest : loudest + field], channels)[None, :]
    generator = Generator(model, config)
    started = time.perf_counter()
    codes = generator.sample(prime, length, temperature=config["temperature"], seed=config["seed"])[0]
    seconds = time.perf_counter() - started
    log(f"wavenet: generated {length} samples in {seconds:.1f} s ({length / seconds:,.0f} samples/s, compilation included)")
    generated = np.concatenate([mu_law_decode(prime[0], channels), mu_law_decode(codes, channels)])
    wav = speech.write_wav(out_dir / "generated.wav", generated, rate)
    real = waveform[start : start + len(generated)]  # the same duration, or the whole clip if shorter
    title = (
        f"wavenet: {config['generate_seconds']:g} s sampled one sample at a time (temperature {config['temperature']:g}), "
        f"primed with the loudest {1000 * field / rate:.0f} ms of the real clip\n"
        f"'{data['texts']['test'][index]}' by {data['voices']['test'][index]} (no text conditioning: the model babbles, it cannot say words)"
    )
    figure = plot_generated(generated, real, field, rate, out_dir / "generated.png", title)
    pattern = plot_dilation_pattern(config, out_dir / "dilation_pattern.png")
    return [str(wav), figure, pattern]
